import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemorySnapshotStore } from '../../src/persistence/memory-snapshot-store.ts';
import { checkPersistedAccount, loadForTakeover } from '../../src/runtime/account-takeover.ts';
import { SnapshotRefusedError } from '../../src/persistence/snapshot-refusal.ts';
import { decodeStoredSnapshot, encodeStoredSnapshot } from '../../src/persistence/stored-snapshot.ts';
import { restoreActor, sampleEvents, startRecordingActor } from '../machines/account-fixture.ts';

/*
 * Issue 12, failures 4 and 5: every input from outside is data. A stored snapshot mutated anywhere (a value
 * replaced by any JSON, a key dropped, the text cut) is either accepted — and then it really resumes — or
 * refused as a SnapshotRefusedError with paths; decoding never throws anything else.
 */

/** A stored value as FleetOwnership saves it: `{meta, snapshot: {snapshot, orderHashes}}`, account mid-run. */
function storedValue(steps: number): string {
  const { actor } = startRecordingActor();
  for (let i = 0; i < steps; i++) {
    const events = sampleEvents(actor.getSnapshot());
    actor.send(events[(i * 7) % events.length]!);
  }
  const persisted = { snapshot: actor.getPersistedSnapshot(), orderHashes: {} };
  actor.stop();
  return encodeStoredSnapshot('alpha', persisted, { owner: 'host:1:aa', at: 1, version: 1_000_000_001 });
}

/** Every path of a JSON value, as key lists. */
function paths(value: unknown, prefix: string[] = []): string[][] {
  if (typeof value !== 'object' || value === null) return [prefix];
  return [prefix, ...Object.entries(value).flatMap(([k, v]) => paths(v, [...prefix, k]))];
}

function replaced(value: unknown, path: string[], next: unknown): unknown {
  if (path.length === 0) return next;
  const [head, ...rest] = path as [string, ...string[]];
  const copy = (Array.isArray(value) ? [...value] : { ...(value as object) }) as Record<string, unknown>;
  if (next === undefined && rest.length === 0) delete copy[head];
  else copy[head] = replaced(copy[head], rest, next);
  return copy;
}

const decode = (raw: string) => decodeStoredSnapshot('alpha', 'stored', raw, checkPersistedAccount);

describe('a mutated stored snapshot is accepted and resumes, or refused by path; nothing else', () => {
  const samples = [0, 3, 9, 20].map(storedValue);

  it('holds for any JSON value at any path, a dropped key, or cut text (seeded)', () => {
    fc.assert(
      fc.property(
        fc.nat(),
        fc.nat(),
        fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.constant(undefined)),
        fc.boolean(),
        (sample, at, next, cut) => {
          const raw = samples[sample % samples.length]!;
          const all = paths(JSON.parse(raw));
          const mutated = cut
            ? raw.slice(0, at % raw.length)
            : (JSON.stringify(replaced(JSON.parse(raw), all[at % all.length]!, next)) ?? '');
          let outcome: 'accepted' | 'refused';
          try {
            const stored = decode(mutated);
            outcome = 'accepted';
            // Accepted means it resumes: the actor starts and takes every sample event without an error.
            const log = { sent: [], cancels: [], decisions: 0, raised: 0, resets: [] };
            const actor = restoreActor(log, (stored.snapshot as { snapshot: unknown }).snapshot).start();
            for (const event of sampleEvents(actor.getSnapshot())) {
              actor.send(event);
              expect(actor.getSnapshot().status, JSON.stringify(event)).toBe('active');
            }
            actor.stop();
          } catch (error) {
            if (!(error instanceof SnapshotRefusedError)) throw error;
            outcome = 'refused';
            expect(error.problems.length).toBeGreaterThan(0);
          }
          expect(['accepted', 'refused']).toContain(outcome);
        },
      ),
      { seed: 1212, numRuns: 400 },
    );
  });

  it('accepts the unmutated values', () => {
    for (const raw of samples) expect(decode(raw).schema).toBe(2);
  });
});

describe('loadForTakeover', () => {
  const genuine = JSON.parse(storedValue(3)) as { snapshot: unknown };

  it('resumes a valid snapshot with its version; starts fresh without one', async () => {
    const store = new MemorySnapshotStore();
    expect(await loadForTakeover(store, 'alpha')).toEqual({ kind: 'fresh' });
    await store.save('alpha', genuine.snapshot, { owner: 'host:1:aa', at: 1, version: 1_000_000_007 });
    expect(await loadForTakeover(store, 'alpha')).toEqual({ kind: 'resume', persisted: genuine.snapshot, version: 1_000_000_007 });
  });

  it('refuses by path, counts, deletes the refused value and starts fresh (issue 12, failures 4 and 5)', async () => {
    const store = new MemorySnapshotStore();
    const bad = structuredClone(genuine.snapshot) as { snapshot: { value: unknown }; orderHashes: unknown };
    bad.snapshot.value = { 'de-risking': 'dozing' };
    bad.orderHashes = { 'alpha-1': 7 };
    await store.save('alpha', bad, { owner: 'host:1:aa', at: 1, version: 9_000_000_001 });
    const takeover = await loadForTakeover(store, 'alpha');
    expect(takeover.kind).toBe('fresh');
    expect(takeover.version).toBeUndefined(); // the refused value's version must not fence the fresh start's saves
    expect(takeover.kind === 'fresh' ? takeover.refusal : '').toMatch(
      /^snapshot of alpha refused: memory snapshot "alpha": snapshot\.snapshot\.value\.de-risking: unknown state "dozing" .*; snapshot\.orderHashes\["alpha-1"\]: expected a non-empty string; rebuilt from the venue/,
    );
    expect(store.stats().refused).toBe(1);
    expect(await store.load('alpha')).toBeNull();
  });

  it('throws what is not a refusal (the store unreachable): the lease is released and the takeover retried', async () => {
    const store = new MemorySnapshotStore();
    store.load = async () => {
      throw new Error('connect ECONNREFUSED');
    };
    await expect(loadForTakeover(store, 'alpha')).rejects.toThrow('connect ECONNREFUSED');
  });
});
