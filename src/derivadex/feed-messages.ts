import { z } from 'zod';
import { ORDER_SIDE, ORDER_UPDATE_REASON, STRATEGY_UPDATE_REASON, codesOf } from './codes.ts';
import { orderUpdateRowSchema } from './order-update.ts';
import { markPriceSchema } from './rest-bodies.ts';
import { strategyUpdateRowSchema } from './strategy-update.ts';
import { nonNegativeDecimal, strategyIdHash, text, traderAddress, wholeNumber } from './wire-values.ts';

/*
 * The realtime API (`/realtime-api`). Sources: the SDK's realtime models and client (ddx
 * `realtime_client/models`, `realtime_client.py`, the newest versions) and the docs' realtime channels,
 * examples and connection model pages (docs/derivadex-sources.md §5).
 */

/** Every feed the exchange serves (SDK `Feed`). */
export const ALL_FEEDS = ['ORDER_BOOK_L2', 'ORDER_BOOK_L3', 'MARK_PRICE', 'ORDER_UPDATE', 'STRATEGY_UPDATE', 'TRADER_UPDATE'] as const;
export type AnyFeed = (typeof ALL_FEEDS)[number];

/** The feeds riskwarden uses. */
export const FEEDS = ['MARK_PRICE', 'ORDER_BOOK_L2', 'ORDER_UPDATE', 'STRATEGY_UPDATE'] as const satisfies readonly AnyFeed[];
export type Feed = (typeof FEEDS)[number];

// ── client → venue ──────────────────────────────────────────────────────────────────────────────

/** MARK_PRICE: `symbols` omitted = every symbol (SDK `MarkPriceParams`). */
export const markPriceParamsSchema = z.object({ symbols: z.array(text).min(1).optional() });
/** ORDER_BOOK_L2: one filter per symbol and price aggregation (SDK `OrderBookL2Filter`; docs: 0.1/1/10 for ETHP). */
export const orderBookL2ParamsSchema = z.object({
  orderBookL2Filters: z
    .array(z.object({ symbol: text, aggregation: z.number().positive() }))
    .min(1)
    .optional(),
});
/** ORDER_UPDATE: one filter per trader (and strategy, symbol, reason) (SDK `OrderUpdateFilter`). */
export const orderUpdateParamsSchema = z.object({
  orderFilters: z
    .array(
      z.object({
        traderAddress,
        strategyIdHash: strategyIdHash.optional(),
        symbol: text.optional(),
        reason: z.literal(codesOf(ORDER_UPDATE_REASON)).optional(),
      }),
    )
    .min(1)
    .optional(),
});
/** STRATEGY_UPDATE (SDK `StrategyUpdateFilter`). */
export const strategyUpdateParamsSchema = z.object({
  strategyFilters: z
    .array(
      z.object({ traderAddress, strategyIdHash: strategyIdHash.optional(), reason: z.literal(codesOf(STRATEGY_UPDATE_REASON)).optional() }),
    )
    .min(1)
    .optional(),
});

export type MarkPriceParams = z.output<typeof markPriceParamsSchema>;
export type OrderBookL2Params = z.output<typeof orderBookL2ParamsSchema>;
export type OrderUpdateParams = z.output<typeof orderUpdateParamsSchema>;
export type StrategyUpdateParams = z.output<typeof strategyUpdateParamsSchema>;
export type OrderBookL2Filter = NonNullable<OrderBookL2Params['orderBookL2Filters']>[number];
export type OrderUpdateFilter = NonNullable<OrderUpdateParams['orderFilters']>[number];
export type StrategyUpdateFilter = NonNullable<StrategyUpdateParams['strategyFilters']>[number];

export const PARAMS_SCHEMAS = {
  MARK_PRICE: markPriceParamsSchema,
  ORDER_BOOK_L2: orderBookL2ParamsSchema,
  ORDER_UPDATE: orderUpdateParamsSchema,
  STRATEGY_UPDATE: strategyUpdateParamsSchema,
} as const satisfies { [F in Feed]: z.ZodType };

export type FeedParams<F extends Feed> = z.output<(typeof PARAMS_SCHEMAS)[F]>;

export type FeedWithParams = { [F in Feed]: { feed: F; params: FeedParams<F> } }[Feed];

export interface SubscribeMessage {
  action: 'SUBSCRIBE';
  nonce: string;
  feeds: FeedWithParams[];
}

/** UNSUBSCRIBE names whole feeds (SDK `UnsubscribePayload.feeds: list[Feed]`). */
export interface UnsubscribeMessage {
  action: 'UNSUBSCRIBE';
  nonce: string;
  feeds: Feed[];
}

/** A control message as a venue receives it: feeds are checked one by one by whoever serves them. */
export const controlMessageSchema = z.discriminatedUnion('action', [
  z.object({
    action: z.literal('SUBSCRIBE'),
    nonce: z.string(),
    feeds: z.array(z.object({ feed: z.enum(ALL_FEEDS), params: z.record(z.string(), z.unknown()).optional() })).min(1),
  }),
  z.object({ action: z.literal('UNSUBSCRIBE'), nonce: z.string(), feeds: z.array(z.enum(ALL_FEEDS)).min(1) }),
]);
export type ControlMessage = z.output<typeof controlMessageSchema>;

// ── venue → client ──────────────────────────────────────────────────────────────────────────────

/**
 * The answer to a control message. Only `result` is required (SDK `AcknowledgePayload`); success is an
 * empty result (docs examples: `"result": {}`) or `"error": null` (the SDK's own test server).
 */
export const ackSchema = z.object({
  action: z.enum(['SUBSCRIBE', 'UNSUBSCRIBE']).nullable().optional(),
  nonce: z.string().nullable().optional(),
  result: z.object({ error: z.string().nullable().optional() }),
});
export type Ack = z.output<typeof ackSchema>;

/** An ORDER_BOOK_L2 row: one aggregated level; `amount` "0" removes it (SDK `AggregatedOrder`). */
export const bookLevelRowSchema = z.object({
  symbol: text,
  side: z.literal(codesOf(ORDER_SIDE)),
  amount: nonNegativeDecimal,
  price: nonNegativeDecimal,
});
export type BookLevelRow = z.output<typeof bookLevelRowSchema>;

export const ROW_SCHEMAS = {
  MARK_PRICE: markPriceSchema,
  ORDER_BOOK_L2: bookLevelRowSchema,
  ORDER_UPDATE: orderUpdateRowSchema,
  STRATEGY_UPDATE: strategyUpdateRowSchema,
} as const satisfies { [F in Feed]: z.ZodType };

export type FeedRow<F extends Feed> = z.output<(typeof ROW_SCHEMAS)[F]>;

export type MessageType = 'PARTIAL' | 'UPDATE';

/**
 * A feed message (SDK `*Payload`; docs realtime examples). `ordinal` is per connection and increasing,
 * starting at 0; `sequence` is the exchange's global notification sequence (gaps are normal on one
 * connection); `subscriptionKey` names the filter set and is not for parsing.
 */
export const frameEnvelopeSchema = z.object({
  sequence: wholeNumber,
  ordinal: wholeNumber,
  feed: z.string(),
  subscriptionKey: z.string(),
  contents: z.object({ messageType: z.enum(['PARTIAL', 'UPDATE']), data: z.array(z.unknown()) }),
});

export interface FeedMessageOf<F extends Feed> {
  sequence: number;
  ordinal: number;
  feed: F;
  subscriptionKey: string;
  contents: { messageType: MessageType; data: FeedRow<F>[] };
}

export type FeedMessage = { [F in Feed]: FeedMessageOf<F> }[Feed];
