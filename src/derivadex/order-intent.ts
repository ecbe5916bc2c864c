import { z } from 'zod';
import { ORDER_SIDE, ORDER_TYPE, codesOf } from './codes.ts';
import {
  bytes32,
  datetime,
  nonNegativeDecimal,
  orderHash,
  signature,
  strategyIdHash,
  text,
  traderAddress,
  wholeNumber,
} from './wire-values.ts';

/*
 * `OrderIntent`: the order an ORDER_UPDATE row is about, as the trader signed it. Source: the SDK's
 * realtime and REST models (`makerOrderIntent` / `takerOrderIntent`, every field required) and the
 * order and account event reference, which warns that "fully rejected order outcomes can carry
 * placeholder makerOrderIntent fields such as empty strings plus side=0 and orderType=0" — so on an
 * OrderRejection row any string field may be "" (the row schema refuses "" everywhere else).
 */

/** A field that is `schema` or, on a rejection row, the placeholder "". */
function orPlaceholder(schema: z.ZodType<string>) {
  return z.string().superRefine((value, ctx) => {
    if (value === '') return;
    const parsed = schema.safeParse(value);
    if (!parsed.success) ctx.addIssue({ code: 'custom', message: parsed.error.issues[0]?.message ?? 'invalid' });
  });
}

export const INTENT_STRING_FIELDS = [
  'orderHash',
  'symbol',
  'amount',
  'price',
  'traderAddress',
  'strategyIdHash',
  'stopPrice',
  'nonce',
  'signature',
  'createdAt',
] as const;

export const orderIntentSchema = z.object({
  epochId: wholeNumber,
  orderHash: orPlaceholder(orderHash),
  symbol: orPlaceholder(text),
  side: z.literal(codesOf(ORDER_SIDE)),
  amount: orPlaceholder(nonNegativeDecimal),
  price: orPlaceholder(nonNegativeDecimal),
  traderAddress: orPlaceholder(traderAddress),
  strategyIdHash: orPlaceholder(strategyIdHash),
  orderType: z.literal(codesOf(ORDER_TYPE)),
  stopPrice: orPlaceholder(nonNegativeDecimal),
  /** The request's bytes32 nonce as signed. */
  nonce: orPlaceholder(bytes32),
  signature: orPlaceholder(signature),
  createdAt: orPlaceholder(datetime),
});

export type OrderIntentRow = z.output<typeof orderIntentSchema>;

/** True when an intent is the placeholder of a fully rejected order (no order hash to key it by). */
export function isPlaceholderIntent(intent: OrderIntentRow): boolean {
  return intent.orderHash === '';
}

/** Adds an issue for every placeholder field of `intent` at `path` (rows other than rejections must be complete). */
export function requireCompleteIntent(intent: OrderIntentRow, path: string, ctx: z.RefinementCtx): void {
  for (const field of INTENT_STRING_FIELDS) {
    if (intent[field] === '')
      ctx.addIssue({ code: 'custom', path: [path, field], message: 'must not be empty outside an OrderRejection row' });
  }
}
