import { dataSlice, getAddress, isAddress, isHexString } from 'ethers';
import { bytes32StringProblem } from './bytes32.ts';
import {
  ORDER_HASH_BYTES,
  orderHashAsBytes32,
  signCancel,
  signCancelAll,
  signOrder,
  type CancelAllParams,
  type CancelOrderParams,
  type Eip712Venue,
  type OrderParams,
  type TraderSigner,
  type VenueOrderType,
  type VenueSide,
} from './eip712.ts';
import { MAX_AMOUNT_DECIMALS, ScalingError, scaleToInteger, unscale } from './scaling.ts';

/**
 * The plaintext the venue decrypts: `{"t":"Order"|"CancelOrder"|"CancelAll","c":{…,"signature"}}`.
 *
 * - Order: traderAddress, symbol, strategy, side "Bid"|"Ask", orderType "Limit"|"Market", nonce,
 *   amount, price, stopPrice, signature (the order of the venue's vector).
 * - CancelOrder: symbol, orderHash, nonce, signature. No trader address: the venue recovers the signer.
 *   orderHash is written as the bytes32 that was signed (25 bytes + 7 zero bytes), as the venue's own
 *   example does; the parser also takes the bare 25 bytes.
 * - CancelAll: symbol, strategy, nonce, signature.
 *
 * Amounts and prices are written as decimal strings, the envelope convention for decimals. The 2022
 * vector writes JSON numbers (`"amount": 10.6`); `parseRequest` takes a number too, but only when its
 * value is unambiguous (at most 15 significant digits, no exponent): a longer one may already have
 * been rounded by the sender's JSON encoder, and a string is exact.
 */

export interface OrderRequestContents extends OrderParams {
  traderAddress: string;
  signature: string;
}

export interface CancelOrderRequestContents extends CancelOrderParams {
  signature: string;
}

export interface CancelAllRequestContents extends CancelAllParams {
  signature: string;
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

/** The plaintext JSON of a request, fields in the venue's order. */
export function formatRequest(request: VenueRequest): string {
  switch (request.t) {
    case 'Order': {
      const c = request.c;
      return JSON.stringify({
        t: 'Order',
        c: {
          traderAddress: c.traderAddress,
          symbol: c.symbol,
          strategy: c.strategy,
          side: c.side,
          orderType: c.orderType,
          nonce: c.nonce,
          amount: c.amount,
          price: c.price,
          stopPrice: c.stopPrice,
          signature: c.signature,
        },
      });
    }
    case 'CancelOrder': {
      const c = request.c;
      return JSON.stringify({
        t: 'CancelOrder',
        c: { symbol: c.symbol, orderHash: orderHashAsBytes32(c.orderHash), nonce: c.nonce, signature: c.signature },
      });
    }
    case 'CancelAll': {
      const c = request.c;
      return JSON.stringify({ t: 'CancelAll', c: { symbol: c.symbol, strategy: c.strategy, nonce: c.nonce, signature: c.signature } });
    }
  }
}

export interface BuiltOrderRequest {
  request: VenueRequest & { t: 'Order' };
  json: string;
  orderHash: string;
}

/** Signs `order` and wraps it as the venue's Order request. */
export function buildOrderRequest(signer: TraderSigner, order: OrderParams, venue: Eip712Venue): BuiltOrderRequest {
  const { signature, orderHash } = signOrder(signer, order, venue);
  const request = { t: 'Order' as const, c: { traderAddress: signer.address, ...pickOrder(order), signature } };
  return { request, json: formatRequest(request), orderHash };
}

export function buildCancelOrderRequest(
  signer: TraderSigner,
  cancel: CancelOrderParams,
  venue: Eip712Venue,
): { request: VenueRequest & { t: 'CancelOrder' }; json: string } {
  const { signature } = signCancel(signer, cancel, venue);
  const request = {
    t: 'CancelOrder' as const,
    c: { symbol: cancel.symbol, orderHash: cancel.orderHash.toLowerCase(), nonce: cancel.nonce, signature },
  };
  return { request, json: formatRequest(request) };
}

export function buildCancelAllRequest(
  signer: TraderSigner,
  cancelAll: CancelAllParams,
  venue: Eip712Venue,
): { request: VenueRequest & { t: 'CancelAll' }; json: string } {
  const { signature } = signCancelAll(signer, cancelAll, venue);
  const request = {
    t: 'CancelAll' as const,
    c: { symbol: cancelAll.symbol, strategy: cancelAll.strategy, nonce: cancelAll.nonce, signature },
  };
  return { request, json: formatRequest(request) };
}

function pickOrder(order: OrderParams): OrderParams {
  const { symbol, strategy, side, orderType, nonce, amount, price, stopPrice } = order;
  return { symbol, strategy, side, orderType, nonce, amount, price, stopPrice };
}

// ---------------------------------------------------------------------------------------------
// Parsing: every field checked, every problem reported with its path, nothing thrown.

const FIELDS: Readonly<Record<VenueRequestKind, readonly string[]>> = {
  Order: ['traderAddress', 'symbol', 'strategy', 'side', 'orderType', 'nonce', 'amount', 'price', 'stopPrice', 'signature'],
  CancelOrder: ['symbol', 'orderHash', 'nonce', 'signature'],
  CancelAll: ['symbol', 'strategy', 'nonce', 'signature'],
};

const UNSIGNED_DECIMAL = /^\d+(?:\.\d+)?$/;
const SAFE_NUMBER_DIGITS = 15;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

class FieldReader {
  readonly issues: RequestIssue[] = [];
  constructor(
    private readonly c: Record<string, unknown>,
    private readonly decimals: number | undefined,
  ) {}

