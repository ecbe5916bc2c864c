/**
 * tickToOrder: µs from a crash mark reaching the runtime (the venue emits it) to the account's exit order
 * signed, for one account in a FleetRuntime of its own (a fresh one per sample: the account must be
 * trading when the mark comes). Warmed up first; p50 and p99 over the samples.
 */
import { performance } from 'node:perf_hooks';
import { benchAccounts, benchRuntime, CRASH_MARKS, percentile, round, T0 } from './bench-fleet.ts';

export interface TickToOrderFigure {
  p50Us: number;
  p99Us: number;
  samples: number;
}

async function sample(): Promise<number> {
  const bench = benchRuntime(benchAccounts(1));
  const signed = new Promise<number>((resolve) => {
    bench.venue.onSigned = (record) => resolve(record.at);
  });
  bench.clock.advanceTo(T0 + 1000);
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
  for (let i = 0; i < warmup; i += 1) await sample();
  const us: number[] = [];
  for (let i = 0; i < samples; i += 1) us.push(await sample());
  us.sort((a, b) => a - b);
  return { p50Us: round(percentile(us, 0.5), 1), p99Us: round(percentile(us, 0.99), 1), samples };
}
