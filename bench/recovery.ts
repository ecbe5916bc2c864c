/**
 * Recovery of a fleet from its snapshots in Redis: `node --expose-gc --import tsx bench/recovery.ts [--json]`
 * (BENCH_ACCOUNTS, default 10000). The snapshots are written to a private redis-server first (REDIS_URL to
 * use another), then timed after a warm-up: one `loadMany` that reads and checks them all (`accountSnapshotProblems`, the
 * check every resume applies), and one `SPAWN_MANY` that resumes them in a supervisor. Each phase is also
 * timed alone, so the figure says where the time goes.
 */
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { createActor } from 'xstate';
import { accountMachine } from '../machines/account.ts';
import { accountSnapshotProblems } from '../machines/restorable-account.ts';
import { supervisorMachine, type AccountSpawn } from '../machines/supervisor.ts';
import { fencedVersion } from '../src/persistence/fencing.ts';
import { RedisSnapshotStore } from '../src/persistence/redis-snapshot-store.ts';
import { benchAccountContext, benchAccountLogic } from './memory.ts';
import { startRedisForBench } from './redis-for-bench.ts';

export interface RecoveryFigures {
  accounts: number;
  /** Read, check and spawn, end to end (wall time). */
  ms: number;
  /** This process's CPU time (user + system) over the same span: the work, whatever else the machine runs. */
  cpuMs: number;
  /** The same phases alone: the MGETs and JSON decoding, the snapshot checks, the spawn. */
  phases: { readMs: number; checkMs: number; spawnMs: number };
  /** Mean size of one stored snapshot. */
  snapshotBytes: number;
}

const round = (n: number): number => Number(n.toFixed(1));

export async function measureRecovery(accounts: number): Promise<RecoveryFigures> {
  const redis = await startRedisForBench();
  const client = new Redis(redis.url);
  try {
    const prefix = `bench-recovery-${process.pid}`;
    const store = new RedisSnapshotStore({ client, prefix });
    const ids = Array.from({ length: accounts }, (_, i) => `a${i}`);
    let bytes = 0;
    for (const [i, accountId] of ids.entries()) {
      const snapshot = createActor(accountMachine, { input: benchAccountContext(i) })
        .start()
        .getPersistedSnapshot();
      bytes += JSON.stringify(snapshot).length;
      void store.save(accountId, snapshot, { owner: 'bench', at: Date.now(), version: fencedVersion(1, 1) });
    }
    await store.flush();
    const logic = benchAccountLogic();
    const supervisor = () => createActor(supervisorMachine.provide({ actors: { account: logic } }), { input: { groups: [] } }).start();
    const spawnsOf = (loads: Awaited<ReturnType<typeof store.loadMany>>): AccountSpawn[] =>
      loads.map((load) => {
        if (load.kind !== 'loaded')
          throw new Error(`recovery: ${load.accountId}: ${load.kind === 'refused' ? load.error.message : 'missing'}`);
        return { accountId: load.accountId, input: { persisted: load.stored.snapshot as never }, scopes: [{ scope: 'fleet', id: '*' }] };
      });

    // A warm-up on a tenth of the fleet (the first restores compile the code and build XState's state
    // nodes), then end to end: what a restarted process does.
    supervisor().send({
      type: 'SPAWN_MANY',
      accounts: spawnsOf(await store.loadMany(ids.slice(0, accounts / 10), accountSnapshotProblems)),
    });
    // The setup's garbage is collected first when node runs with --expose-gc, so it is not charged to recovery.
    (globalThis as { gc?: () => void }).gc?.();
    const cpu = process.cpuUsage();
    let began = performance.now();
    const recovered = supervisor();
    recovered.send({ type: 'SPAWN_MANY', accounts: spawnsOf(await store.loadMany(ids, accountSnapshotProblems)) });
    const ms = performance.now() - began;
    const { user, system } = process.cpuUsage(cpu);
    // The supervisors are left running: XState copies the children once per child stopped (minutes at
    // this size), and the process exits next.
    const running = recovered.getSnapshot().context.accounts.length;
    if (running !== accounts) throw new Error(`recovery: ${running} of ${accounts} accounts running`);

    // Each phase alone.
    began = performance.now();
    const unchecked = await store.loadMany(ids);
    const readMs = performance.now() - began;
    began = performance.now();
    for (const load of unchecked) {
      if (load.kind === 'loaded' && accountSnapshotProblems(load.stored.snapshot, 'snapshot').length > 0) throw new Error('refused');
    }
    const checkMs = performance.now() - began;
    const spawns = spawnsOf(unchecked);
    began = performance.now();
    supervisor().send({ type: 'SPAWN_MANY', accounts: spawns });
    const spawnMs = performance.now() - began;
    await client.del(...ids.map((id) => store.keyOf(id)));
    return {
      accounts,
      ms: round(ms),
      cpuMs: round((user + system) / 1000),
      phases: { readMs: round(readMs), checkMs: round(checkMs), spawnMs: round(spawnMs) },
      snapshotBytes: Math.round(bytes / accounts),
    };
  } finally {
    await client.quit();
    await redis.stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const figures = await measureRecovery(Number(process.env.BENCH_ACCOUNTS ?? 10_000));
  if (process.argv.includes('--json')) console.log(JSON.stringify(figures));
  else
    console.log(
      `recovery: ${figures.ms} ms (${figures.cpuMs} ms of CPU) for ${figures.accounts} accounts (read ${figures.phases.readMs} ms, check ${figures.phases.checkMs} ms, ` +
        `spawn ${figures.phases.spawnMs} ms; ${figures.snapshotBytes} B per snapshot)`,
    );
  process.exit(0);
}
