import { dataSlice } from 'ethers';
import type { z } from 'zod';
import { isDecimalString } from '../../domain/decimal.ts';
import {
  CONTENT_KEYS,
  cancelAllContentSchema,
  cancelOrderContentSchema,
  orderContentSchema,
  type CancelAllContent,
  type CancelOrderContent,
  type OrderContent,
  type SignedRequestKind,
} from '../signed-requests.ts';
import { formatPath } from '../wire-values.ts';
import { bytes32StringProblem } from './bytes32.ts';
import { digestOfWords } from './eip712-digest.ts';
import {
  ORDER_HASH_BYTES,
  cancelAllDigestInput,
  cancelDigestInput,
  orderDigestInput,
  orderHashAsBytes32,
  signDigest,
  type CancelAllParams,
  type DigestInput,
  type CancelOrderParams,
  type Eip712Venue,
  type OrderParams,
  type TraderSigner,
} from './eip712.ts';
import { MAX_AMOUNT_DECIMALS, ScalingError, scaleToInteger, unscale } from './scaling.ts';

/**
 * The plaintext the venue decrypts: `{"t":"Order"|"CancelOrder"|"CancelAll","c":{…,"signature"}}`, its
 * keys in the order of CONTENT_KEYS (signed-requests.ts; docs api-reference/rest/signed-requests, whose
 * Order example is copied key for key).
 *
 * - Order: symbol, strategy, side "Bid"|"Ask", orderType (integer 0–3), nonce, amount, price, stopPrice,
 *   sessionKeySignature (null: no delegated session), then the replay window, then signature. No trader
 *   address: the venue recovers the signer from the signature (docs request signing reference).
 * - CancelOrder: symbol, orderHash, nonce, sessionKeySignature, replay window, signature. orderHash is
 *   written as the bytes32 that was signed (25 bytes + 7 zero bytes), as the venue's 2022 example does;
 *   the parser also takes the bare 25 bytes.
 * - CancelAll: symbol, strategy, nonce, sessionKeySignature, replay window, signature.
 *
 * The replay window (`client_timestamp_ms`, `recv_window_ms`, snake_case inside `c`) is not part of the
 * EIP-712 struct (docs/derivadex-sources.md §10.10): it is written when given and left out otherwise, so a
 * request that omits it round-trips too. Amounts and prices are decimal strings, as the docs' example
 * writes them; a JSON number (the 2022 format) is refused.
 */

/** The gateway replay window: when the request was built (epoch ms, the client's clock) and for how long it holds. */
export interface ReplayWindow {
  client_timestamp_ms: number;
  recv_window_ms: number;
}

/** `sessionKeySignature`: a delegated session's signature, or null when the trader's own key signs. */
interface SessionAndSignature {
  signature: string;
}

export interface OrderRequestContents extends OrderParams, Partial<ReplayWindow>, SessionAndSignature {
  sessionKeySignature: string | null;
}

export interface CancelOrderRequestContents extends CancelOrderParams, Partial<ReplayWindow>, SessionAndSignature {
  /** Optional on the wire (the docs say it applies to cancels; the 2022 example has none). */
  sessionKeySignature?: string | null;
}

export interface CancelAllRequestContents extends CancelAllParams, Partial<ReplayWindow>, SessionAndSignature {
  sessionKeySignature?: string | null;
}

export type VenueRequest =
  | { t: 'Order'; c: OrderRequestContents }
  | { t: 'CancelOrder'; c: CancelOrderRequestContents }
  | { t: 'CancelAll'; c: CancelAllRequestContents };

export type VenueRequestKind = VenueRequest['t'];

/** One problem found in a request, with its path, e.g. `c.amount`. */
export interface RequestIssue {
  path: string;
  message: string;
}

export class RequestParseError extends Error {
  override readonly name = 'RequestParseError';
  constructor(readonly issues: readonly RequestIssue[]) {
    super(issues.map((issue) => `${issue.path === '' ? '(request)' : issue.path}: ${issue.message}`).join('; '));
  }
}

export type ParseRequestResult = { ok: true; request: VenueRequest } | { ok: false; error: RequestParseError };

