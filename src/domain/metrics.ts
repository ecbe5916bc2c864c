import { Decimal, dec, isDecimalString, str, ZERO, type DecimalString } from './decimal.ts';
import { projectFill, type LedgerBook } from './ledger.ts';
import type { Side } from './order.ts';
import type { Product } from './product.ts';

/** What the risk metrics are computed from. A full LedgerState is a LedgerBook. */
export interface RiskInput {
  ledger: LedgerBook;
  marks: Record<string, DecimalString>;
  products: Record<string, Product>;
  /** Equity and net transfers when the session started; without it sessionPnl is "0". */
  sessionStart?: { equity: DecimalString; netTransfers: DecimalString };
}

export interface SymbolRisk {
  symbol: string;
  /** Signed. */
  size: DecimalString;
  direction: 'long' | 'short' | 'flat';
  avgEntry: DecimalString;
  mark: DecimalString;
  /** |size| × mark. */
  notional: DecimalString;
  /** size × (mark − avgEntry). */
  unrealizedPnl: DecimalString;
  /** notional × mmr. */
  maintenanceMargin: DecimalString;
  /**
   * Mark of this symbol at which equity falls to the maintenance margin, other marks held fixed; rounded
   * to 8 decimals towards the current mark (up for a long, down for a short). Null when the solution is not
   * positive: a long no fall of this mark can liquidate, or a short below maintenance at every price.
   */
  liquidationPrice: DecimalString | null;
}

export interface RiskMetrics {
  /** Held symbols only, keys sorted. */
  positions: Record<string, SymbolRisk>;
  grossNotional: DecimalString;
  collateral: DecimalString;
  unrealizedPnl: DecimalString;
  /** Strategy value: collateral + unrealized PnL. */
  equity: DecimalString;
  /** equity / grossNotional, floored to 12 decimals; null when flat. */
  marginFraction: DecimalString | null;
  /** Requirement as a fraction: Σ notional·mmr / grossNotional; "0" when flat. */
  maintenance: DecimalString;
  /** Σ notional·mmr. */
  maintenanceMargin: DecimalString;
  /** marginFraction − maintenance = (equity − maintenanceMargin) / grossNotional, floored to 12 decimals; null when flat. */
  marginBuffer: DecimalString | null;
  /** equity − start equity − (netTransfers − start netTransfers); "0" without a session start. */
  sessionPnl: DecimalString;
  /** marginFraction < maintenance (computed exactly: equity < maintenanceMargin with a position). */
  liquidatable: boolean;
}

/** Inputs that do not allow a risk figure: a held symbol without mark or product, a bad number. */
export class MetricsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MetricsError';
  }
}

/** Decimals of marginFraction and marginBuffer: short strings, rounded towards more risk. */
export const RATIO_DECIMALS = 12;
/** Decimals of a liquidation price. */
export const LIQUIDATION_PRICE_DECIMALS = 8;

/** Risk metrics of a strategy at the given marks. Throws MetricsError for a held symbol without mark or product. */
export function riskMetrics(input: RiskInput): RiskMetrics {
  const { ledger } = input;
  const collateral = decimalAt(ledger.collateral, 'ledger.collateral');

  interface Leg {
    symbol: string;
    size: Decimal;
    avgEntry: Decimal;
    mark: Decimal;
    notional: Decimal;
    upnl: Decimal;
    mm: Decimal;
    mmr: Decimal;
  }
  const legs: Leg[] = [];
  for (const symbol of Object.keys(ledger.positions).sort()) {
    const pos = ledger.positions[symbol]!;
    const size = decimalAt(pos.size, `ledger.positions.${symbol}.size`);
    if (size.isZero()) continue;
    const avgEntry = decimalAt(pos.avgEntry, `ledger.positions.${symbol}.avgEntry`);
    const rawMark = input.marks[symbol];
    if (rawMark === undefined) throw new MetricsError(`marks.${symbol}: no mark for held symbol ${symbol}`);
    const mark = decimalAt(rawMark, `marks.${symbol}`);
    if (!mark.gt(0)) throw new MetricsError(`marks.${symbol}: must be > 0, got ${JSON.stringify(rawMark)}`);
    const product = input.products[symbol];
    if (product === undefined) throw new MetricsError(`products.${symbol}: no product for held symbol ${symbol}`);
    const mmr = decimalAt(product.mmr, `products.${symbol}.mmr`);
    const notional = size.abs().times(mark);
    legs.push({ symbol, size, avgEntry, mark, notional, upnl: size.times(mark.minus(avgEntry)), mm: notional.times(mmr), mmr });
  }

  const gross = legs.reduce((sum, l) => sum.plus(l.notional), ZERO);
  const upnl = legs.reduce((sum, l) => sum.plus(l.upnl), ZERO);
  const mm = legs.reduce((sum, l) => sum.plus(l.mm), ZERO);
  const equity = collateral.plus(upnl);
  const flat = gross.isZero();

  const positions: Record<string, SymbolRisk> = {};
  for (const l of legs) {
    positions[l.symbol] = {
      symbol: l.symbol,
      size: str(l.size),
      direction: l.size.gt(0) ? 'long' : 'short',
      avgEntry: str(l.avgEntry),
      mark: str(l.mark),
      notional: str(l.notional),
      unrealizedPnl: str(l.upnl),
      maintenanceMargin: str(l.mm),
      liquidationPrice: liquidationPrice(equity, mm.minus(l.mm), l.size, l.mark, l.mmr),
    };
  }

  let sessionPnl = ZERO;
  if (input.sessionStart !== undefined) {
    const startEquity = decimalAt(input.sessionStart.equity, 'sessionStart.equity');
    const startTransfers = decimalAt(input.sessionStart.netTransfers, 'sessionStart.netTransfers');
    const transfers = decimalAt(ledger.netTransfers, 'ledger.netTransfers');
    sessionPnl = equity.minus(startEquity).minus(transfers.minus(startTransfers));
  }

  return {
    positions,
    grossNotional: str(gross),
    collateral: str(collateral),
    unrealizedPnl: str(upnl),
    equity: str(equity),
    marginFraction: flat ? null : str(floorDiv(equity, gross, RATIO_DECIMALS)),
    maintenance: flat ? '0' : str(mm.div(gross)),
    maintenanceMargin: str(mm),
    marginBuffer: flat ? null : str(floorDiv(equity.minus(mm), gross, RATIO_DECIMALS)),
    sessionPnl: str(sessionPnl),
    liquidatable: !flat && equity.lt(mm),
  };
}

