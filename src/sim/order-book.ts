import { Decimal, ZERO, str, type DecimalString } from '../domain/decimal.ts';

/**
 * A central limit order book for one symbol with price-time priority, exact decimals and partial fills.
 *
 * Self-match: an incoming order that would trade against a resting order of the same owner (the same
 * DerivaDEX strategy) is refused as a whole, before anything fills — the exchange turns that into an
 * ORDER_UPDATE OrderRejection SelfMatch. The book only reports it (`MatchPlan.selfMatch`).
 */

/** 0 Bid, 1 Ask (the protocol's codes). */
export type BookSide = 0 | 1;

export interface RestingOrder {
  orderHash: string;
  /** Who owns it: a strategy key, or SYNTHETIC_OWNER for the simulator's own liquidity. */
  owner: string;
  side: BookSide;
  price: Decimal;
  remaining: Decimal;
  /** Time priority: lower rests longer. Assigned by the book. */
  priority: number;
}

export interface NewRestingOrder {
  orderHash: string;
  owner: string;
  side: BookSide;
  price: Decimal;
  remaining: Decimal;
}

/** One fill of an incoming order against a resting one, at the resting (maker) price. */
export interface BookFill {
  makerHash: string;
  makerOwner: string;
  price: Decimal;
  amount: Decimal;
  /** The maker's remaining amount after this fill. */
  makerRemaining: Decimal;
}

export interface MatchPlan {
  fills: BookFill[];
  filled: Decimal;
  /** The walk reached a resting order of the incoming order's owner: nothing may fill. */
  selfMatch: boolean;
}

export interface Taker {
  owner: string;
  side: BookSide;
  amount: Decimal;
  /** Worst price the taker accepts (a buy: highest; a sell: lowest); null = any price. */
  limit: Decimal | null;
}

/** An aggregated price level. */
export interface BookLevel {
  side: BookSide;
  price: DecimalString;
  amount: DecimalString;
}

export const SYNTHETIC_OWNER = 'synthetic';

export class OrderBook {
  readonly symbol: string;
  /** Bids: best (highest) first; asks: best (lowest) first; equal prices by priority. */
  readonly #sides: [RestingOrder[], RestingOrder[]] = [[], []];
  readonly #byHash = new Map<string, RestingOrder>();
  #nextPriority = 0;

  constructor(symbol: string) {
    this.symbol = symbol;
  }

