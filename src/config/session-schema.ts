import { z } from 'zod';
import { budgetSchema } from './budget-schema.ts';
import { duration, fractionDecimal, halfOpenFraction, isoTimestamp } from './primitives.ts';

export const sessionSchema = z
  .strictObject({
    start: isoTimestamp
      .optional()
      .meta({ description: 'Start of the trading session (session PnL is measured from it); default: when the process starts.' }),
  })
  .meta({ description: 'The trading session.' });

/** Settings every account gets unless it says otherwise. */
export const defaultsSchema = z
  .strictObject({
    budget: budgetSchema
      .optional()
      .meta({ description: 'Budget rules for every account; an account’s own budget overrides them rule by rule.' }),
    hysteresis: halfOpenFraction.prefault('0.2').meta({
      description: 'How far back inside a binding budget rule (as a fraction of its limit) an account must come before entries resume.',
    }),
    reductionFraction: fractionDecimal
      .prefault('0.25')
      .meta({ description: 'Share of the position one de-risking order closes, in (0, 1].' }),
    reductionTimeout: duration
      .prefault('15s')
      .meta({ description: 'How long a de-risking order may stay working before it is cancelled and replaced.' }),
  })
  .meta({ description: 'Defaults for all accounts.' });

export type SessionConfig = z.output<typeof sessionSchema>;
export type DefaultsConfig = z.output<typeof defaultsSchema>;
