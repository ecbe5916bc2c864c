import { Decimal, dec, isDecimalString, str, type DecimalString } from './decimal.ts';
import type { OrderIntent, Side } from './order.ts';
import type { Product } from './product.ts';

/** A value these helpers accept: a Decimal or a decimal string. */
export type DecimalInput = Decimal | DecimalString;

/** A value that cannot be rounded to something the venue accepts. `reason` says why. */
export class RoundingError extends Error {
  readonly reason: string;
  constructor(reason: string) {
    super(reason);
    this.name = 'RoundingError';
    this.reason = reason;
  }
}

export type ViolationCode =
  | 'tick-size'
  | 'min-order-size'
  | 'size-increment'
  | 'max-order-notional'
  | 'price-band'
  | 'invalid-amount'
  | 'invalid-price';

/** One rule of the product an order breaks, with the numbers in the message. */
export interface Violation {
  code: ViolationCode;
  message: string;
}

/** The price band the venue accepts taker orders in: mark × (1 ± maxTakerPriceDeviation), inclusive. */
export interface PriceBand {
  low: Decimal;
  high: Decimal;
}

/** Parses a finite decimal, or returns null (strings must be plain decimal strings). */
function parse(value: unknown): Decimal | null {
  if (typeof value === 'string') return isDecimalString(value) ? dec(value) : null;
  if (Decimal.isDecimal(value)) return value.isFinite() ? dec(value) : null;
  return null;
}

function positive(value: unknown, what: string): Decimal {
  const d = parse(value);
  if (d === null) throw new RoundingError(`${what}: expected a decimal, got ${show(value)}`);
  if (!d.gt(0)) throw new RoundingError(`${what}: must be > 0, got ${str(d)}`);
  return d;
}

function show(value: unknown): string {
  if (Decimal.isDecimal(value)) return str(value);
  return JSON.stringify(value) ?? String(value);
}

/**
 * x rounded to a whole multiple of `step` (> 0), down or up. Exact: the integer quotient is computed
 * exactly by divToInt and the remainder decides, so no 40-digit division rounding can cross a multiple.
 */
function toMultiple(x: Decimal, step: Decimal, direction: 'down' | 'up'): Decimal {
  let q = x.divToInt(step); // truncated toward zero
  const r = x.minus(q.times(step));
  if (r.gt(0) && direction === 'up') q = q.plus(1);
  if (r.lt(0) && direction === 'down') q = q.minus(1);
  return q.times(step);
}

function isMultiple(x: Decimal, step: Decimal): boolean {
  return x.minus(x.divToInt(step).times(step)).isZero();
}

/**
 * The price on the tick grid on the order owner's safe side: a buy rounds DOWN (never pays more than
 * asked), a sell rounds UP (never sells for less). Throws RoundingError for price <= 0 or a result <= 0.
 */
export function roundPriceToTick(product: Product, price: DecimalInput, side: Side): Decimal {
  const p = positive(price, `${product.symbol} price`);
  const tick = dec(product.tickSize);
  const rounded = toMultiple(p, tick, side === 'buy' ? 'down' : 'up');
  if (!rounded.gt(0)) {
    throw new RoundingError(
      `${product.symbol} price: buy price ${str(p)} rounds down to ${str(rounded)}, below one tick ${product.tickSize}`,
    );
  }
  return rounded;
}

/**
 * The amount rounded DOWN to a whole multiple of minOrderSize (which is also the size increment), so a
 * rounded order is never larger than asked. Throws RoundingError when the result is below minOrderSize.
 * Use `tryRoundAmountDown` to get null instead.
 */
export function roundAmountDown(product: Product, amount: DecimalInput): Decimal {
  const a = positive(amount, `${product.symbol} amount`);
  const step = dec(product.minOrderSize);
  const rounded = toMultiple(a, step, 'down');
  if (rounded.lt(step)) {
    throw new RoundingError(
      `${product.symbol} amount: ${str(a)} rounds down to ${str(rounded)}, below minOrderSize ${product.minOrderSize}`,
    );
  }
  return rounded;
}

/** roundAmountDown, or null when the amount rounds below minOrderSize (or is not a positive decimal). */
export function tryRoundAmountDown(product: Product, amount: DecimalInput): Decimal | null {
  try {
    return roundAmountDown(product, amount);
  } catch (error) {
    if (error instanceof RoundingError) return null;
    throw error;
  }
}

