import { z } from 'zod';
import { ORDER_SIDE, POSITION_SIDE, codesOf } from './codes.ts';
import { orderUpdateHistoryRowSchema } from './order-update.ts';
import { strategyUpdateHistoryRowSchema } from './strategy-update.ts';
import { datetime, decimal, ethAddress, hex, nonNegativeDecimal, orderHash, strategyIdHash, text, wholeNumber } from './wire-values.ts';

/*
 * REST bodies. Reads under `/exchange/api/v1` and `/stats/api/v1` answer `{value, success, timestamp}`
 * (unix seconds); the history endpoints add `nextGlobalOrdinal` beside `value`. `/contract-server/addresses`
 * and `/v2/encryption-key` answer bare JSON. Sources per schema below; docs/derivadex-sources.md §1–§3.
 */

/** `{value, success, timestamp}` (SDK: every read client returns `response["value"]`; testnet REST reference examples). */
export function envelopeSchema<T extends z.ZodType>(value: T) {
  return memoised(envelopes, value, () => z.object({ value, success: z.boolean(), timestamp: z.number() }));
}

/*
 * One schema per value schema, built once: zod compiles an object schema on its first parse, and the REST
 * client asks for an envelope per request (a repair reads thousands of pages; building a schema per page
 * was a large share of its time).
 */
const envelopes = new WeakMap<z.ZodType, unknown>();
const pages = new WeakMap<z.ZodType, unknown>();

function memoised<T extends z.ZodType, R>(cache: WeakMap<z.ZodType, unknown>, key: T, build: () => R): R {
  let known = cache.get(key) as R | undefined;
  if (known === undefined) cache.set(key, (known = build()));
  return known;
}

/** A history page: the envelope plus the cursor of the next page (`null` at the end). SDK `market.py`. */
export function pageSchema<T extends z.ZodType>(row: T) {
  return memoised(pages, row, () =>
    z.object({
      value: z.array(row),
      nextGlobalOrdinal: wholeNumber.nullable().optional(),
      success: z.boolean(),
      timestamp: z.number(),
    }),
  );
}

/** A read that failed: "the body may be just `{ "success": false }`" (third-party API capture; UNCONFIRMED). */
export const readFailureSchema = z.object({ success: z.literal(false) });

/** `GET /contract-server/addresses` (SDK `models/system.py` `DeploymentInfo`, bare). Only what we use is required. */
export const deploymentInfoSchema = z.object({
  addresses: z.object({ derivaDEXAddress: ethAddress, usdcAddress: ethAddress.optional() }),
  chainId: z.int().min(1),
  ethRpcUrl: z.string(),
});
export type DeploymentInfo = z.output<typeof deploymentInfoSchema>;

/** `exchange_info` `value` (SDK `ExchangeInfo` / `SymbolInfo`; testnet REST reference example). */
export const exchangeInfoSchema = z.object({
  settlementsInfo: z.array(z.object({ type: z.string(), durationValue: z.string(), durationUnit: z.string() })),
  assets: z.array(z.string()),
  symbols: z.array(
    z.object({
      symbol: text,
      tickSize: nonNegativeDecimal,
      maxOrderNotional: nonNegativeDecimal,
      maxTakerPriceDeviation: nonNegativeDecimal,
      minOrderSize: nonNegativeDecimal,
      /** "SingleNamePerpetual" | "IndexFundPerpetual" | "FixedExpiryFuture" (SDK comment). */
      kind: z.string(),
    }),
  ),
});
export type ExchangeInfo = z.output<typeof exchangeInfoSchema>;
export type SymbolInfo = ExchangeInfo['symbols'][number];

/** `GET /v2/encryption-key`: a bare JSON string, the operator's secp256k1 key (SDK `signed_client.py`; docs encryption reference). */
export const encryptionKeySchema = z
  .string()
  .regex(/^0x(?:0[23][0-9a-fA-F]{64}|04[0-9a-fA-F]{128})$/, { message: 'expected a secp256k1 public key (0x + 33 or 65 bytes)' });

/** `/stats/api/v1/strategy` `value` (SDK `models/trade.py` `Strategy`): no positions, no cursor. */
export const strategySchema = z.object({
  trader: hex,
  strategyIdHash,
  strategyId: text,
  maxLeverage: z.int().min(1),
  availCollateral: nonNegativeDecimal,
  lockedCollateral: nonNegativeDecimal,
  frozen: z.boolean(),
});
export type Strategy = z.output<typeof strategySchema>;

/** `/stats/api/v1/positions` `value[i]` (SDK `Position`; docs REST examples). */
export const positionSchema = z.object({
  trader: hex,
  symbol: text,
  strategyIdHash,
  strategyId: text,
  side: z.literal(codesOf(POSITION_SIDE)),
  balance: nonNegativeDecimal,
  avgEntryPrice: nonNegativeDecimal,
  lastModifiedInEpoch: wholeNumber.nullable().optional(),
});
export type Position = z.output<typeof positionSchema>;

/** `/stats/api/v1/strategy_metrics` `value` (docs get-strategy-metrics example). */
export const strategyMetricsSchema = z.object({
  marginFraction: decimal,
  mmr: decimal,
  leverage: decimal,
  strategyMargin: decimal,
  strategyValue: decimal,
});
export type StrategyMetrics = z.output<typeof strategyMetricsSchema>;

/** `/exchange/api/v1/order_book` `value[i]` (SDK `OrderBookL3Entry`): the L3 book, remaining `amount`. */
export const orderBookL3EntrySchema = z.object({
  bookOrdinal: wholeNumber,
  orderHash,
  symbol: text,
  side: z.literal(codesOf(ORDER_SIDE)),
  originalAmount: nonNegativeDecimal,
  amount: nonNegativeDecimal,
  price: nonNegativeDecimal,
  traderAddress: hex,
  strategyIdHash,
});
export type OrderBookL3Entry = z.output<typeof orderBookL3EntrySchema>;

/** A mark price, in `/exchange/api/v1/mark_prices` and in MARK_PRICE frames (SDK `MarkPriceEntry`). */
export const markPriceSchema = z.object({
  globalOrdinal: wholeNumber,
  epochId: wholeNumber,
  price: nonNegativeDecimal,
  fundingRate: decimal,
  symbol: text,
  createdAt: datetime,
});
export type MarkPrice = z.output<typeof markPriceSchema>;

export const strategyBodySchema = envelopeSchema(strategySchema.nullable());
export const exchangeInfoBodySchema = envelopeSchema(exchangeInfoSchema);
export const positionsBodySchema = envelopeSchema(z.array(positionSchema));
export const strategyMetricsBodySchema = envelopeSchema(strategyMetricsSchema);
export const orderBookL3BodySchema = envelopeSchema(z.array(orderBookL3EntrySchema));
export const orderUpdatesPageSchema = pageSchema(orderUpdateHistoryRowSchema);
export const strategyUpdatesPageSchema = pageSchema(strategyUpdateHistoryRowSchema);
export const markPricesPageSchema = pageSchema(markPriceSchema);
