import { getAddress, getBytes, hexlify, toUtf8Bytes } from 'ethers';
import type { Clock } from '../clock/clock.ts';
import { REQUEST_ERRORS, SAFETY_FAILURES, type RequestErrorReason, type SafetyFailureName } from '../derivadex/codes.ts';
import { EncryptionError, decryptRequest } from '../derivadex/crypto/encryption.ts';
import {
  SigningInputError,
  orderHash as computeOrderHash,
  recoverCancelAllSigner,
  recoverCancelSigner,
  recoverOrderSigner,
  type Eip712Venue,
} from '../derivadex/crypto/eip712.ts';
import { parseRequest, type VenueRequest } from '../derivadex/crypto/request.ts';
import { ScalingError } from '../derivadex/crypto/scaling.ts';
import { secp256k1Backend } from '../derivadex/crypto/secp256k1-backend.ts';
import type { Receipt, RequestErrorBody } from '../derivadex/signed-requests.ts';
import { ExchangeError, type Exchange, type ExchangeRequest } from './exchange.ts';
import type { RateLimiter } from './rate-limit.ts';
import { keccak256Hex } from '../derivadex/crypto/keccak.ts';

/**
 * `POST /v2/request` up to the answer (docs/derivadex-sources.md §4, §10.9–§10.10): decrypt with the
 * operator key → parse → replay window → recover the signer (who IS the trader: the content names none)
 * → nonce → rate limit → sequence. Transport refusals are HTTP errors with a flat
 * `{error_reason, message}` body, the status from REQUEST_ERRORS; refusals on the request's merits are
 * HTTP 200 `{"t":"SafetyFailure","c":{message, inner}}`.
 *
 * | step | failure | answer |
 * |---|---|---|
 * | decrypt | not our wire format, wrong key, altered bytes | 422 InvalidEncryption |
 * | parse | not a valid Order / CancelOrder / CancelAll (message names the path) | 400 InvalidRequestPayload |
 * | replay window | missing or half-filled | 400 InvalidRequestPayload |
 * | | `recv_window_ms` not in 1…60000 | 400 InvalidRecvWindow |
 * | | `client_timestamp_ms + recv_window_ms` before now | 412 ExpiredTimestamp |
 * | | `client_timestamp_ms` more than 1000 ms after now | 412 FutureTimestamp |
 * | signature | recovers no address | 200 SafetyFailure SignatureRecoveryMismatch |
 * | nonce | the signer already used it (a lower, unused nonce is fine: docs signing reference) | 412 IllegalNonce |
 * | rate limit | the signer's token bucket is empty | 429 RateLimit |
 * | sequence | the exchange's checks (tick, size, notional, open orders, unknown order…) | 200 SafetyFailure, or the exchange's error |
 *
 * A signature by another key recovers another trader: an order is then that trader's, a cancel finds no
 * order of that trader (OrderNotFound). The simulator has no registry of traders, so there is no 401
 * SignerNotFound. The body is the wire bytes (application/octet-stream); a body that is exactly `0x` +
 * hex text is accepted too and hex-decoded.
 */
export interface GatewayOptions {
  exchange: Exchange;
  operatorSecretKey: string;
  venue: Eip712Venue;
  rateLimiter: RateLimiter | null;
  /** The gateway's now, for the replay window. */
  clock: Clock;
}

/** What the handler writes: a receipt (HTTP 200), or a refusal with its status. */
export type GatewayAnswer = { status: 200; body: Receipt } | { status: number; body: RequestErrorBody };

/** `recv_window_ms` the gateway accepts (§10.9; the docs name the bounds but not their values). */
export const RECV_WINDOW_BOUNDS = { min: 1, max: 60_000 } as const;
/** How far ahead of the gateway's clock `client_timestamp_ms` may be (clock skew allowance, §10.9). */
export const MAX_FUTURE_SKEW_MS = 1_000;

const HEX_BODY = /^0x(?:[0-9a-fA-F]{2})*$/;

