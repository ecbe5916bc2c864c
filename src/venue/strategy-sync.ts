import { dec, str } from '../domain/decimal.ts';
import {
  applyLedgerEvent,
  createLedger,
  positionSize,
  type LedgerEvent,
  type LedgerOutcome,
  type LedgerPosition,
  type LedgerState,
} from '../domain/ledger.ts';
import { balanceOfStrategyUpdate, ledgerEventOfOrderUpdate, ledgerEventOfStrategyUpdate } from './ledger-events.ts';
import type { OrderLifecycle } from './order-lifecycle.ts';
import type { OrderUpdateRow, StrategyState, StrategyUpdateRow } from './protocol.ts';

/*
 * One strategy's view of the venue, kept exactly once and in order: every ORDER_UPDATE and
 * STRATEGY_UPDATE row of the strategy is applied once (deduplicated by globalOrdinal), in globalOrdinal
 * order, to its ledger and to the order lifecycle tracker.
 *
 * - `floor`: every row with globalOrdinal <= floor has been applied; rows above it that were applied are
 *   in `seen`. A REST replay asks for rows after `floor`, so nothing missed below it can exist.
 * - In sync, rows arrive from one connection in order, so the floor follows each applied row.
 * - While syncing (bootstrap, or a repair after a gap or reconnect) live rows are queued, REST rows up to
 *   the horizon H (the globalOrdinal of the strategy snapshot taken first) are applied, the ledger is
 *   compared with the snapshot, and then the queue is drained in order. Nothing is applied out of order.
 * - STRATEGY_UPDATE rows that are not ledger events (Trade, Fee, Liquidation, ...) are checked against
 *   the ledger: a difference is reported as drift. One difference is expected and booked: after a
 *   liquidation the venue's insurance fund tops a negative balance up to zero; the STRATEGY_UPDATE
 *   Liquidation row shows the collateral after it, and the difference enters the ledger as a negative
 *   `fee` (id `insurance:<globalOrdinal>`).
 */

export type UserRow = { feed: 'ORDER_UPDATE'; row: OrderUpdateRow } | { feed: 'STRATEGY_UPDATE'; row: StrategyUpdateRow };
type UserFeed = UserRow['feed'];
const USER_FEEDS: readonly UserFeed[] = ['ORDER_UPDATE', 'STRATEGY_UPDATE'];

export interface Drift {
  strategyId: string;
  /** The row (or snapshot) that disagrees with the ledger. */
  globalOrdinal: number;
  field: 'collateral' | 'position';
  symbol?: string;
  venue: string;
  local: string;
}

export interface StrategySyncSink {
  ledger(strategyId: string, event: LedgerEvent, outcome: LedgerOutcome): void;
  /** A ledger event the ledger refused (malformed, too old, conflicting seq): a bug or a venue fault. */
  ledgerRejected(strategyId: string, event: LedgerEvent, reason: string): void;
  cancelRejected(strategyId: string, row: OrderUpdateRow): void;
  liquidation(strategyId: string, symbol: string, price: string, globalOrdinal: number): void;
  drift(drift: Drift): void;
}

/**
 * A ledger that starts from a venue snapshot: collateral and positions as the venue reports them at
 * `globalOrdinal`, which becomes the replay floor (events at or before it are already included).
 */
export function ledgerFromSnapshot(state: StrategyState): LedgerState {
  const base = createLedger(str(state.collateral));
  const positions: Record<string, LedgerPosition> = {};
  for (const p of [...state.positions].sort((a, b) => (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0))) {
    const size = dec(p.size);
    if (size.isZero()) continue;
    positions[p.symbol] = { size: str(p.side === 1 ? size.neg() : size), avgEntry: str(p.avgEntryPrice) };
  }
  const book = { ...base, positions };
  return { ...book, lastSeq: state.globalOrdinal, checkpoint: { ...base.checkpoint, positions, lastSeq: state.globalOrdinal } };
}

/** How many applied ordinals above the floor are remembered. */
const SEEN_LIMIT = 100_000;
/** How many recent trade fees are remembered to check STRATEGY_UPDATE Trade rows. */
const FEE_LIMIT = 1_024;

export class StrategySync {
  readonly strategyId: string;
  readonly trader: string;
  readonly strategyIdHash: string;
  readonly #lifecycle: OrderLifecycle;
  readonly #sink: StrategySyncSink;
  readonly #now: () => number;

