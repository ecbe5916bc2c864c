import { performance } from 'node:perf_hooks';
import { SimClock } from '../clock/clock.ts';
import type { FleetConfig } from '../config/fleet-schema.ts';
import { parseConfigDocument } from '../config/load.ts';
import { dec, str } from '../domain/decimal.ts';
import { applyLedgerEvent, createLedger } from '../domain/ledger.ts';
import type { OrderIntent } from '../domain/order.ts';
import type { Product } from '../domain/product.ts';
import { MemoryStopoutStore } from '../store/memory-stopout-store.ts';
import { planFleet } from './fleet-plan.ts';
import { FleetRuntime, type AccountStart, type FleetRuntimeOptions } from './fleet-runtime.ts';

/**
 * A crash drill, run once when a live fleet starts. The crash path — a mark far past every band, entries
 * refused by flag, statecharts entering `de-risking` and `panic-exit`, reduction plans, order placement and
 * signing — runs only when the market breaks, so in a process that has never run it V8 runs it cold: the
 * first hundred reductions of a real crash took about three times as long as the next hundred. The drill
 * runs that path on accounts of its own, in a FleetRuntime of its own, on a simulated clock, with a venue
 * that signs each order with the caller's signer (or not at all) and sends nothing anywhere; then it stops
 * them. Nothing of the fleet is touched: no account, store, timeline or socket is shared.
 */
export interface CrashDrillOptions {
  /** A product of the fleet to drill on, and its symbol. */
  symbol: string;
  product: Product;
  /** Where the market stands before the drill's crash (any positive price of the product). */
  price: string;
  /** Drill accounts (default 300: enough calls for V8 to optimise the path). */
  accounts?: number;
  /** Signs a drill order as the venue client would (its result is dropped); absent: orders are only placed. */
  sign?: (intent: OrderIntent) => void;
}

const DRILL_AT = Date.UTC(2000, 0, 3, 12);

/** What a drill did: its accounts, the reducing orders they placed, how long it took (wall clock). */
export interface CrashDrillResult {
  accounts: number;
  placed: number;
  ms: number;
}

/** How long a drill waits for its orders: far more than it takes cold (about a second for 300 accounts). */
const DRILL_WAIT_MS = 10_000;

/**
 * Runs the drill; resolves when every drill account has placed its first reducing order (or after
 * DRILL_WAIT_MS, with fewer placed) and the drill's accounts are stopped.
 */
export async function runCrashDrill(options: CrashDrillOptions): Promise<CrashDrillResult> {
  const began = performance.now();
  const n = options.accounts ?? 300;
  const { symbol, price } = options;
  if (!(Number.isInteger(n) && n >= 1)) throw new RangeError(`crash drill: accounts must be a positive integer, got ${n}`);
  if (!dec(price).gt(0)) throw new RangeError(`crash drill: price must be positive, got ${price}`);
  const size = '10';
  const notional = dec(price).times(size);
  // Collateral from 0.34 to 0.40 of the notional: after a 30 % fall the buffer (f − 0.3)/0.7 − mmr is below
  // 0.10 for every account (de-risking) and below 0.03 for the thinnest (panic exit), so both states run.
  const collateral = (i: number): string =>
    str(
      notional
        .times(
          dec('0.06')
            .times(i)
            .div(Math.max(1, n - 1))
            .plus('0.34'),
        )
        .toDecimalPlaces(2),
    );
  const document = {
    accounts: Array.from({ length: n }, (_, i) => ({
      id: `drill-${i}`,
      collateral: collateral(i),
      budget: { maxPositionSize: { [symbol]: '20' }, minMarginBuffer: '0.10', panicMarginBuffer: '0.03' },
    })),
  };
  const parsed = parseConfigDocument(document, { expect: 'fleet' });
  if (!parsed.ok) throw new Error(`crash drill: ${parsed.problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
  const plan = planFleet(parsed.value as FleetConfig, { [symbol]: options.product });

  let placed = 0;
  const listeners = new Map<string, Array<(payload: unknown) => void>>();
  const venue = {
    on(event: string, listener: (payload: never) => void) {
      listeners.set(event, [...(listeners.get(event) ?? []), listener as (payload: unknown) => void]);
      return venue;
    },
    async placeOrder(_account: string, _clientOrderId: string, intent: OrderIntent) {
      options.sign?.(intent);
      placed += 1;
      return undefined as never;
    },
    async cancelOrder() {},
  };
  const clock = new SimClock(DRILL_AT);
  const runtime = new FleetRuntime({
    plan,
    clock,
    venue: venue as unknown as FleetRuntimeOptions['venue'],
    store: new MemoryStopoutStore(),
    timeline: { write() {} },
    origin: DRILL_AT,
    report: () => {},
  });
  const starts: Record<string, AccountStart> = {};
  const ids = plan.accounts.map((account) => account.settings.accountId);
  ids.forEach((id, i) => {
    const ledger = applyLedgerEvent(createLedger(collateral(i)), {
      kind: 'fill',
      id: `drill-fill-${i}`,
      seq: 1,
      symbol,
      side: 'buy',
      amount: size,
      price,
    }).state;
    starts[id] = { collateral: collateral(i), ledger, marks: { [symbol]: price } };
  });
  try {
    runtime.start(starts);
    await runtime.ready();
    clock.advanceTo(DRILL_AT + 1000);
    const crash = str(dec(price).times('0.7').toNearest(options.product.tickSize));
    for (const listener of listeners.get('mark') ?? []) listener({ symbol, price: crash, at: DRILL_AT + 1000 });
    const entry: OrderIntent = { symbol, side: 'buy', amount: '1', type: 'market' };
    for (const id of ids) runtime.requestEntry(id, entry);
    const deadline = performance.now() + DRILL_WAIT_MS;
    while (placed < n && performance.now() < deadline) await new Promise((resolve) => setImmediate(resolve));
  } finally {
    runtime.stop();
  }
  return { accounts: n, placed, ms: Math.round(performance.now() - began) };
}
