import { dec, str, type DecimalString } from '../domain/decimal.ts';
import type { Side } from '../domain/order.ts';
import { isTerminal, type OrderStatus } from '../domain/order-status.ts';
import { ORDER_REJECTION, type OpenOrder, type OrderRejectionName, type OrderUpdateRow } from './protocol.ts';

/*
 * The order lifecycle tracker: one record per order, correlated by the venue's orderHash (known as
 * soon as the order is signed) and keyed to the caller's clientOrderId.
 *
 *   submitted → sequenced (receipt) → posted → partially-filled → filled | cancelled | rejected | liquidated
 *
 * - `sequenced` is reported exactly once for every order the venue sequenced: on the receipt, or on the
 *   first update or open-order sighting if that comes first (it proves the same). A refused request goes
 *   from submitted straight to rejected.
 * - A status only moves forward; a repeated partially-filled is reported again only when the cumulative
 *   filled amount grows. Updates may arrive before the receipt, out of order, or twice: filled is the
 *   maximum seen, `remaining` comes from the newest update, and an update whose globalOrdinal was seen
 *   is ignored.
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
  /** On rejection: the venue's rejection name (e.g. NoLiquidity) or the HTTP error name (e.g. IllegalNonce). */
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
}

export interface NewOrder {
  strategyId: string;
  clientOrderId: string;
  orderHash: string;
  symbol: string;
  side: Side;
  amount: DecimalString;
}

export class LifecycleError extends Error {
  override readonly name = 'LifecycleError';
}

export type UpdateOutcome = 'applied' | 'unchanged' | 'duplicate' | 'cancel-rejected' | 'after-terminal';

const REJECTION_NAME: ReadonlyMap<number, OrderRejectionName> = new Map(
  Object.entries(ORDER_REJECTION).map(([name, code]) => [code, name as OrderRejectionName]),
);

/** How many globalOrdinals per order are remembered for duplicate detection beyond lastOrdinal. */
const SEEN_PER_ORDER = 64;
/** How many finished orders are remembered so late duplicates of their updates adopt nothing. */
const RETIRED_LIMIT = 10_000;

export class OrderLifecycle {
  readonly #onEvent: (event: LifecycleEvent) => void;
  readonly #byHash = new Map<string, TrackedOrder>();
  readonly #byClientId = new Map<string, TrackedOrder>();
  readonly #seen = new Map<string, Set<number>>();

  constructor(onEvent: (event: LifecycleEvent) => void) {
    this.#onEvent = onEvent;
  }

