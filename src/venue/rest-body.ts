import { z } from 'zod';
import { HTTP_ERRORS, type HttpErrorName, type RestError } from './protocol.ts';
import {
  exchangeInfoSchema,
  firstIssue,
  markPriceRowSchema,
  openOrderSchema,
  orderUpdateRowSchema,
  requestReceiptSchema,
  strategyStateSchema,
  strategyUpdateRowSchema,
} from './wire-rows.ts';

/*
 * REST answers: the `{value, success, timestamp}` envelope and the body each path puts in `value`.
 * Like the frame parser, nothing here throws: a body we cannot accept comes back as a `BodyError`
 * naming the place, e.g. `value[3].filledAmount: expected a decimal string`.
 */

export type BodyErrorCode = 'not-json' | 'bad-envelope' | 'bad-body';

export interface BodyError {
  code: BodyErrorCode;
  path: string;
  message: string;
}

export interface ParsedEnvelope {
  value: unknown;
  success: boolean;
  timestamp: number;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: BodyError };

const envelopeSchema = z.object({ value: z.unknown(), success: z.boolean(), timestamp: z.number().finite() });

/** The venue's operator public key for request encryption: secp256k1, compressed (33 bytes) or not (65). */
const encryptionKeySchema = z
  .string()
  .regex(/^0x(?:0[23][0-9a-fA-F]{64}|04[0-9a-fA-F]{128})$/, { message: 'expected a secp256k1 public key (0x + 33 or 65 bytes)' });

const HTTP_ERROR_NAMES: [HttpErrorName, ...HttpErrorName[]] = ['NotFound', ...(Object.keys(HTTP_ERRORS) as (keyof typeof HTTP_ERRORS)[])];
const restErrorSchema = z.object({ code: z.enum(HTTP_ERROR_NAMES), message: z.string() }) satisfies z.ZodType<RestError>;

/** What each REST path carries in `value`. */
export const REST_BODIES = {
  exchangeInfo: exchangeInfoSchema,
  encryptionKey: encryptionKeySchema,
  strategy: strategyStateSchema,
  openOrders: z.array(openOrderSchema),
  orderUpdates: z.array(orderUpdateRowSchema),
  strategyUpdates: z.array(strategyUpdateRowSchema),
  markPrices: z.array(markPriceRowSchema),
  receipt: requestReceiptSchema,
  error: restErrorSchema,
} as const;

export type RestBodyName = keyof typeof REST_BODIES;
export type RestBody<N extends RestBodyName> = z.output<(typeof REST_BODIES)[N]>;

export function parseEnvelope(text: string): Parsed<ParsedEnvelope> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, error: { code: 'not-json', path: '', message: 'body is not valid JSON' } };
  }
  const envelope = envelopeSchema.safeParse(json);
  if (!envelope.success) return { ok: false, error: { code: 'bad-envelope', ...firstIssue(envelope.error, '') } };
  if (!Object.hasOwn(envelope.data, 'value') || envelope.data.value === undefined) {
    return { ok: false, error: { code: 'bad-envelope', path: 'value', message: 'required' } };
  }
  return { ok: true, value: { value: envelope.data.value, success: envelope.data.success, timestamp: envelope.data.timestamp } };
}

/** Validates an envelope's `value` as the body `name`. */
export function parseRestBody<N extends RestBodyName>(name: N, value: unknown): Parsed<RestBody<N>> {
  const parsed = REST_BODIES[name].safeParse(value);
  if (!parsed.success) return { ok: false, error: { code: 'bad-body', ...firstIssue(parsed.error, 'value') } };
  return { ok: true, value: parsed.data as RestBody<N> };
}
