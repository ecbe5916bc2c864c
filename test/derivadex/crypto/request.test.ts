import { Wallet } from 'ethers';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { recoverCancelSigner, recoverOrderSigner, type Eip712Venue, type OrderParams } from '../../../src/derivadex/crypto/eip712.ts';
import {
  RequestParseError,
  buildCancelAllRequest,
  buildCancelOrderRequest,
  buildOrderRequest,
  formatRequest,
  parseRequest,
  type ParseRequestResult,
} from '../../../src/derivadex/crypto/request.ts';
import vectors from './derivadex-vectors.json' with { type: 'json' };

const wallet = new Wallet('0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba');
const venue: Eip712Venue = { chainId: 11155111, verifyingContract: '0x5d1a3b4181d3cad422f404f28e9e972d0ba4dad6', decimals: 6 };
const nonce = `0x${'11'.repeat(32)}`;
const order: OrderParams = {
  symbol: 'ETHP',
  strategy: 'main',
  side: 'Bid',
  orderType: 'Limit',
  nonce,
  amount: '3',
  price: '1995',
  stopPrice: '0',
};

function issuesOf(result: ParseRequestResult): string[] {
  if (result.ok) return [];
  return result.error.issues.map((issue) => `${issue.path}: ${issue.message}`);
}

describe('building requests', () => {
  it('writes an Order with the fields of the venue vector, in its order, decimals as strings', () => {
    const { json, request, orderHash } = buildOrderRequest(wallet, order, venue);
    const parsed = JSON.parse(json) as { t: string; c: Record<string, unknown> };
    expect(parsed.t).toBe('Order');
    const vectorKeys = Object.keys((JSON.parse(vectors.encryption.plaintext) as { c: object }).c);
    expect(Object.keys(parsed.c)).toEqual(vectorKeys);
    expect(parsed.c.amount).toBe('3');
    expect(parsed.c.price).toBe('1995');
    expect(parsed.c.traderAddress).toBe(wallet.address);
    expect(orderHash).toMatch(/^0x[0-9a-f]{50}$/);
    expect(recoverOrderSigner(request.c, request.c.signature, venue)).toBe(wallet.address);
  });

  it('writes the CancelOrder order hash as the signed bytes32 (25 bytes + 7 zero bytes)', () => {
    const { orderHash } = buildOrderRequest(wallet, order, venue);
    const { json } = buildCancelOrderRequest(wallet, { symbol: 'ETHP', orderHash, nonce }, venue);
    const c = (JSON.parse(json) as { c: Record<string, string> }).c;
    expect(Object.keys(c)).toEqual(['symbol', 'orderHash', 'nonce', 'signature']);
    expect(c.orderHash).toBe(orderHash + '00'.repeat(7));
  });
});

