import { SigningKey, Wallet, computeAddress, keccak256, recoverAddress, toUtf8Bytes } from 'ethers';
import { describe, expect, it } from 'vitest';
import { SimClock } from '../../src/clock/clock.ts';
import { ORDER_TYPE } from '../../src/derivadex/codes.ts';
import type { OrderParams } from '../../src/derivadex/crypto/eip712.ts';
import { encryptRequest } from '../../src/derivadex/crypto/encryption.ts';
import { buildCancelOrderRequest, buildOrderRequest, formatRequest, type ReplayWindow } from '../../src/derivadex/crypto/request.ts';
import { receiptSchema, requestErrorBodySchema } from '../../src/derivadex/signed-requests.ts';
import { Exchange } from '../../src/sim/exchange.ts';
import { RateLimiter } from '../../src/sim/rate-limit.ts';
import { handleRequest, type GatewayAnswer, type GatewayOptions } from '../../src/sim/request-gateway.ts';
import { GATEWAY_VENUE } from './gateway-harness.ts';

/* The simulator's /v2/request gateway: real encryption, real signatures, the simulated clock. */

const NOW = Date.parse('2026-01-05T13:00:00Z');
const alpha = new Wallet(keccak256(toUtf8Bytes('gateway-test/alpha')));
const beta = new Wallet(keccak256(toUtf8Bytes('gateway-test/beta')));
const operatorSecretKey = keccak256(toUtf8Bytes('gateway-test/operator'));
const operatorPublicKey = new SigningKey(operatorSecretKey).compressedPublicKey;

function gateway(options: { rateLimit?: { capacity: number; refillPerSecond: number } } = {}): {
  options: GatewayOptions;
  clock: SimClock;
} {
  const clock = new SimClock(NOW);
  const exchange = new Exchange({ clock });
  exchange.deposit(alpha.address, 'main', '10000');
  exchange.setMark('ETHP', '2000');
  return {
    clock,
    options: {
      exchange,
      operatorSecretKey,
      venue: GATEWAY_VENUE,
      rateLimiter: options.rateLimit === undefined ? null : new RateLimiter(options.rateLimit, clock),
      clock,
    },
  };
}

let nonceCounter = 0;
function nonce(n = (nonceCounter += 1)): string {
  return `0x${n.toString(16).padStart(64, '0')}`;
}

const window = (at = NOW, recv = 5000): ReplayWindow => ({ client_timestamp_ms: at, recv_window_ms: recv });
const BUY: Omit<OrderParams, 'nonce'> = {
  symbol: 'ETHP',
  strategy: 'main',
  side: 'Bid',
  orderType: ORDER_TYPE.Limit,
  amount: '1',
  price: '1990',
  stopPrice: '0',
};

function send(options: GatewayOptions, json: string): GatewayAnswer {
  return handleRequest(options, encryptRequest(json, operatorPublicKey));
}

/** `replay` null: no replay window at all. */
function order(overrides: Partial<OrderParams> = {}, replay: ReplayWindow | null = window(), signer = alpha) {
  return buildOrderRequest(signer, { ...BUY, nonce: nonce(), ...overrides }, GATEWAY_VENUE, replay ?? undefined);
}

/** The error class and message of a refusal, or the receipt's kind. */
function outcome(answer: GatewayAnswer): [number, string, string] {
  const receipt = receiptSchema.safeParse(answer.body);
  if (receipt.success) return [answer.status, receipt.data.t, receipt.data.t === 'SafetyFailure' ? String(receipt.data.c.inner) : ''];
  const error = requestErrorBodySchema.parse(answer.body);
  return [answer.status, error.error_reason, error.message ?? ''];
}

