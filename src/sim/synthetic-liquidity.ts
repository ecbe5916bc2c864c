import { type Decimal, dec, isDecimalString, type DecimalString } from '../domain/decimal.ts';

/**
 * The simulator's own market maker: `levels` price levels on each side of the mark with `depth` on each.
 * The best bid is `spreadTicks` ticks below the mark and the best ask `spreadTicks` ticks above it, each
 * rounded to the tick grid on the maker's safe side (bids down, asks up, i.e. away from the mark), then
 * one tick apart outwards. So the quoted bid-ask spread is 2 × spreadTicks ticks when the mark is on
 * the grid. The exchange re-lays these levels on every mark update: consumed liquidity comes back at
 * the next mark.
 *
 * Worked example (the default {depth "50", levels 20, spreadTicks 2}, ETHP tick 0.1, mark 2000):
 * bids 1999.8, 1999.7, … 1997.9; asks 2000.2, 2000.3, … 2002.1; 50 on each level.
 * Off-grid mark 2000.05: bid 1999.85 → 1999.8, ask 2000.25 → 2000.3.
 */

export interface LiquidityConfig {
  depth: DecimalString;
  levels: number;
  spreadTicks: number;
}

export const DEFAULT_LIQUIDITY: Readonly<LiquidityConfig> = Object.freeze({ depth: '50', levels: 20, spreadTicks: 2 });

export interface SyntheticLevel {
  price: Decimal;
  amount: Decimal;
}

export interface SyntheticQuotes {
  /** Best (highest) first. */
  bids: SyntheticLevel[];
  /** Best (lowest) first. */
  asks: SyntheticLevel[];
}

/** Throws naming the field when the config cannot describe a book. */
export function checkLiquidity(config: LiquidityConfig): LiquidityConfig {
  if (!isDecimalString(config.depth) || !dec(config.depth).gt(0)) {
    throw new Error(`liquidity.depth: expected a positive decimal string, got ${JSON.stringify(config.depth)}`);
  }
  if (!Number.isSafeInteger(config.levels) || config.levels < 0) {
    throw new Error(`liquidity.levels: expected a whole number >= 0, got ${String(config.levels)}`);
  }
  if (!Number.isSafeInteger(config.spreadTicks) || config.spreadTicks < 0) {
    throw new Error(`liquidity.spreadTicks: expected a whole number >= 0, got ${String(config.spreadTicks)}`);
  }
  return config;
}

/** x rounded down / up to a multiple of `tick`, exactly (divToInt is exact; the remainder decides). */
export function floorToTick(x: Decimal, tick: Decimal): Decimal {
  let q = x.divToInt(tick);
  if (x.minus(q.times(tick)).lt(0)) q = q.minus(1);
  return q.times(tick);
}

export function ceilToTick(x: Decimal, tick: Decimal): Decimal {
  let q = x.divToInt(tick);
  if (x.minus(q.times(tick)).gt(0)) q = q.plus(1);
  return q.times(tick);
}

/** The synthetic levels around `mark`. Bid levels at or below zero are left out. */
export function syntheticQuotes(
  mark: Decimal | DecimalString,
  tickSize: Decimal | DecimalString,
  config: LiquidityConfig = DEFAULT_LIQUIDITY,
): SyntheticQuotes {
  const m = dec(mark);
  const tick = dec(tickSize);
  const depth = dec(config.depth);
  const offset = tick.times(config.spreadTicks);
  const bestBid = floorToTick(m.minus(offset), tick);
  const bestAsk = ceilToTick(m.plus(offset), tick);
  const bids: SyntheticLevel[] = [];
  const asks: SyntheticLevel[] = [];
  for (let i = 0; i < config.levels; i++) {
    const bid = bestBid.minus(tick.times(i));
    if (bid.gt(0)) bids.push({ price: bid, amount: depth });
    asks.push({ price: bestAsk.plus(tick.times(i)), amount: depth });
  }
  return { bids, asks };
}
