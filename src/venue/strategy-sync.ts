import { ORDER_UPDATE_REASON, STRATEGY_UPDATE_REASON, WITHDRAW_REJECTION, codeName } from '../derivadex/codes.ts';
import { isPlaceholderIntent } from '../derivadex/order-intent.ts';
import type { Position, Strategy } from '../derivadex/rest-bodies.ts';
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
import {
  CHECKED_REASONS,
  balanceOfStrategyUpdate,
  isLiquidated,
  ledgerEventOfStrategyUpdate,
  ledgerEventsOfOrderUpdate,
  ourIntents,
  type AnyOrderUpdate,
  type AnyStrategyUpdate,
  type StrategyIdentity,
  type UnsequencedEvent,
} from './ledger-events.ts';
import { cancelRejectionName, type OrderLifecycle } from './order-lifecycle.ts';

/*
 * One strategy's view of the venue, kept exactly once and in order: every ORDER_UPDATE and
 * STRATEGY_UPDATE row of the strategy is applied once (deduplicated by globalOrdinal within its family)
 * to its ledger and to the order lifecycle tracker. docs/derivadex-sources.md §10.3–§10.7.
 *
 * - globalOrdinal is per family (§10.4): each family has its own floor and its own set of applied
 *   ordinals, and the two are never compared. `floors[f]`: every row of family f with globalOrdinal <=
 *   the floor has been applied (or is inside the snapshot); rows above it that were applied are in `seen`.
 * - The snapshot (`/stats/api/v1/strategy` + `/stats/api/v1/positions`) has no cursor: the client
 *   brackets it between two reads of the newest globalOrdinal of each family (§10.3); equal reads mean
 *   the snapshot is exactly the rows up to that `horizon`, which becomes the floors.
 * - Order across families: live rows are applied in arrival (top-level `ordinal`) order; REST rows are
 *   merged by (epochId, txOrdinal, ordinal) (§10.5). While syncing (bootstrap, or a repair after a gap,
 *   a bad frame or a reconnect) live rows are queued, REST rows above the floors and up to the horizon
 *   are applied, the ledger is compared with the snapshot, then the queue drains in arrival order.
 * - STRATEGY_UPDATE rows that are not ledger events are checked (§10.6): Deposit, WithdrawIntent,
 *   FundingPayment, Fee and Liquidation rows' `newAvailCollateral` against the ledger after the rows
 *   before them (Trade rows show collateral before the fee and are not checked), and `positions[]`
 *   (balance and side) when present. A difference is drift. One difference is expected and booked:
 *   after a liquidation the insurance fund tops a negative balance up to zero; the Liquidation row shows
 *   the collateral after it and, when the ledger is flat, the difference enters the ledger as a negative
 *   `fee` (id `insurance:<globalOrdinal>`).
 * - The ledger's `seq`: globalOrdinals are per family, so neither orders the ledger. The rows are already
 *   applied in one order (above), so `seq` is a per-strategy counter in application order: monotonic
 *   and unique, and the ledger's late-insertion path is never needed.
 */

export type UserFeed = 'ORDER_UPDATE' | 'STRATEGY_UPDATE';
export type UserRow = { feed: 'ORDER_UPDATE'; row: AnyOrderUpdate } | { feed: 'STRATEGY_UPDATE'; row: AnyStrategyUpdate };
const USER_FEEDS: readonly UserFeed[] = ['ORDER_UPDATE', 'STRATEGY_UPDATE'];

/** Per family: the newest globalOrdinal a snapshot includes (-1: none yet). */
export type Horizon = Record<UserFeed, number>;

/** A strategy snapshot and the per-family globalOrdinals it reflects. */
export interface StrategySnapshot {
  strategy: Strategy;
  positions: readonly Position[];
  horizon: Horizon;
}

export interface Drift {
  strategyId: string;
  /** The row (or, for a snapshot, the STRATEGY_UPDATE horizon) that disagrees with the ledger. */
  globalOrdinal: number;
  field: 'collateral' | 'position';
  symbol?: string;
  venue: string;
  local: string;
}

export interface CancelRejection {
  orderHash: string;
  symbol: string;
  /** codes.ts CANCEL_REJECTION name, e.g. InvalidOrder. */
  reason: string;
  globalOrdinal: number;
}

export interface WithdrawRejection {
  /** codes.ts WITHDRAW_REJECTION name, e.g. MaxWithdrawalAmount. */
  reason: string;
  amount?: string;
  globalOrdinal: number;
}

export interface StrategySyncSink {
  ledger(strategyId: string, event: LedgerEvent, outcome: LedgerOutcome): void;
  /** A ledger event the ledger refused (malformed, duplicate id with another meaning): a bug or a venue fault. */
  ledgerRejected(strategyId: string, event: LedgerEvent, reason: string): void;
  cancelRejected(strategyId: string, rejection: CancelRejection): void;
  liquidation(strategyId: string, symbol: string, price: string, globalOrdinal: number): void;
  withdrawRejected(strategyId: string, rejection: WithdrawRejection): void;
  drift(drift: Drift): void;
}

