import type { Budget } from './budget.ts';
import { dec, str, ZERO, type Decimal, type DecimalString } from './decimal.ts';
import type { RiskMetrics, SymbolRisk } from './metrics.ts';
import type { OrderIntent } from './order.ts';
import type { Product } from './product.ts';
import { bandedLimitPrice, RoundingError } from './rounding.ts';

export interface ReductionInput {
  metrics: RiskMetrics;
  products: Record<string, Product>;
  budget: Budget;
  /** `reduce`: a measured step (de-risking); `exit`: restore the buffer in one go, or flatten. */
  purpose: 'reduce' | 'exit';
  /** Close the whole position (a stopout with closePositions). */
  flatten: boolean;
  /** De-risking steps are at most this fraction of the position (e.g. "0.25"). */
  fraction: DecimalString;
  /** The margin buffer the reduction aims to restore. */
  targetBuffer: DecimalString;
  /**
   * How far inside the price band's edge to price, as a fraction of its half-width (reduction-retry.ts
   * bandMargin; default 0: at the edge). Above 0 it is at least one tick and at most the mark.
   */
  bandMargin?: DecimalString;
  /**
   * Ownership uncertain (two processes may each send this order): every order, exits and flattening too, is
   * at most this share of the position, rounded down to the increment — and none when that is below one
   * increment. With "0.5" two identical orders together cannot flip the position.
   */
  maxShare?: DecimalString;
  /**
   * The signed remaining amount per symbol of the strategy's other working orders (closes, entries): if they
   * fill too, the reduction must still not flip the position, so it is at most what they leave of it.
   */
  working?: Readonly<Record<string, DecimalString>>;
}

export type ReductionPlan = { kind: 'order'; order: OrderIntent; numbers: Record<string, DecimalString> } | { kind: 'none'; why: string };

/**
 * The ONE reducing order to send next: on the opposite side of the largest exposure, never larger than the
 * position (so it can neither grow |position| nor flip it), a whole multiple of the product's increment,
 * within maxOrderNotional, as a limit at the most aggressive price inside the band. Nothing when the
 * buffer already meets the target and no cap is exceeded (and no flatten is asked).
 *
 * Size: enough to bring the buffer back to `targetBuffer`. Holding equity E and the mark m, reducing q
 * changes gross G and maintenance margin MM to G − q·m and MM − q·m·mmr, and
 *   (E − MM + q·m·mmr) / (G − q·m) ≥ B   ⇔   q ≥ (B·G − E + MM) / (m·(mmr + B)).
 * A de-risking step is further capped at `fraction` of the position and kept smaller than the position;
 * an over-cap size or notional is brought back under the cap.
 */
export function planReduction(input: ReductionInput): ReductionPlan {
  const { metrics, budget } = input;
  const target = pickSymbol(metrics, budget);
  if (!target) return { kind: 'none', why: 'no position to reduce' };
  const product = input.products[target.symbol];
  if (!product) return { kind: 'none', why: `no product for ${target.symbol}` };

  const size = dec(target.size).abs();
  const mark = dec(target.mark);
  const side = dec(target.size).isPos() ? 'sell' : 'buy';
  let price: Decimal;
  try {
    price = insideBand(product, mark, side, dec(input.bandMargin ?? '0'));
  } catch (error) {
    if (error instanceof RoundingError) return { kind: 'none', why: error.message };
    throw error;
  }

  const step = dec(product.minOrderSize);
  const measured = input.purpose === 'reduce' && !input.flatten;
  let needed: Decimal;
  if (input.flatten) {
    needed = size;
  } else {
    needed = maxOf(bufferShortfall(metrics, mark, dec(product.mmr), dec(input.targetBuffer)), overCap(metrics, budget, target));
    if (!needed.gt(0)) {
      return {
        kind: 'none',
        why: `nothing to reduce: margin buffer ${metrics.marginBuffer ?? 'flat'} meets the target ${input.targetBuffer} and no cap is exceeded`,
      };
    }
  }
  const wanted = measured ? minOf(needed, size.times(input.fraction)) : needed;
  // Never more than the position, nor one order's notional, nor a de-risking step's fraction: these bounds
  // round DOWN to the increment. What is needed rounds UP: rounded down it would stop just short of the
  // target buffer or cap, and leave the account one more order away from it.
  const byNotional = dec(product.maxOrderNotional).div(price);
  const bounds = measured ? [size, byNotional, size.times(input.fraction)] : [size, byNotional];
  let amount = minOf(needed.div(step).ceil().times(step), ...bounds.map((b) => b.div(step).floor().times(step)));
  // Below one increment (a small fraction of a small position): one increment, if the position and one
  // order's notional can hold it.
  if (amount.lt(step)) amount = size.gte(step) && byNotional.gte(step) ? step : ZERO;
  // A de-risking step stays smaller than the position when the position can be split.
  if (measured && amount.gte(size) && size.gt(step)) amount = size.minus(step);
  // Working orders that reduce the position (a strategy's close) count as filled: the two together cannot flip it.
  const pending = input.working?.[target.symbol];
  if (pending !== undefined && amount.gt(0)) {
    const left = dec(target.size).plus(pending);
    const free = left.isZero() || left.isPos() !== dec(target.size).isPos() ? ZERO : minOf(left.abs(), size);
    const cap = free.div(step).floor().times(step);
    if (cap.lt(step)) {
      return {
        kind: 'none',
        why: `working orders already take the position ${str(size)} ${target.symbol} to ${str(left)}; waiting for them`,
      };
    }
    amount = minOf(amount, cap);
  }
  if (input.maxShare !== undefined && amount.gt(0)) {
    const cap = size.times(input.maxShare).div(step).floor().times(step);
    if (cap.lt(step)) {
      return {
        kind: 'none',
        why: `ownership uncertain: ${input.maxShare} of the position ${str(size)} ${target.symbol} is below the minimum order size ${product.minOrderSize}; not reduced until ownership is certain`,
      };
    }
    amount = minOf(amount, cap);
  }
  if (amount.isZero()) {
    const why = size.lt(step)
      ? `position ${str(size)} ${target.symbol} is below the minimum order size ${product.minOrderSize}`
      : `one increment ${product.minOrderSize} ${target.symbol} at ${str(price)} exceeds maxOrderNotional ${product.maxOrderNotional}`;
    return { kind: 'none', why };
  }

  return {
    kind: 'order',
    order: { symbol: target.symbol, side, amount: str(amount), type: 'limit', price: str(price) },
    numbers: {
      symbol: target.symbol,
      position: target.size,
      mark: str(mark),
      wanted: str(wanted),
      amount: str(amount),
      price: str(price),
      marginBuffer: metrics.marginBuffer ?? 'flat',
      targetBuffer: input.targetBuffer,
    },
  };
}

