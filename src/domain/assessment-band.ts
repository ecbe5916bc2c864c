import type { Budget } from './budget.ts';
import { dec, ONE, ZERO, Decimal, type DecimalString } from './decimal.ts';
import type { LedgerBook } from './ledger.ts';
import { RATIO_DECIMALS } from './metrics.ts';
import type { Product } from './product.ts';

/**
 * The marks within which an account's assessment cannot change, so that a mark inside them need not reach the
 * account at all (src/runtime/mark-index.ts).
 *
 * Every rule the assessment applies to marks compares a linear function of the marks with zero. With q the
 * signed size, e the entry, mmr the maintenance rate and C the collateral of each held symbol s:
 *   equity(p) = C + Σ q·(p − e)      gross(p) = Σ |q|·p      maintenance(p) = Σ mmr·|q|·p
 * - margin buffer below T:  buffer = floor₁₂((equity − maintenance) / gross) < T  ⇔  equity − maintenance − ⌈T⌉₁₂·gross < 0
 *   for T ∈ {panicMarginBuffer, minMarginBuffer, minMarginBuffer·(1 + h)} (src/domain/assessment.ts);
 * - gross notional against maxGrossNotional and its relax level (1 − h)·maxGrossNotional;
 * - session loss reached: equity ≤ start equity + transfers since − sessionLossLimit (and the (1 − h) level);
 * - a risk limit on equity breached: equity ≤ level (src/domain/drawdown.ts, equityBreachLevels).
 * Position-size rules do not depend on marks. With one held symbol each function has one root and the band is
 * the open interval between the nearest roots below and above the mark. With several, the band is a box
 * p·(1 ± δ) with δ small enough that no function can reach zero anywhere in it (|f(p0)| > δ·Σ|c|·p0).
 * Decimal throughout; each division's last-digit error is covered by moving the edge 1e-30 (relative) inwards.
 */
export interface BandInput {
  ledger: LedgerBook;
  marks: Record<string, DecimalString>;
  products: Record<string, Product>;
  budget: Budget;
  hysteresis: DecimalString;
  sessionStart: { equity: DecimalString; netTransfers: DecimalString } | null;
  /** Equity levels at or below which one of the account's own risk limits breaches. */
  equityLevels: readonly Decimal[];
  /** Whether the account trades now: only then does crossing a rule's level block entries. */
  trading: boolean;
}

/** An open interval of one symbol's mark; null: unbounded on that side. */
export interface SymbolBand {
  lo: Decimal | null;
  hi: Decimal | null;
}

/** A mark strictly past `price` makes `rule` refuse entries: known before the account's statechart runs. */
export interface BlockingLevel {
  price: Decimal;
  rule: string;
  message: string;
}

export interface AssessmentBand {
  /** Per held symbol. A flat account has none: no mark can change its assessment. */
  symbols: Record<string, SymbolBand>;
  /** A trading account holding one symbol: the nearest entry-blocking level on each side. */
  blocking: { symbol: string; below: BlockingLevel | null; above: BlockingLevel | null } | null;
  /**
   * Floats that rank urgency only (never a decision): margin buffer ≈ (k + Σ slope·p) / Σ gross·p.
   */
  urgency: { k: number; slope: Record<string, number>; gross: Record<string, number> };
}

/** A rule's linear function of the marks: value K + Σ c·p, bad when `bad(value)`. */
interface Level {
  rule: string;
  describe: () => string;
  blocking: boolean;
  k: Decimal;
  c: Record<string, Decimal>;
  bad: (value: Decimal) => boolean;
}

/** How far (relative) an edge moves inwards to cover a division's rounding in its last digit. */
const ROUNDING_GUARD = dec('1e-30');

const MIN_BOX = dec('1e-9');

export class BandError extends Error {}

