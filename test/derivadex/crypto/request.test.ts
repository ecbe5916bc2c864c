import { readFileSync } from 'node:fs';
import { Wallet } from 'ethers';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ORDER_TYPE } from '../../../src/derivadex/codes.ts';
import {
  recoverCancelAllSigner,
  recoverCancelSigner,
  recoverOrderSigner,
  type Eip712Venue,
  type OrderParams,
} from '../../../src/derivadex/crypto/eip712.ts';
import {
  RequestParseError,
  buildCancelAllRequest,
  buildCancelOrderRequest,
  buildOrderRequest,
  formatRequest,
  parseRequest,
  type ParseRequestResult,
  type ReplayWindow,
} from '../../../src/derivadex/crypto/request.ts';
import { CONTENT_KEYS } from '../../../src/derivadex/signed-requests.ts';
import vectors from './derivadex-vectors.json' with { type: 'json' };

const wallet = new Wallet('0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba');
const venue: Eip712Venue = { chainId: 11155111, verifyingContract: '0x5d1a3b4181d3cad422f404f28e9e972d0ba4dad6', decimals: 6 };
const nonce = `0x${'11'.repeat(32)}`;
const order: OrderParams = {
  symbol: 'ETHP',
  strategy: 'main',
  side: 'Bid',
  orderType: ORDER_TYPE.Limit,
  nonce,
  amount: '3',
  price: '1995',
  stopPrice: '0',
};
const replay: ReplayWindow = { client_timestamp_ms: 1_767_225_600_223, recv_window_ms: 5_000 };
const FIXTURES = ['request-order', 'request-order-replay-window', 'request-cancel-order', 'request-cancel-all'] as const;

function fixture(name: (typeof FIXTURES)[number]): string {
  return readFileSync(new URL(`../../fixtures/derivadex/${name}.json`, import.meta.url), 'utf8');
}

/** The paths of the problems; their wording is the shared schemas' (signed-requests.ts, wire-values.ts). */
function pathsOf(result: ParseRequestResult): string[] {
  return result.ok ? [] : result.error.issues.map((issue) => issue.path);
}

/** The message at `path`: for the checks parseRequest adds itself (bytes32 fit, the scale, unknown keys). */
function messageAt(result: ParseRequestResult, path: string): string | undefined {
  return result.ok ? undefined : result.error.issues.find((issue) => issue.path === path)?.message;
}

function issuesOf(result: ParseRequestResult): string[] {
  if (result.ok) return [];
  return result.error.issues.map((issue) => `${issue.path}: ${issue.message}`);
}

describe('building requests', () => {
  it('writes an Order with the docs key set in its order: no traderAddress, numeric orderType, decimals as strings', () => {
    const { json, request, orderHash } = buildOrderRequest(wallet, order, venue, replay);
    const parsed = JSON.parse(json) as { t: string; c: Record<string, unknown> };
    expect(parsed.t).toBe('Order');
    expect(Object.keys(parsed.c)).toEqual(CONTENT_KEYS.Order);
    expect(Object.keys(parsed.c)).toEqual(Object.keys((JSON.parse(fixture('request-order-replay-window')) as { c: object }).c));
    expect(parsed.c).toMatchObject({ orderType: 0, amount: '3', price: '1995', sessionKeySignature: null, ...replay });
    expect(parsed.c).not.toHaveProperty('traderAddress');
    expect(orderHash).toMatch(/^0x[0-9a-f]{50}$/);
    expect(recoverOrderSigner(request.c, request.c.signature, venue)).toBe(wallet.address);
  });

  it('leaves the replay window out of the signature: the same order signs alike at any time', () => {
    const early = buildOrderRequest(wallet, order, venue, replay);
    const late = buildOrderRequest(wallet, order, venue, { client_timestamp_ms: replay.client_timestamp_ms + 60_000, recv_window_ms: 1 });
    expect(late.orderHash).toBe(early.orderHash);
    expect(late.request.c.signature).toBe(early.request.c.signature);
    // Without a window the content is the docs' example key set.
    const bare = JSON.parse(buildOrderRequest(wallet, order, venue).json) as { c: object };
    expect(Object.keys(bare.c)).toEqual(Object.keys((JSON.parse(fixture('request-order')) as { c: object }).c));
  });

  it('writes the CancelOrder order hash as the signed bytes32 (25 bytes + 7 zero bytes), and cancels with a null session', () => {
    const { orderHash } = buildOrderRequest(wallet, order, venue);
    const { json, request } = buildCancelOrderRequest(wallet, { symbol: 'ETHP', orderHash, nonce }, venue, replay);
    const c = (JSON.parse(json) as { c: Record<string, unknown> }).c;
    expect(Object.keys(c)).toEqual(CONTENT_KEYS.CancelOrder);
    expect(c.orderHash).toBe(orderHash + '00'.repeat(7));
    expect(c.sessionKeySignature).toBeNull();
    expect(recoverCancelSigner(request.c, request.c.signature, venue)).toBe(wallet.address);
    const all = buildCancelAllRequest(wallet, { symbol: 'ETHP', strategy: 'main', nonce }, venue, replay);
    expect(Object.keys((JSON.parse(all.json) as { c: object }).c)).toEqual(CONTENT_KEYS.CancelAll);
    expect(recoverCancelAllSigner(all.request.c, all.request.c.signature, venue)).toBe(wallet.address);
  });
});