export interface ParseRequestOptions {
  /** When given, amounts and prices must fit this scale (see scaling.ts). */
  decimals?: number;
}

/** The plaintext JSON of a request, keys in CONTENT_KEYS order; absent (undefined) keys are left out. */
export function formatRequest(request: VenueRequest): string {
  const c: Record<string, unknown> =
    request.t === 'CancelOrder' ? { ...request.c, orderHash: orderHashAsBytes32(request.c.orderHash) } : { ...request.c };
  const ordered: Record<string, unknown> = {};
  for (const key of CONTENT_KEYS[request.t]) if (c[key] !== undefined) ordered[key] = c[key];
  return JSON.stringify({ t: request.t, c: ordered });
}

export interface BuiltOrderRequest {
  request: VenueRequest & { t: 'Order' };
  json: string;
  orderHash: string;
}

/**
 * A request ready but for its signature: the digest's input (signed here, or by a worker thread from
 * the same input) and how to finish it with the signature of that digest.
 */
export interface PreparedRequest<R> {
  input: DigestInput;
  finish(signature: string, digest: string): R;
}

export interface BuiltCancelOrderRequest {
  request: VenueRequest & { t: 'CancelOrder' };
  json: string;
}

export interface BuiltCancelAllRequest {
  request: VenueRequest & { t: 'CancelAll' };
  json: string;
}

/** Checks and encodes `order` (throws on bad input, as signing would); `replay` is written into `c` unsigned. */
export function prepareOrderRequest(order: OrderParams, venue: Eip712Venue, replay?: ReplayWindow): PreparedRequest<BuiltOrderRequest> {
  return {
    input: orderDigestInput(order, venue),
    finish(signature, digest) {
      const request = { t: 'Order' as const, c: { ...pickOrder(order), sessionKeySignature: null, ...pickReplay(replay), signature } };
      return { request, json: formatRequest(request), orderHash: dataSlice(digest, 0, ORDER_HASH_BYTES) };
    },
  };
}

export function prepareCancelOrderRequest(
  cancel: CancelOrderParams,
  venue: Eip712Venue,
  replay?: ReplayWindow,
): PreparedRequest<BuiltCancelOrderRequest> {
  return {
    input: cancelDigestInput(cancel, venue),
    finish(signature) {
      const request = {
        t: 'CancelOrder' as const,
        c: {
          symbol: cancel.symbol,
          orderHash: cancel.orderHash.toLowerCase(),
          nonce: cancel.nonce,
          sessionKeySignature: null,
          ...pickReplay(replay),
          signature,
        },
      };
      return { request, json: formatRequest(request) };
    },
  };
}

export function prepareCancelAllRequest(
  cancelAll: CancelAllParams,
  venue: Eip712Venue,
  replay?: ReplayWindow,
): PreparedRequest<BuiltCancelAllRequest> {
  return {
    input: cancelAllDigestInput(cancelAll, venue),
    finish(signature) {
      const request = {
        t: 'CancelAll' as const,
        c: {
          symbol: cancelAll.symbol,
          strategy: cancelAll.strategy,
          nonce: cancelAll.nonce,
          sessionKeySignature: null,
          ...pickReplay(replay),
          signature,
        },
      };
      return { request, json: formatRequest(request) };
    },
  };
}

/** Signs a prepared request on this thread. */
export function signPrepared<R>(signer: TraderSigner, prepared: PreparedRequest<R>): R {
  const digest = digestOfWords(prepared.input.separator, prepared.input.words);
  return prepared.finish(signDigest(signer, digest), digest);
}

/** Signs `order` and wraps it as the venue's Order request; `replay` is written into `c` unsigned. */
export function buildOrderRequest(signer: TraderSigner, order: OrderParams, venue: Eip712Venue, replay?: ReplayWindow): BuiltOrderRequest {
  return signPrepared(signer, prepareOrderRequest(order, venue, replay));
}

export function buildCancelOrderRequest(
  signer: TraderSigner,
  cancel: CancelOrderParams,
  venue: Eip712Venue,
  replay?: ReplayWindow,
): BuiltCancelOrderRequest {
  return signPrepared(signer, prepareCancelOrderRequest(cancel, venue, replay));
}

