import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { fencedVersion } from '../../src/persistence/fencing.ts';
import { SnapshotRefusedError } from '../../src/persistence/snapshot-refusal.ts';
import type { SnapshotMeta, SnapshotStore } from '../../src/persistence/snapshot-store.ts';
import { SNAPSHOT_SCHEMA } from '../../src/persistence/stored-snapshot.ts';
import { restoreActor, sampleEvents, startRecordingActor, T0 } from '../machines/account-fixture.ts';

/** One backend for a contract run: `writer()` opens another store (another process) on the same data. */
export interface SnapshotBackend {
  writer(): SnapshotStore;
  close(): Promise<void>;
  /** True when saves during a write in flight cost no extra backend writes (Redis). */
  coalesces: boolean;
}

function meta(version: number, owner = 'host:1:aa'): SnapshotMeta {
  return { owner, at: T0, version };
}

/** The behaviour every SnapshotStore must have; `open` is called once per test. */
export function snapshotStoreContract(name: string, open: () => Promise<SnapshotBackend>): void {
  describe(`${name}: SnapshotStore contract`, () => {
    const opened: SnapshotBackend[] = [];
    let backend!: SnapshotBackend;
    let store!: SnapshotStore;
    const fresh = async (): Promise<void> => {
      backend = await open();
      opened.push(backend);
      store = backend.writer();
    };
    afterAll(async () => {
      for (const b of opened) await b.close();
    });

    it('saves, loads (a fresh copy each time), lists and deletes', async () => {
      await fresh();
      expect(await store.load('a1')).toBeNull();
      expect(await store.list()).toEqual([]);

      const snapshot = { value: { 'de-risking': 'awaiting' }, context: { collateral: '10000.5', orders: [1, 2] } };
      await store.save('a1', snapshot, meta(fencedVersion(1, 1)));
      await store.save('odd:id/with spaces', [], meta(7));
      const loaded = await store.load('a1');
      expect(loaded).toEqual({ snapshot, meta: meta(1_000_000_001), schema: SNAPSHOT_SCHEMA });
      (loaded!.snapshot as { context: { orders: number[] } }).context.orders.push(3);
      expect(await store.load('a1')).toEqual({ snapshot, meta: meta(1_000_000_001), schema: SNAPSHOT_SCHEMA });
      expect(await store.list()).toEqual(['a1', 'odd:id/with spaces']);

      await store.delete('a1');
      await store.delete('never-saved');
      expect(await store.load('a1')).toBeNull();
      expect(await store.list()).toEqual(['odd:id/with spaces']);
    });

    it('never goes backwards: a version lower than or equal to the stored one is ignored', async () => {
      await fresh();
      await store.save('a1', { n: 'new' }, meta(fencedVersion(2, 1), 'new-owner'));
      const before = store.stats().stale;
      await store.save('a1', { n: 'old' }, meta(fencedVersion(1, 99), 'old-owner')); // 1_000_000_099 < 2_000_000_001
      await store.save('a1', { n: 'same' }, meta(fencedVersion(2, 1), 'old-owner'));
      expect(await store.load('a1')).toEqual({ snapshot: { n: 'new' }, meta: meta(2_000_000_001, 'new-owner'), schema: SNAPSHOT_SCHEMA });
      expect(store.stats().stale - before).toBe(2);
      await store.save('a1', { n: 'newer' }, meta(fencedVersion(2, 2), 'new-owner'));
      expect((await store.load('a1'))!.snapshot).toEqual({ n: 'newer' });
    });

    it('two writers racing (an old owner and a new one): the newest version wins whatever the order', async () => {
      await fresh();
      let run = 0;
      // Seeded interleavings of the old owner's epoch-1 saves and the new owner's epoch-2 saves.
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.record({ epoch: fc.constantFrom(1, 2), counter: fc.integer({ min: 1, max: 50 }) }), { minLength: 1, maxLength: 30 }),
          async (saves) => {
            const account = `race-${++run}`;
            const old = backend.writer();
            const next = backend.writer();
            await Promise.all(
              saves.map(({ epoch, counter }) =>
                (epoch === 1 ? old : next).save(account, { epoch, counter }, meta(fencedVersion(epoch, counter))),
              ),
            );
            const best = Math.max(...saves.map(({ epoch, counter }) => fencedVersion(epoch, counter)));
            expect((await store.load(account))!.meta.version).toBe(best);
            await store.delete(account);
          },
        ),
        { seed: 20260105, numRuns: 25 },
      );
    });

    it('coalesces 100 rapid saves: the last one is stored', async () => {
      await fresh();
      const writesBefore = store.stats().writes;
      const saves = Array.from({ length: 100 }, (_, i) => store.save('a1', { i }, meta(fencedVersion(1, i + 1))));
      await store.flush();
      await Promise.all(saves);
      expect(await store.load('a1')).toEqual({ snapshot: { i: 99 }, meta: meta(1_000_000_100), schema: SNAPSHOT_SCHEMA });
      const writes = store.stats().writes - writesBefore;
      // The first save starts a write; the other 99 replace one another while it is in flight: 2 writes.
      expect(writes).toBe(backend.coalesces ? 2 : 100);
    });

    it('load sees this process’s own save even before it is awaited', async () => {
      await fresh();
      const saving = store.save('a1', { mine: true }, meta(5));
      expect((await store.load('a1'))!.snapshot).toEqual({ mine: true });
      await saving;
    });

    it('round-trips an XState persisted snapshot of the account machine through JSON', async () => {
      await fresh();
      const { actor } = startRecordingActor();
      for (const event of sampleEvents(actor.getSnapshot()).slice(0, 4)) actor.send(event);
      const persisted = actor.getPersistedSnapshot();
      await store.save('acct-1', persisted, meta(fencedVersion(3, 1)));

      const loaded = await store.load('acct-1');
      expect(loaded!.snapshot).toEqual(JSON.parse(JSON.stringify(persisted)));
      const log = { sent: [], cancels: [], decisions: 0, raised: 0, resets: [] };
      const resumed = restoreActor(log, loaded!.snapshot).start();
      expect(resumed.getSnapshot().value).toEqual(actor.getSnapshot().value);
      expect(resumed.getSnapshot().context).toEqual(actor.getSnapshot().context);
      expect(resumed.getPersistedSnapshot()).toEqual(persisted);
      actor.stop();
      resumed.stop();
    });

    it('refuses bad input at the call, naming the field', async () => {
      await fresh();
      await expect(store.save('a1', {}, meta(-1))).rejects.toThrow('save("a1").meta.version: expected a whole number');
      await expect(store.save('a1', {}, meta(1.5))).rejects.toThrow('save("a1").meta.version');
      await expect(store.save('a1', {}, { ...meta(1), owner: '' })).rejects.toThrow('save("a1").meta.owner: expected a non-empty string');
      await expect(store.save('a1', { big: 1n }, meta(1))).rejects.toThrow('save("a1").snapshot: not JSON-serialisable');
      expect(await store.load('a1')).toBeNull();
    });
  });
}

