import { dec, str, type DecimalString } from '../domain/decimal.ts';
import type { Side } from '../domain/order.ts';
import { isTerminal, type OrderStatus } from '../domain/order-status.ts';
import { CANCEL_REJECTION, ORDER_REJECTION, ORDER_UPDATE_REASON, codeName } from '../derivadex/codes.ts';
import { isPlaceholderIntent, type OrderIntentRow } from '../derivadex/order-intent.ts';
import type { OrderBookL3Entry } from '../derivadex/rest-bodies.ts';
import { sideOfIntent, type AnyOrderUpdate } from './ledger-events.ts';

/*
 * The order lifecycle tracker: one record per order, correlated by the venue's orderHash (known as
 * soon as the order is signed; on the wire it is the intent's `orderHash`, docs/derivadex-sources.md §5.6)
 * and keyed to the caller's clientOrderId.
 *
 *   submitted → sequenced (receipt) → posted → partially-filled → filled | cancelled | rejected
 *
 *   (`liquidated`, a status of the domain, never comes from DerivaDEX: a liquidation closes the position
 *   with the venue's own order and cancels the strategy's orders, so they end `cancelled`.)
 *
 * - `sequenced` is reported exactly once for every order the venue sequenced: on the receipt, or on the
 *   first update or open-order sighting if that comes first (it proves the same). A refused request goes
 *   from submitted straight to rejected.
 * - A status only moves forward; a repeated partially-filled is reported again only when the cumulative
 *   filled amount grows. Updates may arrive before the receipt, out of order, or twice: filled is the
 *   maximum seen, and an update whose globalOrdinal was seen is ignored. The venue sends no remaining
 *   amount: remaining = intent.amount − filled, where filled is the realtime row's
 *   `cumulativeFilledAmount` when the order is the row's maker intent (the order the row is about), or
 *   else (REST rows have none; a taker's total is not on the row) what was filled before plus the row's
 *   `amount` (§5.6). Rows are deduplicated per order, so the sum counts each fill once.
 * - Fully rejected orders may come with a placeholder intent (`orderHash: ""`, docs order and account
 *   event reference): such a row is matched to our order by the intent's `nonce` when it has one
 *   (§10.8); otherwise it matches nothing and the order is left to repair.
 * - Nothing is terminal by assumption: only a terminal ORDER_UPDATE, a definitive refusal of the request
 *   (an HTTP 4xx: the venue did not sequence it), or a REST reconcile that proves the outcome ends an
 *   order. A request whose answer was lost (503, no answer) stays `submitted` until reconciled.
 * - Orders we did not place (found at bootstrap, or updates for an unknown hash) are adopted with the
 *   orderHash as their clientOrderId.
 */

const RANK: Readonly<Record<OrderStatus, number>> = {
  submitted: 0,
  sequenced: 1,
  posted: 2,
  'partially-filled': 3,
  filled: 4,
  cancelled: 4,
  rejected: 4,
  liquidated: 4,
};

/**
 * Whether an order may move from `from` to `to`: forward only, never out of a terminal status, and a
 * partial fill again only when the filled amount grew. machines/order.ts draws this relation.
 */
export function canAdvance(from: OrderStatus, to: OrderStatus, grew: boolean): boolean {
  if (isTerminal(from)) return false;
  return RANK[to] > RANK[from] || (to === 'partially-filled' && from === 'partially-filled' && grew);
}

export interface LifecycleEvent {
  strategyId: string;
  clientOrderId: string;
  orderHash: string;
  symbol: string;
  status: OrderStatus;
  /** Cumulative filled amount. */
  filled: DecimalString;
  /** Amount still working (or not yet worked) on the book. */
  remaining: DecimalString;
  /** On rejection: the venue's rejection name (codes.ts ORDER_REJECTION, e.g. NoLiquidity) or the refusal's name (e.g. IllegalNonce). */
  reason?: string;
  /** A human-readable detail of the reason, when the venue gave one. */
  detail?: string;
  /** Clock time at which we learned it. */
  at: number;
}