/** mark × (1 − dev) and mark × (1 + dev), exact. Throws RoundingError for a mark that is not > 0. */
export function priceBand(product: Product, mark: DecimalInput): PriceBand {
  const m = positive(mark, `${product.symbol} mark`);
  const dev = dec(product.maxTakerPriceDeviation);
  return { low: m.times(dec(1).minus(dev)), high: m.times(dev.plus(1)) };
}

/**
 * The most aggressive limit price the venue accepts for a taker on this side, on the tick grid and inside
 * the band: a buy gets the band's high rounded down, a sell its low rounded up. Throws RoundingError when
 * no tick lies inside the band on that side (a band narrower than a tick, or a buy band below one tick).
 */
export function bandedLimitPrice(product: Product, mark: DecimalInput, side: Side): Decimal {
  const band = priceBand(product, mark);
  const tick = dec(product.tickSize);
  const price = side === 'buy' ? toMultiple(band.high, tick, 'down') : toMultiple(band.low, tick, 'up');
  if (!price.gt(0) || price.lt(band.low) || price.gt(band.high)) {
    throw new RoundingError(
      `${product.symbol}: no ${side} price on the tick grid (${product.tickSize}) inside the band [${str(band.low)}, ${str(band.high)}]`,
    );
  }
  return price;
}

/**
 * Every product rule the order breaks (empty when the venue would accept it on these grounds).
 * Notional is amount × limit price, or amount × mark for a market order. The band binds only the
 * aggressive side: a buy above the band's high or a sell below its low; a passive limit on the far side
 * is fine. A market order must carry no price (absent or "0").
 * Throws RoundingError for a mark that is not > 0 or an order for another symbol: those are wiring
 * errors, not properties of the order.
 */
export function orderViolations(product: Product, order: OrderIntent, mark: DecimalInput): Violation[] {
  if (order.symbol !== product.symbol) {
    throw new RoundingError(`order for ${JSON.stringify(order.symbol)} checked against product ${product.symbol}`);
  }
  const m = positive(mark, `${product.symbol} mark`);
  const violations: Violation[] = [];
  const sym = product.symbol;

  const amount = parse(order.amount);
  let validAmount: Decimal | null = null;
  if (amount === null || !amount.gt(0)) {
    violations.push({ code: 'invalid-amount', message: `${sym} amount ${show(order.amount)} is not a decimal > 0` });
  } else {
    validAmount = amount;
    const step = dec(product.minOrderSize);
    if (amount.lt(step)) {
      violations.push({ code: 'min-order-size', message: `${sym} amount ${str(amount)} is below minOrderSize ${product.minOrderSize}` });
    }
    if (!isMultiple(amount, step)) {
      violations.push({
        code: 'size-increment',
        message: `${sym} amount ${str(amount)} is not a multiple of the size increment ${product.minOrderSize}`,
      });
    }
  }

  let notionalPrice: Decimal | null = m;
  if (order.type === 'limit') {
    const price = parse(order.price);
    notionalPrice = null;
    if (price === null || !price.gt(0)) {
      violations.push({ code: 'invalid-price', message: `${sym} limit price ${show(order.price)} is not a decimal > 0` });
    } else {
      notionalPrice = price;
      if (!isMultiple(price, dec(product.tickSize))) {
        violations.push({ code: 'tick-size', message: `${sym} price ${str(price)} is not a multiple of tickSize ${product.tickSize}` });
      }
      const band = priceBand(product, m);
      if (order.side === 'buy' && price.gt(band.high)) {
        violations.push({
          code: 'price-band',
          message: `${sym} buy price ${str(price)} is above the band high ${str(band.high)} (mark ${str(m)} × (1 + ${product.maxTakerPriceDeviation}))`,
        });
      }
      if (order.side === 'sell' && price.lt(band.low)) {
        violations.push({
          code: 'price-band',
          message: `${sym} sell price ${str(price)} is below the band low ${str(band.low)} (mark ${str(m)} × (1 − ${product.maxTakerPriceDeviation}))`,
        });
      }
    }
  } else if (order.price !== undefined) {
    const price = parse(order.price);
    if (price === null || !price.isZero()) {
      violations.push({ code: 'invalid-price', message: `${sym} market order carries price ${show(order.price)}; expected "0" or none` });
    }
  }

  if (validAmount !== null && notionalPrice !== null) {
    const notional = validAmount.times(notionalPrice);
    if (notional.gt(product.maxOrderNotional)) {
      const at = order.type === 'limit' ? 'price' : 'mark';
      violations.push({
        code: 'max-order-notional',
        message: `${sym} notional ${str(notional)} (${str(validAmount)} × ${at} ${str(notionalPrice)}) exceeds maxOrderNotional ${product.maxOrderNotional}`,
      });
    }
  }
  return violations;
}