/** Signed position size: PositionSide 1 Long, 2 Short (SDK `models/base.py`, §6.6), size `balance`. */
function signedBalance(p: Position): string {
  return str(p.side === 2 ? dec(p.balance).neg() : dec(p.balance));
}

/** A ledger that starts from a venue snapshot: `availCollateral` (§10.2) and the positions. */
export function ledgerFromSnapshot(strategy: Strategy, positions: readonly Position[]): LedgerState {
  const base = createLedger(str(strategy.availCollateral));
  const held: Record<string, LedgerPosition> = {};
  for (const p of [...positions].sort((a, b) => (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0))) {
    if (dec(p.balance).isZero()) continue;
    held[p.symbol] = { size: signedBalance(p), avgEntry: str(p.avgEntryPrice) };
  }
  return { ...base, positions: held, checkpoint: { ...base.checkpoint, positions: held } };
}

/** How many applied ordinals above the floor are remembered per family. */
const SEEN_LIMIT = 100_000;

export class StrategySync {
  readonly strategyId: string;
  readonly identity: StrategyIdentity;
  readonly #lifecycle: OrderLifecycle;
  readonly #sink: StrategySyncSink;
  readonly #now: () => number;

  #ledger: LedgerState | undefined;
  /** Per family: everything at or below the floor has been applied (the families are never compared). */
  #floors: Horizon = { ORDER_UPDATE: -1, STRATEGY_UPDATE: -1 };
  #seen: Record<UserFeed, Set<number>> = { ORDER_UPDATE: new Set(), STRATEGY_UPDATE: new Set() };
  #queue: UserRow[] = [];
  #syncing = true;
  /** The next ledger seq (application order, see the module comment). */
  #seq = 0;
  /** False after an incomplete sync: rows below live ones may be missing, so the floor must wait. */
  #contiguous = true;

  constructor(strategyId: string, identity: StrategyIdentity, lifecycle: OrderLifecycle, sink: StrategySyncSink, now: () => number) {
    this.strategyId = strategyId;
    this.identity = { traderAddress: identity.traderAddress.toLowerCase(), strategyIdHash: identity.strategyIdHash.toLowerCase() };
    this.#lifecycle = lifecycle;
    this.#sink = sink;
    this.#now = now;
  }

  get ledger(): LedgerState | undefined {
    return this.#ledger;
  }