export function buildCancelAllRequest(
  signer: TraderSigner,
  cancelAll: CancelAllParams,
  venue: Eip712Venue,
  replay?: ReplayWindow,
): BuiltCancelAllRequest {
  return signPrepared(signer, prepareCancelAllRequest(cancelAll, venue, replay));
}

function pickOrder(order: OrderParams): OrderParams {
  const { symbol, strategy, side, orderType, nonce, amount, price, stopPrice } = order;
  return { symbol, strategy, side, orderType, nonce, amount, price, stopPrice };
}

function pickReplay(replay: ReplayWindow | undefined): Partial<ReplayWindow> {
  if (replay === undefined) return {};
  return { client_timestamp_ms: replay.client_timestamp_ms, recv_window_ms: replay.recv_window_ms };
}

// ---------------------------------------------------------------------------------------------
// Parsing: the shape by the zod schemas of signed-requests.ts, then what they cannot say (bytes32 fit,
// the amount scale, unknown keys), every problem with its path, nothing thrown.

const CONTENT_SCHEMAS = {
  Order: orderContentSchema,
  CancelOrder: cancelOrderContentSchema,
  CancelAll: cancelAllContentSchema,
} as const satisfies Record<SignedRequestKind, z.ZodType>;

const KINDS = Object.keys(CONTENT_SCHEMAS) as VenueRequestKind[];
const BYTES32_FIELDS = ['symbol', 'strategy'] as const;
const DECIMAL_FIELDS = ['amount', 'price', 'stopPrice'] as const;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A non-negative decimal string in canonical form ("10.60" → "10.6", "007" → "7"), exact; or why not. */
function canonicalDecimal(text: string, decimals: number | undefined): { ok: true; value: string } | { ok: false; message: string } {
  const scale = decimals ?? Math.min((text.split('.')[1] ?? '').length, MAX_AMOUNT_DECIMALS);
  try {
    return { ok: true, value: unscale(scaleToInteger(text, scale), scale) };
  } catch (error) {
    return { ok: false, message: error instanceof ScalingError ? error.message : 'not a valid amount' };
  }
}