export interface TrackedOrder {
  strategyId: string;
  clientOrderId: string;
  orderHash: string;
  symbol: string;
  side: Side;
  amount: DecimalString;
  status: OrderStatus;
  filled: DecimalString;
  remaining: DecimalString;
  reason?: string;
  detail?: string;
  /** Highest globalOrdinal applied to this order; -1 before any update. */
  lastOrdinal: number;
  /** True while the request's answer was lost and a reconcile must settle it. */
  unresolved: boolean;
  /** The bytes32 nonce it was signed with, when this process signed it (matches placeholder rejections). */
  nonce?: string;
}

export interface NewOrder {
  strategyId: string;
  clientOrderId: string;
  orderHash: string;
  symbol: string;
  side: Side;
  amount: DecimalString;
  nonce?: string;
}

export class LifecycleError extends Error {
  override readonly name = 'LifecycleError';
}

/** 'unmatched': a placeholder intent whose nonce names no order of ours (left to repair). */
export type UpdateOutcome = 'applied' | 'unchanged' | 'duplicate' | 'cancel-rejected' | 'after-terminal' | 'unmatched';

/** How many globalOrdinals per order are remembered for duplicate detection beyond lastOrdinal. */
const SEEN_PER_ORDER = 64;
/** How many finished orders are remembered so late duplicates of their updates adopt nothing. */
const RETIRED_LIMIT = 10_000;

export class OrderLifecycle {
  readonly #onEvent: (event: LifecycleEvent) => void;
  readonly #byHash = new Map<string, TrackedOrder>();
  readonly #byClientId = new Map<string, TrackedOrder>();
  readonly #seen = new Map<string, Set<number>>();
  readonly #byNonce = new Map<string, TrackedOrder>();
  /** Orders adopted from the venue (found open, or an update for an unknown hash) and not reclaimed since. */
  readonly #foreign = new WeakSet<TrackedOrder>();

  constructor(onEvent: (event: LifecycleEvent) => void) {
    this.#onEvent = onEvent;
  }

