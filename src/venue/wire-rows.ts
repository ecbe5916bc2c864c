import { z } from 'zod';
import { dec, isDecimalString } from '../domain/decimal.ts';
import type {
  BookLevelRow,
  ExchangeInfo,
  MarkPriceRow,
  OpenOrder,
  OrderUpdateRow,
  RequestReceipt,
  StrategyState,
  StrategyUpdateRow,
} from './protocol.ts';

/*
 * zod schemas of the rows and bodies the venue sends, shared by the frame parser (WebSocket) and the
 * REST body parser, so a row reads the same whichever way it arrived. Decimals must be plain decimal
 * strings (never JSON numbers: a number may already have been rounded). Unknown fields are dropped,
 * not refused: the venue may add fields without breaking us.
 */

const decimal = z.string().refine(isDecimalString, { message: 'expected a decimal string' });
const nonNegativeDecimal = decimal.refine((s) => !dec(s).isNeg(), { message: 'expected a decimal string >= 0' });
const ordinal = z.int().min(0);
const side = z.literal([0, 1]);
const orderType = z.literal([0, 1]);
const text = z.string().min(1);
const timestamp = z.iso.datetime({ offset: true });
const hex = (bytes: number) =>
  z.string().regex(new RegExp(`^0x[0-9a-fA-F]{${2 * bytes}}$`), { message: `expected 0x followed by ${2 * bytes} hex digits` });
/** 0x + 25 bytes: the first 25 bytes of the order's EIP-712 digest. */
export const orderHashSchema = hex(25);
const strategyIdHash = hex(4);
const address = hex(20);

export const markPriceRowSchema = z.object({
  globalOrdinal: ordinal,
  epochId: z.int().min(0),
  symbol: text,
  price: nonNegativeDecimal,
  fundingRate: decimal,
  createdAt: timestamp,
}) satisfies z.ZodType<MarkPriceRow>;

export const bookLevelRowSchema = z.object({
  symbol: text,
  side,
  price: nonNegativeDecimal,
  amount: nonNegativeDecimal,
}) satisfies z.ZodType<BookLevelRow>;

export const orderUpdateRowSchema = z
  .object({
    globalOrdinal: ordinal,
    epochId: z.int().min(0),
    orderHash: orderHashSchema,
    symbol: text,
    trader: address,
    strategyIdHash,
    side,
    orderType,
    amount: nonNegativeDecimal,
    price: nonNegativeDecimal,
    reason: z.literal([0, 1, 2, 3, 4, 5]),
    fillAmount: nonNegativeDecimal.optional(),
    fillPrice: nonNegativeDecimal.optional(),
    fee: decimal.optional(),
    filledAmount: nonNegativeDecimal,
    remainingAmount: nonNegativeDecimal,
    orderRejection: z.literal([0, 1, 2, 3]).optional(),
    cancelRejection: z.string().optional(),
    tradeId: text.optional(),
    createdAt: timestamp,
  })
  .superRefine((row, ctx) => {
    // A Trade must say what traded; a rejection must say why.
    if (row.reason === 1) {
      if (row.fillAmount === undefined) ctx.addIssue({ code: 'custom', path: ['fillAmount'], message: 'required for reason 1 (Trade)' });
      if (row.fillPrice === undefined) ctx.addIssue({ code: 'custom', path: ['fillPrice'], message: 'required for reason 1 (Trade)' });
    }
    if (row.reason === 4 && row.orderRejection === undefined) {
      ctx.addIssue({ code: 'custom', path: ['orderRejection'], message: 'required for reason 4 (OrderRejection)' });
    }
  }) satisfies z.ZodType<OrderUpdateRow>;

export const strategyUpdateRowSchema = z.object({
  globalOrdinal: ordinal,
  epochId: z.int().min(0),
  trader: address,
  strategyIdHash,
  reason: z.literal([0, 1, 2, 3, 4, 5, 6, 7, 8]),
  collateralChange: decimal,
  collateral: decimal,
  symbol: text.optional(),
  positionSide: z.literal([0, 1]).nullable().optional(),
  positionSize: nonNegativeDecimal.optional(),
  avgEntryPrice: nonNegativeDecimal.optional(),
  tradeId: text.optional(),
  createdAt: timestamp,
}) satisfies z.ZodType<StrategyUpdateRow>;

export const exchangeInfoSchema = z.object({
  symbols: z.array(
    z.object({
      symbol: text,
      tickSize: decimal,
      minOrderSize: decimal,
      maxOrderNotional: decimal,
      maxTakerPriceDeviation: decimal,
      maxLeverage: decimal.optional(),
      mmr: decimal.optional(),
    }),
  ),
  chainId: z.int().min(0),
  verifyingContract: address,
  amountScaleDecimals: z.int().min(0).max(36),
}) satisfies z.ZodType<ExchangeInfo>;

export const strategyStateSchema = z.object({
  trader: address,
  strategyId: text,
  strategyIdHash,
  collateral: decimal,
  positions: z.array(z.object({ symbol: text, side, size: nonNegativeDecimal, avgEntryPrice: nonNegativeDecimal })),
  globalOrdinal: ordinal,
}) satisfies z.ZodType<StrategyState>;

export const openOrderSchema = z.object({
  orderHash: orderHashSchema,
  symbol: text,
  side,
  orderType,
  amount: nonNegativeDecimal,
  price: nonNegativeDecimal,
  filledAmount: nonNegativeDecimal,
  remainingAmount: nonNegativeDecimal,
  nonce: z.string().regex(/^0x[0-9a-fA-F]{64}$/, { message: 'expected a bytes32 nonce' }),
  createdAt: timestamp,
}) satisfies z.ZodType<OpenOrder>;

export const requestReceiptSchema = z.object({
  nonce: z.string().min(1),
  requestIndex: z.int().min(0),
  sequenced: z.literal(true),
  orderHash: orderHashSchema.optional(),
}) satisfies z.ZodType<RequestReceipt>;

/** Path of a zod issue in the project's style: `contents.data[3].price`. */
export function formatPath(base: string, path: readonly PropertyKey[]): string {
  let out = base;
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out;
}

/** The first issue of a failed parse as `{path, message}` (zod orders issues by position in the input). */
export function firstIssue(error: z.ZodError, base: string): { path: string; message: string } {
  const issue = error.issues[0];
  if (issue === undefined) return { path: base, message: 'invalid' };
  return { path: formatPath(base, issue.path), message: issue.message };
}