/**
 * The most aggressive price inside the band, moved `margin` of the band's half-width towards the mark (at
 * least one tick when margin > 0, never past the mark): after the venue refused the edge, because the mark
 * it matched against had moved since the order was priced.
 */
function insideBand(product: Product, mark: Decimal, side: 'buy' | 'sell', margin: Decimal): Decimal {
  const edge = bandedLimitPrice(product, mark, side);
  if (!margin.gt(0)) return edge;
  const tick = dec(product.tickSize);
  const half = mark.times(product.maxTakerPriceDeviation);
  const inset = maxOf(tick, half.times(margin)).div(tick).ceil().times(tick);
  // The mark on the grid, on the aggressive side: a sell at or below it, a buy at or above it.
  const atMark = side === 'sell' ? mark.div(tick).floor().times(tick) : mark.div(tick).ceil().times(tick);
  const price = side === 'sell' ? minOf(edge.plus(inset), atMark) : maxOf(edge.minus(inset), atMark);
  return price.gt(0) ? price : edge;
}

/** The symbol over its size cap if any, else the largest notional. */
function pickSymbol(metrics: RiskMetrics, budget: Budget): SymbolRisk | undefined {
  const held = Object.values(metrics.positions).filter((p) => !dec(p.size).isZero());
  const over = held.find((p) => {
    const cap = budget.maxPositionSize?.[p.symbol];
    return cap !== undefined && dec(p.size).abs().gt(cap);
  });
  if (over) return over;
  return held.sort((a, b) => dec(b.notional).cmp(a.notional) || a.symbol.localeCompare(b.symbol))[0];
}

function bufferShortfall(metrics: RiskMetrics, mark: Decimal, mmr: Decimal, target: Decimal): Decimal {
  const need = target.times(metrics.grossNotional).minus(metrics.equity).plus(metrics.maintenanceMargin);
  if (!need.isPos()) return ZERO;
  return need.div(mark.times(mmr.plus(target)));
}

function overCap(metrics: RiskMetrics, budget: Budget, target: SymbolRisk): Decimal {
  let amount = ZERO;
  const cap = budget.maxPositionSize?.[target.symbol];
  const size = dec(target.size).abs();
  if (cap !== undefined && size.gt(cap)) amount = size.minus(cap);
  if (budget.maxGrossNotional !== undefined && dec(metrics.grossNotional).gt(budget.maxGrossNotional)) {
    amount = maxOf(amount, dec(metrics.grossNotional).minus(budget.maxGrossNotional).div(target.mark));
  }
  return amount;
}

function maxOf(...values: Decimal[]): Decimal {
  return values.reduce((a, b) => (b.gt(a) ? b : a));
}

function minOf(...values: Decimal[]): Decimal {
  return values.reduce((a, b) => (b.lt(a) ? b : a));
}
