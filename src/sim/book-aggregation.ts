import { type Decimal, dec, str } from '../domain/decimal.ts';
import type { BookLevel } from './order-book.ts';

/*
 * ORDER_BOOK_L2 price aggregation. A subscription asks for `{symbol, aggregation}` (SDK
 * `OrderBookL2Filter`; docs realtime channels: 0.1 / 1 / 10 for ETHP): every level is the sum of the
 * book's amounts in one bucket of width `aggregation`, bids rounded down to a multiple of it and asks up
 * (so an aggregated level never looks better than the book).
 */

/** The bucket price of `price` on `side` (0 bid: floor, 1 ask: ceil) at `aggregation`. */
export function bucketPrice(price: Decimal, side: 0 | 1, aggregation: Decimal): Decimal {
  const steps = price.div(aggregation);
  return (side === 0 ? steps.floor() : steps.ceil()).times(aggregation);
}

/** Levels (bids best-first, then asks best-first) aggregated to multiples of `aggregation`. */
export function aggregateLevels(levels: readonly BookLevel[], aggregation: Decimal): BookLevel[] {
  const out: BookLevel[] = [];
  let current: { side: 0 | 1; price: Decimal; amount: Decimal } | null = null;
  for (const level of levels) {
    const price = bucketPrice(dec(level.price), level.side, aggregation);
    if (current !== null && current.side === level.side && current.price.eq(price)) current.amount = current.amount.plus(level.amount);
    else {
      if (current !== null) out.push({ side: current.side, price: str(current.price), amount: str(current.amount) });
      current = { side: level.side, price, amount: dec(level.amount) };
    }
  }
  if (current !== null) out.push({ side: current.side, price: str(current.price), amount: str(current.amount) });
  return out;
}
