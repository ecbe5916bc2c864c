import { z } from 'zod';
import { ORDER_TYPE, REQUEST_ERRORS, codesOf } from './codes.ts';
import { bytes32, hex, nonNegativeDecimal, signature, text, wholeNumber } from './wire-values.ts';

/*
 * What `POST /v2/request` carries (after decryption) and answers. Sources (docs/derivadex-sources.md §4):
 * the signed-requests page (its Order example is the key set below, in its order), the request signing
 * reference (replay-window states, recovered signer = trader), the error reference, and the SDK's
 * `signed_client.py` / `models/signed.py` (`TradeReceipt`).
 *
 * - No `traderAddress`: the exchange recovers the signer from `signature`.
 * - `side` is the string "Bid" | "Ask"; `orderType` its number; amounts and prices decimal strings.
 * - `client_timestamp_ms` / `recv_window_ms` (snake_case, inside `c`): the replay window of gateways that
 *   enforce one. Where they sit and whether they are hashed is not settled by the sources (UNCONFIRMED):
 *   they are sent inside `c` and are not part of the EIP-712 struct, whose documented field lists lack them.
 */

/** `recv_window_ms` when none is configured. The docs give no value; 5000 ms is the common default. UNCONFIRMED. */
export const DEFAULT_RECV_WINDOW_MS = 5_000;

const replayWindow = {
  client_timestamp_ms: wholeNumber.optional(),
  recv_window_ms: wholeNumber.optional(),
};

/** An order hash in a cancel: 25 bytes, or the signed bytes32 form (25 bytes + 7 zero bytes) the docs' example sends. */
export const cancelOrderHash = z
  .string()
  .regex(/^0x[0-9a-fA-F]{50}(?:0{14})?$/, { message: 'expected a 25-byte order hash (or its 32-byte form ending in 7 zero bytes)' });

export const orderContentSchema = z.object({
  symbol: text,
  strategy: text,
  side: z.enum(['Bid', 'Ask']),
  orderType: z.literal(codesOf(ORDER_TYPE)),
  nonce: bytes32,
  amount: nonNegativeDecimal,
  price: nonNegativeDecimal,
  stopPrice: nonNegativeDecimal,
  sessionKeySignature: hex.nullable(),
  ...replayWindow,
  signature,
});

export const cancelOrderContentSchema = z.object({
  symbol: text,
  orderHash: cancelOrderHash,
  nonce: bytes32,
  sessionKeySignature: hex.nullable().optional(),
  ...replayWindow,
  signature,
});

export const cancelAllContentSchema = z.object({
  symbol: text,
  strategy: text,
  nonce: bytes32,
  sessionKeySignature: hex.nullable().optional(),
  ...replayWindow,
  signature,
});

export const signedRequestSchema = z.discriminatedUnion('t', [
  z.object({ t: z.literal('Order'), c: orderContentSchema }),
  z.object({ t: z.literal('CancelOrder'), c: cancelOrderContentSchema }),
  z.object({ t: z.literal('CancelAll'), c: cancelAllContentSchema }),
]);

export type OrderContent = z.output<typeof orderContentSchema>;
export type CancelOrderContent = z.output<typeof cancelOrderContentSchema>;
export type CancelAllContent = z.output<typeof cancelAllContentSchema>;
export type SignedRequest = z.output<typeof signedRequestSchema>;
export type SignedRequestKind = SignedRequest['t'];

/** The key order of each request's `c`, as the docs' example writes it. */
export const CONTENT_KEYS: Readonly<Record<SignedRequestKind, readonly string[]>> = {
  Order: [
    'symbol',
    'strategy',
    'side',
    'orderType',
    'nonce',
    'amount',
    'price',
    'stopPrice',
    'sessionKeySignature',
    'client_timestamp_ms',
    'recv_window_ms',
    'signature',
  ],
  CancelOrder: ['symbol', 'orderHash', 'nonce', 'sessionKeySignature', 'client_timestamp_ms', 'recv_window_ms', 'signature'],
  CancelAll: ['symbol', 'strategy', 'nonce', 'sessionKeySignature', 'client_timestamp_ms', 'recv_window_ms', 'signature'],
};

/** The receipt of a sequenced request (SDK `SequencedReceiptContent`, every field required). */
export const sequencedReceiptSchema = z.object({
  t: z.literal('Sequenced'),
  c: z.object({ nonce: hex, requestHash: hex, requestIndex: wholeNumber, sender: hex, enclaveSignature: hex }),
});

/** A request the operator refused (SDK `ErrorReceiptContent`; `inner` a variant name or its number). */
export const safetyFailureReceiptSchema = z.object({
  t: z.literal('SafetyFailure'),
  c: z.object({ message: z.string(), inner: z.union([z.string(), wholeNumber]) }),
});

export const receiptSchema = z.discriminatedUnion('t', [sequencedReceiptSchema, safetyFailureReceiptSchema]);
export type Receipt = z.output<typeof receiptSchema>;
export type SequencedReceipt = z.output<typeof sequencedReceiptSchema>;

/**
 * The body of a refused `POST /v2/request` (docs api-reference/rest/errors "Error payload handling":
 * `error_reason`, `safety_failure` "present for request-validation failures", `message`). The nesting is
 * not shown by the sources (UNCONFIRMED): a flat object is read.
 */
export const requestErrorBodySchema = z.object({
  error_reason: z.enum(Object.keys(REQUEST_ERRORS) as [keyof typeof REQUEST_ERRORS, ...(keyof typeof REQUEST_ERRORS)[]]),
  safety_failure: z.union([z.string(), wholeNumber]).nullable().optional(),
  message: z.string().optional(),
});
export type RequestErrorBody = z.output<typeof requestErrorBodySchema>;