  /** Rests an order (it must not cross: match first). Throws for a duplicate hash or a non-positive amount. */
  add(order: NewRestingOrder): RestingOrder {
    if (this.#byHash.has(order.orderHash)) throw new Error(`${this.symbol} book: order ${order.orderHash} already rests`);
    if (!order.remaining.gt(0)) throw new Error(`${this.symbol} book: order ${order.orderHash} has nothing to rest`);
    const resting: RestingOrder = { ...order, priority: this.#nextPriority++ };
    const list = this.#sides[order.side];
    list.splice(this.#insertAt(list, resting), 0, resting);
    this.#byHash.set(order.orderHash, resting);
    return resting;
  }

  get(orderHash: string): RestingOrder | undefined {
    return this.#byHash.get(orderHash);
  }

  remove(orderHash: string): RestingOrder | undefined {
    const order = this.#byHash.get(orderHash);
    if (order === undefined) return undefined;
    const list = this.#sides[order.side];
    list.splice(list.indexOf(order), 1);
    this.#byHash.delete(orderHash);
    return order;
  }

  /** Removes every order `predicate` accepts; returns them best-first, bids before asks. */
  removeWhere(predicate: (order: RestingOrder) => boolean): RestingOrder[] {
    const removed: RestingOrder[] = [];
    for (const side of [0, 1] as const) {
      const keep: RestingOrder[] = [];
      for (const order of this.#sides[side]) {
        if (predicate(order)) {
          removed.push(order);
          this.#byHash.delete(order.orderHash);
        } else keep.push(order);
      }
      this.#sides[side] = keep;
    }
    return removed;
  }

  /** Resting orders of one side, best first. */
  orders(side: BookSide): readonly RestingOrder[] {
    return this.#sides[side];
  }

  best(side: BookSide): Decimal | null {
    return this.#sides[side][0]?.price ?? null;
  }

  /**
   * What `taker` would fill, walking the opposite side best-first while prices are inside its limit.
   * Stops (selfMatch = true) at the first resting order of the same owner. Changes nothing.
   */
  plan(taker: Taker): MatchPlan {
    const fills: BookFill[] = [];
    let left = taker.amount;
    for (const maker of this.#sides[taker.side === 0 ? 1 : 0]) {
      if (!left.gt(0)) break;
      if (taker.limit !== null && (taker.side === 0 ? maker.price.gt(taker.limit) : maker.price.lt(taker.limit))) break;
      if (maker.owner === taker.owner) return { fills: [], filled: ZERO, selfMatch: true };
      const amount = Decimal.min(left, maker.remaining);
      fills.push({
        makerHash: maker.orderHash,
        makerOwner: maker.owner,
        price: maker.price,
        amount,
        makerRemaining: maker.remaining.minus(amount),
      });
      left = left.minus(amount);
    }
    return { fills, filled: taker.amount.minus(left), selfMatch: false };
  }

  /** Applies a plan made by `plan()` on this book with nothing changed in between. */
  execute(plan: MatchPlan): void {
    if (plan.selfMatch) return;
    for (const fill of plan.fills) {
      const maker = this.#byHash.get(fill.makerHash);
      if (maker === undefined) throw new Error(`${this.symbol} book: planned maker ${fill.makerHash} is gone`);
      maker.remaining = fill.makerRemaining;
      if (!maker.remaining.gt(0)) this.remove(maker.orderHash);
    }
  }

  /** plan() then execute() unless it self-matches. */
  match(taker: Taker): MatchPlan {
    const plan = this.plan(taker);
    this.execute(plan);
    return plan;
  }

  /** Aggregated levels: bids best-first, then asks best-first. */
  levels(): BookLevel[] {
    const out: BookLevel[] = [];
    for (const side of [0, 1] as const) {
      let current: { price: Decimal; amount: Decimal } | null = null;
      for (const order of this.#sides[side]) {
        if (current?.price.eq(order.price)) current.amount = current.amount.plus(order.remaining);
        else {
          if (current !== null) out.push({ side, price: str(current.price), amount: str(current.amount) });
          current = { price: order.price, amount: order.remaining };
        }
      }
      if (current !== null) out.push({ side, price: str(current.price), amount: str(current.amount) });
    }
    return out;
  }

  #insertAt(list: RestingOrder[], order: RestingOrder): number {
    // First index whose order ranks after `order`: worse price, or the same price (ties go behind).
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const other = list[mid]!;
      const behind = order.side === 0 ? other.price.lt(order.price) : other.price.gt(order.price);
      if (behind) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}

/** Level changes from `before` to `after` (same symbol): changed or new levels, and removed ones with amount "0". */
export function levelChanges(before: readonly BookLevel[], after: readonly BookLevel[]): BookLevel[] {
  const key = (l: BookLevel): string => `${l.side}:${l.price}`;
  const old = new Map(before.map((l) => [key(l), l.amount]));
  const now = new Map(after.map((l) => [key(l), l.amount]));
  const changes: BookLevel[] = [];
  for (const level of after) if (old.get(key(level)) !== level.amount) changes.push(level);
  for (const level of before) if (!now.has(key(level))) changes.push({ side: level.side, price: level.price, amount: '0' });
  // Deterministic order: bids best-first, then asks best-first.
  return changes.sort((a, b) => {
    if (a.side !== b.side) return a.side - b.side;
    const cmp = new Decimal(a.price).cmp(b.price);
    return a.side === 0 ? -cmp : cmp;
  });
}