export function wireBytes(body: Uint8Array): Uint8Array {
  if (body.length >= 2 && body[0] === 0x30 && (body[1] === 0x78 || body[1] === 0x58)) {
    const text = Buffer.from(body).toString('latin1').trim();
    if (HEX_BODY.test(text)) return Uint8Array.from(Buffer.from(text.slice(2), 'hex'));
  }
  return body;
}

/** A flat error body with the status of its class. */
export function requestError(reason: RequestErrorReason, message: string): GatewayAnswer {
  return { status: REQUEST_ERRORS[reason], body: { error_reason: reason, message } };
}

export function safetyFailure(inner: SafetyFailureName, message: string): GatewayAnswer {
  return { status: 200, body: { t: 'SafetyFailure', c: { message, inner } } };
}

/** A request that got through every check, ready for the exchange. */
interface Verified {
  request: ExchangeRequest;
  signer: string;
  nonce: string;
}

type Step<T> = { ok: true; value: T } | { ok: false; answer: GatewayAnswer };

export function handleRequest(options: GatewayOptions, body: Uint8Array): GatewayAnswer {
  const { exchange, venue } = options;
  let json: string;
  try {
    json = decryptRequest(wireBytes(body), options.operatorSecretKey).json;
  } catch (error) {
    if (error instanceof EncryptionError) return requestError('InvalidEncryption', `${error.code}: ${error.message}`);
    throw error;
  }
  const parsed = parseRequest(json, { decimals: venue.decimals });
  if (!parsed.ok) return requestError('InvalidRequestPayload', parsed.error.message);
  const { request } = parsed;

  const window = checkReplayWindow(request, options.clock.now());
  if (window !== undefined) return window;

  const verified = verify(request, venue);
  if (!verified.ok) return verified.answer;
  const { signer, nonce } = verified.value;

  if (exchange.nonceUsed(signer, nonce)) return requestError('IllegalNonce', `nonce ${nonce} was already used by ${signer}`);
  if (options.rateLimiter !== null && !options.rateLimiter.take(signer)) {
    return requestError('RateLimit', `too many requests from ${signer}`);
  }
  let requestIndex: number;
  try {
    requestIndex = exchange.submit(verified.value.request).requestIndex;
  } catch (error) {
    if (error instanceof ExchangeError) return fromExchangeError(error);
    throw error;
  }
  // The SDK's SequencedReceiptContent: requestHash = keccak256 of the plaintext, sender the 20-byte signer,
  // enclaveSignature the operator's signature over requestHash (here: the simulator's operator key).
  const requestHash = keccak256Hex(toUtf8Bytes(json));
  // libsecp256k1 when it loads (ethers' pure-JS signing was a fifth of the simulator's time in a crash burst):
  // the same RFC 6979, low-s bytes either way, so receipts stay deterministic.
  const enclaveSignature = hexlify(secp256k1Backend().sign(getBytes(requestHash), operatorKeyBytes(options.operatorSecretKey)));
  return {
    status: 200,
    body: { t: 'Sequenced', c: { nonce, requestHash, requestIndex, sender: signer.toLowerCase(), enclaveSignature } },
  };
}

// The operator key's bytes once, not a hex parse per receipt.
let cachedKey: { hex: string; bytes: Uint8Array } | undefined;
function operatorKeyBytes(hex: string): Uint8Array {
  if (cachedKey?.hex !== hex) cachedKey = { hex, bytes: getBytes(hex) };
  return cachedKey.bytes;
}