describe('parseRequest', () => {
  it('round-trips each request kind: parse(format(r)) = r and the signature still verifies', () => {
    const built = buildOrderRequest(wallet, order, venue, replay);
    const cancel = buildCancelOrderRequest(wallet, { symbol: 'ETHP', orderHash: built.orderHash, nonce }, venue, replay);
    const cancelAll = buildCancelAllRequest(wallet, { symbol: 'ETHP', strategy: 'main', nonce }, venue);
    for (const { request, json } of [built, cancel, cancelAll]) {
      const parsed = parseRequest(json, { decimals: 6 });
      expect(parsed).toEqual({ ok: true, request });
      if (parsed.ok) expect(formatRequest(parsed.request)).toBe(json);
    }
    const parsedCancel = parseRequest(cancel.json);
    if (!parsedCancel.ok || parsedCancel.request.t !== 'CancelOrder') throw new Error('expected a CancelOrder');
    expect(parsedCancel.request.c.orderHash).toBe(built.orderHash);
    expect(recoverCancelSigner(parsedCancel.request.c, parsedCancel.request.c.signature, venue)).toBe(wallet.address);
  });

  it('round-trips the golden fixtures byte for byte (their signatures are made up: shape only)', () => {
    for (const name of FIXTURES) {
      const text = fixture(name);
      const parsed = parseRequest(text, { decimals: 6 });
      if (!parsed.ok) throw new Error(`${name}: ${parsed.error.message}`);
      expect(formatRequest(parsed.request)).toBe(JSON.stringify(JSON.parse(text)));
    }
    const withWindow = parseRequest(fixture('request-order-replay-window'));
    expect(withWindow.ok && withWindow.request.t === 'Order' && withWindow.request.c).toMatchObject({
      orderType: ORDER_TYPE.LimitPostOnly,
      client_timestamp_ms: 1767225600223,
      recv_window_ms: 5000,
    });
  });

  it('round-trips random orders (property)', () => {
    const decimal = fc
      .tuple(fc.bigInt({ min: 0n, max: 10n ** 12n }), fc.integer({ min: 0, max: 999_999 }))
      .map(([w, f]) => (f === 0 ? `${w}` : `${w}.${String(f).padStart(6, '0').replace(/0+$/, '')}`));
    const orders = fc.record({
      symbol: fc.constantFrom('ETHP', 'BTCP', 'ETHPERP'),
      strategy: fc
        .string({ minLength: 1, maxLength: 31 })
        .filter((s) => new TextEncoder().encode(s).length <= 31 && !/[\ud800-\udfff]/.test(s)),
      side: fc.constantFrom('Bid' as const, 'Ask' as const),
      orderType: fc.constantFrom(...Object.values(ORDER_TYPE)),
      nonce: fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => `0x${Buffer.from(b).toString('hex')}`),
      amount: decimal,
      price: decimal,
      stopPrice: fc.constant('0'),
    });
    fc.assert(
      fc.property(orders, fc.option(fc.integer({ min: 0, max: 2 ** 45 }), { nil: undefined }), (o, at) => {
        const window = at === undefined ? undefined : { client_timestamp_ms: at, recv_window_ms: 5000 };
        const { request, json } = buildOrderRequest(wallet, o, venue, window);
        const parsed = parseRequest(json, { decimals: 6 });
        return parsed.ok && JSON.stringify(parsed.request) === JSON.stringify(request);
      }),
      { seed: 77, numRuns: 300 },
    );
  });

  it('refuses the 2022 vector plaintext: it is the old format (traderAddress, orderType "Limit", JSON numbers)', () => {
    // The vector's encryption still holds (encryption.test.ts); its plaintext shape is superseded (sources §0.3 VEC).
    const result = parseRequest(vectors.encryption.plaintext, { decimals: 6 });
    expect(pathsOf(result)).toEqual(['c.orderType', 'c.amount', 'c.price', 'c.stopPrice', 'c.sessionKeySignature', 'c.traderAddress']);
    expect(messageAt(result, 'c.traderAddress')).toBe('unknown field');
    expect(messageAt(result, 'c.amount')).toContain('string');
  });

  it('normalises values: canonical decimals, lower-case hex, 25-byte hash', () => {
    const json = JSON.stringify({
      t: 'Order',
      c: {
        ...order,
        amount: '003.500',
        nonce: nonce.toUpperCase().replace('0X', '0x'),
        sessionKeySignature: null,
        signature: `0x${'AB'.repeat(65)}`,
      },
    });
    const parsed = parseRequest(json);
    if (!parsed.ok || parsed.request.t !== 'Order') throw new Error(issuesOf(parsed).join('\n'));
    expect(parsed.request.c.amount).toBe('3.5');
    expect(parsed.request.c.signature).toBe(`0x${'ab'.repeat(65)}`);
    const cancel = parseRequest(
      JSON.stringify({
        t: 'CancelOrder',
        c: { symbol: 'ETHP', orderHash: `0x${'CD'.repeat(25)}`, nonce, signature: `0x${'ab'.repeat(65)}` },
      }),
    );
    expect(cancel.ok && cancel.request.t === 'CancelOrder' && cancel.request.c.orderHash).toBe(`0x${'cd'.repeat(25)}`);
  });

  it('reports every problem with its path, in the order of the content keys', () => {
    const json = JSON.stringify({
      t: 'Order',
      c: {
        ...order,
        sessionKeySignature: null,
        side: 'Buy',
        orderType: 'Limit',
        amount: '-1',
        price: '1e21',
        stopPrice: '0.0000001',
        symbol: 'x'.repeat(32),
        nonce: '0x12',
        client_timestamp_ms: 1.5,
        extra: true,
      },
      signature: 'stray',
    });
    const result = parseRequest(json, { decimals: 6 });
    expect(pathsOf(result)).toEqual([
      'signature',
      'c.symbol',
      'c.side',
      'c.orderType',
      'c.nonce',
      'c.amount',
      'c.price',
      'c.stopPrice',
      'c.client_timestamp_ms',
      'c.signature',
      'c.extra',
    ]);
    expect(messageAt(result, 'signature')).toBe('unknown field');
    expect(messageAt(result, 'c.symbol')).toBe('string of 32 UTF-8 bytes does not fit a DerivaDEX bytes32 (at most 31)');
    expect(messageAt(result, 'c.stopPrice')).toBe('0.0000001 has 7 significant fractional digits; the venue takes at most 6');
    expect(messageAt(result, 'c.extra')).toBe('unknown field');
  });

  it('refuses amounts sent as JSON numbers (a number may already have been rounded by its encoder)', () => {
    const json = JSON.stringify({ t: 'Order', c: { ...order, sessionKeySignature: null, signature: `0x${'ab'.repeat(65)}` } }).replace(
      '"amount":"3"',
      '"amount":0.12345678901234567',
    );
    expect(pathsOf(parseRequest(json))).toEqual(['c.amount']);
  });

  it('refuses malformed envelopes', () => {
    expect(issuesOf(parseRequest('not json'))).toEqual([': not valid JSON']);
    expect(issuesOf(parseRequest('[]'))).toEqual([': expected an object {"t": …, "c": {…}}']);
    expect(issuesOf(parseRequest('{"t":"Withdraw","c":{}}'))).toEqual(['t: expected one of "Order", "CancelOrder", "CancelAll"']);
    expect(issuesOf(parseRequest('{"t":"CancelAll"}'))).toEqual(['c: required']);
    expect(issuesOf(parseRequest('{"t":"CancelAll","c":[]}'))).toEqual(['c: expected an object']);
    const orderHash32 = `0x${'cd'.repeat(25)}01${'00'.repeat(6)}`;
    expect(
      issuesOf(
        parseRequest(
          JSON.stringify({ t: 'CancelOrder', c: { symbol: 'ETHP', orderHash: orderHash32, nonce, signature: `0x${'ab'.repeat(65)}` } }),
        ),
      ),
    ).toEqual(['c.orderHash: expected a 25-byte order hash (or its 32-byte form ending in 7 zero bytes)']);
    const result = parseRequest('{}');
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error).toBeInstanceOf(RequestParseError);
      expect(result.error.message).toBe('t: required; c: required');
    }
  });

  it('fuzz: never throws on arbitrary text, JSON or mutated requests', () => {
    const valid = JSON.parse(buildOrderRequest(wallet, order, venue, replay).json) as { t: string; c: Record<string, unknown> };
    const mutated = fc
      .tuple(
        fc.constantFrom(...Object.keys(valid.c), 'extra', '__proto__', 'constructor'),
        fc.jsonValue(),
        fc.constantFrom('Order', 'CancelOrder', 'CancelAll', 'x'),
      )
      .map(([key, value, t]) => JSON.stringify({ t, c: { ...valid.c, [key]: value } }));
    const inputs = fc.oneof(
      fc.string(),
      fc.json(),
      mutated,
      fc.jsonValue().map((c) => JSON.stringify({ t: 'Order', c })),
    );
    fc.assert(
      fc.property(inputs, fc.option(fc.constantFrom(0, 6, 18, 99, -1, 1.5), { nil: undefined }), (json, decimals) => {
        const result = parseRequest(json, decimals === undefined ? {} : { decimals });
        return result.ok || (result.error instanceof RequestParseError && result.error.issues.length > 0);
      }),
      { seed: 31337, numRuns: 5000 },
    );
  });
});
