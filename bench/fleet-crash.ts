/**
 * fleetCrash, in process: both symbols fall 30 % in one mark each (bench-fleet.ts). Right after the
 * marks, every account is asked for an entry through `FleetRuntime.requestEntry` (the path a strategy's
 * order takes); `allBlockedMs` ends when every one of those has been refused (counted from the `decision`
 * records of the timeline). The venue signs each reducing order the moment the runtime places it:
 * `firstReductionsSentMs` and `top100ReductionsSentMs` are the first and 100th signed, and `top100Thinnest`
 * says whether those 100 are the 100 thinnest margin buffers (computed here from the fleet data).
 * The naive fleet gets the same marks and entries. Before the fleet starts, the crash path is drilled on
 * accounts of the drill's own, as `riskwarden run` does when it starts.
 */
import { performance } from 'node:perf_hooks';
import {
  BENCH_ACCOUNTS,
  benchAccounts,
  benchRuntime,
  CRASH_MARKS,
  entryOf,
  PRODUCTS,
  round,
  SigningVenue,
  START_MARKS,
  T0,
  thinnestBuffers,
  type BenchAccount,
  type SignedRecord,
} from './bench-fleet.ts';
import { runCrashDrill } from '../src/runtime/crash-drill.ts';
import { naiveFleet } from './naive-fleet.ts';

export interface FleetCrashFigure {
  accounts: number;
  allBlockedMs: number;
  /** Entries refused out of those submitted (every account). */
  refused: number;
  firstReductionsSentMs: number;
  top100ReductionsSentMs: number;
  top100Thinnest: boolean;
  /** How many of the first 100 signed are sells among the 100 thinnest. */
  top100ThinnestCount: number;
  /** In process: every account's first reduction signed (the socket figure is allFirstReductionsSentMs). */
  allFirstReductionsSignedMs: number;
  naive: { allBlockedMs: number; firstReductionsSentMs: number; top100ReductionsSentMs: number };
}

const CRASH_AT = T0 + 60_000;

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function until(done: () => boolean, withinMs: number, what: string): Promise<void> {
  const deadline = performance.now() + withinMs;
  while (!done()) {
    if (performance.now() > deadline) throw new Error(`fleetCrash: ${what} not within ${withinMs} ms`);
    await settle();
  }
}

async function ours(accounts: readonly BenchAccount[]) {
  const n = accounts.length;
  const venue = new SigningVenue();
  // As `riskwarden run` starts a fleet: the crash path is drilled first, on accounts of the drill's own,
  // signing with the venue's signer (src/runtime/crash-drill.ts).
  await runCrashDrill({ symbol: 'ETHP', product: PRODUCTS.ETHP, price: START_MARKS.ETHP!, sign: (intent) => venue.signOnly(intent) });
  const bench = benchRuntime(accounts, { venue });
  const firstOf = new Map<string, SignedRecord>();
  const order: SignedRecord[] = [];
  bench.venue.onSigned = (record) => {
    if (firstOf.has(record.account)) return;
    firstOf.set(record.account, record);
    order.push(record);
  };
  let allRefusedAt = 0;
  const refusedBefore = bench.counts.refused;
  bench.counts.onRefused = () => {
    if (bench.counts.refused - refusedBefore === n && allRefusedAt === 0) allRefusedAt = performance.now();
  };
  await bench.runtime.ready(); // a crash hits a running fleet: every account has its band
  bench.clock.advanceTo(CRASH_AT);
  const began = performance.now();
  for (const [symbol, price] of Object.entries(CRASH_MARKS)) bench.venue.mark(symbol, price, CRASH_AT);
  for (const a of accounts) bench.runtime.requestEntry(a.id, entryOf(a));
  await until(() => allRefusedAt > 0 || bench.counts.allowed > 0, 60_000, 'every entry refused');
  if (bench.counts.allowed > 0) throw new Error(`fleetCrash: ${bench.counts.allowed} entries were allowed after the crash mark`);
  await until(() => firstOf.size === n, 120_000, "every account's first reduction signed");
  bench.runtime.stop();
  const expected = thinnestBuffers(accounts, CRASH_MARKS, Math.min(100, n));
  const top = order.slice(0, Math.min(100, n));
  return {
    allBlockedMs: round(allRefusedAt - began, 2),
    refused: bench.counts.refused - refusedBefore,
    firstReductionsSentMs: round(order[0]!.at - began, 2),
    top100ReductionsSentMs: round(top[top.length - 1]!.at - began, 2),
    top100Thinnest: top.every((r) => expected(r.account) && r.side === 'sell'),
    top100ThinnestCount: top.filter((r) => expected(r.account) && r.side === 'sell').length,
    allFirstReductionsSignedMs: round(order[order.length - 1]!.at - began, 2),
  };
}

async function naive(accounts: readonly BenchAccount[]) {
  const n = accounts.length;
  const fleet = naiveFleet(accounts);
  const began = performance.now();
  for (const [symbol, price] of Object.entries(CRASH_MARKS)) fleet.mark(symbol, price, CRASH_AT);
  const refused = fleet.entries(CRASH_AT);
  const allBlockedMs = performance.now() - began;
  if (refused !== n) throw new Error(`fleetCrash (naive): ${n - refused} entries were allowed after the crash mark`);
  await Promise.all(fleet.signing);
  fleet.stop();
  const at = (k: number): number => round((fleet.signedAt[Math.min(k, fleet.signedAt.length) - 1] ?? began) - began, 2);
  return { allBlockedMs: round(allBlockedMs, 2), firstReductionsSentMs: at(1), top100ReductionsSentMs: at(100) };
}

export async function fleetCrash(n = BENCH_ACCOUNTS): Promise<FleetCrashFigure> {
  const accounts = benchAccounts(n);
  const figure = await ours(accounts);
  return { accounts: n, ...figure, naive: await naive(accounts) };
}
