import type { Budget } from './budget.ts';
import { Decimal, dec, str, type DecimalString, type DecimalValue } from './decimal.ts';
import { exposureEffect, positionAfter } from './exposure.ts';
import { projectedMetrics, riskMetrics, type RiskInput, type RiskMetrics } from './metrics.ts';
import type { OrderIntent } from './order.ts';
import { orderViolations, priceBand } from './rounding.ts';
import type { Stopout } from './stopout.ts';

/**
 * Rule codes of a blocked entry (timeline `decision.rules`). `state` is added by the account machine.
 * `order-invalid` (an extension of the contract's list) marks an order the venue would refuse anyway:
 * off the tick or size grid, over maxOrderNotional, or priced outside the band.
 */
export const GATE_RULES = [
  'max-position-size',
  'max-gross-notional',
  'min-margin-buffer',
  'session-loss-limit',
  'risk-limit',
  'stopout',
  'state',
  'order-invalid',
] as const;
export type GateRule = (typeof GATE_RULES)[number];

/** One rule that blocks, with the numbers behind it. */
export interface GateBlock {
  rule: GateRule;
  message: string;
  numbers: Record<string, DecimalString | string>;
}

/** A risk limit that measures a breach right now (see risk-limits.ts `evaluateRiskLimits`). */
export interface ActiveBreach {
  reason: string;
  scope: string;
  id: string;
  drawdown?: DecimalString;
  threshold?: DecimalString;
}

export interface GateInput {
  /** The account as it is: what a close may reduce, and the session PnL. */
  risk: RiskInput;
  /**
   * The book as if every working order filled (default: `risk.ledger`): entries are judged against it,
   * so two working entries cannot each fit the budget and together break it.
   */
  committed?: RiskInput['ledger'];
  /**
   * Signed size per symbol still free to close: the position minus working closes (default: the position).
   * An order is a close only if it reduces this without flipping it.
   */
  closable?: Record<string, DecimalString>;
  /** riskMetrics(risk), when the caller already has it. */
  current?: RiskMetrics;
  budget: Budget;
  breaches: readonly ActiveBreach[];
  stopouts: readonly Stopout[];
  order: OrderIntent;
}

export interface GateDecision {
  allowed: boolean;
  /** `close` when the order only reduces the position: never blocked by the budget, limits or stopouts. */
  purpose: 'entry' | 'close';
  rules: GateRule[];
  blocks: GateBlock[];
  order: OrderIntent;
}

/**
 * The pre-trade gate: every rule is checked (not just the first that fails) so the decision says all that
 * blocks the entry. An order that only reduces exposure passes: stopping entries must never trap a
 * strategy in a position it wants to leave.
 */
