import { z } from 'zod';
import { RISK_LIMIT_APPLY_TO, RISK_LIMIT_TYPES } from '../domain/risk-limit.ts';
import { atMost, INPUT_LIMITS } from './input-limits.ts';
import { boolean, fractionDecimal, isoTimestamp, isRecord, positiveDecimal } from './primitives.ts';

/** A CopyFactory StrategyRiskLimit with its field names and values. */
export const riskLimitSchema = z
  .strictObject({
    type: z.enum(RISK_LIMIT_TYPES).meta({ description: 'The period, in UTC.' }),
    applyTo: z.enum(RISK_LIMIT_APPLY_TO).meta({ description: 'The drawdown measured against the period start.' }),
    maxAbsoluteRisk: positiveDecimal.optional().meta({ description: 'Max drawdown in account currency.' }),
    maxRelativeRisk: fractionDecimal.optional().meta({ description: 'Max drawdown as a fraction of the period-start value, in (0, 1].' }),
    closePositions: boolean.meta({ description: 'Flatten the position when the limit is breached (required, as in CopyFactory).' }),
    startTime: isoTimestamp.optional().meta({ description: 'History before this time is ignored.' }),
  })
  .superRefine(
    (limit, ctx) => {
      if (limit.maxAbsoluteRisk === undefined && limit.maxRelativeRisk === undefined) {
        ctx.addIssue({ code: 'custom', message: 'maxAbsoluteRisk or maxRelativeRisk is required', input: limit });
      }
    },
    // Also when another field is wrong, so every problem of a limit is reported at once.
    { when: (payload) => isRecord(payload.value) },
  )
  .meta({ description: 'A CopyFactory risk limit; maxAbsoluteRisk or maxRelativeRisk (or both) is required.' });

export const riskLimitsSchema = z
  .array(riskLimitSchema)
  .max(INPUT_LIMITS.riskLimits, { error: atMost(INPUT_LIMITS.riskLimits, 'risk limits') });

export type RiskLimitConfig = z.output<typeof riskLimitSchema>;
