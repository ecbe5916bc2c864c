import { z } from 'zod';
import { STOPOUT_SCOPES } from '../domain/stopout.ts';
import { boolean, duration, text } from './primitives.ts';

const common = {
  at: duration.meta({ description: 'When the operator acts (offset from the scenario start).' }),
  scope: z.enum(STOPOUT_SCOPES),
  id: text('an id').meta({
    description: 'Id at that scope: "*" for fleet, "<portfolio>/<account>" for member, "<subscriber>/<target>" for subscription.',
  }),
};

/** What a person does during a scenario run. */
export const operatorActionSchema = z
  .discriminatedUnion('action', [
    z.strictObject({
      ...common,
      action: z.literal('set-stopout'),
      reason: text('a reason').meta({ description: 'Stopout reason, e.g. "manual".' }),
      closePositions: boolean.default(false),
    }),
    z.strictObject({
      ...common,
      action: z.literal('reset-stopout'),
      reason: text('a reason').meta({ description: 'The reason of the stopout to reset, e.g. "day-equity-difference".' }),
    }),
    z.strictObject({ ...common, action: z.literal('move-start-time') }),
  ])
  .meta({ description: 'An operator action: set-stopout, reset-stopout or move-start-time (to now).' });

export type OperatorActionConfig = z.output<typeof operatorActionSchema>;