export function preTradeGate(input: GateInput): GateDecision {
  const { order, budget } = input;
  const current = input.current ?? riskMetrics(input.risk);
  const closable = input.closable?.[order.symbol] ?? current.positions[order.symbol]?.size ?? '0';
  const invalid = productViolations(input.risk, order);
  if (exposureEffect(closable, order) === 'reduce') {
    return invalid
      ? { allowed: false, purpose: 'close', rules: [invalid.rule], blocks: [invalid], order }
      : { allowed: true, purpose: 'close', rules: [], blocks: [], order };
  }

  const blocks: GateBlock[] = invalid ? [invalid] : [];
  const committedRisk = input.committed ? { ...input.risk, ledger: input.committed } : input.risk;
  const committed = input.committed ? riskMetrics(committedRisk) : current;
  const held = committed.positions[order.symbol]?.size ?? '0';
  const after = projectedMetrics(committedRisk, { ...order, price: worstFillPrice(input.risk, order) });

  const cap = budget.maxPositionSize?.[order.symbol];
  const sizeAfter = positionAfter(held, order).abs();
  if (cap !== undefined && sizeAfter.gt(cap)) {
    blocks.push({
      rule: 'max-position-size',
      message: `|position| after the order ${str(sizeAfter)} ${order.symbol} exceeds maxPositionSize ${cap}`,
      numbers: { symbol: order.symbol, position: held, after: str(sizeAfter), limit: cap },
    });
  }

  if (budget.maxGrossNotional !== undefined && dec(after.grossNotional).gt(budget.maxGrossNotional)) {
    blocks.push({
      rule: 'max-gross-notional',
      message: `gross notional after the order ${after.grossNotional} exceeds maxGrossNotional ${budget.maxGrossNotional}`,
      numbers: { grossNotional: committed.grossNotional, after: after.grossNotional, limit: budget.maxGrossNotional },
    });
  }

  if (budget.minMarginBuffer !== undefined && after.marginBuffer !== null && dec(after.marginBuffer).lt(budget.minMarginBuffer)) {
    blocks.push({
      rule: 'min-margin-buffer',
      message: `margin buffer after the order ${after.marginBuffer} is below minMarginBuffer ${budget.minMarginBuffer}`,
      numbers: { marginBuffer: committed.marginBuffer ?? 'none', after: after.marginBuffer, limit: budget.minMarginBuffer },
    });
  }

  if (budget.sessionLossLimit !== undefined && sessionLossReached(current.sessionPnl, budget.sessionLossLimit)) {
    blocks.push({
      rule: 'session-loss-limit',
      message: `session loss ${str(dec(current.sessionPnl).neg())} reached sessionLossLimit ${budget.sessionLossLimit}`,
      numbers: { sessionPnl: current.sessionPnl, limit: budget.sessionLossLimit },
    });
  }

  if (input.breaches.length > 0) {
    blocks.push({
      rule: 'risk-limit',
      message: `risk limit breached: ${input.breaches.map((b) => `${b.reason} on ${b.scope} ${b.id}`).join(', ')}`,
      numbers: Object.fromEntries(input.breaches.map((b) => [`${b.scope}:${b.id}:${b.reason}`, b.drawdown ?? 'breached'])),
    });
  }

  if (input.stopouts.length > 0) {
    blocks.push({
      rule: 'stopout',
      message: `stopped out: ${input.stopouts.map((s) => `${s.reason} on ${s.scope} ${s.id}`).join(', ')}`,
      numbers: Object.fromEntries(input.stopouts.map((s) => [`${s.scope}:${s.id}`, s.reason])),
    });
  }

  return { allowed: blocks.length === 0, purpose: 'entry', rules: blocks.map((b) => b.rule), blocks, order };
}

/** The product rules the order breaks, as one block; null when the venue would accept it on these grounds. */
function productViolations(risk: RiskInput, order: OrderIntent): GateBlock | null {
  const product = risk.products[order.symbol];
  const mark = risk.marks[order.symbol];
  if (product === undefined || mark === undefined) {
    throw new Error(`no mark or product for ${order.symbol}: cannot judge the order`);
  }
  const violations = orderViolations(product, order, mark);
  if (violations.length === 0) return null;
  return {
    rule: 'order-invalid',
    message: violations.map((v) => v.message).join('; '),
    numbers: Object.fromEntries(violations.map((v) => [v.code, v.message])),
  };
}

/** True when the loss since the session start has reached the limit (a loss is a negative session PnL). */
export function sessionLossReached(sessionPnl: DecimalValue, limit: DecimalValue): boolean {
  return dec(sessionPnl).neg().gte(limit);
}

/**
 * The price to judge an entry at: never better than the mark — a passive limit (a buy below the mark, a
 * sell above it) must not count the gap as profit — and for a market order the far edge of the price
 * band, the worst fill the venue allows, so the buffer check cannot be fooled by slippage.
 */
function worstFillPrice(risk: RiskInput, order: OrderIntent): DecimalString {
  const mark = risk.marks[order.symbol];
  const product = risk.products[order.symbol];
  if (mark === undefined || product === undefined) {
    throw new Error(`no mark or product for ${order.symbol}: cannot judge the order`);
  }
  if (order.type === 'limit' && order.price !== undefined && !dec(order.price).isZero()) {
    const limit = dec(order.price);
    return str(order.side === 'buy' ? Decimal.max(limit, mark) : Decimal.min(limit, mark));
  }
  const band = priceBand(product, mark);
  return str(order.side === 'buy' ? band.high : band.low);
}
