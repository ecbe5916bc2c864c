import { z } from 'zod';
import { nonNegativeDecimal, positiveDecimal, symbolRecord } from './primitives.ts';

/** The explicit risk budget of one strategy (src/domain/budget.ts). Every rule is optional. */
export const budgetSchema = z
  .strictObject({
    maxPositionSize: symbolRecord(positiveDecimal)
      .optional()
      .meta({ description: 'Absolute position size cap per symbol, e.g. { ETHP: "6" }.' }),
    maxGrossNotional: positiveDecimal.optional().meta({ description: 'Cap on the sum of |size| × mark over symbols.' }),
    minMarginBuffer: nonNegativeDecimal
      .optional()
      .meta({ description: 'Margin fraction minus maintenance requirement to keep; below it: de-risk.' }),
    panicMarginBuffer: nonNegativeDecimal
      .optional()
      .meta({ description: 'Below this margin buffer: panic exit. Must be below minMarginBuffer.' }),
    sessionLossLimit: positiveDecimal
      .optional()
      .meta({ description: 'Loss since session start (a positive amount) at which new entries stop.' }),
  })
  .meta({ description: 'The risk budget; an absent rule never binds.' });

export type BudgetConfig = z.output<typeof budgetSchema>;