  private fail(field: string, message: string): undefined {
    this.issues.push({ path: `c.${field}`, message });
    return undefined;
  }

  private present(field: string): unknown {
    if (!Object.hasOwn(this.c, field)) return this.fail(field, 'required');
    return this.c[field];
  }

  shortString(field: string): string | undefined {
    const value = this.present(field);
    if (value === undefined) return undefined;
    const problem = bytes32StringProblem(value);
    if (problem !== undefined) return this.fail(field, problem);
    if (value === '') return this.fail(field, 'must not be empty');
    return value as string;
  }

  oneOf<T extends string>(field: string, allowed: readonly T[]): T | undefined {
    const value = this.present(field);
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
      return this.fail(field, `expected one of ${allowed.map((a) => `"${a}"`).join(', ')}`);
    }
    return value as T;
  }

  hexBytes(field: string, bytes: number, what: string): string | undefined {
    const value = this.present(field);
    if (value === undefined) return undefined;
    if (!isHexString(value, bytes)) return this.fail(field, `expected ${what}: 0x followed by ${2 * bytes} hex digits`);
    return value.toLowerCase();
  }

  address(field: string): string | undefined {
    const value = this.present(field);
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || !isAddress(value)) {
      return this.fail(field, 'expected an address: 0x followed by 40 hex digits (valid checksum if mixed case)');
    }
    return getAddress(value);
  }

  orderHash(field: string): string | undefined {
    const value = this.present(field);
    if (value === undefined) return undefined;
    if (isHexString(value, ORDER_HASH_BYTES)) return value.toLowerCase();
    if (isHexString(value, 32)) {
      if (/^0{14}$/.test(value.slice(2 + 2 * ORDER_HASH_BYTES))) return dataSlice(value.toLowerCase(), 0, ORDER_HASH_BYTES);
      return this.fail(field, `an order hash is ${ORDER_HASH_BYTES} bytes: a 32-byte form must end in 7 zero bytes`);
    }
    return this.fail(field, `expected an order hash: 0x followed by ${2 * ORDER_HASH_BYTES} hex digits (or 64 with 14 trailing zeros)`);
  }

  /** A non-negative decimal as a string, or an unambiguous JSON number; returned in canonical form. */
  decimal(field: string): string | undefined {
    const value = this.present(field);
    if (value === undefined) return undefined;
    let text: string;
    if (typeof value === 'string') {
      if (!UNSIGNED_DECIMAL.test(value)) return this.fail(field, 'expected a non-negative decimal string such as "2472.1"');
      text = value;
    } else if (typeof value === 'number') {
      if (!Number.isFinite(value) || value < 0) return this.fail(field, 'expected a non-negative decimal');
      text = String(value);
      const significant = text.replace('.', '').replace(/^0+/, '').length;
      if (!UNSIGNED_DECIMAL.test(text) || significant > SAFE_NUMBER_DIGITS) {
        return this.fail(field, `number ${text} may have been rounded by JSON encoding; send it as a decimal string`);
      }
    } else {
      return this.fail(field, 'expected a decimal string');
    }
    // Canonical form through exact integer arithmetic: "10.60" → "10.6", "007" → "7".
    const scale = this.decimals ?? Math.min((text.split('.')[1] ?? '').length, MAX_AMOUNT_DECIMALS);
    try {
      return unscale(scaleToInteger(text, scale), scale);
    } catch (error) {
      if (error instanceof ScalingError) return this.fail(field, error.message);
      return this.fail(field, 'not a valid amount');
    }
  }

  unknownFields(known: readonly string[]): void {
    for (const key of Object.keys(this.c)) {
      if (!known.includes(key)) this.fail(key, 'unknown field');
    }
  }
}

