import { afterAll, describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { accountMachine } from '../../machines/account.ts';
import { accountSnapshotProblems } from '../../machines/restorable-account.ts';
import { fencedVersion } from '../../src/persistence/fencing.ts';
import { SnapshotRefusedError } from '../../src/persistence/snapshot-refusal.ts';
import type { SnapshotMeta, SnapshotStore } from '../../src/persistence/snapshot-store.ts';
import { SNAPSHOT_SCHEMA } from '../../src/persistence/stored-snapshot.ts';
import { accountContext, T0 } from '../machines/account-fixture.ts';

/** One backend for a bulk-load run; `putRaw` stores a value as another writer (or a hand) might have. */
export interface BulkLoadBackend {
  store: SnapshotStore;
  putRaw(accountId: string, raw: string): Promise<void>;
  close(): Promise<void>;
}

const meta = (version: number): SnapshotMeta => ({ owner: 'host:1:aa', at: T0, version });

/** `loadMany` answers what `load` would, account by account; `open` is called once per test. */
export function snapshotBulkLoadContract(name: string, open: () => Promise<BulkLoadBackend>, ids: (n: number) => string[]): void {
  describe(`${name}: SnapshotStore.loadMany`, () => {
    const opened: BulkLoadBackend[] = [];
    const fresh = async (): Promise<BulkLoadBackend> => {
      const backend = await open();
      opened.push(backend);
      return backend;
    };
    afterAll(async () => {
      for (const b of opened) await b.close();
    });

    it('answers every account asked, in the order asked, each as load does (a fresh copy each time)', async () => {
      const { store } = await fresh();
      const [a, b, c] = ids(3) as [string, string, string];
      await store.save(a, { n: 'a', list: [1] }, meta(fencedVersion(1, 1)));
      await store.save(c, { n: 'c' }, meta(fencedVersion(2, 5)));
      const loads = await store.loadMany([c, b, a, c]);
      expect(loads).toEqual([
        { accountId: c, kind: 'loaded', stored: { snapshot: { n: 'c' }, meta: meta(2_000_000_005), schema: SNAPSHOT_SCHEMA } },
        { accountId: b, kind: 'missing' },
        { accountId: a, kind: 'loaded', stored: { snapshot: { n: 'a', list: [1] }, meta: meta(1_000_000_001), schema: SNAPSHOT_SCHEMA } },
        { accountId: c, kind: 'loaded', stored: { snapshot: { n: 'c' }, meta: meta(2_000_000_005), schema: SNAPSHOT_SCHEMA } },
      ]);
      for (const load of loads) if (load.kind === 'loaded') expect(await store.load(load.accountId)).toEqual(load.stored);
      // Each answer is its own copy: changing one changes no other, nor what is stored.
      const first = loads[0]!;
      if (first.kind === 'loaded') (first.stored.snapshot as { n: string }).n = 'changed';
      expect(loads[3]).toMatchObject({ stored: { snapshot: { n: 'c' } } });
      expect((await store.load(c))!.snapshot).toEqual({ n: 'c' });
      expect(await store.loadMany([])).toEqual([]);
    });

    it('reads this process’s own saves, even those still being written', async () => {
      const { store } = await fresh();
      const batch = ids(50);
      for (const [i, accountId] of batch.entries()) void store.save(accountId, { i }, meta(fencedVersion(1, i + 1)));
      const loads = await store.loadMany(batch);
      expect(loads.map((l) => (l.kind === 'loaded' ? l.stored.snapshot : l.kind))).toEqual(batch.map((_, i) => ({ i })));
    });

    it('a refused value is that account’s answer, by path and counted, never the batch’s failure', async () => {
      const { store, putRaw } = await fresh();
      const [good, broken, future, odd] = ids(4) as [string, string, string, string];
      const actor = createActor(accountMachine, { input: accountContext() }).start();
      await store.save(good, actor.getPersistedSnapshot(), meta(fencedVersion(1, 1)));
      await putRaw(broken, '{"meta":{"version":1,');
      await putRaw(future, `{"meta":{"version":2000000001,"owner":"next:1:aa","at":5,"schema":${SNAPSHOT_SCHEMA + 1}},"snapshot":{}}`);
      const wrongState = { ...JSON.parse(JSON.stringify(actor.getPersistedSnapshot())), value: 'no-such-state' };
      await store.save(odd, wrongState, meta(fencedVersion(1, 2)));
      const before = store.stats().refused;
      const loads = await store.loadMany([good, broken, future, odd], accountSnapshotProblems);
      expect(loads.map((l) => l.kind)).toEqual(['loaded', 'refused', 'refused', 'refused']);
      expect(store.stats().refused - before).toBe(3);
      const refusals = loads.flatMap((l) => (l.kind === 'refused' ? [l.error] : []));
      for (const error of refusals) expect(error).toBeInstanceOf(SnapshotRefusedError);
      expect(refusals[0]!.problems).toEqual([expect.stringMatching(/^not valid JSON: /)]);
      expect(refusals[1]!.problems).toEqual([
        `meta.schema: ${SNAPSHOT_SCHEMA + 1} is newer than this riskwarden reads (1 to ${SNAPSHOT_SCHEMA})`,
      ]);
      expect(refusals[1]!.storedVersion).toBe(2_000_000_001);
      expect(refusals[2]!.problems).toEqual([expect.stringMatching(/^snapshot\.value: unknown state "no-such-state"/)]);
      expect(refusals.map((e) => e.accountId)).toEqual([broken, future, odd]);
      // The same refusals as load, problem for problem.
      for (const error of refusals) {
        const thrown = await store.load(error.accountId, accountSnapshotProblems).catch((e: unknown) => e);
        expect((thrown as SnapshotRefusedError).problems).toEqual(error.problems);
        expect((thrown as SnapshotRefusedError).where).toBe(error.where);
      }
    });

    it('reads a batch larger than one round trip holds', async () => {
      const { store } = await fresh();
      const batch = ids(2_500);
      await Promise.all(batch.map((accountId, i) => store.save(accountId, { i }, meta(fencedVersion(1, 1)))));
      const loads = await store.loadMany(batch);
      expect(loads).toHaveLength(2_500);
      loads.forEach((load, i) => expect(load).toMatchObject({ accountId: batch[i], kind: 'loaded', stored: { snapshot: { i } } }));
    });
  });
}