describe('parseRequest', () => {
  it('round-trips each request kind: parse(format(r)) = r and the signature still verifies', () => {
    const built = buildOrderRequest(wallet, order, venue);
    const cancel = buildCancelOrderRequest(wallet, { symbol: 'ETHP', orderHash: built.orderHash, nonce }, venue);
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
      orderType: fc.constantFrom('Limit' as const, 'Market' as const),
      nonce: fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => `0x${Buffer.from(b).toString('hex')}`),
      amount: decimal,
      price: decimal,
      stopPrice: fc.constant('0'),
    });
    fc.assert(
      fc.property(orders, (o) => {
        const { request, json } = buildOrderRequest(wallet, o, venue);
        const parsed = parseRequest(json, { decimals: 6 });
        return parsed.ok && JSON.stringify(parsed.request) === JSON.stringify(request);
      }),
      { seed: 77, numRuns: 300 },
    );
  });

  it('reads the 2022 vector plaintext, whose amounts are JSON numbers', () => {
    const parsed = parseRequest(vectors.encryption.plaintext, { decimals: 6 });
    expect(parsed.ok).toBe(true);
    if (!parsed.ok || parsed.request.t !== 'Order') return;
    expect(parsed.request.c).toMatchObject({
      traderAddress: '0xc10f3E99a255CC053b8E9A62c9C416485fdCd20b',
      symbol: 'ETHPERP',
      strategy: 'main',
      side: 'Ask',
      orderType: 'Limit',
      amount: '10.6',
      price: '2472.1',
      stopPrice: '0',
    });
  });

  it('normalises values: canonical decimals, lower-case hex, checksummed address, 25-byte hash', () => {
    const json = JSON.stringify({
      t: 'Order',
      c: {
        ...order,
        traderAddress: wallet.address.toLowerCase(),
        amount: '003.500',
        nonce: nonce.toUpperCase().replace('0X', '0x'),
        signature: `0x${'AB'.repeat(65)}`,
      },
    });
    const parsed = parseRequest(json);
    if (!parsed.ok || parsed.request.t !== 'Order') throw new Error(issuesOf(parsed).join('\n'));
    expect(parsed.request.c.amount).toBe('3.5');
    expect(parsed.request.c.traderAddress).toBe(wallet.address);
    expect(parsed.request.c.signature).toBe(`0x${'ab'.repeat(65)}`);
    const cancel = parseRequest(
      JSON.stringify({
        t: 'CancelOrder',
        c: { symbol: 'ETHP', orderHash: `0x${'cd'.repeat(25)}`, nonce, signature: `0x${'ab'.repeat(65)}` },
      }),
    );
    expect(cancel.ok && cancel.request.t === 'CancelOrder' && cancel.request.c.orderHash).toBe(`0x${'cd'.repeat(25)}`);
  });

  it('reports every problem with its path', () => {
    const { traderAddress: _unused, ...noAddress } = { ...order, traderAddress: wallet.address };
    const json = JSON.stringify({
      t: 'Order',
      c: {
        ...noAddress,
        side: 'Buy',
        amount: '-1',
        price: 1e21,
        stopPrice: '0.0000001',
        symbol: 'x'.repeat(32),
        nonce: '0x12',
        extra: true,
      },
      signature: 'stray',
    });
    expect(issuesOf(parseRequest(json, { decimals: 6 }))).toEqual([
      'signature: unknown field',
      'c.traderAddress: required',
      'c.symbol: string of 32 UTF-8 bytes does not fit a DerivaDEX bytes32 (at most 31)',
      'c.side: expected one of "Bid", "Ask"',
      'c.nonce: expected a bytes32 nonce: 0x followed by 64 hex digits',
      'c.amount: expected a non-negative decimal string such as "2472.1"',
      'c.price: number 1e+21 may have been rounded by JSON encoding; send it as a decimal string',
      'c.stopPrice: 0.0000001 has 7 significant fractional digits; the venue takes at most 6',
      'c.signature: required',
      'c.extra: unknown field',
    ]);
  });

  it('refuses numbers that JSON may already have rounded', () => {
    const json = JSON.stringify({ t: 'Order', c: { ...order, traderAddress: wallet.address, signature: `0x${'ab'.repeat(65)}` } }).replace(
      '"amount":"3"',
      '"amount":0.12345678901234567',
    );
    // The double nearest 0.12345678901234567 prints as …566: the sender's value is already gone.
    expect(issuesOf(parseRequest(json))).toEqual([
      'c.amount: number 0.12345678901234566 may have been rounded by JSON encoding; send it as a decimal string',
    ]);
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
    ).toEqual(['c.orderHash: an order hash is 25 bytes: a 32-byte form must end in 7 zero bytes']);
    const result = parseRequest('{}');
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error).toBeInstanceOf(RequestParseError);
      expect(result.error.message).toBe('t: required; c: required');
    }
  });

  it('fuzz: never throws on arbitrary text, JSON or mutated requests', () => {
    const valid = JSON.parse(buildOrderRequest(wallet, order, venue).json) as { t: string; c: Record<string, unknown> };
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
