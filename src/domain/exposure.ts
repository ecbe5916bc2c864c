import { dec, type Decimal, type DecimalValue } from './decimal.ts';
import type { OrderIntent } from './order.ts';

/**
 * What an order does to a position in its symbol:
 * `reduce` — opposite side and no larger than the position (can never increase |position| nor flip it);
 * `increase` — same side, or from flat; `flip` — opposite side and larger than the position, so part of it
 * opens new exposure the other way (gated like an increase).
 */
export type ExposureEffect = 'reduce' | 'increase' | 'flip';

export function exposureEffect(position: DecimalValue, order: Pick<OrderIntent, 'side' | 'amount'>): ExposureEffect {
  const size = dec(position);
  const signed = order.side === 'buy' ? dec(order.amount) : dec(order.amount).neg();
  if (size.isZero() || size.isNeg() === signed.isNeg()) return 'increase';
  return signed.abs().lte(size.abs()) ? 'reduce' : 'flip';
}

/** The signed position after the order fills completely. */
export function positionAfter(position: DecimalValue, order: Pick<OrderIntent, 'side' | 'amount'>): Decimal {
  const amount = dec(order.amount);
  return order.side === 'buy' ? dec(position).add(amount) : dec(position).sub(amount);
}
