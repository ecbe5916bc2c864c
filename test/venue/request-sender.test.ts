import { SigningKey } from 'ethers';
import { afterEach, describe, expect, it } from 'vitest';
import { SimClock, type Clock } from '../../src/clock/clock.ts';
import { ORDER_TYPE } from '../../src/derivadex/codes.ts';
import { decryptRequest } from '../../src/derivadex/crypto/encryption.ts';
import { createNonceSource } from '../../src/derivadex/crypto/nonce.ts';
import { parseRequest, type VenueRequest } from '../../src/derivadex/crypto/request.ts';
import { PATHS } from '../../src/derivadex/paths.ts';
import { DEFAULT_RECV_WINDOW_MS } from '../../src/derivadex/signed-requests.ts';
import { createEphemeralSource } from '../../src/venue/ephemeral-source.ts';
import {
  RequestNotSentError,
  RequestSender,
  SafetyFailureError,
  requestErrorCode,
  requestOutcome,
  safetyFailureName,
  type OrderToSend,
} from '../../src/venue/request-sender.ts';
import { RestClient, VenueHttpError } from '../../src/venue/rest-client.ts';
import { startGateway, type GatewayServer } from '../sim/gateway-harness.ts';
import { START, walletFor } from './venue-harness.ts';

/* Signed, encrypted requests against the simulator's gateway over a real socket (it decrypts, checks the replay window, verifies). */

const gateways: GatewayServer[] = [];
afterEach(async () => {
  for (const g of gateways.splice(0)) await g.close();
});

async function venue(clock: Clock = new SimClock(START)): Promise<GatewayServer> {
  const g = await startGateway({ clock });
  gateways.push(g);
  g.exchange.deposit(walletFor('alpha').address, 'main', '10000');
  g.exchange.setMark('ETHP', '2000');
  return g;
}

const BUY: OrderToSend = { symbol: 'ETHP', strategy: 'main', side: 'Bid', orderType: ORDER_TYPE.Limit, amount: '1', price: '1990' };

interface SenderOptions {
  nonceSeed?: string;
  nonceRetries?: number;
  recvWindowMs?: number;
  clock?: Clock;
  fetch?: typeof fetch;
}

function sender(g: GatewayServer, options: SenderOptions = {}): RequestSender {
  const rest = new RestClient({ baseUrl: g.url, ...(options.fetch === undefined ? {} : { fetch: options.fetch }) });
  return new RequestSender({
    rest,
    signer: walletFor('alpha'),
    venue: () => g.venue,
    nonces: createNonceSource(options.nonceSeed ?? '0x01'),
    ephemeral: createEphemeralSource('0x02'),
    clock: options.clock ?? g.options.clock,
    ...(options.recvWindowMs === undefined ? {} : { recvWindowMs: options.recvWindowMs }),
    ...(options.nonceRetries === undefined ? {} : { nonceRetries: options.nonceRetries }),
  });
}

/** A fetch that records the plaintext of every request it posts (decrypted with the gateway's key). */
function recording(g: GatewayServer, sent: VenueRequest[], inner: typeof fetch = fetch): typeof fetch {
  return async (input, init) => {
    if (String(input).endsWith(PATHS.request) && init?.body instanceof Uint8Array) {
      const parsed = parseRequest(decryptRequest(init.body, g.options.operatorSecretKey).json);
      if (parsed.ok) sent.push(parsed.request);
    }
    return inner(input, init);
  };
}

function openHashes(g: GatewayServer): string[] {
  return g.exchange.orderBook({ trader: walletFor('alpha').address }).map((o) => o.orderHash);
}

