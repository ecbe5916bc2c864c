import { Decimal, dec, str, type DecimalString } from '../domain/decimal.ts';

/** What one `risk` record tells about one held symbol. */
export interface LevelInput {
  /** Signed position size of the symbol. */
  size: DecimalString;
  /** Mark of the symbol when the risk record was taken. */
  mark: DecimalString;
  equity: DecimalString;
  /** The account's maintenance requirement as a fraction of gross notional (the record's `maintenance`). */
  maintenance: DecimalString;
  /** Gross notional of the account's other symbols, held at their marks ("0" for a single-symbol position). */
  otherGross: DecimalString;
}

/** Decimals of a price level: the domain rounds liquidation prices to 8 as well. */
export const LEVEL_DECIMALS = 8;

/**
 * The mark of this symbol at which the account's margin buffer would equal `buffer`, everything else
 * unchanged; `buffer` "0" gives the liquidation price. With size s, mark m, equity E, maintenance r, other
 * gross G and k = r + buffer, the buffer at price p is (E + s·(p − m)) / (G + |s|·p) − r, so
 *   E + s·(p − m) = k·(G + |s|·p)   ⇒   p = (s·m − E + k·G) / (s − k·|s|).
 * For a single symbol (G = 0) and buffer 0 this is the textbook p = (s·m − E) / (s − r·|s|).
 * With several symbols r is the account's blended rate, so the level is an estimate.
 * Null when there is no positive solution (a long that no fall can bring there) or no position.
 */
export function priceAtBuffer(input: LevelInput, buffer: DecimalString): DecimalString | null {
  const size = dec(input.size);
  if (size.isZero()) return null;
  const k = dec(input.maintenance).plus(buffer);
  const denominator = size.minus(k.times(size.abs()));
  if (denominator.isZero()) return null;
  const p = size.times(input.mark).minus(input.equity).plus(k.times(input.otherGross)).div(denominator);
  if (!p.gt(0)) return null;
  return str(p.toDecimalPlaces(LEVEL_DECIMALS, Decimal.ROUND_HALF_EVEN));
}

/** The margin buffer at price p, the inverse of priceAtBuffer: for checking a level, and for tests. */
export function bufferAtPrice(input: LevelInput, price: DecimalString): DecimalString {
  const size = dec(input.size);
  const equityAtP = dec(input.equity).plus(size.times(dec(price).minus(input.mark)));
  const grossAtP = dec(input.otherGross).plus(size.abs().times(price));
  return str(equityAtP.div(grossAtP).minus(input.maintenance));
}
