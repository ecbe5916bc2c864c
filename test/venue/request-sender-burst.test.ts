import { createHash } from 'node:crypto';
import { hexlify } from 'ethers';
import { afterEach, describe, expect, it } from 'vitest';
import { SimClock } from '../../src/clock/clock.ts';
import { ORDER_TYPE } from '../../src/derivadex/codes.ts';
import { decryptRequest } from '../../src/derivadex/crypto/encryption.ts';
import { createNonceSource } from '../../src/derivadex/crypto/nonce.ts';
import { recoverOrderSigner } from '../../src/derivadex/crypto/eip712.ts';
import { parseRequest } from '../../src/derivadex/crypto/request.ts';
import { PATHS } from '../../src/derivadex/paths.ts';
import { createEphemeralSource } from '../../src/venue/ephemeral-source.ts';
import { OperatorKey, RequestSender } from '../../src/venue/request-sender.ts';
import { RestClient } from '../../src/venue/rest-client.ts';
import { SigningWorkers } from '../../src/venue/signing-workers.ts';
import { GATEWAY_VENUE, startGateway, type GatewayServer } from '../sim/gateway-harness.ts';
import { START, walletFor } from './venue-harness.ts';

/*
 * A burst through RequestSender: seeded as in simulation, signed inline or on worker threads, the same
 * bytes go on the wire in the same order, and the venue sequences every one under the announced hash.
 */

const TRADERS = ['alpha', 'beta', 'gamma', 'delta'];
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

interface Run {
  /** Hex of every posted request, in the order fetch was called. */
  wires: string[];
  announced: string[];
  sequenced: string[];
  threaded: number;
  operatorSecretKey: string;
}

async function run(threads: number | undefined): Promise<Run> {
  const g: GatewayServer = await startGateway({ clock: new SimClock(START), rateLimit: null });
  closers.push(() => g.close());
  for (const t of TRADERS) g.exchange.deposit(walletFor(t).address, 'main', '1000000');
  g.exchange.setMark('ETHP', '2000');
  const wires: string[] = [];
  const announced: string[] = [];
  const announcedBeforePost: number[] = [];
  const recording: typeof fetch = async (input, init) => {
    if (String(input).endsWith(PATHS.request) && init?.body instanceof Uint8Array) {
      wires.push(hexlify(init.body));
      announcedBeforePost.push(announced.length);
    }
    return fetch(input, init);
  };
  const rest = new RestClient({ baseUrl: g.url, fetch: recording });
  const operatorKey = new OperatorKey(rest);
  const signing = threads === undefined ? undefined : new SigningWorkers({ threads, chunk: 8 });
  if (signing !== undefined) {
    closers.push(() => signing.close());
    await signing.warm();
  }
  const senders = TRADERS.map(
    (t, i) =>
      new RequestSender(
        {
          rest,
          signer: walletFor(t),
          venue: () => g.venue,
          nonces: createNonceSource(`0x0${i + 1}`),
          ephemeral: createEphemeralSource(`0x1${i + 1}`),
          clock: g.options.clock,
          ...(signing === undefined ? {} : { signing }),
        },
        operatorKey,
      ),
  );
  // One turn: every order of the burst is submitted before any is signed on a thread.
  const placed = Array.from({ length: 60 }, (_, k) =>
    senders[k % senders.length]!.placeOrder(
      {
        symbol: 'ETHP',
        strategy: 'main',
        side: k % 2 === 0 ? 'Bid' : 'Ask',
        orderType: ORDER_TYPE.Limit,
        amount: '1',
        price: k % 2 === 0 ? `${1900 - k}` : `${2100 + k}`,
      },
      (hash) => announced.push(hash),
    ),
  );
  const results = await Promise.all(placed);
  for (const s of senders) s.close();
  // Every order is tracked (its hash announced) before its request is posted.
  announcedBeforePost.forEach((count, k) => expect(count).toBeGreaterThan(k));
  return {
    wires,
    announced,
    sequenced: results.map((r) => r.orderHash),
    threaded: signing?.stats.threaded ?? 0,
    operatorSecretKey: g.options.operatorSecretKey,
  };
}

/**
 * SHA-256 of the 60 wires (hex, one per line) as the sender produced them before it had an encryption
 * pool, a native signer or threads (ethers signing, ECDH inline at each request): the seeded bytes are a
 * contract of `simulate`, kept through every speed-up.
 */
const WIRES_BEFORE = 'd2592a5ee1bc97d6e95ab4832b50608aab111cd60db7e9d90ad5805dc24189c8';

describe('RequestSender bursts on worker threads', () => {
  it('puts the same bytes on the wire in the same order as signing inline', async () => {
    const inline = await run(undefined);
    const threaded = await run(2);
    expect(threaded.threaded).toBeGreaterThan(0);
    expect(threaded.wires).toEqual(inline.wires);
    expect(threaded.announced).toEqual(inline.announced);
    expect(threaded.sequenced).toEqual(inline.sequenced);
    expect(new Set(inline.sequenced).size).toBe(60);
    expect(createHash('sha256').update(inline.wires.join('\n')).digest('hex')).toBe(WIRES_BEFORE);
  });

  it('every request of the burst decrypts with the operator key and recovers to its trader', async () => {
    const threaded = await run(2);
    expect(threaded.wires.length).toBe(60);
    threaded.wires.forEach((wire, k) => {
      const parsed = parseRequest(decryptRequest(Buffer.from(wire.slice(2), 'hex'), threaded.operatorSecretKey).json);
      if (!parsed.ok || parsed.request.t !== 'Order') throw new Error(`request ${k} does not parse as an Order`);
      const { signature, ...order } = parsed.request.c;
      expect(recoverOrderSigner({ ...order }, signature, GATEWAY_VENUE)).toBe(walletFor(TRADERS[k % TRADERS.length]!).address);
    });
  });
});