/** A store and a way to put a raw stored value under an account, as another writer (a hand, another version) would. */
export interface RawSnapshotBackend {
  store: SnapshotStore;
  putRaw(accountId: string, raw: string): Promise<void>;
  close(): Promise<void>;
}

/** The rejection of `promise`, which must be a SnapshotRefusedError. */
async function refusal(promise: Promise<unknown>): Promise<SnapshotRefusedError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof SnapshotRefusedError)) throw new Error(`expected a SnapshotRefusedError, got ${String(error)}`);
  return error;
}

/**
 * Issue 12, failures 4 and 5: what `load` does with a stored value it must not resume from. Each is refused
 * with its path as a typed error (never anything the caller would mistake for an outage) and counted.
 */
export function snapshotRefusalContract(name: string, open: () => Promise<RawSnapshotBackend>): void {
  describe(`${name}: stored values that are refused`, () => {
    it('reads a value without meta.schema as schema 1, the form written before the field existed', async () => {
      const { store, putRaw, close } = await open();
      try {
        await putRaw('a1', '{"meta":{"version":1000000003,"owner":"old:1:aa","at":5},"snapshot":{"value":"trading"}}');
        expect(await store.load('a1')).toEqual({
          snapshot: { value: 'trading' },
          meta: { version: 1_000_000_003, owner: 'old:1:aa', at: 5 },
          schema: 1,
        });
        expect(store.stats().refused).toBe(0);
      } finally {
        await close();
      }
    });

    it('refuses a value of a future schema, not JSON, or of the wrong shape, by path, and counts each', async () => {
      const { store, putRaw, close } = await open();
      try {
        const cases: Array<[string, string, string[], number | undefined]> = [
          [
            'future',
            `{"meta":{"version":2000000001,"owner":"next:1:aa","at":5,"schema":${SNAPSHOT_SCHEMA + 1}},"snapshot":{}}`,
            [`meta.schema: ${SNAPSHOT_SCHEMA + 1} is newer than this riskwarden reads (1 to ${SNAPSHOT_SCHEMA})`],
            2_000_000_001,
          ],
          ['not-json', '{"meta":{"version":1,', [expect.stringMatching(/^not valid JSON: /) as unknown as string], undefined],
          ['array', '[1,2]', ['expected a JSON object {meta, snapshot}'], undefined],
          [
            'wrong-types',
            '{"meta":{"version":"seven","owner":7,"at":1,"schema":"2"}}',
            [
              'meta.owner: expected a string',
              'meta.version: expected a whole number ≥ 0',
              'meta.schema: expected a whole number, got "2"',
              'snapshot: missing',
            ],
            undefined,
          ],
        ];
        for (const [id, raw, problems, version] of cases) {
          await putRaw(id, raw);
          const error = await refusal(store.load(id));
          expect(error.problems, id).toEqual(problems);
          expect(error.accountId).toBe(id);
          expect(error.storedVersion, id).toBe(version);
          expect(error.message.startsWith(`${error.where}: `)).toBe(true);
        }
        expect(store.stats().refused).toBe(cases.length);
      } finally {
        await close();
      }
    });

    it("refuses what the caller's check refuses, with the check's paths; the check sees only readable schemas", async () => {
      const { store, putRaw, close } = await open();
      try {
        await store.save('a1', { value: 'no-such-state' }, meta(fencedVersion(1, 1)));
        const check = (snapshot: unknown, path: string): string[] =>
          (snapshot as { value?: unknown }).value === 'trading'
            ? []
            : [`${path}.value: unknown state ${JSON.stringify((snapshot as { value?: unknown }).value)}`];
        const error = await refusal(store.load('a1', check));
        expect(error.problems).toEqual(['snapshot.value: unknown state "no-such-state"']);
        expect(error.storedVersion).toBe(1_000_000_001);
        await store.save('a1', { value: 'trading' }, meta(fencedVersion(1, 2)));
        expect((await store.load('a1', check))!.snapshot).toEqual({ value: 'trading' });
        // The check is not asked about a value of a future schema: that one is refused for its schema alone.
        await putRaw('a2', `{"meta":{"version":1,"owner":"x","at":1,"schema":${SNAPSHOT_SCHEMA + 1}},"snapshot":{"value":"?"}}`);
        expect((await refusal(store.load('a2', check))).problems).toEqual([expect.stringMatching(/^meta\.schema: /)]);
        expect(store.stats().refused).toBe(2);
      } finally {
        await close();
      }
    });
  });
}