  #ledger: LedgerState | undefined;
  /**
   * Per feed: everything at or below the floor has been applied. The two user feeds are separate
   * subscriptions — one may pause while the other flows — so one feed's rows never move the other's floor.
   */
  #floors: Record<UserFeed, number> = { ORDER_UPDATE: -1, STRATEGY_UPDATE: -1 };
  #seen: Record<UserFeed, Set<number>> = { ORDER_UPDATE: new Set(), STRATEGY_UPDATE: new Set() };
  #queue: UserRow[] = [];
  #syncing = true;
  #fees = new Map<string, string>();
  /** False after an incomplete sync: rows below live ones may be missing, so the floor must wait. */
  #contiguous = true;

  constructor(
    strategyId: string,
    trader: string,
    strategyIdHash: string,
    lifecycle: OrderLifecycle,
    sink: StrategySyncSink,
    now: () => number,
  ) {
    this.strategyId = strategyId;
    this.trader = trader;
    this.strategyIdHash = strategyIdHash.toLowerCase();
    this.#lifecycle = lifecycle;
    this.#sink = sink;
    this.#now = now;
  }

  get ledger(): LedgerState | undefined {
    return this.#ledger;
  }

  /** Where a REST replay must start so that neither feed misses a row. */
  get floor(): number {
    return Math.min(this.#floors.ORDER_UPDATE, this.#floors.STRATEGY_UPDATE);
  }

  get syncing(): boolean {
    return this.#syncing;
  }

  /** Live rows are queued until endSync(). Idempotent. */
  beginSync(): void {
    this.#syncing = true;
  }

  /** A live row from the feed. */
  offer(row: UserRow): void {
    if (this.#syncing) this.#queue.push(row);
    else if (this.#apply(row)) this.#raiseFloor(row.feed, row.row.globalOrdinal);
  }

  /** Starts the ledger from a snapshot (bootstrap). */
  bootstrap(state: StrategyState): void {
    this.#ledger = ledgerFromSnapshot(state);
    for (const feed of USER_FEEDS) {
      this.#seen[feed].clear();
      this.#floors[feed] = state.globalOrdinal;
    }
  }

  /**
   * Applies REST rows up to `horizon` in globalOrdinal order; afterwards everything <= horizon is
   * applied. Rows after the horizon join the queue: the two REST lists were read at different moments,
   * so only together with the live rows are they complete and in order.
   */
  replay(rows: readonly UserRow[], horizon: number): void {
    for (const row of sortRows(rows)) {
      if (row.row.globalOrdinal <= horizon) this.#apply(row);
      else this.#queue.push(row);
    }
    this.#contiguous = true;
    for (const feed of USER_FEEDS) this.#raiseFloor(feed, horizon);
  }

  /**
   * Compares the ledger with a snapshot taken at `state.globalOrdinal` (valid when everything up to it,
   * and nothing after it, has been applied: right after replay()). Reports and returns the drifts.
   */
  reconcile(state: StrategyState): Drift[] {
    const ledger = this.#ledger;
    if (ledger === undefined) return [];
    const drifts: Drift[] = [];
    const base = { strategyId: this.strategyId, globalOrdinal: state.globalOrdinal };
    if (!dec(state.collateral).eq(ledger.collateral)) {
      drifts.push({ ...base, field: 'collateral', venue: str(state.collateral), local: ledger.collateral });
    }
    const venue = new Map<string, string>();
    for (const p of state.positions) venue.set(p.symbol, str(p.side === 1 ? dec(p.size).neg() : dec(p.size)));
    const symbols = [...new Set([...venue.keys(), ...Object.keys(ledger.positions)])].sort();
    for (const symbol of symbols) {
      const theirs = venue.get(symbol) ?? '0';
      const ours = str(positionSize(ledger, symbol));
      if (!dec(theirs).eq(ours)) drifts.push({ ...base, field: 'position', symbol, venue: theirs, local: ours });
    }
    for (const d of drifts) this.#sink.drift(d);
    return drifts;
  }

  /**
   * Drains the queue in order and leaves sync: live rows are applied at once again. `complete`: the
   * replay reached the horizon and no gap was seen since, so the queue was contiguous and the floor may
   * follow it. After an incomplete sync the floor stays put (the next repair replays from it) and does
   * not follow live rows until a complete one.
   */
  endSync(complete: boolean): void {
    const queued = sortRows(this.#queue);
    this.#queue = [];
    for (const row of queued) this.#apply(row);
    this.#contiguous = complete;
    if (complete) {
      for (const feed of USER_FEEDS) {
        let top = this.#floors[feed];
        for (const g of this.#seen[feed]) if (g > top) top = g;
        this.#raiseFloor(feed, top);
      }
    }
    this.#syncing = false;
  }

  #raiseFloor(feed: UserFeed, to: number): void {
    if (!this.#contiguous) return;
    if (to <= this.#floors[feed]) return;
    this.#floors[feed] = to;
    for (const g of this.#seen[feed]) if (g <= to) this.#seen[feed].delete(g);
  }

  /** Applies one row unless already applied; true if it was new. */
  #apply(entry: UserRow): boolean {
    const g = entry.row.globalOrdinal;
    const seen = this.#seen[entry.feed];
    if (g <= this.#floors[entry.feed] || seen.has(g)) return false;
    seen.add(g);
    if (seen.size > SEEN_LIMIT) seen.delete(seen.values().next().value as number);
    if (entry.feed === 'ORDER_UPDATE') this.#applyOrderUpdate(entry.row);
    else this.#applyStrategyUpdate(entry.row);
    return true;
  }

  #applyOrderUpdate(row: OrderUpdateRow): void {
    const at = this.#now();
    const known = this.#lifecycle.byHash(row.orderHash) !== undefined;
    // The fill enters the ledger before the lifecycle moves: whoever reacts to a terminal status (the
    // account plans its next reducing order at once) must already see the position after that fill.
    const event = ledgerEventOfOrderUpdate(row);
    if (event !== undefined) this.#book(event);
    // A liquidation closes the position with a venue-made order: not one of ours, nothing to track.
    if (row.reason !== 2 || known) {
      const { outcome } = this.#lifecycle.applyUpdate(this.strategyId, row, at);
      if (outcome === 'cancel-rejected') this.#sink.cancelRejected(this.strategyId, row);
    }
    if (row.reason === 1 && row.tradeId !== undefined) {
      this.#fees.set(row.tradeId, str(row.fee ?? '0'));
      if (this.#fees.size > FEE_LIMIT) this.#fees.delete(this.#fees.keys().next().value as string);
    }
    if (row.reason === 2 && row.fillPrice !== undefined)
      this.#sink.liquidation(this.strategyId, row.symbol, str(row.fillPrice), row.globalOrdinal);
  }

  #applyStrategyUpdate(row: StrategyUpdateRow): void {
    const event = ledgerEventOfStrategyUpdate(row);
    if (event !== undefined) this.#book(event);
    const ledger = this.#ledger;
    if (ledger === undefined) return;
    const balance = balanceOfStrategyUpdate(row);
    const base = { strategyId: this.strategyId, globalOrdinal: row.globalOrdinal };

    if (balance.position !== undefined) {
      const ours = str(positionSize(ledger, balance.position.symbol));
      if (!dec(ours).eq(balance.position.size)) {
        this.#sink.drift({ ...base, field: 'position', symbol: balance.position.symbol, venue: balance.position.size, local: ours });
      }
    }

    let expected = dec(balance.collateral);
    if (row.reason === 5) {
      // The Trade row shows collateral after the realized PnL but before the fee (a Fee row follows);
      // our fill already carried the fee.
      const fee = row.tradeId === undefined ? undefined : this.#fees.get(row.tradeId);
      if (fee === undefined) return;
      expected = expected.minus(fee);
    }
    if (row.reason === 2) return; // WithdrawIntent: nothing moved yet
    const local = dec(ledger.collateral);
    if (local.eq(expected)) return;
    const flat = balance.position === undefined || dec(balance.position.size).isZero();
    if (row.reason === 7 && flat && positionSize(ledger, row.symbol ?? '').isZero()) {
      this.#book({ kind: 'fee', id: `insurance:${row.globalOrdinal}`, seq: row.globalOrdinal, amount: str(local.minus(expected)) });
      return;
    }
    this.#sink.drift({ ...base, field: 'collateral', venue: str(expected), local: str(local) });
  }

  #book(event: LedgerEvent): void {
    const ledger = this.#ledger;
    if (ledger === undefined) return;
    const result = applyLedgerEvent(ledger, event);
    if (result.outcome === 'applied' || result.outcome === 'reordered') {
      this.#ledger = result.state;
      this.#sink.ledger(this.strategyId, event, result.outcome);
    } else if (result.outcome === 'rejected') {
      this.#sink.ledgerRejected(this.strategyId, event, result.reason ?? 'rejected');
    }
  }
}

function sortRows(rows: readonly UserRow[]): UserRow[] {
  return [...rows].sort((a, b) => a.row.globalOrdinal - b.row.globalOrdinal);
}
