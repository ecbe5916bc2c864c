/**
 * The fleet every figure of `npm run bench` runs: BENCH_ACCOUNTS accounts (default 10,000), even ids on ETHP,
 * odd ids on BTCP, each long 12,000 of notional (6 ETHP at 2000, 0.3 BTCP at 40,000) on collateral between
 * 4,100 and 4,700 spread over the fleet by a permutation, so margin buffers differ and the thinnest are not
 * simply the first ids (the venue opens 3× at most: 4,000 plus the fee would be the floor). Budget:
 * maxPositionSize twice the position, minMarginBuffer 0.10, panicMarginBuffer 0.03.
 *
 * At the crash marks (ETHP 1400, BTCP 28,000: −30 %) equity is collateral − 3,600 on 8,400 of notional:
 * buffer (equity − 0.05·8400)/8400 runs from (500 − 420)/8400 ≈ 0.0095 < 0.03 (panic exit) to (1100 − 420)/8400
 * ≈ 0.081 < 0.10 (de-risking): every account sends a reducing order, the thinnest buffers exit first.
 */
import { performance } from 'node:perf_hooks';
import { Wallet } from 'ethers';
import { SimClock } from '../src/clock/clock.ts';
import type { FleetConfig } from '../src/config/fleet-schema.ts';
import { INPUT_LIMITS } from '../src/config/input-limits.ts';
import { parseConfigDocument } from '../src/config/load.ts';
import { dec, str } from '../src/domain/decimal.ts';
import { applyLedgerEvent, createLedger, type LedgerState } from '../src/domain/ledger.ts';
import { riskMetrics } from '../src/domain/metrics.ts';
import type { OrderIntent } from '../src/domain/order.ts';
import { DEFAULT_PRODUCTS } from '../src/domain/products.ts';
import { ORDER_TYPE } from '../src/derivadex/codes.ts';
import { signOrder, type Eip712Venue, type TraderSigner } from '../src/derivadex/crypto/eip712.ts';
import { createNonceSource } from '../src/derivadex/crypto/nonce.ts';
import { planFleet, type FleetPlan } from '../src/runtime/fleet-plan.ts';
import { FleetRuntime, type AccountStart, type FleetRuntimeOptions } from '../src/runtime/fleet-runtime.ts';
import { MemoryStopoutStore } from '../src/store/memory-stopout-store.ts';
import type { TimelineRecord } from '../src/timeline/timeline-record.ts';

export const BENCH_ACCOUNTS = Number(process.env.BENCH_ACCOUNTS ?? 10_000);
export const T0 = Date.UTC(2026, 0, 5, 13);
export const START_MARKS: Readonly<Record<string, string>> = { ETHP: '2000', BTCP: '40000' };
export const CRASH_MARKS: Readonly<Record<string, string>> = { ETHP: '1400', BTCP: '28000' };
export const PRODUCTS = { ETHP: DEFAULT_PRODUCTS.ETHP!, BTCP: DEFAULT_PRODUCTS.BTCP! };
export const BENCH_VENUE: Eip712Venue = { chainId: 1337, verifyingContract: '0xDDdDddDdDdddDDddDDddDDDDdDdDDdDDdDDDDDDd', decimals: 6 };
export const BENCH_TRADER = new Wallet(`0x${'11'.repeat(32)}`);

export interface BenchAccount {
  id: string;
  symbol: 'ETHP' | 'BTCP';
  size: string;
  entryPrice: string;
  collateral: string;
}

/** Account i of a fleet of n (see the file comment). */
export function benchAccount(i: number, n: number): BenchAccount {
  const symbol = i % 2 === 0 ? 'ETHP' : 'BTCP';
  // A multiplicative permutation of 0..n−1 (7919 is prime, so it is one whenever n is not a multiple of it).
  const rank = n % 7919 === 0 ? i : (i * 7919) % n;
  // Cents: few ties between buffers, so "the 100 thinnest" is (nearly) one set.
  const collateral = (4100 + (rank * 600) / Math.max(1, n - 1)).toFixed(2);
  return {
    id: `a${i}`,
    symbol,
    size: symbol === 'ETHP' ? '6' : '0.3',
    entryPrice: START_MARKS[symbol]!,
    collateral,
  };
}

export function benchAccounts(n = BENCH_ACCOUNTS): BenchAccount[] {
  return Array.from({ length: n }, (_, i) => benchAccount(i, n));
}