  /** Records an order about to be sent (status submitted) and reports it. */
  submit(order: NewOrder, at: number): TrackedOrder {
    const key = clientKey(order.strategyId, order.clientOrderId);
    if (this.#byClientId.has(key)) {
      throw new LifecycleError(`clientOrderId ${JSON.stringify(order.clientOrderId)} is already used by strategy ${order.strategyId}`);
    }
    const hash = order.orderHash.toLowerCase();
    if (this.#byHash.has(hash)) throw new LifecycleError(`order ${hash} is already tracked`);
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
   * Gives an adopted order (tracked under its hash) the clientOrderId its placer used, so a process that
   * took over the strategy can follow the order it inherited.
   */
  rename(orderHash: string, clientOrderId: string): TrackedOrder {
    const order = this.byHash(orderHash);
    if (order === undefined) throw new LifecycleError(`order ${orderHash} is not tracked`);
    const key = clientKey(order.strategyId, clientOrderId);
    const holder = this.#byClientId.get(key);
    if (holder !== undefined && holder !== order)
      throw new LifecycleError(`clientOrderId ${JSON.stringify(clientOrderId)} is already used by strategy ${order.strategyId}`);
    this.#byClientId.delete(clientKey(order.strategyId, order.clientOrderId));
    order.clientOrderId = clientOrderId;
    this.#byClientId.set(key, order);
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
    if (this.#byClientId.has(key))
      throw new LifecycleError(`clientOrderId ${JSON.stringify(order.clientOrderId)} is already used by strategy ${order.strategyId}`);
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
  rekey(previous: string, orderHash: string): void {
    const order = this.byHash(previous);
    const hash = orderHash.toLowerCase();
    if (order === undefined || order.status !== 'submitted') throw new LifecycleError(`order ${previous} cannot be re-keyed`);
    if (this.#byHash.has(hash)) throw new LifecycleError(`order ${hash} is already tracked`);
    this.#byHash.delete(order.orderHash);
    order.orderHash = hash;
    this.#byHash.set(hash, order);
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

  /** An order found open at the venue (bootstrap or reconcile). Adopts it if unknown. */
  applyOpenOrder(strategyId: string, open: OpenOrder, at: number): TrackedOrder {
    const hash = open.orderHash.toLowerCase();
    let order = this.#byHash.get(hash);
    if (order === undefined) {
      order = {
        strategyId,
        clientOrderId: hash,
        orderHash: hash,
        symbol: open.symbol,
        side: open.side === 0 ? 'buy' : 'sell',
        amount: str(open.amount),
        status: 'sequenced',
        filled: '0',
        remaining: str(open.amount),
        lastOrdinal: -1,
        unresolved: false,
      };
      this.#index(order);
    }
    order.unresolved = false;
    this.#provenSequenced(order, at);
    const filled = dec(open.filledAmount);
    const grew = filled.gt(order.filled);
    if (grew) order.filled = str(filled);
    if (RANK[order.status] < RANK.posted || grew) order.remaining = str(open.remainingAmount);
    this.#advance(order, filled.gt(0) ? 'partially-filled' : 'posted', at, undefined, undefined, grew);
    return order;
  }

  /** Applies one ORDER_UPDATE row. */
  applyUpdate(strategyId: string, row: OrderUpdateRow, at: number): { outcome: UpdateOutcome; order: TrackedOrder } {
    const hash = row.orderHash.toLowerCase();
    let order = this.#byHash.get(hash);
    if (order === undefined) {
      order = {
        strategyId,
        clientOrderId: hash,
        orderHash: hash,
        symbol: row.symbol,
        side: row.side === 0 ? 'buy' : 'sell',
        amount: str(row.amount),
        status: 'sequenced',
        filled: '0',
        remaining: str(row.amount),
        lastOrdinal: -1,
        unresolved: false,
      };
      this.#index(order);
    }
    const seen = this.#seen.get(hash) ?? new Set<number>();
    if (seen.has(row.globalOrdinal)) return { outcome: 'duplicate', order };
    seen.add(row.globalOrdinal);
    if (seen.size > SEEN_PER_ORDER) seen.delete(seen.values().next().value as number);
    this.#seen.set(hash, seen);
    order.unresolved = false;
    this.#provenSequenced(order, at);

    if (row.reason === 5) {
      if (row.globalOrdinal > order.lastOrdinal) order.lastOrdinal = row.globalOrdinal;
      return { outcome: 'cancel-rejected', order };
    }
    if (isTerminal(order.status)) return { outcome: 'after-terminal', order };

    const filled = dec(row.filledAmount);
    const grew = filled.gt(order.filled);
    if (grew) order.filled = str(filled);
    if (row.globalOrdinal > order.lastOrdinal) {
      order.lastOrdinal = row.globalOrdinal;
      order.remaining = str(row.remainingAmount);
    }

    let target: OrderStatus;
    let reason: string | undefined;
    switch (row.reason) {
      case 0:
        target = dec(order.filled).gt(0) ? 'partially-filled' : 'posted';
        break;
      case 1:
        target = dec(order.filled).gte(order.amount) ? 'filled' : 'partially-filled';
        break;
      case 2:
        target = 'liquidated';
        break;
      case 3:
        target = 'cancelled';
        break;
      case 4:
        target = 'rejected';
        reason =
          row.orderRejection === undefined
            ? 'OrderRejection'
            : (REJECTION_NAME.get(row.orderRejection) ?? `OrderRejection(${row.orderRejection})`);
        break;
    }
    if (isTerminal(target)) order.remaining = '0';
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

  #index(order: TrackedOrder): void {
    this.#byHash.set(order.orderHash, order);
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
    }
  }
}

function clientKey(strategyId: string, clientOrderId: string): string {
  return `${strategyId}\u0000${clientOrderId}`;
}
