import { z } from 'zod';
import { ACCOUNT_MODES } from '../domain/assessment.ts';
import { ORDER_PURPOSES } from '../domain/order.ts';
import { RISK_LIMIT_APPLY_TO, RISK_LIMIT_LEVELS, RISK_LIMIT_TYPES } from '../domain/risk-limit.ts';
import { STOPOUT_SCOPES } from '../domain/stopout.ts';
import { reasonProblem, stopoutIdProblem } from '../domain/stopout-identity.ts';
import type {
  AccountResponse,
  ActionResponse,
  EntryCheckRequest,
  EntryCheckResponse,
  ErrorResponse,
  FleetResponse,
  FleetRow,
  LiveMessage,
  MoveStartTimeRequest,
  ResetStopoutRequest,
  SetStopoutRequest,
  StopoutsResponse,
} from './api-types.ts';

/**
 * zod schemas of the API's JSON (api-types.ts): the request schemas validate bodies at the edge; the
 * response schemas describe what the server sends, for the OpenAPI document and for clients and tests to
 * check answers with. Responses allow extra fields (the API grows only by adding fields); requests do not
 * (a misspelt field is a mistake worth reporting). The type checks at the end keep them in step with
 * api-types.ts.
 */

/** Names under `#/components/schemas/` in the OpenAPI document. */
export const apiSchemaRegistry = z.registry<{ id: string; description?: string }>();

function named<T extends z.ZodType>(id: string, schema: T, description?: string): T {
  apiSchemaRegistry.add(schema, { id, ...(description ? { description } : {}) });
  return schema;
}

const decimal = z
  .string()
  .regex(/^-?\d+(\.\d+)?$/)
  .meta({ description: 'An exact decimal as a string, e.g. "2000.5".' });
const scope = z.enum(STOPOUT_SCOPES);
const mode = z.enum(ACCOUNT_MODES);

// ── requests ────────────────────────────────────────────────────────────────────────────────────

const ID_DESCRIPTION = 'Id at that scope: "*" for fleet, "<portfolio>/<account>" for member, "<subscriber>/<target>" for subscription.';

/** Adds an issue at `id` (and `reason`) when they cannot name a stopout at the scope. */
function identityChecks(
  value: { scope: (typeof STOPOUT_SCOPES)[number]; id: string; reason?: string | undefined },
  ctx: z.RefinementCtx,
): void {
  const idProblem = stopoutIdProblem(value.scope, value.id);
  if (idProblem) ctx.addIssue({ code: 'custom', path: ['id'], message: idProblem, input: value.id });
  if (value.reason !== undefined) {
    const problem = reasonProblem(value.reason);
    if (problem) ctx.addIssue({ code: 'custom', path: ['reason'], message: problem, input: value.reason });
  }
}

const text = (max: number) => z.string().min(1).max(max);

export const setStopoutRequestSchema = named(
  'SetStopoutRequest',
  z
    .strictObject({
      scope,
      id: text(200).meta({ description: ID_DESCRIPTION }),
      reason: text(100).optional().meta({ description: 'Stopout reason (default "manual").' }),
      closePositions: z.boolean().optional().meta({ description: 'Also flatten the positions it covers (default false).' }),
    })
    .superRefine(identityChecks),
  'A manual stopout at any scope; fleet "*" is the kill switch.',
);

export const resetStopoutRequestSchema = named(
  'ResetStopoutRequest',
  z
    .strictObject({
      scope,
      id: text(200).meta({ description: ID_DESCRIPTION }),
      reason: text(100).meta({ description: 'The reason of the stopout to reset, e.g. "manual" or "day-equity-difference".' }),
    })
    .superRefine(identityChecks),
  'Resets one stopout. Refused (409) while the limit that raised it still breaches: move startTime first.',
);

export const moveStartTimeRequestSchema = named(
  'MoveStartTimeRequest',
  z.strictObject({ scope, id: text(200).meta({ description: ID_DESCRIPTION }) }).superRefine(identityChecks),
  'CopyFactory: moves startTime on that level to now, so history before now no longer counts.',
);

export const entryCheckRequestSchema = named(
  'EntryCheckRequest',
  z.strictObject({
    symbol: text(32),
    side: z.enum(['buy', 'sell']),
    amount: decimal,
    type: z.enum(['market', 'limit']),
    price: decimal.optional().meta({ description: 'Limit price; absent or "0" for a market order.' }),
  }),
  'An order a strategy might send, checked by the account gate; nothing is sent.',
);

// ── responses ───────────────────────────────────────────────────────────────────────────────────

export const errorResponseSchema = named(
  'ErrorResponse',
  z.looseObject({
    error: z.string(),
    problems: z.array(z.string()).optional().meta({ description: 'Every problem of the request, as "path: message".' }),
  }),
);