/** §10.9: both fields or neither is a payload problem; the window's size, then the time against the gateway's clock. */
function checkReplayWindow(request: VenueRequest, now: number): GatewayAnswer | undefined {
  const { client_timestamp_ms: at, recv_window_ms: window } = request.c;
  if (at === undefined && window === undefined) {
    return requestError('InvalidRequestPayload', 'c: missing replay-window detail (client_timestamp_ms and recv_window_ms)');
  }
  if (at === undefined) return requestError('InvalidRequestPayload', 'c.client_timestamp_ms: required with recv_window_ms');
  if (window === undefined) return requestError('InvalidRequestPayload', 'c.recv_window_ms: required with client_timestamp_ms');
  if (window < RECV_WINDOW_BOUNDS.min || window > RECV_WINDOW_BOUNDS.max) {
    return requestError('InvalidRecvWindow', `c.recv_window_ms: ${window} is not in ${RECV_WINDOW_BOUNDS.min}…${RECV_WINDOW_BOUNDS.max}`);
  }
  if (at + window < now) return requestError('ExpiredTimestamp', `c.client_timestamp_ms: ${at} + ${window} ms is before ${now}`);
  if (at > now + MAX_FUTURE_SKEW_MS) {
    return requestError('FutureTimestamp', `c.client_timestamp_ms: ${at} is more than ${MAX_FUTURE_SKEW_MS} ms after ${now}`);
  }
  return undefined;
}

type OrderRequest = Extract<ExchangeRequest, { kind: 'Order' }>;

/** Recovers the signer and shapes the exchange's request. */
function verify(request: VenueRequest, venue: Eip712Venue): Step<Verified> {
  try {
    switch (request.t) {
      case 'Order': {
        const c = request.c;
        const signer = getAddress(recoverOrderSigner(c, c.signature, venue));
        const order: OrderRequest = {
          kind: 'Order',
          trader: signer,
          strategyId: c.strategy,
          symbol: c.symbol,
          side: c.side === 'Bid' ? 0 : 1,
          // Which types it simulates, and a stop price on a non-Stop order, are the exchange's to refuse (§10.14).
          orderType: c.orderType,
          amount: c.amount,
          price: c.price,
          stopPrice: c.stopPrice,
          nonce: c.nonce,
          signature: c.signature,
          orderHash: computeOrderHash(c, venue),
        };
        return { ok: true, value: { request: order, signer, nonce: c.nonce } };
      }
      case 'CancelOrder': {
        const c = request.c;
        const signer = getAddress(recoverCancelSigner(c, c.signature, venue));
        return {
          ok: true,
          value: {
            request: { kind: 'CancelOrder', trader: signer, symbol: c.symbol, orderHash: c.orderHash, nonce: c.nonce },
            signer,
            nonce: c.nonce,
          },
        };
      }
      case 'CancelAll': {
        const c = request.c;
        const signer = getAddress(recoverCancelAllSigner(c, c.signature, venue));
        return {
          ok: true,
          value: {
            request: { kind: 'CancelAll', trader: signer, strategyId: c.strategy, symbol: c.symbol, nonce: c.nonce },
            signer,
            nonce: c.nonce,
          },
        };
      }
    }
  } catch (error) {
    if (error instanceof SigningInputError)
      return { ok: false, answer: safetyFailure('SignatureRecoveryMismatch', `signature: ${error.message}`) };
    if (error instanceof ScalingError) return { ok: false, answer: requestError('InvalidRequestPayload', error.message) };
    throw error;
  }
}

/** A refusal of the engine: on the merits (it names a SafetyFailure variant) → receipt; otherwise its HTTP class. */
function fromExchangeError(error: ExchangeError): GatewayAnswer {
  const inner = safetyFailureOf(error);
  if (inner !== undefined) return safetyFailure(inner, error.message);
  if (error.code === 'SafetyFailure') return safetyFailure('Unexpected', error.message);
  const reason: RequestErrorReason = Object.hasOwn(REQUEST_ERRORS, error.code)
    ? (error.code as RequestErrorReason)
    : 'InvalidRequestPayload';
  return { status: error.status, body: { error_reason: reason, message: error.message } };
}

/** The engine's `safetyFailure` variant, if it named one. */
function safetyFailureOf(error: ExchangeError): SafetyFailureName | undefined {
  const value: unknown = Reflect.get(error, 'safetyFailure');
  return typeof value === 'string' && (SAFETY_FAILURES as readonly string[]).includes(value) ? (value as SafetyFailureName) : undefined;
}