  /** Records an order about to be sent (status submitted) and reports it. */
  submit(order: NewOrder, at: number): TrackedOrder {
    const key = clientKey(order.strategyId, order.clientOrderId);
    const holder = this.#byClientId.get(key);
    if (holder !== undefined && !isTerminal(holder.status)) {
      throw new LifecycleError(`clientOrderId ${JSON.stringify(order.clientOrderId)} is already used by strategy ${order.strategyId}`);
    }
    const hash = order.orderHash.toLowerCase();
    if (this.#byHash.has(hash)) throw new LifecycleError(`order ${hash} is already tracked`);
    if (holder !== undefined) this.#alias(holder);
    const tracked: TrackedOrder = {
      ...order,
      orderHash: hash,
      amount: str(order.amount),
      status: 'submitted',
      filled: '0',
      remaining: str(order.amount),
      lastOrdinal: -1,
      unresolved: false,
    };
    this.#index(tracked);
    this.#emit(tracked, at);
    return tracked;
  }

  get(strategyId: string, clientOrderId: string): TrackedOrder | undefined {
    return this.#byClientId.get(clientKey(strategyId, clientOrderId));
  }

  byHash(orderHash: string): TrackedOrder | undefined {
    return this.#byHash.get(orderHash.toLowerCase());
  }

  /**
   * Whether this tracker submitted the order or took it over on purpose (`adopt`, or `rename` of a reclaimed
   * one); false for an unknown hash and for orders it only saw on the venue — another process's.
   */
  placedHere(orderHash: string): boolean {
    const order = this.byHash(orderHash);
    return order !== undefined && !this.#foreign.has(order);
  }

  /** An order this process signed, by its request nonce. */
  byNonce(nonce: string): TrackedOrder | undefined {
    return this.#byNonce.get(nonce.toLowerCase());
  }

  /**
   * Gives an adopted order (tracked under its hash) the clientOrderId its placer used, so a process that
   * took over the strategy can follow the order it inherited.
   */
  rename(orderHash: string, clientOrderId: string): TrackedOrder {
    const order = this.byHash(orderHash);
    if (order === undefined) throw new LifecycleError(`order ${orderHash} is not tracked`);
    const key = clientKey(order.strategyId, clientOrderId);
    const holder = this.#byClientId.get(key);
    // The id was this client's from an earlier tenure of the strategy (its counter restarted from another
    // process's snapshot): the older order keeps being followed under an alias, the id goes to the heir.
    if (holder !== undefined && holder !== order) this.#alias(holder);
    this.#byClientId.delete(clientKey(order.strategyId, order.clientOrderId));
    order.clientOrderId = clientOrderId;
    this.#byClientId.set(key, order);
    this.#foreign.delete(order);
    return order;
  }

  /**
   * Follows from now on a working order another process placed, found in the venue's history but not yet
   * on this client's feed, under the clientOrderId its placer used. Nothing is reported (the caller has
   * the order's state); the updates already read (`seenOrdinals`) count as seen, so when the feed
   * delivers them late they are duplicates, and only newer ones move the order.
   */
  adopt(order: TrackedOrder, seenOrdinals: readonly number[]): TrackedOrder {
    const hash = order.orderHash.toLowerCase();
    if (this.#byHash.has(hash)) throw new LifecycleError(`order ${hash} is already tracked`);
    const key = clientKey(order.strategyId, order.clientOrderId);
    const holder = this.#byClientId.get(key);
    if (holder !== undefined) this.#alias(holder); // as in rename(): an earlier tenure's order under the same id
    const tracked: TrackedOrder = { ...order, orderHash: hash };
    this.#index(tracked);
    this.#seen.set(hash, new Set(seenOrdinals.slice(-SEEN_PER_ORDER)));
    return tracked;
  }

  /** Orders not yet terminal, optionally of one strategy. */
  live(strategyId?: string): TrackedOrder[] {
    return [...this.#byHash.values()].filter((o) => !isTerminal(o.status) && (strategyId === undefined || o.strategyId === strategyId));
  }

  /**
   * The request was refused with 412 before it was sequenced and re-signed with a fresh nonce, which
   * gives the order a new hash. Only a `submitted` order can be re-keyed.
   */
  rekey(previous: string, orderHash: string, nonce?: string): void {
    const order = this.byHash(previous);
    const hash = orderHash.toLowerCase();
    if (order === undefined || order.status !== 'submitted') throw new LifecycleError(`order ${previous} cannot be re-keyed`);
    if (this.#byHash.has(hash)) throw new LifecycleError(`order ${hash} is already tracked`);
    this.#byHash.delete(order.orderHash);
    order.orderHash = hash;
    this.#byHash.set(hash, order);
    if (nonce !== undefined) {
      if (order.nonce !== undefined) this.#byNonce.delete(order.nonce);
      order.nonce = nonce.toLowerCase();
      this.#byNonce.set(order.nonce, order);
    }
  }

  /** The receipt arrived: the venue sequenced the request. */
  sequenced(orderHash: string, at: number): void {
    const order = this.byHash(orderHash);
    if (order === undefined) return;
    order.unresolved = false;
    this.#advance(order, 'sequenced', at);
  }

  /** The request's answer was lost (503 / no answer): the outcome must be found by a reconcile. */
  markUnresolved(orderHash: string): void {
    const order = this.byHash(orderHash);
    if (order !== undefined && order.status === 'submitted') order.unresolved = true;
  }

  /** The venue refused the request outright (HTTP 4xx): it was never sequenced. */
  refused(orderHash: string, code: string, detail: string, at: number): void {
    const order = this.byHash(orderHash);
    if (order === undefined) return;
    order.unresolved = false;
    this.#advance(order, 'rejected', at, code, detail);
  }

  /** A reconcile found no trace of a request whose answer was lost: it was not sequenced. */
  notSequenced(orderHash: string, at: number): void {
    const order = this.byHash(orderHash);
    if (order === undefined || order.status !== 'submitted') return;
    order.unresolved = false;
    this.#advance(order, 'rejected', at, 'NotSequenced', 'the venue has no record of the request (its answer was lost)');
  }

  /**
   * An order found open at the venue (bootstrap or reconcile): an L3 book entry, whose `amount` is what
   * remains of `originalAmount` (SDK `OrderBookL3Entry`, §3.3). Adopts it if unknown.
   */
  applyOpenOrder(strategyId: string, open: OrderBookL3Entry, at: number): TrackedOrder {
    const hash = open.orderHash.toLowerCase();
    let order = this.#byHash.get(hash);
    if (order === undefined) {
      order = {
        strategyId,
        clientOrderId: hash,
        orderHash: hash,
        symbol: open.symbol,
        side: open.side === 0 ? 'buy' : 'sell',
        amount: str(open.originalAmount),
        status: 'sequenced',
        filled: '0',
        remaining: str(open.originalAmount),
        lastOrdinal: -1,
        unresolved: false,
      };
      this.#index(order);
      this.#foreign.add(order);
    }
    // Read before a replay that may have ended it since: an ended order stays ended.
    if (isTerminal(order.status)) return order;
    order.unresolved = false;
    this.#provenSequenced(order, at);
    const filled = dec(open.originalAmount).minus(open.amount);
    const grew = filled.gt(order.filled);
    if (grew) order.filled = str(filled);
    order.remaining = str(dec(order.amount).minus(order.filled));
    this.#advance(order, dec(order.filled).gt(0) ? 'partially-filled' : 'posted', at, undefined, undefined, grew);
    return order;
  }

  /**
   * Applies one ORDER_UPDATE row to the order of `intent` (one of ours on the row: its maker or taker
   * intent, §10.7). A placeholder intent is matched by nonce.
   */
  applyUpdate(
    strategyId: string,
    row: AnyOrderUpdate,
    intent: OrderIntentRow,
    at: number,
  ): { outcome: UpdateOutcome; order?: TrackedOrder } {
    let order: TrackedOrder | undefined;
    if (isPlaceholderIntent(intent)) {
      order = intent.nonce === '' ? undefined : this.byNonce(intent.nonce);
      if (order === undefined || order.strategyId !== strategyId) return { outcome: 'unmatched' };
    } else {
      order = this.#byHash.get(intent.orderHash.toLowerCase());
    }
    if (order === undefined) {
      const hash = intent.orderHash.toLowerCase();
      order = {
        strategyId,
        clientOrderId: hash,
        orderHash: hash,
        symbol: intent.symbol,
        side: sideOfIntent(intent),
        amount: str(intent.amount),
        status: 'sequenced',
        filled: '0',
        remaining: str(intent.amount),
        lastOrdinal: -1,
        unresolved: false,
      };
      this.#index(order);
      this.#foreign.add(order);
    }
    const hash = order.orderHash;
    const seen = this.#seen.get(hash) ?? new Set<number>();
    if (seen.has(row.globalOrdinal)) return { outcome: 'duplicate', order };
    seen.add(row.globalOrdinal);
    if (seen.size > SEEN_PER_ORDER) seen.delete(seen.values().next().value as number);
    this.#seen.set(hash, seen);
    order.unresolved = false;
    this.#provenSequenced(order, at);
    if (row.globalOrdinal > order.lastOrdinal) order.lastOrdinal = row.globalOrdinal;

    if (row.reason === ORDER_UPDATE_REASON.CancelRejection) return { outcome: 'cancel-rejected', order };
    if (isTerminal(order.status)) return { outcome: 'after-terminal', order };

    // A Trade, or a Liquidation our order absorbed, fills it; other rows only confirm what was filled.
    const fills = row.reason === ORDER_UPDATE_REASON.Trade || row.reason === ORDER_UPDATE_REASON.Liquidation;
    // `cumulativeFilledAmount` is the total of the order the row is about, its maker intent (§10.7): a
    // taker's fills are summed instead.
    const aboutMaker = intent === row.makerOrderIntent || intent.orderHash.toLowerCase() === row.makerOrderIntent.orderHash.toLowerCase();
    const cumulative = aboutMaker && 'cumulativeFilledAmount' in row ? row.cumulativeFilledAmount : undefined;
    let filled = dec(order.filled);
    if (cumulative !== undefined) filled = dec(cumulative);
    else if (fills && row.amount !== undefined) filled = filled.plus(row.amount);
    const grew = filled.gt(order.filled);
    if (grew) order.filled = str(filled);
    order.remaining = str(dec(order.amount).minus(order.filled));

    let target: OrderStatus;
    let reason: string | undefined;
    switch (row.reason) {
      case ORDER_UPDATE_REASON.Post:
        target = dec(order.filled).gt(0) ? 'partially-filled' : 'posted';
        break;
      case ORDER_UPDATE_REASON.Trade:
      case ORDER_UPDATE_REASON.Liquidation:
        target = dec(order.filled).gte(order.amount) ? 'filled' : 'partially-filled';
        break;
      case ORDER_UPDATE_REASON.Cancellation:
        target = 'cancelled';
        break;
      default:
        target = 'rejected';
        reason = row.orderRejection === undefined ? 'OrderRejection' : codeName(ORDER_REJECTION, row.orderRejection);
        break;
    }
    const moved = this.#advance(order, target, at, reason, undefined, grew);
    return { outcome: moved ? 'applied' : 'unchanged', order };
  }

  /**
   * An update (or an open order) is proof that the venue sequenced the order. Reporting `sequenced`
   * before the update's own status makes the event stream the same whether the receipt or the feed
   * arrived first (they travel on different sockets).
   */
  #provenSequenced(order: TrackedOrder, at: number): void {
    if (order.status !== 'submitted') return;
    order.status = 'sequenced';
    this.#emit(order, at);
  }

  /** Moves `order` to `target` if that is forward (or reports a grown partial fill). */
  #advance(order: TrackedOrder, target: OrderStatus, at: number, reason?: string, detail?: string, grew = false): boolean {
    if (!canAdvance(order.status, target, grew)) return false;
    order.status = target;
    if (reason !== undefined) order.reason = reason;
    if (detail !== undefined) order.detail = detail;
    if (isTerminal(target)) order.remaining = '0';
    this.#emit(order, at);
    if (isTerminal(target)) this.#retire();
    return true;
  }

  #emit(order: TrackedOrder, at: number): void {
    const event: LifecycleEvent = {
      strategyId: order.strategyId,
      clientOrderId: order.clientOrderId,
      orderHash: order.orderHash,
      symbol: order.symbol,
      status: order.status,
      filled: order.filled,
      remaining: order.remaining,
      at,
    };
    if (order.reason !== undefined) event.reason = order.reason;
    if (order.detail !== undefined) event.detail = order.detail;
    this.#onEvent(event);
  }

  /** Moves an order off its clientOrderId to `<id>@<orderHash>`, still tracked by hash and nonce. */
  #alias(order: TrackedOrder): void {
    this.#byClientId.delete(clientKey(order.strategyId, order.clientOrderId));
    order.clientOrderId = `${order.clientOrderId}@${order.orderHash}`;
    this.#byClientId.set(clientKey(order.strategyId, order.clientOrderId), order);
  }

  #index(order: TrackedOrder): void {
    this.#byHash.set(order.orderHash, order);
    if (order.nonce !== undefined) this.#byNonce.set(order.nonce, order);
    this.#byClientId.set(clientKey(order.strategyId, order.clientOrderId), order);
  }

  /** Bounds memory: the oldest finished orders are forgotten once there are too many. */
  #retire(): void {
    if (this.#byHash.size <= RETIRED_LIMIT) return;
    for (const [hash, order] of this.#byHash) {
      if (this.#byHash.size <= RETIRED_LIMIT) break;
      if (!isTerminal(order.status)) continue;
      this.#byHash.delete(hash);
      this.#byClientId.delete(clientKey(order.strategyId, order.clientOrderId));
      this.#seen.delete(hash);
      if (order.nonce !== undefined) this.#byNonce.delete(order.nonce);
    }
  }
}

function clientKey(strategyId: string, clientOrderId: string): string {
  return `${strategyId}\u0000${clientOrderId}`;
}

/** The name of a `cancelRejection` code (codes.ts CANCEL_REJECTION: 0 InvalidOrder). */
export function cancelRejectionName(code: number | undefined): string {
  return code === undefined ? 'CancelRejection' : codeName(CANCEL_REJECTION, code);
}