/** The fleet document (`riskwarden run` reads it as YAML; add `venue`, `redis`, `api` for a live run). */
export function fleetDocument(accounts: readonly BenchAccount[]): { accounts: unknown[]; defaults: Record<string, unknown> } {
  return {
    accounts: accounts.map((a) => ({
      id: a.id,
      collateral: a.collateral,
      // Room to add: a refused entry is the crash's doing (or a stopout's), not the position cap's.
      budget: { maxPositionSize: { [a.symbol]: str(dec(a.size).times(2)) }, minMarginBuffer: '0.10', panicMarginBuffer: '0.03' },
    })),
    defaults: { hysteresis: '0.2', reductionFraction: '0.25', reductionTimeout: '15s' },
  };
}

/**
 * The plan, resolved as `riskwarden run` and `simulate` resolve theirs: every account validated by the fleet
 * schema (in documents of at most INPUT_LIMITS.accounts each, the most one file may hold), then planned
 * together by `planFleet`.
 */
export function benchPlan(accounts: readonly BenchAccount[]): FleetPlan {
  let config: FleetConfig | undefined;
  for (let from = 0; from < Math.max(1, accounts.length); from += INPUT_LIMITS.accounts) {
    const parsed = parseConfigDocument(fleetDocument(accounts.slice(from, from + INPUT_LIMITS.accounts)), { expect: 'fleet' });
    if (!parsed.ok) throw new Error(`bench fleet: ${parsed.problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
    const part = parsed.value as FleetConfig;
    config = config ? { ...config, accounts: [...config.accounts, ...part.accounts] } : part;
  }
  return planFleet(config!, PRODUCTS);
}

/** The account's ledger: its collateral and the fill that opened its position. */
export function benchLedger(a: BenchAccount): LedgerState {
  const ledger = createLedger(a.collateral);
  return applyLedgerEvent(ledger, {
    kind: 'fill',
    id: `f-${a.id}`,
    seq: 1,
    symbol: a.symbol,
    side: 'buy',
    amount: a.size,
    price: a.entryPrice,
  }).state;
}

export function benchStarts(accounts: readonly BenchAccount[]): Record<string, AccountStart> {
  return Object.fromEntries(accounts.map((a) => [a.id, { collateral: a.collateral, ledger: benchLedger(a), marks: { ...START_MARKS } }]));
}

/**
 * Whether an account is among the k thinnest margin buffers at `marks`, computed exactly from the fleet
 * data: its buffer is at most the k-th smallest (accounts tied with the k-th all qualify).
 */
export function thinnestBuffers(
  accounts: readonly BenchAccount[],
  marks: Readonly<Record<string, string>>,
  k: number,
): (id: string) => boolean {
  const buffers = new Map(
    accounts.map((a) => [
      a.id,
      dec(riskMetrics({ ledger: benchLedger(a), marks: { ...marks }, products: PRODUCTS }).marginBuffer ?? '1e9'),
    ]),
  );
  const sorted = [...buffers.values()].sort((x, y) => x.comparedTo(y));
  const cutoff = sorted[Math.max(0, Math.min(k, sorted.length) - 1)]!;
  return (id) => buffers.get(id)?.lte(cutoff) ?? false;
}

/**
 * An entry of 2,000 of notional on the account's symbol: allowed while it trades (buffer 0.29 → about 0.24,
 * position within twice its size), refused once the crash has put it below its minimum buffer or a stopout
 * covers it.
 */
export function entryOf(a: Pick<BenchAccount, 'symbol'>): OrderIntent {
  return { symbol: a.symbol, side: 'buy', amount: a.symbol === 'ETHP' ? '1' : '0.05', type: 'market' };
}

type Listener = (payload: never) => void;

/** One order the venue signed: the account, what it was for and when (performance.now()). */
export interface SignedRecord {
  account: string;
  clientOrderId: string;
  side: OrderIntent['side'];
  at: number;
}

/**
 * The venue the in-process figures give the runtime: marks are emitted on it as the venue client emits
 * them, and every order is signed with the project's EIP-712 signer (whatever `signOrder` uses) at once,
 * the moment it is placed. `sign` is the seam where another signing path (a worker pool) goes.
 */
export class SigningVenue {
  readonly signed: SignedRecord[] = [];
  readonly #listeners = new Map<string, Listener[]>();
  readonly #nonces = createNonceSource(new Uint8Array(32));
  onSigned: ((record: SignedRecord) => void) | undefined;

  constructor(
    readonly sign: (signer: TraderSigner, intent: OrderIntent, nonce: string) => void = (signer, intent, nonce) =>
      void signOrder(
        signer,
        {
          symbol: intent.symbol,
          strategy: 'main',
          side: intent.side === 'buy' ? 'Bid' : 'Ask',
          orderType: intent.type === 'market' ? ORDER_TYPE.Market : ORDER_TYPE.Limit,
          nonce,
          amount: intent.amount,
          price: intent.price ?? '0',
          stopPrice: '0',
        },
        BENCH_VENUE,
      ),
  ) {
    // Ready to sign before the first order, as the live client's signing workers are warmed when it connects:
    // the binding is loaded and the signing path compiled with one throwaway order.
    this.signOnly({ symbol: 'ETHP', side: 'sell', amount: '1', type: 'market' });
  }

  /** Signs `intent` as placeOrder does, and records nothing (a crash drill's orders). */
  signOnly(intent: OrderIntent): void {
    this.sign(BENCH_TRADER, intent, this.#nonces.next());
  }

  on(event: string, listener: Listener): this {
    const list = this.#listeners.get(event) ?? [];
    list.push(listener);
    this.#listeners.set(event, list);
    return this;
  }

  emit(event: string, payload: unknown): void {
    for (const listener of this.#listeners.get(event) ?? []) (listener as (p: unknown) => void)(payload);
  }

  mark(symbol: string, price: string, at: number): void {
    this.emit('mark', { symbol, price, at });
  }

  async placeOrder(account: string, clientOrderId: string, intent: OrderIntent): Promise<void> {
    this.sign(BENCH_TRADER, intent, this.#nonces.next());
    const record = { account, clientOrderId, side: intent.side, at: performance.now() };
    this.signed.push(record);
    this.onSigned?.(record);
  }

  async cancelOrder(): Promise<void> {}
}

/** What the bench's timeline sink counts (records are not kept: 10,000 accounts write many). */
export interface TimelineCounts {
  records: number;
  refused: number;
  allowed: number;
  /** Accounts with at least one refused decision. */
  refusedAccounts: Set<string>;
  onRefused: ((account: string) => void) | undefined;
}

export interface BenchRuntime {
  runtime: FleetRuntime;
  venue: SigningVenue;
  clock: SimClock;
  counts: TimelineCounts;
  store: MemoryStopoutStore;
}

/**
 * A FleetRuntime on the bench fleet, constructed as `riskwarden run` constructs it (plan, clock, venue,
 * stopout store, timeline sink), with the in-memory stopout store and a counting sink. `start` false leaves
 * the accounts to be added by the caller (recovery resumes them from snapshots).
 */
export function benchRuntime(
  accounts: readonly BenchAccount[],
  options: { start?: boolean; venue?: SigningVenue; extra?: Partial<FleetRuntimeOptions> } = {},
): BenchRuntime {
  const venue = options.venue ?? new SigningVenue();
  const clock = new SimClock(T0);
  const counts: TimelineCounts = { records: 0, refused: 0, allowed: 0, refusedAccounts: new Set(), onRefused: undefined };
  const store = new MemoryStopoutStore();
  const timeline = {
    write(record: TimelineRecord): void {
      counts.records += 1;
      if (record.kind !== 'decision') return;
      if (record.allowed) counts.allowed += 1;
      else {
        counts.refused += 1;
        counts.refusedAccounts.add(record.account);
        counts.onRefused?.(record.account);
      }
    },
  };
  const runtime = new FleetRuntime({
    plan: benchPlan(accounts),
    clock,
    venue: venue as unknown as FleetRuntimeOptions['venue'],
    store,
    timeline,
    origin: T0,
    report: () => {},
    ...options.extra,
  });
  runtime.start(options.start === false ? {} : benchStarts(accounts));
  return { runtime, venue, clock, counts, store };
}

/** A small move of one symbol: mark k of a quiet day (alternating symbols, within 0.2 % of the start). */
export function quietMark(k: number): { symbol: string; price: string } {
  return k % 2 === 0 ? { symbol: 'ETHP', price: String(2000 + (k % 4)) } : { symbol: 'BTCP', price: String(40000 + (k % 4) * 10) };
}

export const round = (n: number, digits = 3): number => Number(n.toFixed(digits));

export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
}