/** The band of an account whose every held symbol has a mark and a product (else: BandError). */
export function assessmentBand(input: BandInput): AssessmentBand {
  const held = Object.entries(input.ledger.positions)
    .map(([symbol, p]) => ({ symbol, q: dec(p.size), e: dec(p.avgEntry) }))
    .filter((p) => !p.q.isZero());
  const urgency: AssessmentBand['urgency'] = { k: 0, slope: {}, gross: {} };
  if (held.length === 0) return { symbols: {}, blocking: null, urgency };

  const marks: Record<string, Decimal> = {};
  const mmr: Record<string, Decimal> = {};
  let kEquity = dec(input.ledger.collateral);
  for (const { symbol, q, e } of held) {
    const mark = input.marks[symbol];
    const product = input.products[symbol];
    if (mark === undefined || product === undefined) throw new BandError(`no mark or product for held symbol ${symbol}`);
    marks[symbol] = dec(mark);
    mmr[symbol] = dec(product.mmr);
    kEquity = kEquity.minus(q.times(e));
  }
  const coefficients = (f: (q: Decimal, symbol: string) => Decimal) =>
    Object.fromEntries(held.map(({ symbol, q }) => [symbol, f(q, symbol)]));
  const equityC = coefficients((q) => q);
  const levels: Level[] = [];
  const h = dec(input.hysteresis);
  const { budget } = input;

  const bufferLevel = (rule: string, threshold: Decimal, blocking: boolean): void => {
    const t = threshold.toDecimalPlaces(RATIO_DECIMALS, Decimal.ROUND_CEIL);
    levels.push({
      rule,
      describe: () => `the margin buffer falls below ${threshold.toFixed()}`,
      blocking,
      k: kEquity,
      c: coefficients((q, s) => q.minus(mmr[s]!.plus(t).times(q.abs()))),
      bad: (v) => v.isNeg(),
    });
  };
  if (budget.panicMarginBuffer !== undefined) bufferLevel('panic-margin-buffer', dec(budget.panicMarginBuffer), true);
  if (budget.minMarginBuffer !== undefined) {
    bufferLevel('min-margin-buffer', dec(budget.minMarginBuffer), true);
    bufferLevel('min-margin-buffer', dec(budget.minMarginBuffer).times(h.plus(1)), false);
  }
  if (budget.maxGrossNotional !== undefined) {
    for (const [scale, blocking] of [
      [ONE, true],
      [ONE.minus(h), false],
    ] as const) {
      const n = dec(budget.maxGrossNotional).times(scale);
      levels.push({
        rule: 'max-gross-notional',
        describe: () => `the gross notional reaches ${n.toFixed()}`,
        blocking,
        k: n.neg(),
        c: coefficients((q) => q.abs()),
        bad: (v) => !v.isNeg(),
      });
    }
  }
  const equityLevel = (rule: string, level: Decimal, blocking: boolean, describe: () => string): void => {
    levels.push({ rule, describe, blocking, k: kEquity.minus(level), c: equityC, bad: (v) => !v.isPos() });
  };
  if (budget.sessionLossLimit !== undefined && input.sessionStart !== null) {
    const transfers = dec(input.ledger.netTransfers).minus(input.sessionStart.netTransfers);
    for (const [scale, blocking] of [
      [ONE, true],
      [ONE.minus(h), false],
    ] as const) {
      const loss = dec(budget.sessionLossLimit).times(scale);
      equityLevel(
        'session-loss-limit',
        dec(input.sessionStart.equity).plus(transfers).minus(loss),
        blocking,
        () => `the session loss reaches ${loss.toFixed()}`,
      );
    }
  }
  for (const level of input.equityLevels)
    equityLevel('risk-limit', level, true, () => `equity falls to ${level.toFixed()}, a risk limit's level`);

  for (const { symbol, q } of held) {
    urgency.slope[symbol] = Number(q.minus(mmr[symbol]!.times(q.abs())));
    urgency.gross[symbol] = Number(q.abs());
  }
  urgency.k = Number(kEquity);

  if (held.length > 1) return { symbols: boxBand(marks, levels), blocking: null, urgency };
  const symbol = held[0]!.symbol;
  const roots = levelRoots(symbol, marks, levels);
  return {
    symbols: { [symbol]: oneSymbolBand(marks[symbol]!, roots) },
    blocking: input.trading ? { symbol, ...blockingLevels(symbol, marks[symbol]!, roots) } : null,
    urgency,
  };
}

