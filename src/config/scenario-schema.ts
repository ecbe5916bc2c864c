import { z } from 'zod';
import { accountShape, checkStrategyBytes, hasAccountIds, portfolioSchema, subscriberSchema, withStrategy } from './account-schema.ts';
import { faultSchema } from './fault-schema.ts';
import { atMost, INPUT_LIMITS } from './input-limits.ts';
import { operatorActionSchema } from './operator-schema.ts';
import { boolean, duration, integerAtLeast, isoTimestamp, nonNegativeDecimal, positiveDecimal, symbolRecord, text } from './primitives.ts';
import { liquiditySchema, productsSchema } from './product-schema.ts';
import { defaultsSchema, sessionSchema } from './session-schema.ts';
import { signalSchema } from './signal-schema.ts';

export const DEFAULT_SCENARIO_START = '2026-01-05T13:00:00Z';

export const scenarioAccountSchema = z
  .strictObject({
    ...accountShape,
    collateral: nonNegativeDecimal.meta({ description: 'Collateral deposited at t=0.' }),
    signal: signalSchema,
  })
  .superRefine(checkStrategyBytes, { when: (payload) => hasAccountIds(payload.value) })
  .transform(withStrategy)
  .meta({ description: 'A supervised account in a scenario, with its collateral and the strategy that trades it.' });

export type ScenarioAccountConfig = z.output<typeof scenarioAccountSchema>;

export const markPointSchema = z.strictObject({
  at: duration,
  price: positiveDecimal,
  jump: boolean.default(false).meta({ description: 'A gap: no intermediate marks between the previous point and this one.' }),
});

export type MarkPoint = z.output<typeof markPointSchema>;

/** The scenario file (docs/contracts.md#scenario). */
export const scenarioSchema = z
  .strictObject({
    $schema: z.string().optional().meta({ description: 'Editor hint; ignored.' }),
    name: text('a scenario name'),
    seed: integerAtLeast(0).default(1).meta({ description: 'Seed for order ids, nonces and keys.' }),
    start: isoTimestamp.default(DEFAULT_SCENARIO_START).meta({ description: 'Simulated wall clock of t=0.' }),
    products: productsSchema.optional(),
    liquidity: liquiditySchema.prefault({}),
    accounts: z
      .array(scenarioAccountSchema)
      .min(1, { error: 'expected at least one account' })
      .max(INPUT_LIMITS.accounts, { error: atMost(INPUT_LIMITS.accounts, 'accounts') }),
    portfolios: z
      .array(portfolioSchema)
      .max(INPUT_LIMITS.groups, { error: atMost(INPUT_LIMITS.groups, 'portfolios') })
      .default([]),
    subscribers: z
      .array(subscriberSchema)
      .max(INPUT_LIMITS.groups, { error: atMost(INPUT_LIMITS.groups, 'subscribers') })
      .default([]),
    marks: symbolRecord(
      z
        .array(markPointSchema)
        .min(1, { error: 'expected at least one mark point' })
        .max(INPUT_LIMITS.markPoints, { error: atMost(INPUT_LIMITS.markPoints, 'mark points') }),
    ).meta({
      description: 'Mark price path per symbol: linear between points, one mark per second; times strictly increasing from "0s".',
    }),
    faults: z
      .array(faultSchema)
      .max(INPUT_LIMITS.events, { error: atMost(INPUT_LIMITS.events, 'faults') })
      .default([]),
    operator: z
      .array(operatorActionSchema)
      .max(INPUT_LIMITS.events, { error: atMost(INPUT_LIMITS.events, 'operator actions') })
      .default([]),
    until: duration.meta({ description: 'When the scenario ends.' }),
    session: sessionSchema.prefault({}),
    defaults: defaultsSchema.prefault({}),
  })
  .meta({ title: 'riskwarden scenario', description: 'A deterministic simulation scenario (riskwarden simulate).' });

export type ScenarioConfig = z.output<typeof scenarioSchema>;