function parseContents(t: VenueRequestKind, c: Record<string, unknown>, decimals: number | undefined): ParseRequestResult {
  const read = new FieldReader(c, decimals);
  let request: VenueRequest | undefined;
  switch (t) {
    case 'Order': {
      const traderAddress = read.address('traderAddress');
      const symbol = read.shortString('symbol');
      const strategy = read.shortString('strategy');
      const side = read.oneOf<VenueSide>('side', ['Bid', 'Ask']);
      const orderType = read.oneOf<VenueOrderType>('orderType', ['Limit', 'Market']);
      const nonce = read.hexBytes('nonce', 32, 'a bytes32 nonce');
      const amount = read.decimal('amount');
      const price = read.decimal('price');
      const stopPrice = read.decimal('stopPrice');
      const signature = read.hexBytes('signature', 65, 'a 65-byte signature');
      if (
        traderAddress !== undefined &&
        symbol !== undefined &&
        strategy !== undefined &&
        side !== undefined &&
        orderType !== undefined &&
        nonce !== undefined &&
        amount !== undefined &&
        price !== undefined &&
        stopPrice !== undefined &&
        signature !== undefined
      ) {
        request = { t, c: { traderAddress, symbol, strategy, side, orderType, nonce, amount, price, stopPrice, signature } };
      }
      break;
    }
    case 'CancelOrder': {
      const symbol = read.shortString('symbol');
      const orderHash = read.orderHash('orderHash');
      const nonce = read.hexBytes('nonce', 32, 'a bytes32 nonce');
      const signature = read.hexBytes('signature', 65, 'a 65-byte signature');
      if (symbol !== undefined && orderHash !== undefined && nonce !== undefined && signature !== undefined) {
        request = { t, c: { symbol, orderHash, nonce, signature } };
      }
      break;
    }
    case 'CancelAll': {
      const symbol = read.shortString('symbol');
      const strategy = read.shortString('strategy');
      const nonce = read.hexBytes('nonce', 32, 'a bytes32 nonce');
      const signature = read.hexBytes('signature', 65, 'a 65-byte signature');
      if (symbol !== undefined && strategy !== undefined && nonce !== undefined && signature !== undefined) {
        request = { t, c: { symbol, strategy, nonce, signature } };
      }
      break;
    }
  }
  read.unknownFields(FIELDS[t]);
  if (read.issues.length > 0 || request === undefined) {
    return { ok: false, error: new RequestParseError(read.issues.length > 0 ? read.issues : [{ path: 'c', message: 'invalid' }]) };
  }
  return { ok: true, request };
}

/**
 * Validates a decrypted request. Never throws: every problem comes back in `error.issues` with its
 * path. Values come back normalised: checksummed trader address, lower-case hex, 25-byte orderHash,
 * canonical decimal strings.
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
  const isKind = typeof t === 'string' && Object.hasOwn(FIELDS, t);
  if (!Object.hasOwn(value, 't')) issues.push({ path: 't', message: 'required' });
  else if (!isKind) issues.push({ path: 't', message: 'expected one of "Order", "CancelOrder", "CancelAll"' });
  const c = value.c;
  if (!Object.hasOwn(value, 'c')) issues.push({ path: 'c', message: 'required' });
  else if (!isRecord(c)) issues.push({ path: 'c', message: 'expected an object' });
  if (!isKind || !isRecord(c)) return { ok: false, error: new RequestParseError(issues) };
  const parsed = parseContents(t as VenueRequestKind, c, decimals);
  if (issues.length === 0) return parsed;
  return { ok: false, error: new RequestParseError([...issues, ...(parsed.ok ? [] : parsed.error.issues)]) };
}
