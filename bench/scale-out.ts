/**
 * scaleOut: the fleet crash end to end across processes. Three `riskwarden run` processes share the bench
 * fleet (split by their leases) over one Redis and one simulator (sim-process.ts, every account funded and
 * long). The simulator publishes the crash marks; for each process the figure gives
 *
 * - `allBlockedMs`: until every account it runs has left `trading` (its `state` record on the process's
 *   stdout, stamped when it arrived here: an upper bound of when its gate began refusing entries);
 * - `allFirstReductionsMs`: until the first order request of every account it runs reached the simulator.
 *
 * and the same over all processes (`total`); a figure not reached within `withinMs` is null, with how many
 * accounts got there (`blocked`, `reduced`). `accounts` is the fleet's size: BENCH_SCALE_ACCOUNTS (default
 * 1000, as the live path's reductions reach the simulator slowly today), at most BENCH_ACCOUNTS.
 */
import { performance } from 'node:perf_hooks';
import { INPUT_LIMITS } from '../src/config/input-limits.ts';
import { BENCH_ACCOUNTS, BENCH_TRADER, benchAccounts, CRASH_MARKS, round } from './bench-fleet.ts';
import { startRedisForBench } from './redis-for-bench.ts';
import { SimProcess } from './sim-process.ts';
import { SupervisorProcesses } from './supervisor-processes.ts';

export interface ScaleOutPart {
  accounts: number;
  /** Accounts out of trading / whose first reduction reached the simulator, within `withinMs`. */
  blocked: number;
  reduced: number;
  /** null: not every account got there within `withinMs`. */
  allBlockedMs: number | null;
  allFirstReductionsMs: number | null;
}

export interface ScaleOutFigure {
  processes: number;
  accounts: number;
  /** How long the bench waited after the crash marks. */
  withinMs: number;
  perProcess: ScaleOutPart[];
  total: Omit<ScaleOutPart, 'accounts'>;
}

export async function scaleOut(options: { accounts?: number; processes?: number; withinMs?: number } = {}): Promise<ScaleOutFigure> {
  const n = Math.min(options.accounts ?? BENCH_ACCOUNTS, Number(process.env.BENCH_SCALE_ACCOUNTS ?? 1000), INPUT_LIMITS.fleetAccounts);
  const count = options.processes ?? 3;
  const withinMs = options.withinMs ?? Number(process.env.BENCH_SCALE_WAIT_MS ?? 120_000);
  const accounts = benchAccounts(n);
  const redis = await startRedisForBench();
  const sim = await SimProcess.start();
  let fleet: SupervisorProcesses | undefined;
  try {
    await sim.fund(BENCH_TRADER.address, accounts);
    fleet = SupervisorProcesses.start({ accounts, sim: sim.info, redisUrl: redis.url, prefix: `bench-scale-${process.pid}`, count });
    const owned = await fleet.settled(n, Math.max(withinMs, 300_000));
    // Left `trading`, per account, epoch ms of the record's arrival (armed at the crash).
    const blockedAt = new Map<string, number>();
    let armed = false;
    for (const child of fleet.children) {
      child.onRecord = (record, at) => {
        if (!armed || record.kind !== 'state' || record.account === undefined || record.to === 'trading') return;
        if (!blockedAt.has(record.account)) blockedAt.set(record.account, at);
      };
    }
    armed = true;
    const crashAt = await sim.mark({ ...CRASH_MARKS });
    const deadline = performance.now() + withinMs;
    let arrivals: Record<string, number> = {};
    while ((blockedAt.size < n || Object.keys(arrivals).length < n) && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      arrivals = await sim.arrivals();
    }
    if (blockedAt.size < n || Object.keys(arrivals).length < n) {
      console.error(
        `scaleOut: after ${withinMs} ms, ${blockedAt.size} of ${n} accounts out of trading, ${Object.keys(arrivals).length} of ${n} first reductions at the simulator; last notes:\n${fleet.children.map((c) => `${c.name}: ${c.notes.slice(-3).join(' | ')}`).join('\n')}`,
      );
    }
    const part = (ids: readonly string[]): Omit<ScaleOutPart, 'accounts'> => {
      const blocked = ids.filter((id) => blockedAt.has(id)).length;
      const reduced = ids.filter((id) => arrivals[id] !== undefined).length;
      return {
        blocked,
        reduced,
        allBlockedMs: blocked === ids.length ? round(Math.max(...ids.map((id) => blockedAt.get(id)!)) - crashAt, 1) : null,
        allFirstReductionsMs: reduced === ids.length ? round(Math.max(...ids.map((id) => arrivals[id]!)) - crashAt, 1) : null,
      };
    };
    return {
      processes: count,
      accounts: n,
      withinMs,
      perProcess: [...owned.values()].map((ids) => ({ accounts: ids.length, ...part(ids) })),
      total: part(accounts.map((a) => a.id)),
    };
  } finally {
    await fleet?.stop();
    await sim.stop();
    await redis.stop();
  }
}