function parseContents(t: VenueRequestKind, c: Record<string, unknown>, decimals: number | undefined): ParseRequestResult {
  const issues = new Map<string, string>();
  const add = (path: string, message: string): void => {
    if (!issues.has(path)) issues.set(path, message);
  };
  const parsed = CONTENT_SCHEMAS[t].safeParse(c);
  if (!parsed.success) for (const issue of parsed.error.issues) add(formatPath('c', issue.path), issue.message);

  // What the schemas cannot see: a bytes32 holds 31 UTF-8 bytes, amounts are signed at the venue's scale.
  const canonical = new Map<string, string>();
  for (const field of BYTES32_FIELDS) {
    if (!Object.hasOwn(c, field) || typeof c[field] !== 'string' || c[field] === '') continue;
    const problem = bytes32StringProblem(c[field]);
    if (problem !== undefined) add(`c.${field}`, problem);
  }
  if (t === 'Order') {
    for (const field of DECIMAL_FIELDS) {
      const value = c[field];
      if (!isDecimalString(value) || value.startsWith('-')) continue;
      const result = canonicalDecimal(value, decimals);
      if (result.ok) canonical.set(field, result.value);
      else add(`c.${field}`, result.message);
    }
  }
  const known = CONTENT_KEYS[t];
  for (const key of Object.keys(c)) if (!known.includes(key)) add(`c.${key}`, 'unknown field');

  if (issues.size > 0 || !parsed.success) {
    // Issues in the order of the content's keys, unknown keys last (in the order they came).
    const rank = (path: string): number => {
      const i = known.indexOf(path.slice(2).split(/[.[]/)[0] ?? '');
      return i === -1 ? known.length : i;
    };
    const list = [...issues].map(([path, message]) => ({ path, message }));
    list.sort((a, b) => rank(a.path) - rank(b.path));
    return { ok: false, error: new RequestParseError(list.length > 0 ? list : [{ path: 'c', message: 'invalid' }]) };
  }
  return { ok: true, request: normalise(t, parsed.data, canonical) };
}

type Content = OrderContent | CancelOrderContent | CancelAllContent;

/** Lower-case hex, canonical decimals, the 25-byte order hash; replay fields only when present. */
function normalise(t: VenueRequestKind, data: Content, canonical: ReadonlyMap<string, string>): VenueRequest {
  const replay: Partial<ReplayWindow> = {};
  if (data.client_timestamp_ms !== undefined) replay.client_timestamp_ms = data.client_timestamp_ms;
  if (data.recv_window_ms !== undefined) replay.recv_window_ms = data.recv_window_ms;
  const session = data.sessionKeySignature === undefined ? {} : { sessionKeySignature: lowerOrNull(data.sessionKeySignature) };
  const nonce = data.nonce.toLowerCase();
  const signature = data.signature.toLowerCase();
  switch (t) {
    case 'Order': {
      const o = data as OrderContent;
      return {
        t,
        c: {
          symbol: o.symbol,
          strategy: o.strategy,
          side: o.side,
          orderType: o.orderType,
          nonce,
          amount: canonical.get('amount') ?? o.amount,
          price: canonical.get('price') ?? o.price,
          stopPrice: canonical.get('stopPrice') ?? o.stopPrice,
          sessionKeySignature: lowerOrNull(o.sessionKeySignature),
          ...replay,
          signature,
        },
      };
    }
    case 'CancelOrder': {
      const o = data as CancelOrderContent;
      const orderHash = dataSlice(o.orderHash.toLowerCase(), 0, ORDER_HASH_BYTES);
      return { t, c: { symbol: o.symbol, orderHash, nonce, ...session, ...replay, signature } };
    }
    case 'CancelAll': {
      const o = data as CancelAllContent;
      return { t, c: { symbol: o.symbol, strategy: o.strategy, nonce, ...session, ...replay, signature } };
    }
  }
}

function lowerOrNull(value: string | null | undefined): string | null {
  return value === null || value === undefined ? null : value.toLowerCase();
}

/**
 * Validates a decrypted request. Never throws: every problem comes back in `error.issues` with its
 * path (`c.amount`). Values come back normalised: lower-case hex, 25-byte orderHash, canonical decimal
 * strings. The 2022 format (traderAddress, orderType "Limit", JSON-number amounts) is refused.
 */
export function parseRequest(json: string, options: ParseRequestOptions = {}): ParseRequestResult {
  const failure = (path: string, message: string): ParseRequestResult => ({ ok: false, error: new RequestParseError([{ path, message }]) });
  const { decimals } = options;
  if (decimals !== undefined) {
    try {
      scaleToInteger('0', decimals);
    } catch {
      return failure('', `bad decimals setting ${String(decimals)}`);
    }
  }
  if (typeof json !== 'string') return failure('', 'expected JSON text');
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return failure('', 'not valid JSON');
  }
  if (!isRecord(value)) return failure('', 'expected an object {"t": …, "c": {…}}');
  const issues: RequestIssue[] = [];
  for (const key of Object.keys(value)) {
    if (key !== 't' && key !== 'c') issues.push({ path: key, message: 'unknown field' });
  }
  const t = value.t;
  const isKind = typeof t === 'string' && (KINDS as string[]).includes(t);
  if (!Object.hasOwn(value, 't')) issues.push({ path: 't', message: 'required' });
  else if (!isKind) issues.push({ path: 't', message: `expected one of ${KINDS.map((k) => `"${k}"`).join(', ')}` });
  const c = value.c;
  if (!Object.hasOwn(value, 'c')) issues.push({ path: 'c', message: 'required' });
  else if (!isRecord(c)) issues.push({ path: 'c', message: 'expected an object' });
  if (!isKind || !isRecord(c)) return { ok: false, error: new RequestParseError(issues) };
  const parsed = parseContents(t as VenueRequestKind, c, decimals);
  if (issues.length === 0) return parsed;
  return { ok: false, error: new RequestParseError([...issues, ...(parsed.ok ? [] : parsed.error.issues)]) };
}