/**
 * Risk metrics as if `fill` had filled at its price (no fee), marks unchanged: for "would this entry
 * breach the caps or the buffer". Extra fields on `fill` (an OrderIntent's `type`) are ignored.
 */
export function projectedMetrics(
  input: RiskInput,
  fill: { symbol: string; side: Side; amount: DecimalString; price: DecimalString },
): RiskMetrics {
  let ledger: LedgerBook;
  try {
    ledger = projectFill(input.ledger, fill);
  } catch (error) {
    throw new MetricsError(error instanceof Error ? error.message : String(error));
  }
  return riskMetrics({ ...input, ledger });
}

/** Gross notional if `symbol`'s position became `sizeAfter` (signed) at `mark`, other positions as in `metrics`. */
export function grossNotionalAfter(
  metrics: RiskMetrics,
  symbol: string,
  sizeAfter: Decimal | DecimalString,
  mark: Decimal | DecimalString,
): Decimal {
  const current = metrics.positions[symbol];
  const without = dec(metrics.grossNotional).minus(current === undefined ? ZERO : dec(current.notional));
  return without.plus(dec(sizeAfter).abs().times(mark));
}

/**
 * Solves V0 + s·(p − m) = M_other + |s|·p·mmr for p:  p = (M_other − V0 + s·m) / (s − |s|·mmr).
 * The denominator is s·(1 ∓ mmr), never 0 since mmr < 1. Rounded towards the current mark (a long's
 * price up, a short's down) so the reported level errs on the side of warning early.
 */
function liquidationPrice(equity: Decimal, mmOther: Decimal, size: Decimal, mark: Decimal, mmr: Decimal): DecimalString | null {
  if (size.isZero()) return null;
  const denominator = size.minus(size.abs().times(mmr));
  if (denominator.isZero()) return null;
  const p = mmOther.minus(equity).plus(size.times(mark)).div(denominator);
  const rounded = p.toDecimalPlaces(LIQUIDATION_PRICE_DECIMALS, size.gt(0) ? Decimal.ROUND_CEIL : Decimal.ROUND_FLOOR);
  return rounded.gt(0) ? str(rounded) : null;
}

/** floor(n / d) to `dp` decimals, exactly (d > 0): integer division cannot be rounded across a step. */
function floorDiv(n: Decimal, d: Decimal, dp: number): Decimal {
  const scale = dp === RATIO_DECIMALS ? RATIO_SCALE : dec(10).pow(dp);
  const scaled = n.times(scale);
  let q = scaled.divToInt(d); // truncated toward zero
  if (q.times(d).gt(scaled)) q = q.minus(1); // negative quotients: truncation went up
  return q.div(scale);
}

const RATIO_SCALE = dec(10).pow(RATIO_DECIMALS);

function decimalAt(value: unknown, path: string): Decimal {
  if (!isDecimalString(value)) throw new MetricsError(`${path}: expected a decimal string, got ${JSON.stringify(value)}`);
  return dec(value);
}
