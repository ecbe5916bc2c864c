/**
 * recovery.ms: a process takes over the whole fleet from what its predecessor left in Redis. The snapshots
 * of every bench account (persisted by a running FleetRuntime, as `riskwarden run` persists them) are saved
 * to a private redis-server through the RedisSnapshotStore; the figure is the time to read them all back
 * (`loadMany`) and restore them into a fresh runtime until every account runs. `restoreAll` is the restore
 * path: one `resumeAccount` per account, all at once (the runtime's takeover path).
 */
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { RedisSnapshotStore } from '../src/persistence/redis-snapshot-store.ts';
import type { FleetRuntime, PersistedAccount } from '../src/runtime/fleet-runtime.ts';
import { BENCH_ACCOUNTS, benchAccounts, benchRuntime, round } from './bench-fleet.ts';
import { startRedisForBench } from './redis-for-bench.ts';

export interface RecoveryFigure {
  accounts: number;
  ms: number;
  readMs: number;
  restoreMs: number;
}

/** Restores `entries` into `runtime` (the runtime's own restore path). */
export type RestoreAll = (
  runtime: FleetRuntime,
  entries: ReadonlyArray<{ accountId: string; persisted: PersistedAccount }>,
) => Promise<void>;

export const restoreAll: RestoreAll = async (runtime, entries) => {
  await Promise.all(entries.map((e) => runtime.resumeAccount(e.accountId, e.persisted)));
};

export async function recovery(n = BENCH_ACCOUNTS, restore: RestoreAll = restoreAll): Promise<RecoveryFigure> {
  const accounts = benchAccounts(n);
  const persisted = new Map<string, PersistedAccount>();
  const previous = benchRuntime(accounts, { extra: { persist: (accountId, p) => void persisted.set(accountId, p) } });
  // The predecessor is another process: its start (bands computed in the background) must not run in this
  // one's timed read.
  await previous.runtime.ready();
  previous.runtime.stop();
  if (persisted.size !== n) throw new Error(`recovery: ${persisted.size} of ${n} accounts persisted a snapshot`);

  const redis = await startRedisForBench();
  const client = new Redis(redis.url, { lazyConnect: true });
  try {
    await client.connect();
    const prefix = `bench-recovery-${process.pid}`;
    const writer = new RedisSnapshotStore({ client, prefix });
    await Promise.all([...persisted].map(([accountId, p], i) => writer.save(accountId, p, { owner: 'bench:previous', at: i, version: 1 })));
    await writer.flush();
    persisted.clear();

    // It persists what it resumes, as `riskwarden run` does (the saves themselves go to the store later).
    let resumedSaves = 0;
    const next = benchRuntime(accounts, { start: false, extra: { persist: () => void (resumedSaves += 1) } });
    const began = performance.now();
    const reader = new RedisSnapshotStore({ client, prefix });
    const loads = await reader.loadMany(accounts.map((a) => a.id));
    const read = performance.now();
    const entries = loads.map((load) => {
      if (load.kind !== 'loaded') throw new Error(`recovery: the snapshot of ${load.accountId} was ${load.kind}`);
      return { accountId: load.accountId, persisted: load.stored.snapshot as PersistedAccount };
    });
    await restore(next.runtime, entries);
    const ended = performance.now();
    const running = next.runtime.accountIds().length;
    next.runtime.stop();
    if (running !== n) throw new Error(`recovery: ${running} of ${n} accounts running after the restore`);
    if (resumedSaves < n) throw new Error(`recovery: ${resumedSaves} of ${n} resumed accounts persisted a snapshot`);
    return { accounts: n, ms: round(ended - began, 1), readMs: round(read - began, 1), restoreMs: round(ended - read, 1) };
  } finally {
    client.disconnect();
    await redis.stop();
  }
}