/** Where each level's function of the one held symbol's mark is zero, with its value now. */
interface Root {
  level: Level;
  value: Decimal;
  root: Decimal;
  /** Covers the division's rounding: |root| or |mark|, whichever is larger, × 1e-30. */
  guard: Decimal;
}

function levelRoots(symbol: string, marks: Record<string, Decimal>, levels: Level[]): Root[] {
  const p0 = marks[symbol]!;
  const roots: Root[] = [];
  for (const level of levels) {
    const c = level.c[symbol]!;
    if (c.isZero()) continue;
    const value = valueAt(level, marks);
    const root = p0.minus(value.div(c));
    roots.push({ level, value, root, guard: Decimal.max(root.abs(), p0).times(ROUNDING_GUARD) });
  }
  return roots;
}

function valueAt(level: Level, marks: Record<string, Decimal>): Decimal {
  let v = level.k;
  for (const [symbol, c] of Object.entries(level.c)) v = v.plus(c.times(marks[symbol]!));
  return v;
}

/** One symbol: between the nearest roots below and above the mark (a root at the mark closes that side). */
function oneSymbolBand(p0: Decimal, roots: Root[]): SymbolBand {
  let lo: Decimal | null = null;
  let hi: Decimal | null = null;
  for (const { root, guard } of roots) {
    if (root.lte(p0)) {
      const edge = Decimal.min(p0, root.plus(guard));
      if (lo === null || edge.gt(lo)) lo = edge;
    }
    if (root.gte(p0)) {
      const edge = Decimal.max(p0, root.minus(guard));
      if (hi === null || edge.lt(hi)) hi = edge;
    }
  }
  return { lo: lo?.isPos() ? lo : null, hi };
}

/** Several symbols: the box p·(1 ± δ) in which no level's function can reach zero. */
function boxBand(marks: Record<string, Decimal>, levels: Level[]): Record<string, SymbolBand> {
  let delta: Decimal | null = null;
  for (const level of levels) {
    let spread = ZERO;
    for (const [symbol, c] of Object.entries(level.c)) spread = spread.plus(c.abs().times(marks[symbol]!));
    if (spread.isZero()) continue;
    const d = valueAt(level, marks).abs().div(spread);
    if (delta === null || d.lt(delta)) delta = d;
  }
  // Below 1e-9 the products' own rounding (40 digits) could exceed the guard: no room then.
  if (delta?.lt(MIN_BOX)) delta = ZERO;
  const symbols: Record<string, SymbolBand> = {};
  for (const [symbol, p0] of Object.entries(marks)) {
    if (delta === null) symbols[symbol] = { lo: null, hi: null };
    else if (delta.isZero()) symbols[symbol] = { lo: p0, hi: p0 };
    else {
      const d = delta.times(ONE.minus(ROUNDING_GUARD));
      const lo = p0.times(ONE.minus(d));
      symbols[symbol] = { lo: lo.isPos() ? lo : null, hi: p0.times(ONE.plus(d)) };
    }
  }
  return symbols;
}

/**
 * The nearest level on each side whose crossing makes the assessment refuse entries: the root moved 1e-30
 * outwards, so a mark strictly past it is certainly on the level's bad side.
 */
function blockingLevels(symbol: string, p0: Decimal, roots: Root[]): { below: BlockingLevel | null; above: BlockingLevel | null } {
  let below: Root | null = null;
  let above: Root | null = null;
  for (const r of roots) {
    if (!r.level.blocking || r.level.bad(r.value)) continue;
    if (r.root.lt(p0) && (below === null || r.root.gt(below.root))) below = r;
    else if (r.root.gt(p0) && (above === null || r.root.lt(above.root))) above = r;
  }
  const level = (r: Root | null, price: (r: Root) => Decimal): BlockingLevel | null => {
    if (r === null) return null;
    const at = price(r);
    return { price: at, rule: r.level.rule, message: `${symbol} mark past ${at.toFixed()}, where ${r.level.describe()}` };
  };
  return { below: level(below, (r) => r.root.minus(r.guard)), above: level(above, (r) => r.root.plus(r.guard)) };
}
