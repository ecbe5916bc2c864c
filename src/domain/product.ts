import type { DecimalString } from './decimal.ts';

/** A perpetual-futures product as the venue defines it, plus the margin parameters. */
export interface Product {
  symbol: string;
  /** Prices are whole multiples of this. */
  tickSize: DecimalString;
  /** Minimum order size, and also the size increment: amounts are whole multiples of it. */
  minOrderSize: DecimalString;
  /** Largest notional (amount × price, at mark for market orders) one order may have. */
  maxOrderNotional: DecimalString;
  /** Price band half-width as a fraction of mark, e.g. "0.02". */
  maxTakerPriceDeviation: DecimalString;
  maxLeverage: number;
  /** Maintenance margin requirement as a fraction of notional (0.15 / maxLeverage unless given). */
  mmr: DecimalString;
}