export const actionResponseSchema = named(
  'ActionResponse',
  z.looseObject({ result: z.enum(['ok', 'refused']), reason: z.string().optional() }),
  '200 with result ok, or 409 with result refused and the reason.',
);

export const entryCheckResponseSchema = named(
  'EntryCheckResponse',
  z.looseObject({
    allowed: z.boolean(),
    purpose: z
      .enum(['entry', 'close'])
      .meta({ description: '"close" when the order only reduces the position: never refused by budget, limits or stopouts.' }),
    rules: z.array(z.string()).meta({ description: 'Every rule the gate checked.' }),
    blocks: z.array(z.looseObject({ rule: z.string(), message: z.string(), numbers: z.record(z.string(), z.string()) })),
    order: z.looseObject({
      symbol: z.string(),
      side: z.enum(['buy', 'sell']),
      amount: decimal,
      type: z.enum(['market', 'limit']),
      price: decimal.optional(),
    }),
  }),
  "The account gate's answer now, with every block and its numbers.",
);

export const healthResponseSchema = named('HealthResponse', z.looseObject({ ok: z.literal(true) }));

const orderIntentSchema = named(
  'OrderIntent',
  z.looseObject({
    symbol: z.string(),
    side: z.enum(['buy', 'sell']),
    amount: decimal,
    type: z.enum(['market', 'limit']),
    price: decimal.optional(),
  }),
);

const budgetSchema = named(
  'Budget',
  z.looseObject({
    maxPositionSize: z.record(z.string(), decimal).optional(),
    maxGrossNotional: decimal.optional(),
    minMarginBuffer: decimal.optional(),
    panicMarginBuffer: decimal.optional(),
    sessionLossLimit: decimal.optional(),
  }),
);

const resolvedRiskLimitSchema = named(
  'ResolvedRiskLimit',
  z.looseObject({
    type: z.enum(RISK_LIMIT_TYPES),
    applyTo: z.enum(RISK_LIMIT_APPLY_TO),
    maxAbsoluteRisk: decimal.optional(),
    maxRelativeRisk: decimal.optional(),
    closePositions: z.boolean(),
    startTime: z.string().optional(),
    level: z.enum(RISK_LIMIT_LEVELS),
    sourceId: z.string(),
  }),
  'A CopyFactory risk limit that applies to the account, with the level and id it comes from.',
);

const rec = <K extends string, S extends z.ZodRawShape>(kind: K, shape: S) =>
  z.looseObject({ t: z.number(), kind: z.literal(kind), ...shape });

export const decisionRecordSchema = named(
  'DecisionRecord',
  rec('decision', {
    account: z.string(),
    allowed: z.boolean(),
    rules: z.array(z.string()),
    order: orderIntentSchema,
    reasons: z.array(z.string()).optional(),
  }),
);

export const timelineRecordSchema = named(
  'TimelineRecord',
  z.discriminatedUnion('kind', [
    rec('mark', { symbol: z.string(), price: decimal }),
    rec('state', {
      account: z.string(),
      from: mode,
      to: mode,
      reason: z.string(),
      detail: z.string().optional(),
      numbers: z.record(z.string(), z.string()).optional(),
    }),
    decisionRecordSchema,
    rec('order', {
      account: z.string(),
      orderId: z.string(),
      symbol: z.string(),
      side: z.enum(['buy', 'sell']),
      amount: decimal,
      price: decimal,
      type: z.enum(['market', 'limit']),
      purpose: z.enum(ORDER_PURPOSES),
    }),
    rec('cancel', { account: z.string(), orderId: z.string(), reason: z.string() }),
    rec('order-update', { account: z.string(), orderId: z.string(), status: z.string(), filled: decimal, reason: z.string().optional() }),
    rec('risk', {
      account: z.string(),
      position: z.record(z.string(), decimal),
      grossNotional: decimal,
      equity: decimal,
      marginFraction: decimal.nullable(),
      maintenance: decimal,
      marginBuffer: decimal.nullable(),
      sessionPnl: decimal,
      state: mode.optional(),
    }),
    rec('stopout', {
      scope,
      id: z.string(),
      reason: z.string(),
      closePositions: z.boolean(),
      action: z.enum(['set', 'reset']),
      stoppedTill: z.string().optional(),
    }),
    rec('liquidation', { account: z.string(), symbol: z.string(), price: decimal.optional() }),
    rec('operator', { action: z.string(), scope, id: z.string(), result: z.enum(['ok', 'refused']), reason: z.string().optional() }),
    rec('summary', {
      liquidated: z.array(z.string()),
      finalStates: z.record(z.string(), mode),
      orders: z.record(z.string(), z.record(z.string(), z.number())),
      maxReductionsInFlight: z.record(z.string(), z.number()),
      blockedEntries: z.record(z.string(), z.number()),
    }),
  ]),
  'One timeline record (docs/contracts.md#timeline); extra fields are allowed.',
);

