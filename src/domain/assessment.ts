import type { Budget } from './budget.ts';
import { dec, str, type Decimal, type DecimalString } from './decimal.ts';
import type { RiskMetrics } from './metrics.ts';
import { sessionLossReached } from './pre-trade-gate.ts';
import type { Stopout } from './stopout.ts';

/** The five top-level states of an account (docs/contracts.md#invariants). */
export const ACCOUNT_MODES = ['trading', 'entries-blocked', 'de-risking', 'panic-exit', 'stopped-out'] as const;
export type AccountMode = (typeof ACCOUNT_MODES)[number];

/** Why an account is (or should be) in a mode: a rule code and the numbers behind it. */
export interface ModeReason {
  rule: string;
  message: string;
  numbers: Record<string, DecimalString | string>;
}

export interface Assessment {
  mode: AccountMode;
  reason: ModeReason;
  /** Panic exit to flatten (a stopout with closePositions) rather than to restore the buffer. */
  flatten: boolean;
}

export interface AssessmentInput {
  metrics: RiskMetrics;
  budget: Budget;
  /** Fraction of a limit kept as a margin before a blocked or de-risking account may relax (e.g. "0.2"). */
  hysteresis: DecimalString;
  /** The account's current mode: relaxing from a stricter mode needs the hysteresis margin. */
  current: AccountMode;
  stopouts: readonly Stopout[];
  feedStale: boolean;
}

/**
 * Where the account belongs given its risk, in order of severity: panic exit, stopped out, de-risking,
 * entries blocked, trading. Pure and total: the account machine's guards only read its answer.
 *
 * Hysteresis keeps the account from flapping: once de-risking it stays until the buffer is back above
 * minMarginBuffer × (1 + h); once blocked, it stays until size, notional and session loss are back
 * under (1 − h) of their limits.
 */
export function assessAccount(input: AssessmentInput): Assessment {
  const { metrics, budget, stopouts } = input;
  const h = dec(input.hysteresis);
  const flat = Object.keys(metrics.positions).length === 0;
  const buffer = metrics.marginBuffer === null ? null : dec(metrics.marginBuffer);

  const flattening = stopouts.find((s) => s.closePositions);
  if (flattening && !flat) {
    return at('panic-exit', true, 'stopout', `stopout ${flattening.reason} on ${flattening.scope} ${flattening.id} closes positions`, {
      scope: flattening.scope,
      id: flattening.id,
      reason: flattening.reason,
    });
  }

  if (buffer !== null && budget.panicMarginBuffer !== undefined && buffer.lt(budget.panicMarginBuffer)) {
    return at(
      'panic-exit',
      false,
      'panic-margin-buffer',
      `margin buffer ${str(buffer)} below panicMarginBuffer ${budget.panicMarginBuffer}`,
      {
        marginBuffer: str(buffer),
        limit: budget.panicMarginBuffer,
      },
    );
  }
  // Panic exit ends once the buffer is back at the minimum (de-risking takes over from there).
  if (input.current === 'panic-exit' && buffer !== null && budget.minMarginBuffer !== undefined && buffer.lt(budget.minMarginBuffer)) {
    return at(
      'panic-exit',
      false,
      'panic-margin-buffer',
      `margin buffer ${str(buffer)} not yet back to minMarginBuffer ${budget.minMarginBuffer}`,
      {
        marginBuffer: str(buffer),
        limit: budget.minMarginBuffer,
      },
    );
  }

  const stop = stopouts[0];
  if (stop) {
    return at('stopped-out', false, 'stopout', `stopout ${stop.reason} on ${stop.scope} ${stop.id}`, {
      scope: stop.scope,
      id: stop.id,
      reason: stop.reason,
      count: String(stopouts.length),
    });
  }

  const derisk = deRiskReason(input, buffer, h);
  if (derisk) return { mode: 'de-risking', flatten: false, reason: derisk };

  const blocked = bindingReason(input, h);
  if (blocked) return { mode: 'entries-blocked', flatten: false, reason: blocked };

  return at('trading', false, 'budget-has-room', 'the budget has room', {
    grossNotional: metrics.grossNotional,
    marginBuffer: metrics.marginBuffer ?? 'flat',
  });
}

