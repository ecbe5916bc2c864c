import { z } from 'zod';
import { budgetSchema } from './budget-schema.ts';
import { atMost, INPUT_LIMITS } from './input-limits.ts';
import { address, identifier, nonNegativeDecimal, text, utf8Length } from './primitives.ts';
import { riskLimitsSchema } from './risk-limit-schema.ts';

/** The venue stores a strategy id as bytes32: 1-byte length ‖ utf8, so at most 31 bytes. */
export const MAX_STRATEGY_BYTES = 31;

/** Fields every supervised account has, in a fleet and in a scenario. */
export const accountShape = {
  id: identifier.meta({ description: 'The account id used in stopouts, the API and the timeline.' }),
  trader: address.optional().meta({ description: 'The trader address on the venue (default: the address of the configured key).' }),
  strategy: text('a strategy id')
    .optional()
    .meta({ description: 'The venue strategy id (at most 31 bytes of UTF-8); defaults to the account id.' }),
  collateral: nonNegativeDecimal.optional().meta({ description: 'Collateral the simulator deposits at start.' }),
  budget: budgetSchema.prefault({}),
  riskLimits: riskLimitsSchema.optional().meta({ description: 'The strategy-level CopyFactory risk limits.' }),
};

interface AccountIds {
  id: string;
  strategy?: string | undefined;
}

/** Checks that the venue strategy id fits in bytes32 (the account id is used when strategy is absent). */
export function checkStrategyBytes(account: AccountIds, ctx: z.RefinementCtx): void {
  if (account.strategy !== undefined) {
    if (utf8Length(account.strategy) > MAX_STRATEGY_BYTES) {
      ctx.addIssue({
        code: 'custom',
        path: ['strategy'],
        message: `expected at most ${MAX_STRATEGY_BYTES} bytes of UTF-8 (it becomes a bytes32)`,
        input: account.strategy,
      });
    }
  } else if (utf8Length(account.id) > MAX_STRATEGY_BYTES) {
    ctx.addIssue({
      code: 'custom',
      path: ['id'],
      message: `the strategy id defaults to the account id, which is longer than ${MAX_STRATEGY_BYTES} bytes; set strategy`,
      input: account.id,
    });
  }
}

/** True when the ids are usable, so the strategy check can run even when another field is wrong. */
export function hasAccountIds(value: unknown): value is AccountIds {
  if (typeof value !== 'object' || value === null) return false;
  const { id, strategy } = value as Record<string, unknown>;
  return typeof id === 'string' && (strategy === undefined || typeof strategy === 'string');
}

/** Fills `strategy` from the id, so consumers always see the venue strategy id. */
export function withStrategy<T extends AccountIds>(account: T): T & { strategy: string } {
  return { ...account, strategy: account.strategy ?? account.id };
}

export const accountSchema = z
  .strictObject(accountShape)
  .superRefine(checkStrategyBytes, { when: (payload) => hasAccountIds(payload.value) })
  .transform(withStrategy)
  .meta({ description: 'A supervised account: one trader + strategy on the venue.' });

export type AccountConfig = z.output<typeof accountSchema>;

export const portfolioSchema = z
  .strictObject({
    id: identifier,
    members: z
      .array(
        z.strictObject({
          account: identifier.meta({ description: 'The member account id.' }),
          riskLimits: riskLimitsSchema.optional().meta({ description: 'Member-level limits (this account in this portfolio).' }),
        }),
      )
      .max(INPUT_LIMITS.groups, { error: atMost(INPUT_LIMITS.groups, 'members') })
      .meta({ description: 'The member accounts.' }),
    riskLimits: riskLimitsSchema.optional().meta({ description: 'Portfolio-level limits, measured on the whole portfolio.' }),
  })
  .meta({ description: 'A portfolio strategy: member accounts and their shared limits.' });

export type PortfolioConfig = z.output<typeof portfolioSchema>;

export const subscriberSchema = z
  .strictObject({
    id: identifier,
    riskLimits: riskLimitsSchema.optional().meta({ description: 'Subscriber-level limits.' }),
    subscriptions: z
      .array(
        z.strictObject({
          target: identifier.meta({ description: 'An account id or a portfolio id.' }),
          riskLimits: riskLimitsSchema.optional().meta({ description: 'Subscription-level limits.' }),
        }),
      )
      .max(INPUT_LIMITS.groups, { error: atMost(INPUT_LIMITS.groups, 'subscriptions') })
      .meta({ description: 'What the subscriber copies.' }),
  })
  .meta({ description: 'A CopyFactory subscriber and its subscriptions.' });

export type SubscriberConfig = z.output<typeof subscriberSchema>;