const fleetRowShape = {
  id: z.string(),
  state: mode,
  detail: z.string().meta({ description: 'Full nested state path, e.g. "de-risking.awaiting".' }),
  portfolios: z.array(z.string()),
  position: z.record(z.string(), decimal).meta({ description: 'Symbol → signed size.' }),
  grossNotional: decimal,
  equity: decimal,
  marginBuffer: decimal.nullable(),
  minMarginBuffer: decimal.nullable(),
  panicMarginBuffer: decimal.nullable(),
  sessionPnl: decimal,
  stopouts: z.array(z.string()).meta({ description: '"scope:id:reason" of every stopout in force on the account.' }),
};

export const fleetRowSchema = named('FleetRow', z.looseObject(fleetRowShape), 'One supervised account.');

export const fleetResponseSchema = named(
  'FleetResponse',
  z.looseObject({
    at: z.string().meta({ description: 'ISO 8601 of the clock the fleet runs on (simulated in a scenario).' }),
    accounts: z.array(fleetRowSchema),
    portfolios: z.array(z.string()),
  }),
);

export const workingOrderSchema = named(
  'WorkingOrder',
  z.looseObject({
    orderId: z.string(),
    purpose: z.string(),
    side: z.string(),
    amount: decimal,
    price: decimal,
    status: z.string(),
    filled: decimal,
  }),
);

export const accountResponseSchema = named(
  'AccountResponse',
  z.looseObject({
    ...fleetRowShape,
    budget: budgetSchema,
    limits: z.array(resolvedRiskLimitSchema),
    marginFraction: decimal.nullable(),
    maintenance: decimal,
    workingOrders: z.array(workingOrderSchema),
    reductionRetry: z
      .looseObject({ rejections: z.number(), reason: z.string(), since: z.string(), retryAt: z.string() })
      .optional()
      .meta({ description: 'While reducing orders are rejected for price or book: the streak and when the next may go.' }),
    decisions: z.array(decisionRecordSchema).meta({ description: 'The most recent decisions (newest last).' }),
    timeline: z
      .array(timelineRecordSchema)
      .meta({ description: 'Recent records about this account and the marks of its symbols (newest last).' }),
  }),
);

export const storedStopoutSchema = named(
  'StoredStopout',
  z.looseObject({
    scope,
    id: z.string(),
    reason: z.string(),
    closePositions: z.boolean(),
    stoppedAt: z.string().optional(),
    stoppedTill: z.string().optional(),
    sequence: z.number(),
    by: z.string().optional(),
    malformed: z
      .string()
      .optional()
      .meta({ description: 'Set when the stored value was not valid: the stopout still counts (fail closed).' }),
  }),
);

export const stopoutsResponseSchema = named('StopoutsResponse', z.looseObject({ stopouts: z.array(storedStopoutSchema) }));

export const liveMessageSchema = named(
  'LiveMessage',
  z.discriminatedUnion('type', [
    z.looseObject({ type: z.literal('hello'), at: z.string() }),
    z.looseObject({ type: z.literal('record'), record: timelineRecordSchema }),
  ]),
  'A WebSocket message of /api/v1/live.',
);

// ── in step with api-types.ts ───────────────────────────────────────────────────────────────────

/*
 * Whatever a response schema accepts is the api-types shape (the schema is no looser than the type), and
 * whatever a request type allows, the request schema's output is (the handlers receive the type).
 */
type Is<T extends U, U> = T;
export type ApiSchemaChecks = [
  Is<z.output<typeof fleetRowSchema>, FleetRow>,
  Is<z.output<typeof fleetResponseSchema>, FleetResponse>,
  Is<z.output<typeof accountResponseSchema>, AccountResponse>,
  Is<z.output<typeof stopoutsResponseSchema>, StopoutsResponse>,
  Is<z.output<typeof actionResponseSchema>, ActionResponse>,
  Is<z.output<typeof errorResponseSchema>, ErrorResponse>,
  Is<z.output<typeof liveMessageSchema>, LiveMessage>,
  Is<z.output<typeof setStopoutRequestSchema>, SetStopoutRequest>,
  Is<z.output<typeof resetStopoutRequestSchema>, ResetStopoutRequest>,
  Is<z.output<typeof moveStartTimeRequestSchema>, MoveStartTimeRequest>,
  Is<z.output<typeof entryCheckRequestSchema>, EntryCheckRequest>,
  Is<z.output<typeof entryCheckResponseSchema>, EntryCheckResponse>,
];