describe('RequestSender', () => {
  it('signs, encrypts and posts an order with the replay window from its clock; the venue sequences it under the announced hash', async () => {
    const g = await venue();
    const sent: VenueRequest[] = [];
    const hashes: string[] = [];
    const { receipt, orderHash } = await sender(g, { fetch: recording(g, sent) }).placeOrder(BUY, (hash) => hashes.push(hash));
    expect(hashes).toEqual([orderHash]);
    expect(receipt.sender).toBe(walletFor('alpha').address.toLowerCase());
    expect(receipt.nonce).toBe(sent[0]!.c.nonce);
    expect(sent[0]!.c).toMatchObject({
      client_timestamp_ms: START,
      recv_window_ms: DEFAULT_RECV_WINDOW_MS,
      sessionKeySignature: null,
      orderType: 0,
    });
    expect(openHashes(g)).toEqual([orderHash]);
  });

  it('cancels by hash and cancels all', async () => {
    const g = await venue();
    const s = sender(g);
    const { orderHash } = await s.placeOrder(BUY, () => {});
    await s.placeOrder({ ...BUY, price: '1980' }, () => {});
    const cancelled = await s.cancelOrder({ symbol: 'ETHP', orderHash });
    expect(cancelled.requestIndex).toBeGreaterThan(0);
    expect(openHashes(g).length).toBe(1);
    await s.cancelAll({ symbol: 'ETHP', strategy: 'main' });
    expect(openHashes(g)).toEqual([]);
  });

  it('on 412 IllegalNonce rebuilds with a fresh nonce (a new order hash) and timestamp, never resending the used one', async () => {
    const g = await venue();
    await sender(g, { nonceSeed: '0x07' }).placeOrder(BUY, () => {});
    // A second sender with the same seed repeats the first nonce: the venue refuses it with 412.
    const announced: Array<[string, string | undefined]> = [];
    const sent: VenueRequest[] = [];
    const { orderHash } = await sender(g, { nonceSeed: '0x07', fetch: recording(g, sent) }).placeOrder(
      { ...BUY, price: '1989' },
      (hash, previous) => announced.push([hash, previous]),
    );
    expect(announced.length).toBe(2);
    expect(announced[1]).toEqual([orderHash, announced[0]![0]]);
    expect(announced[0]![0]).not.toBe(orderHash);
    expect(sent.length).toBe(2);
    expect(sent[1]!.c.nonce).not.toBe(sent[0]!.c.nonce);
    expect(g.statuses.slice(-2)).toEqual([412, 200]);
  });

  it('on 412 ExpiredTimestamp rebuilds with a fresh timestamp from the clock', async () => {
    const g = await venue();
    // The sender's clock first reads 6 s behind the gateway's (outside the 5 s window), then catches up.
    const readings = [START - 6000, START];
    const lagging: Clock = { now: () => readings.shift() ?? START };
    const sent: VenueRequest[] = [];
    await sender(g, { clock: lagging, fetch: recording(g, sent) }).placeOrder(BUY, () => {});
    expect(sent.map((r) => r.c.client_timestamp_ms)).toEqual([START - 6000, START]);
    expect(g.statuses).toEqual([200, 412, 200]); // the key, the expired request, the rebuilt one
  });

  it('surfaces IllegalNonce when rebuilding is switched off', async () => {
    const g = await venue();
    await sender(g, { nonceSeed: '0x08' }).placeOrder(BUY, () => {});
    const error = await sender(g, { nonceSeed: '0x08', nonceRetries: 0 })
      .placeOrder(BUY, () => {})
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VenueHttpError);
    expect(error).toMatchObject({ status: 412, code: 'IllegalNonce' });
    expect(requestOutcome(error)).toBe('refused');
  });

  it('sends the configured recv_window_ms', async () => {
    const g = await venue();
    const sent: VenueRequest[] = [];
    await sender(g, { recvWindowMs: 250, fetch: recording(g, sent) }).cancelAll({ symbol: 'ETHP', strategy: 'main' });
    expect(sent[0]!.c).toMatchObject({ client_timestamp_ms: START, recv_window_ms: 250, sessionKeySignature: null });
  });

  it('turns a SafetyFailure receipt into a refusal named by its variant, without retrying', async () => {
    const g = await venue();
    const error = await sender(g)
      .placeOrder({ ...BUY, price: '1990.05' }, () => {})
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SafetyFailureError);
    expect(error).toMatchObject({ inner: 'PriceNotMultipleOfTickSize' });
    expect(requestOutcome(error)).toBe('refused');
    expect(requestErrorCode(error)).toBe('PriceNotMultipleOfTickSize');
    expect(g.statuses).toEqual([200, 200]); // the key, the one request
  });

  it('turns an HTTP 422 SafetyFailure into the same refusal', async () => {
    const g = await venue();
    const refusing: typeof fetch = async (input, init) => {
      if (!String(input).endsWith(PATHS.request)) return fetch(input, init);
      const body = { error_reason: 'SafetyFailure', safety_failure: 'MaxOrderNotionalBreached', message: 'too big' };
      return new Response(JSON.stringify(body), { status: 422 });
    };
    const error = await sender(g, { fetch: refusing })
      .placeOrder(BUY, () => {})
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SafetyFailureError);
    expect(requestErrorCode(error)).toBe('MaxOrderNotionalBreached');
    expect(requestOutcome(error)).toBe('refused');
  });

  it('fetches the operator key again once after InvalidEncryption, and re-encrypts with fresh material', async () => {
    const g = await venue();
    const stale = new SigningKey(`0x${'42'.repeat(32)}`).compressedPublicKey;
    let keyFetches = 0;
    const wires: string[] = [];
    const fetchWithStaleKey: typeof fetch = async (input, init) => {
      const url = String(input);
      if (url.endsWith(PATHS.encryptionKey)) {
        keyFetches += 1;
        if (keyFetches === 1) return new Response(JSON.stringify(stale), { status: 200 });
      }
      if (url.endsWith(PATHS.request) && init?.body instanceof Uint8Array) wires.push(Buffer.from(init.body).toString('hex'));
      return fetch(input, init);
    };
    const { receipt } = await sender(g, { fetch: fetchWithStaleKey }).placeOrder(BUY, () => {});
    expect(receipt.requestIndex).toBeGreaterThan(0);
    expect(keyFetches).toBe(2);
    expect(g.statuses).toEqual([422, 200, 200]); // the stale-key request, the second key fetch, the request again
    expect(wires.length).toBe(2);
    expect(wires[0]!.slice(-66)).not.toBe(wires[1]!.slice(-66)); // a new ephemeral client key
  });

  it('classifies failures: refused before or by the venue, unknown when the answer was lost', () => {
    expect(requestOutcome(new RequestNotSentError('ServiceUnavailable', 'no key'))).toBe('refused');
    expect(requestOutcome(new SafetyFailureError('TooManyOrders', 'full'))).toBe('refused');
    expect(requestOutcome(new VenueHttpError(422, 'InvalidEncryption', 'key', false))).toBe('refused');
    expect(requestOutcome(new VenueHttpError(429, 'RateLimit', 'slow down', true))).toBe('refused');
    expect(requestOutcome(new VenueHttpError(421, 'NotAcceptingRequests', 'paused', true))).toBe('refused');
    expect(requestOutcome(new VenueHttpError(500, 'InternalServerError', 'oops', false))).toBe('unknown');
    expect(requestOutcome(new VenueHttpError(503, 'ServiceUnavailable', 'lost', true))).toBe('unknown');
    expect(requestOutcome(new VenueHttpError(0, 'ServiceUnavailable', 'no answer', true))).toBe('unknown');
    expect(requestOutcome(new Error('body'))).toBe('unknown');
    expect(requestErrorCode(new VenueHttpError(412, 'FutureTimestamp', 'ahead', false))).toBe('FutureTimestamp');
    expect([safetyFailureName('OrderNotFound'), safetyFailureName(0), safetyFailureName(999), safetyFailureName(undefined)]).toEqual([
      'OrderNotFound',
      'TraderNotFound',
      'SafetyFailure(999)',
      'SafetyFailure',
    ]);
  });
});

describe('createEphemeralSource', () => {
  it('is reproducible from a seed and never repeats a key', () => {
    const a = createEphemeralSource('0x09');
    const b = createEphemeralSource('0x09');
    const keys = new Set<string>();
    for (let i = 0; i < 50; i += 1) {
      const x = a();
      expect(x).toEqual(b());
      keys.add(String(x.clientSecretKey));
      expect((x.nonce as Uint8Array).length).toBe(12);
    }
    expect(keys.size).toBe(50);
    expect(createEphemeralSource()()).toEqual({}); // live: encryptRequest draws from the OS
  });
});
