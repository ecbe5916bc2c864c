/**
 * propagation: three real `riskwarden run` processes share one Redis (and one simulator); the accounts are
 * split between them by their leases. Each round writes a fleet stopout as any client may (docs/contracts.md, Redis keys:
 * `HSET <prefix>:stopout:fleet:* <reason> '{}'`, then `PUBLISH <prefix>:events {"type":"stopout",...}`) and
 * measures, for each process, the time from just before the HSET until an entry to one of its accounts is
 * refused: each process is asked over its HTTP API (`POST /api/v1/accounts/{id}/entry-check`, the gate's
 * answer now) again and again until it says no. The stopout is then cleared the same way and every
 * process must allow entries again before the next round. p50/p99 over every (round, process).
 */
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { BENCH_TRADER, benchAccounts, entryOf, percentile, round } from './bench-fleet.ts';
import { startRedisForBench } from './redis-for-bench.ts';
import { SimProcess } from './sim-process.ts';
import { SupervisorProcesses, type SupervisorChild } from './supervisor-processes.ts';

export interface PropagationFigure {
  processes: number;
  rounds: number;
  p50Ms: number;
  p99Ms: number;
  redisPingP50Ms: number;
}

/** Asks `child` about `account` until its answer is `allowed`; resolves with the time (performance.now()) of that answer. */
async function answerBecomes(child: SupervisorChild, account: string, allowed: boolean, withinMs: number): Promise<number> {
  // Even ids hold ETHP, odd ids BTCP (bench-fleet.ts).
  const order = entryOf({ symbol: Number(account.slice(1)) % 2 === 0 ? 'ETHP' : 'BTCP' });
  const deadline = performance.now() + withinMs;
  for (;;) {
    const answer = await child.allowed(account, order);
    const at = performance.now();
    if (answer === allowed) return at;
    if (at > deadline) throw new Error(`propagation: ${child.name} still ${allowed ? 'refuses' : 'allows'} entries after ${withinMs} ms`);
  }
}

export async function propagation(options: { processes?: number; accounts?: number; rounds?: number } = {}): Promise<PropagationFigure> {
  const processes = options.processes ?? 3;
  const rounds = options.rounds ?? 40;
  const accounts = benchAccounts(options.accounts ?? 30);
  const redis = await startRedisForBench();
  const sim = await SimProcess.start();
  let fleet: SupervisorProcesses | undefined;
  const client = new Redis(redis.url);
  try {
    await sim.fund(BENCH_TRADER.address, accounts);
    const prefix = `bench-propagation-${process.pid}`;
    fleet = SupervisorProcesses.start({ accounts, sim: sim.info, redisUrl: redis.url, prefix, count: processes });
    const owned = await fleet.settled(accounts.length, 120_000);
    const probes = [...owned].map(([child, ids]) => ({ child, account: ids[0]! }));
    // Warm each API connection and code path first.
    for (const p of probes) await answerBecomes(p.child, p.account, true, 10_000);

    const pings: number[] = [];
    for (let i = 0; i < 50; i += 1) {
      const t = performance.now();
      await client.ping();
      pings.push(performance.now() - t);
    }
    const key = `${prefix}:stopout:fleet:*`;
    const event = JSON.stringify({ type: 'stopout', scope: 'fleet', id: '*' });
    const delays: number[] = [];
    for (let r = 0; r < rounds; r += 1) {
      const began = performance.now();
      await client.hset(key, 'manual', '{}');
      await client.publish(`${prefix}:events`, event);
      const refusedAt = await Promise.all(probes.map((p) => answerBecomes(p.child, p.account, false, 5_000)));
      for (const at of refusedAt) delays.push(at - began);
      await client.hdel(key, 'manual');
      await client.publish(`${prefix}:events`, event);
      await Promise.all(probes.map((p) => answerBecomes(p.child, p.account, true, 5_000)));
    }
    delays.sort((a, b) => a - b);
    pings.sort((a, b) => a - b);
    return {
      processes,
      rounds,
      p50Ms: round(percentile(delays, 0.5)),
      p99Ms: round(percentile(delays, 0.99)),
      redisPingP50Ms: round(percentile(pings, 0.5)),
    };
  } finally {
    client.disconnect();
    await fleet?.stop();
    await sim.stop();
    await redis.stop();
  }
}
