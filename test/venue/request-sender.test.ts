import { SigningKey } from 'ethers';
import { afterEach, describe, expect, it } from 'vitest';
import { SimClock } from '../../src/clock/clock.ts';
import { startSimulator, type Simulator } from '../../src/sim/server.ts';
import { createNonceSource } from '../../src/derivadex/crypto/nonce.ts';
import { createEphemeralSource } from '../../src/venue/ephemeral-source.ts';
import { PATHS } from '../../src/venue/protocol.ts';
import { RequestNotSentError, RequestSender, requestOutcome, type OrderToSend } from '../../src/venue/request-sender.ts';
import { RestClient, VenueHttpError } from '../../src/venue/rest-client.ts';
import { START, walletFor } from './venue-harness.ts';

/* Signed, encrypted requests against the real simulator (which decrypts and verifies them). */

const sims: Simulator[] = [];
afterEach(async () => {
  for (const s of sims.splice(0)) await s.close();
});

async function venue(): Promise<Simulator> {
  const sim = await startSimulator({ clock: new SimClock(START), rateLimit: null });
  sims.push(sim);
  sim.exchange.deposit(walletFor('alpha').address, 'main', '10000');
  sim.setMark('ETHP', '2000');
  return sim;
}

const BUY: OrderToSend = { symbol: 'ETHP', strategy: 'main', side: 'Bid', orderType: 'Limit', amount: '1', price: '1990' };

function sender(sim: Simulator, options: { nonceSeed?: string; nonceRetries?: number; fetch?: typeof fetch } = {}): RequestSender {
  const rest = new RestClient({ baseUrl: sim.url, ...(options.fetch === undefined ? {} : { fetch: options.fetch }) });
  return new RequestSender({
    rest,
    signer: walletFor('alpha'),
    venue: () => sim.venue,
    nonces: createNonceSource(options.nonceSeed ?? '0x01'),
    ephemeral: createEphemeralSource('0x02'),
    ...(options.nonceRetries === undefined ? {} : { nonceRetries: options.nonceRetries }),
  });
}

describe('RequestSender', () => {
  it('signs, encrypts and posts an order; the venue sequences it under the announced hash', async () => {
    const sim = await venue();
    const hashes: string[] = [];
    const { receipt, orderHash } = await sender(sim).placeOrder(BUY, (hash) => hashes.push(hash));
    expect(hashes).toEqual([orderHash]);
    expect(receipt).toMatchObject({ sequenced: true, orderHash });
    expect(sim.exchange.openOrders(walletFor('alpha').address, '0x2576ebd1').map((o) => o.orderHash)).toEqual([orderHash]);
  });

  it('cancels by hash and cancels all', async () => {
    const sim = await venue();
    const s = sender(sim);
    const { orderHash } = await s.placeOrder(BUY, () => {});
    await s.placeOrder({ ...BUY, price: '1980' }, () => {});
    await s.cancelOrder({ symbol: 'ETHP', orderHash });
    expect(sim.exchange.openOrders(walletFor('alpha').address, '0x2576ebd1').length).toBe(1);
    await s.cancelAll({ symbol: 'ETHP', strategy: 'main' });
    expect(sim.exchange.openOrders(walletFor('alpha').address, '0x2576ebd1')).toEqual([]);
  });

  it('on 412 re-signs with a fresh nonce (a new order hash), never resending the used one', async () => {
    const sim = await venue();
    await sender(sim, { nonceSeed: '0x07' }).placeOrder(BUY, () => {});
    // A second sender with the same seed repeats the first nonce: the venue refuses it with 412.
    const announced: Array<[string, string | undefined]> = [];
    const { orderHash } = await sender(sim, { nonceSeed: '0x07' }).placeOrder({ ...BUY, price: '1989' }, (hash, previous) =>
      announced.push([hash, previous]),
    );
    expect(announced.length).toBe(2);
    expect(announced[1]).toEqual([orderHash, announced[0]![0]]);
    expect(announced[0]![0]).not.toBe(orderHash);
  });

  it('surfaces IllegalNonce when re-signing is switched off', async () => {
    const sim = await venue();
    await sender(sim, { nonceSeed: '0x08' }).placeOrder(BUY, () => {});
    const error = await sender(sim, { nonceSeed: '0x08', nonceRetries: 0 })
      .placeOrder(BUY, () => {})
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VenueHttpError);
    expect(error).toMatchObject({ status: 412, code: 'IllegalNonce' });
    expect(requestOutcome(error)).toBe('refused');
  });

  it('fetches the operator key again once after InvalidEncryption', async () => {
    const sim = await venue();
    const stale = new SigningKey(`0x${'42'.repeat(32)}`).compressedPublicKey;
    let keyFetches = 0;
    const posts: number[] = [];
    const fetchWithStaleKey: typeof fetch = async (input, init) => {
      const url = String(input);
      if (url.endsWith(PATHS.encryptionKey)) {
        keyFetches += 1;
        if (keyFetches === 1) return new Response(JSON.stringify({ value: stale, success: true, timestamp: 0 }), { status: 200 });
      }
      const response = await fetch(input, init);
      if (url.endsWith(PATHS.request)) posts.push(response.status);
      return response;
    };
    const { receipt } = await sender(sim, { fetch: fetchWithStaleKey }).placeOrder(BUY, () => {});
    expect(receipt.sequenced).toBe(true);
    expect(keyFetches).toBe(2);
    expect(posts).toEqual([422, 200]);
  });

  it('classifies failures: refused before or by the venue, unknown when the answer was lost', () => {
    expect(requestOutcome(new RequestNotSentError('ServiceUnavailable', 'no key'))).toBe('refused');
    expect(requestOutcome(new VenueHttpError(422, 'SafetyFailure', 'tick', false))).toBe('refused');
    expect(requestOutcome(new VenueHttpError(429, 'RateLimit', 'slow down', true))).toBe('refused');
    expect(requestOutcome(new VenueHttpError(503, 'ServiceUnavailable', 'lost', true))).toBe('unknown');
    expect(requestOutcome(new VenueHttpError(0, 'ServiceUnavailable', 'no answer', true))).toBe('unknown');
    expect(requestOutcome(new Error('body'))).toBe('unknown');
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
