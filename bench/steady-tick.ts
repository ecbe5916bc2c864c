/**
 * steadyTick: what a quiet mark costs. `usPerMark` is one mark for the whole fleet through the real
 * FleetRuntime (the venue emits it, the runtime handles it); `usPerTick` the same per account (continuity
 * with earlier runs). `maxMarksPerSecond` drives marks on a timer at doubling rates and keeps the highest
 * rate at which the event loop stays within 10 ms of the schedule (p99 of each mark's lateness, see
 * `maxMarksPerSecond`). The naive fleet gets the same marks.
 */
import { performance } from 'node:perf_hooks';
import { BENCH_ACCOUNTS, benchAccounts, benchRuntime, quietMark, round, T0, percentile } from './bench-fleet.ts';
import { naiveFleet } from './naive-fleet.ts';

export interface SteadyTickFigure {
  accounts: number;
  usPerTick: number;
  usPerMark: number;
  maxMarksPerSecond: number;
  /** p99 lateness (ms) at that rate. */
  lagMsAtMax: number;
  naive: { usPerTick: number; usPerMark: number };
}

const MARKS = 20;
const MAX_LAG_MS = 10;

/** Mean µs per mark over `MARKS` quiet marks, after a few to warm up. */
function timeMarks(send: (symbol: string, price: string, at: number) => void, marks = MARKS): number {
  for (let k = 0; k < 4; k += 1) {
    const { symbol, price } = quietMark(k);
    send(symbol, price, T0 + (k + 1) * 1000);
  }
  const began = performance.now();
  for (let k = 4; k < 4 + marks; k += 1) {
    const { symbol, price } = quietMark(k);
    send(symbol, price, T0 + (k + 1) * 1000);
  }
  return ((performance.now() - began) * 1000) / marks;
}

/**
 * The p99 lateness (ms) of marks due every 1000/rate ms for `durationMs`: each mark is handled when the
 * loop gets to it, late by (handled − due). A loop that cannot keep up falls further behind every mark.
 */
async function lagAt(rate: number, send: (k: number) => void, durationMs: number): Promise<number> {
  const interval = 1000 / rate;
  const total = Math.max(20, Math.round((rate * durationMs) / 1000));
  const lags: number[] = [];
  const start = performance.now() + 1;
  let k = 0;
  await new Promise<void>((resolve) => {
    const step = (): void => {
      // Every mark due by now, each measured when its handling starts.
      while (k < total && start + k * interval <= performance.now()) {
        lags.push(performance.now() - (start + k * interval));
        send(k);
        k += 1;
        // A loop hopelessly behind: no need to finish the run to know.
        if (lags[lags.length - 1]! > 20 * MAX_LAG_MS) k = total;
      }
      if (k >= total) return resolve();
      setTimeout(step, Math.max(0, start + k * interval - performance.now() - 0.5));
    };
    setTimeout(step, 1);
  });
  lags.sort((a, b) => a - b);
  return percentile(lags, 0.99);
}

/**
 * The highest rate (marks/s, doubling from 2: two symbols once a second) whose p99 lateness stays ≤ 10 ms,
 * each rate for `durationMs` and at least 20 marks. A rate that fails is tried once more: on a shared
 * machine one stall of another process is not the fleet's cost.
 */
export async function maxMarksPerSecond(send: (k: number) => void, durationMs = 1000): Promise<{ rate: number; lagMs: number }> {
  let best = { rate: 0, lagMs: 0 };
  for (let rate = 2; rate <= 1 << 20; rate *= 2) {
    let lag = await lagAt(rate, send, durationMs);
    if (lag > MAX_LAG_MS) lag = await lagAt(rate, send, durationMs);
    if (lag > MAX_LAG_MS) break;
    best = { rate, lagMs: round(lag, 2) };
  }
  return best;
}

export async function steadyTick(n = BENCH_ACCOUNTS, options: { rateDurationMs?: number } = {}): Promise<SteadyTickFigure> {
  const accounts = benchAccounts(n);
  const ours = benchRuntime(accounts);
  await ours.runtime.ready(); // a running fleet: every account has its band
  const send = (symbol: string, price: string, at: number): void => {
    ours.clock.advanceTo(Math.max(ours.clock.now(), at));
    ours.venue.mark(symbol, price, at);
  };
  const usPerMark = timeMarks(send);
  let at = T0 + 1000 * (MARKS + 10);
  const sustained = await maxMarksPerSecond((k) => {
    at += 1;
    const { symbol, price } = quietMark(k);
    send(symbol, price, at);
  }, options.rateDurationMs);
  ours.runtime.stop();

  const naive = naiveFleet(accounts);
  const naiveUsPerMark = timeMarks((symbol, price, t) => naive.mark(symbol, price, t));
  naive.stop();
  return {
    accounts: n,
    usPerTick: round(usPerMark / n, 4),
    usPerMark: round(usPerMark, 1),
    maxMarksPerSecond: sustained.rate,
    lagMsAtMax: sustained.lagMs,
    naive: { usPerTick: round(naiveUsPerMark / n, 4), usPerMark: round(naiveUsPerMark, 1) },
  };
}
