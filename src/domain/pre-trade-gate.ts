import type { Budget } from './budget.ts';
import { dec, str, type DecimalString, type DecimalValue } from './decimal.ts';
import { exposureEffect, positionAfter } from './exposure.ts';
import { projectedMetrics, riskMetrics, type RiskInput, type RiskMetrics } from './metrics.ts';
import type { OrderIntent } from './order.ts';
import { priceBand } from './rounding.ts';
import type { Stopout } from './stopout.ts';

/** Rule codes of a blocked entry (timeline `decision.rules`). `state` is added by the account machine. */
export type GateRule =
  | 'max-position-size'
  | 'max-gross-notional'
  | 'min-margin-buffer'
  | 'session-loss-limit'
  | 'risk-limit'
  | 'stopout'
  | 'state';

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
  risk: RiskInput;
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
  const held = current.positions[order.symbol]?.size ?? '0';
  if (exposureEffect(held, order) === 'reduce') {
    return { allowed: true, purpose: 'close', rules: [], blocks: [], order };
  }

  const blocks: GateBlock[] = [];
  const after = projectedMetrics(input.risk, { ...order, price: worstFillPrice(input.risk, order) });

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
      numbers: { grossNotional: current.grossNotional, after: after.grossNotional, limit: budget.maxGrossNotional },
    });
  }

  if (budget.minMarginBuffer !== undefined && after.marginBuffer !== null && dec(after.marginBuffer).lt(budget.minMarginBuffer)) {
    blocks.push({
      rule: 'min-margin-buffer',
      message: `margin buffer after the order ${after.marginBuffer} is below minMarginBuffer ${budget.minMarginBuffer}`,
      numbers: { marginBuffer: current.marginBuffer ?? 'none', after: after.marginBuffer, limit: budget.minMarginBuffer },
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

/** True when the loss since the session start has reached the limit (a loss is a negative session PnL). */
export function sessionLossReached(sessionPnl: DecimalValue, limit: DecimalValue): boolean {
  return dec(sessionPnl).neg().gte(limit);
}

/**
 * The price to judge an entry at: its limit price, or for a market order the far edge of the price band —
 * the worst fill the venue allows, so the buffer check cannot be fooled by slippage.
 */
function worstFillPrice(risk: RiskInput, order: OrderIntent): DecimalString {
  if (order.type === 'limit' && order.price !== undefined && !dec(order.price).isZero()) return order.price;
  const mark = risk.marks[order.symbol];
  const product = risk.products[order.symbol];
  if (mark === undefined || product === undefined) {
    throw new Error(`no mark or product for ${order.symbol}: cannot judge the order`);
  }
  const band = priceBand(product, mark);
  return str(order.side === 'buy' ? band.high : band.low);
}