  /** Per family, where a REST replay starts (`globalOrdinal = floor + 1`). */
  get floors(): Readonly<Horizon> {
    return { ...this.#floors };
  }

  get syncing(): boolean {
    return this.#syncing;
  }

  /** Live rows are queued until endSync(). Idempotent. */
  beginSync(): void {
    this.#syncing = true;
  }

  /** A live row from the feed, in arrival order. */
  offer(row: UserRow): void {
    if (this.#syncing) this.#queue.push(row);
    else if (this.#apply(row)) this.#raiseFloor(row.feed, row.row.globalOrdinal);
  }

  /** Starts the ledger from a snapshot (bootstrap): its horizon becomes the floors. */
  bootstrap(snapshot: StrategySnapshot): void {
    this.#ledger = ledgerFromSnapshot(snapshot.strategy, snapshot.positions);
    this.#seq = this.#ledger.lastSeq + 1;
    for (const feed of USER_FEEDS) {
      this.#seen[feed].clear();
      this.#floors[feed] = snapshot.horizon[feed];
    }
  }

  /**
   * Applies REST rows above the floors and up to `horizon`, merged across families by (epochId,
   * txOrdinal, ordinal) (§10.5); afterwards every row up to the horizon is applied. Rows above the
   * horizon are left to the live feed (they were written after the horizon was read, so after the
   * subscription): the two families were read at different moments, so only up to a common horizon
   * are they complete together.
   */
  replay(rows: readonly UserRow[], horizon: Horizon): void {
    const inside = rows.filter((r) => r.row.globalOrdinal <= horizon[r.feed]);
    for (const row of mergeRows(inside)) this.#apply(row);
    this.#contiguous = true;
    for (const feed of USER_FEEDS) this.#raiseFloor(feed, horizon[feed]);
  }

  /**
   * Compares the ledger with a snapshot (valid when exactly the rows up to its horizon have been
   * applied: right after replay() with the same horizon). Reports and returns the drifts.
   */
  reconcile(snapshot: StrategySnapshot): Drift[] {
    const ledger = this.#ledger;
    if (ledger === undefined) return [];
    const drifts: Drift[] = [];
    const base = { strategyId: this.strategyId, globalOrdinal: snapshot.horizon.STRATEGY_UPDATE };
    if (!dec(snapshot.strategy.availCollateral).eq(ledger.collateral)) {
      drifts.push({ ...base, field: 'collateral', venue: str(snapshot.strategy.availCollateral), local: ledger.collateral });
    }
    const venue = new Map<string, string>();
    for (const p of snapshot.positions) venue.set(p.symbol, signedBalance(p));
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
   * Drains the queue in arrival order and leaves sync. `complete`: the replay reached the horizon and
   * no gap was seen since, so the queue was contiguous and the floors may follow it. After an incomplete
   * sync the floors stay put (the next repair replays from them) until a complete one.
   */
  endSync(complete: boolean): void {
    const queued = this.#queue;
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

  #applyOrderUpdate(row: AnyOrderUpdate): void {
    const at = this.#now();
    // The fill enters the ledger before the lifecycle moves: whoever reacts to a terminal status (the
    // account plans its next reducing order at once) must already see the position after that fill.
    for (const event of ledgerEventsOfOrderUpdate(row, this.identity)) this.#book(event);
    const mine = ourIntents(row, this.identity);
    // A fully rejected order may come with a placeholder intent: the lifecycle matches it by nonce (§10.8).
    if (row.reason === ORDER_UPDATE_REASON.OrderRejection && isPlaceholderIntent(row.makerOrderIntent)) {
      mine.push({ role: 'maker', intent: row.makerOrderIntent });
    }
    for (const { intent } of mine) {
      const { outcome, order } = this.#lifecycle.applyUpdate(this.strategyId, row, intent, at);
      if (outcome === 'cancel-rejected' && order !== undefined) {
        this.#sink.cancelRejected(this.strategyId, {
          orderHash: order.orderHash,
          symbol: row.symbol,
          reason: cancelRejectionName(row.cancelRejection),
          globalOrdinal: row.globalOrdinal,
        });
      }
    }
    if (isLiquidated(row, this.identity) && row.price !== undefined) {
      this.#sink.liquidation(this.strategyId, row.symbol, str(row.price), row.globalOrdinal);
    }
  }

  #applyStrategyUpdate(row: AnyStrategyUpdate): void {
    const event = ledgerEventOfStrategyUpdate(row);
    if (event !== undefined) this.#book(event);
    if (row.reason === STRATEGY_UPDATE_REASON.WithdrawRejection) {
      const rejection: WithdrawRejection = {
        reason: row.withdrawRejection === undefined ? 'WithdrawRejection' : codeName(WITHDRAW_REJECTION, row.withdrawRejection),
        globalOrdinal: row.globalOrdinal,
      };
      if (row.amount !== undefined) rejection.amount = str(row.amount);
      this.#sink.withdrawRejected(this.strategyId, rejection);
    }
    const ledger = this.#ledger;
    if (ledger === undefined) return;
    const balance = balanceOfStrategyUpdate(row);
    const base = { strategyId: this.strategyId, globalOrdinal: row.globalOrdinal };

    for (const p of balance.positions ?? []) {
      const ours = str(positionSize(ledger, p.symbol));
      if (!dec(ours).eq(p.size)) this.#sink.drift({ ...base, field: 'position', symbol: p.symbol, venue: p.size, local: ours });
    }

    if (!CHECKED_REASONS.has(row.reason) || balance.collateral === undefined) return;
    const expected = dec(balance.collateral);
    const local = dec(ledger.collateral);
    if (local.eq(expected)) return;
    if (row.reason === STRATEGY_UPDATE_REASON.Liquidation && Object.keys(ledger.positions).length === 0) {
      this.#book({ kind: 'fee', id: `insurance:${row.globalOrdinal}`, amount: str(local.minus(expected)) });
      return;
    }
    this.#sink.drift({ ...base, field: 'collateral', venue: str(expected), local: str(local) });
  }

  #book(unsequenced: UnsequencedEvent): void {
    const ledger = this.#ledger;
    if (ledger === undefined) return;
    const event = { ...unsequenced, seq: this.#seq } as LedgerEvent;
    const result = applyLedgerEvent(ledger, event);
    if (result.outcome === 'applied' || result.outcome === 'reordered') {
      this.#seq += 1;
      this.#ledger = result.state;
      this.#sink.ledger(this.strategyId, event, result.outcome);
    } else if (result.outcome === 'rejected') {
      this.#sink.ledgerRejected(this.strategyId, event, result.reason ?? 'rejected');
    }
  }
}

/** REST rows in the order the venue wrote them: (epochId, txOrdinal, ordinal), then family, then globalOrdinal. */
export function mergeRows(rows: readonly UserRow[]): UserRow[] {
  const key = (r: UserRow): number[] => {
    const txOrdinal = 'txOrdinal' in r.row ? r.row.txOrdinal : 0;
    const ordinal = 'txOrdinal' in r.row ? r.row.ordinal : 0;
    return [r.row.epochId, txOrdinal, ordinal, r.feed === 'ORDER_UPDATE' ? 0 : 1, r.row.globalOrdinal];
  };
  return [...rows]
    .map((r) => ({ r, k: key(r) }))
    .sort((a, b) => {
      for (let i = 0; i < a.k.length; i += 1) if (a.k[i] !== b.k[i]) return a.k[i]! - b.k[i]!;
      return 0;
    })
    .map(({ r }) => r);
}