function at(mode: AccountMode, flatten: boolean, rule: string, message: string, numbers: ModeReason['numbers']): Assessment {
  return { mode, flatten, reason: { rule, message, numbers } };
}

function deRiskReason(input: AssessmentInput, buffer: Decimal | null, h: Decimal): ModeReason | null {
  const { metrics, budget } = input;
  const deRisking = input.current === 'de-risking' || input.current === 'panic-exit';
  if (buffer !== null && budget.minMarginBuffer !== undefined) {
    const floor = dec(budget.minMarginBuffer);
    const threshold = deRisking ? floor.times(h.plus(1)) : floor;
    if (buffer.lt(threshold)) {
      return {
        rule: 'min-margin-buffer',
        message: `margin buffer ${str(buffer)} below ${deRisking ? 'the recovery level' : 'minMarginBuffer'} ${str(threshold)}`,
        numbers: { marginBuffer: str(buffer), limit: budget.minMarginBuffer, threshold: str(threshold) },
      };
    }
  }
  for (const [symbol, cap] of Object.entries(budget.maxPositionSize ?? {})) {
    const size = dec(metrics.positions[symbol]?.size ?? '0').abs();
    if (size.gt(cap)) {
      return {
        rule: 'max-position-size',
        message: `|position| ${str(size)} ${symbol} above maxPositionSize ${cap}`,
        numbers: { symbol, position: str(size), limit: cap },
      };
    }
  }
  if (budget.maxGrossNotional !== undefined && dec(metrics.grossNotional).gt(budget.maxGrossNotional)) {
    return {
      rule: 'max-gross-notional',
      message: `gross notional ${metrics.grossNotional} above maxGrossNotional ${budget.maxGrossNotional}`,
      numbers: { grossNotional: metrics.grossNotional, limit: budget.maxGrossNotional },
    };
  }
  return null;
}

/** The budget binds when an entry could not pass: at a cap, session loss reached, or no fresh marks. */
function bindingReason(input: AssessmentInput, h: Decimal): ModeReason | null {
  const { metrics, budget } = input;
  // Entering the blocked state happens at the limit; leaving it needs (1 − h) of the limit.
  const scale = input.current === 'entries-blocked' ? dec(1).minus(h) : dec(1);
  if (input.feedStale) {
    return { rule: 'feed-stale', message: 'market data is stale: entries cannot be judged', numbers: {} };
  }
  if (budget.sessionLossLimit !== undefined) {
    const limit = dec(budget.sessionLossLimit).times(scale);
    if (sessionLossReached(metrics.sessionPnl, limit)) {
      return {
        rule: 'session-loss-limit',
        message: `session loss ${str(dec(metrics.sessionPnl).neg())} reached ${str(limit)} (sessionLossLimit ${budget.sessionLossLimit})`,
        numbers: { sessionPnl: metrics.sessionPnl, limit: budget.sessionLossLimit, threshold: str(limit) },
      };
    }
  }
  for (const [symbol, cap] of Object.entries(budget.maxPositionSize ?? {})) {
    const size = dec(metrics.positions[symbol]?.size ?? '0').abs();
    const threshold = dec(cap).times(scale);
    // At or above the threshold in both directions: a strict test to stay would release an account sitting
    // exactly at (1 − h) of the cap, and with h = 0 make it flap between blocked and trading.
    if (size.gte(threshold)) {
      return {
        rule: 'max-position-size',
        message: `|position| ${str(size)} ${symbol} at maxPositionSize ${cap}`,
        numbers: { symbol, position: str(size), limit: cap, threshold: str(threshold) },
      };
    }
  }
  if (budget.maxGrossNotional !== undefined) {
    const threshold = dec(budget.maxGrossNotional).times(scale);
    const gross = dec(metrics.grossNotional);
    if (gross.gte(threshold)) {
      return {
        rule: 'max-gross-notional',
        message: `gross notional ${metrics.grossNotional} at maxGrossNotional ${budget.maxGrossNotional}`,
        numbers: { grossNotional: metrics.grossNotional, limit: budget.maxGrossNotional, threshold: str(threshold) },
      };
    }
  }
  return null;
}
