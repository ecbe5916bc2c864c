import { z } from 'zod';
import { CANCEL_REJECTION, ORDER_REJECTION, ORDER_UPDATE_REASON, codesOf } from './codes.ts';
import { orderIntentSchema, requireCompleteIntent } from './order-intent.ts';
import { datetime, decimal, hex, nonNegativeDecimal, text, wholeNumber } from './wire-values.ts';

/*
 * ORDER_UPDATE rows: one per outcome of an order (posted, traded, liquidated, cancelled, rejected, cancel
 * refused). Sources: the SDK's realtime `OrderUpdate` (ddx `realtime_client/models`) and REST
 * `OrderUpdate` (ddx `rest_client/models/market.py`), the get-order-update-history page and the order and
 * account event reference (docs/derivadex-sources.md §3.1, §5.6).
 *
 * Identity is inside the intents: the order concerned is `makerOrderIntent` (the resting or posted order;
 * a placeholder on a full rejection), and on a Trade the aggressor is `takerOrderIntent`. `amount` and
 * `price` are this update's fill; the realtime row also carries `cumulativeFilledAmount`, so what remains
 * is `intent.amount − cumulativeFilledAmount`.
 */

const orderUpdateFields = {
  globalOrdinal: wholeNumber,
  epochId: wholeNumber,
  /** With reason 4. */
  orderRejection: z.literal(codesOf(ORDER_REJECTION)).optional(),
  /** With reason 5. */
  cancelRejection: z.literal(codesOf(CANCEL_REJECTION)).optional(),
  reason: z.literal(codesOf(ORDER_UPDATE_REASON)),
  /** The filled amount of this update. */
  amount: nonNegativeDecimal.optional(),
  quoteAssetAmount: nonNegativeDecimal.optional(),
  symbol: text,
  /** The fill price of this update. */
  price: nonNegativeDecimal.optional(),
  makerFeeCollateral: nonNegativeDecimal.optional(),
  makerFeeDDX: nonNegativeDecimal.optional(),
  makerRealizedPnl: decimal.optional(),
  takerOrderIntent: orderIntentSchema.optional(),
  takerFeeCollateral: nonNegativeDecimal.optional(),
  takerFeeDDX: nonNegativeDecimal.optional(),
  takerRealizedPnl: decimal.optional(),
  liquidatedTraderAddress: hex.optional(),
  liquidatedStrategyIdHash: hex.optional(),
  makerOrderIntent: orderIntentSchema,
  createdAt: datetime,
};

type Row = {
  reason: number;
  orderRejection?: number | undefined;
  cancelRejection?: number | undefined;
  makerOrderIntent: z.output<typeof orderIntentSchema>;
  takerOrderIntent?: z.output<typeof orderIntentSchema> | undefined;
  amount?: string | undefined;
  price?: string | undefined;
};

/** What the reason implies about the rest of the row. */
function checkReason(row: Row, ctx: z.RefinementCtx): void {
  if (row.reason === ORDER_UPDATE_REASON.OrderRejection) {
    if (row.orderRejection === undefined)
      ctx.addIssue({ code: 'custom', path: ['orderRejection'], message: 'required with reason 4 (OrderRejection)' });
  } else {
    requireCompleteIntent(row.makerOrderIntent, 'makerOrderIntent', ctx);
  }
  if (row.takerOrderIntent !== undefined) requireCompleteIntent(row.takerOrderIntent, 'takerOrderIntent', ctx);
  if (row.reason === ORDER_UPDATE_REASON.CancelRejection && row.cancelRejection === undefined) {
    ctx.addIssue({ code: 'custom', path: ['cancelRejection'], message: 'required with reason 5 (CancelRejection)' });
  }
  if (row.reason === ORDER_UPDATE_REASON.Trade || row.reason === ORDER_UPDATE_REASON.Liquidation) {
    if (row.amount === undefined)
      ctx.addIssue({ code: 'custom', path: ['amount'], message: 'required with a Trade or Liquidation (the fill)' });
    if (row.price === undefined)
      ctx.addIssue({ code: 'custom', path: ['price'], message: 'required with a Trade or Liquidation (the fill price)' });
  }
}

/** A realtime ORDER_UPDATE row (`contents.data[i]`). */
export const orderUpdateRowSchema = z
  .object({
    ...orderUpdateFields,
    /** Shared by every row of one match outcome. */
    orderMatchOrdinal: wholeNumber.optional(),
    /** Per-outcome ordinal within one `orderMatchOrdinal` group. */
    ordinal: wholeNumber,
    lastExecutedAmount: nonNegativeDecimal.optional(),
    lastExecutedPrice: nonNegativeDecimal.optional(),
    cumulativeFilledAmount: nonNegativeDecimal.optional(),
    cumulativeQuoteAssetTransactedAmount: nonNegativeDecimal.optional(),
    lastQuoteAssetTransactedAmount: nonNegativeDecimal.optional(),
  })
  .superRefine(checkReason);

export type OrderUpdateRow = z.output<typeof orderUpdateRowSchema>;

/** A REST ORDER_UPDATE history row (`value[i]` of `/exchange/api/v1/order_updates`). */
export const orderUpdateHistoryRowSchema = z
  .object({
    ...orderUpdateFields,
    txOrdinal: wholeNumber,
    ordinal: wholeNumber,
  })
  .superRefine(checkReason);

export type OrderUpdateHistoryRow = z.output<typeof orderUpdateHistoryRowSchema>;
