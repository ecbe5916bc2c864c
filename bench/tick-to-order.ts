/**
 * tickToOrder: µs from a crash mark reaching the runtime (the venue emits it) to the account's exit order
 * signed, for one account in a FleetRuntime of its own (one per sample: the account must be trading when the
 * mark comes). Every sample's runtime is built, and has its band, before the first sample is taken, as a
 * running process's runtime was built long before the tick that crashes it: the garbage of building 200
 * runtimes is not the tick's, and would otherwise be collected (10–20 ms scavenges) inside random samples.
 * The tick's own allocations, and any collection they cause, are measured. Warmed up first; p50 and p99.
 */
import { performance } from 'node:perf_hooks';
import { benchAccounts, benchRuntime, CRASH_MARKS, percentile, round, T0, type BenchRuntime } from './bench-fleet.ts';

export interface TickToOrderFigure {
  p50Us: number;
  p99Us: number;
  samples: number;
}

async function prepared(): Promise<BenchRuntime> {
  const bench = benchRuntime(benchAccounts(1));
  bench.clock.advanceTo(T0 + 1000);
  await bench.runtime.ready();
  return bench;
}

async function sample(bench: BenchRuntime): Promise<number> {
  const signed = new Promise<number>((resolve) => {
    bench.venue.onSigned = (record) => resolve(record.at);
  });
  const began = performance.now();
  bench.venue.mark('ETHP', CRASH_MARKS.ETHP!, T0 + 1000);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<number>((_, reject) => {
    timer = setTimeout(() => reject(new Error('tickToOrder: the crash mark sent no order')), 5_000);
  });
  const at = await Promise.race([signed, timeout]).finally(() => clearTimeout(timer));
  bench.runtime.stop();
  return (at - began) * 1000;
}

export async function tickToOrder(samples = 200, warmup = 30): Promise<TickToOrderFigure> {
  const runtimes: BenchRuntime[] = [];
  for (let i = 0; i < warmup + samples; i += 1) runtimes.push(await prepared());
  // Let the building's garbage age out of the young generation before the first sample.
  await new Promise((resolve) => setTimeout(resolve, 50));
  const us: number[] = [];
  for (const [i, bench] of runtimes.entries()) {
    const took = await sample(bench);
    if (i >= warmup) us.push(took);
  }
  us.sort((a, b) => a - b);
  return { p50Us: round(percentile(us, 0.5), 1), p99Us: round(percentile(us, 0.99), 1), samples };
}