describe('request gateway', () => {
  it('sequences a valid order: the receipt names the nonce, keccak256 of the plaintext, the signer, and is signed by the operator', () => {
    const { options } = gateway();
    const built = order();
    const answer = send(options, built.json);
    const receipt = receiptSchema.parse(answer.body);
    expect(answer.status).toBe(200);
    if (receipt.t !== 'Sequenced') throw new Error(`expected Sequenced, got ${JSON.stringify(receipt)}`);
    expect(receipt.c).toMatchObject({
      nonce: built.request.c.nonce,
      requestHash: keccak256(toUtf8Bytes(built.json)),
      sender: alpha.address.toLowerCase(),
    });
    expect(receipt.c.requestIndex).toBeGreaterThanOrEqual(1);
    expect(recoverAddress(receipt.c.requestHash, receipt.c.enclaveSignature)).toBe(computeAddress(operatorPublicKey));
    expect(options.exchange.orderBook({ trader: alpha.address }).map((o) => o.orderHash)).toEqual([built.orderHash]);
  });

  it('answers 422 InvalidEncryption for bytes it cannot decrypt', () => {
    const { options } = gateway();
    const other = new SigningKey(`0x${'42'.repeat(32)}`).compressedPublicKey;
    expect(outcome(handleRequest(options, encryptRequest(order().json, other)))[1]).toBe('InvalidEncryption');
    const [status, reason] = outcome(handleRequest(options, new Uint8Array(10)));
    expect([status, reason]).toEqual([422, 'InvalidEncryption']);
  });

  it('answers 400 InvalidRequestPayload naming the path of what it cannot parse, and refuses the 2022 format', () => {
    const { options } = gateway();
    const bad = JSON.parse(order().json) as { t: string; c: Record<string, unknown> };
    bad.c.amount = 1;
    const [status, reason, message] = outcome(send(options, JSON.stringify(bad)));
    expect([status, reason]).toEqual([400, 'InvalidRequestPayload']);
    expect(message).toMatch(/^c\.amount: /);
    // The 2022 shape: a traderAddress, no sessionKeySignature.
    const old: Record<string, unknown> = {
      ...(JSON.parse(order().json) as { c: Record<string, unknown> }).c,
      traderAddress: alpha.address,
    };
    delete old.sessionKeySignature;
    const refused = outcome(send(options, JSON.stringify({ t: 'Order', c: old })));
    expect(refused.slice(0, 2)).toEqual([400, 'InvalidRequestPayload']);
    expect(refused[2]).toMatch(/^c\.sessionKeySignature: .*; c\.traderAddress: unknown field$/);
  });

  it('checks the replay window against its own clock (§10.9)', () => {
    const { options } = gateway();
    expect(outcome(send(options, order({}, null).json)).slice(0, 2)).toEqual([400, 'InvalidRequestPayload']);
    const half = JSON.parse(order().json) as { t: string; c: Record<string, unknown> };
    delete half.c.recv_window_ms;
    expect(outcome(send(options, JSON.stringify(half)))).toEqual([
      400,
      'InvalidRequestPayload',
      'c.recv_window_ms: required with client_timestamp_ms',
    ]);
    expect(outcome(send(options, order({}, window(NOW, 0)).json)).slice(0, 2)).toEqual([400, 'InvalidRecvWindow']);
    expect(outcome(send(options, order({}, window(NOW, 60_001)).json)).slice(0, 2)).toEqual([400, 'InvalidRecvWindow']);
    // Built 5001 ms ago with a 5000 ms window: 1 ms too old. Exactly 5000 ms ago still holds.
    expect(outcome(send(options, order({}, window(NOW - 5001)).json)).slice(0, 2)).toEqual([412, 'ExpiredTimestamp']);
    expect(outcome(send(options, order({}, window(NOW - 5000)).json))[1]).toBe('Sequenced');
    // 1001 ms ahead is refused, 1000 ms is the allowed skew.
    expect(outcome(send(options, order({}, window(NOW + 1001)).json)).slice(0, 2)).toEqual([412, 'FutureTimestamp']);
    expect(outcome(send(options, order({}, window(NOW + 1000)).json))[1]).toBe('Sequenced');
    expect(outcome(send(options, order({}, window(NOW, 60_000)).json))[1]).toBe('Sequenced');
  });

  it('refuses a nonce the signer already used with 412 IllegalNonce, but admits a lower fresh one', () => {
    const { options } = gateway();
    expect(outcome(send(options, order({ nonce: nonce(1000) }).json))[1]).toBe('Sequenced');
    expect(outcome(send(options, order({ nonce: nonce(1000), price: '1980' }).json)).slice(0, 2)).toEqual([412, 'IllegalNonce']);
    expect(outcome(send(options, order({ nonce: nonce(999), price: '1980' }).json))[1]).toBe('Sequenced');
    // Nonces are the signer's own: another trader may use the same one. (Not with the same order: the order
    // hash is the struct's digest, which has no trader, and the engine refuses an order hash it has seen.)
    expect(outcome(send(options, order({ nonce: nonce(1000), price: '1970' }, window(), beta).json))[1]).toBe('Sequenced');
  });

  it('answers refusals on the merits as HTTP 200 SafetyFailure receipts with the variant name', () => {
    const { options } = gateway();
    const answer = send(options, order({ price: '1990.05' }).json);
    expect(outcome(answer)).toEqual([200, 'SafetyFailure', 'PriceNotMultipleOfTickSize']);
    expect(options.exchange.orderBook({ trader: alpha.address })).toEqual([]);
  });

  it('takes the recovered signer as the trader: another key`s cancel finds no order, its order is its own', () => {
    const { options } = gateway();
    const placed = order();
    expect(outcome(send(options, placed.json))[1]).toBe('Sequenced');
    const forged = buildCancelOrderRequest(beta, { symbol: 'ETHP', orderHash: placed.orderHash, nonce: nonce() }, GATEWAY_VENUE, window());
    expect(outcome(send(options, forged.json))).toEqual([200, 'SafetyFailure', 'OrderNotFound']);
    expect(options.exchange.orderBook({ trader: alpha.address }).length).toBe(1);
    const betas = send(options, order({ price: '1970' }, window(), beta).json);
    expect(receiptSchema.parse(betas.body)).toMatchObject({ t: 'Sequenced', c: { sender: beta.address.toLowerCase() } });
    const own = buildCancelOrderRequest(alpha, { symbol: 'ETHP', orderHash: placed.orderHash, nonce: nonce() }, GATEWAY_VENUE, window());
    expect(outcome(send(options, own.json))[1]).toBe('Sequenced');
  });

  it('answers a signature that recovers no address with SafetyFailure SignatureRecoveryMismatch', () => {
    const { options } = gateway();
    const built = order();
    const json = formatRequest({ ...built.request, c: { ...built.request.c, signature: `0x${'00'.repeat(64)}1b` } });
    expect(outcome(send(options, json))).toEqual([200, 'SafetyFailure', 'SignatureRecoveryMismatch']);
  });

  it('keeps the rate limiter: an empty bucket is 429 RateLimit, and the refused request uses no nonce', () => {
    const { options, clock } = gateway({ rateLimit: { capacity: 1, refillPerSecond: 1 } });
    expect(outcome(send(options, order().json))[1]).toBe('Sequenced');
    const second = order();
    expect(outcome(send(options, second.json)).slice(0, 2)).toEqual([429, 'RateLimit']);
    clock.advanceTo(NOW + 1000);
    expect(outcome(send(options, second.json))[1]).toBe('Sequenced');
  });

  it('accepts the wire as 0x-hex text too', () => {
    const { options } = gateway();
    const wire = encryptRequest(order().json, operatorPublicKey);
    expect(outcome(handleRequest(options, toUtf8Bytes(`0x${Buffer.from(wire).toString('hex')}`)))[1]).toBe('Sequenced');
  });
});
