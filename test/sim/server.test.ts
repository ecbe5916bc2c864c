import { Wallet, computeAddress, keccak256, recoverAddress, toUtf8Bytes } from 'ethers';
import { afterEach, describe, expect, it } from 'vitest';
import { SimClock } from '../../src/clock/clock.ts';
import { WorkTracker } from '../../src/clock/work-tracker.ts';
import { strategyIdHash } from '../../src/derivadex/crypto/bytes32.ts';
import { signOrder, type OrderParams } from '../../src/derivadex/crypto/eip712.ts';
import { encryptRequest } from '../../src/derivadex/crypto/encryption.ts';
import { createNonceSource } from '../../src/derivadex/crypto/nonce.ts';
import { buildCancelOrderRequest, buildOrderRequest, formatRequest, type ReplayWindow } from '../../src/derivadex/crypto/request.ts';
import {
  DEFAULT_RECV_WINDOW_MS,
  receiptSchema,
  requestErrorBodySchema,
  type Receipt,
  type RequestErrorBody,
} from '../../src/derivadex/signed-requests.ts';
import { ORDER_TYPE, ORDER_UPDATE_REASON } from '../../src/derivadex/codes.ts';
import type { FeedMessage } from '../../src/derivadex/feed-messages.ts';
import type { OrderUpdateRow } from '../../src/derivadex/order-update.ts';
import { PATHS } from '../../src/derivadex/paths.ts';
import { traderAddress21 } from '../../src/derivadex/trader-address.ts';
import { createRng } from '../../src/sim/rng.ts';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/sim/server.ts';
import { RawClient } from './sim-harness.ts';

const START = Date.parse('2026-01-05T13:00:00Z');
// Fixed test keys (never used anywhere real).
const ALICE = new Wallet('0x0123456789012345678901234567890123456789012345678901234567890123');
const MALLORY = new Wallet('0x3210987654321098765432109876543210987654321098765432109876543210');

interface Setup {
  sim: Simulator;
  clock: SimClock;
  tracker: WorkTracker;
  client: RawClient;
  /** An encrypted order signed by `wallet`, with the replay window from the simulator's clock. */
  orderWire(order: Partial<OrderParams>, wallet?: Wallet): { wire: Uint8Array; orderHash: string; nonce: string; json: string };
  /** The replay window of a request built now (the simulator's clock). */
  replay(): ReplayWindow;
  encrypt(json: string): Uint8Array;
  /** POST /v2/request: the status and the bare body (a receipt, or a flat error). */
  post(body: Uint8Array | string): Promise<PostAnswer>;
  get<T>(path: string): Promise<RestEnvelope<T>>;
  /** Resolves once every frame sent has been handled and every request answered. */
  idle(): Promise<void>;
}

interface PostAnswer {
  status: number;
  body: unknown;
}

/** The receipt of a 200 answer (`Sequenced` or `SafetyFailure`; SDK `TradeReceipt`). */
function receiptOf(answer: PostAnswer): Receipt {
  expect(answer.status).toBe(200);
  return receiptSchema.parse(answer.body);
}

/** `[status, error_reason]` of a refused request (flat body, docs error reference). */
function refusalOf(answer: PostAnswer): [number, RequestErrorBody['error_reason']] {
  return [answer.status, requestErrorBodySchema.parse(answer.body).error_reason];
}

let open: Setup | undefined;
afterEach(async () => {
  open?.client.close();
  await open?.sim.close();
  open = undefined;
});

async function setup(options: Partial<SimulatorOptions> = {}): Promise<Setup> {
  const clock = new SimClock(START);
  const tracker = new WorkTracker();
  const sim = await startSimulator({ clock, tracker, seed: 3, ...options });
  sim.exchange.deposit(ALICE.address, 'main', '100000');
  sim.setMark('ETHP', '2000');
  const client = await RawClient.connect(sim.wsUrl, tracker);
  const rng = createRng(11);
  const nonces = createNonceSource('0x01');
  const encrypt = (json: string): Uint8Array =>
    encryptRequest(json, sim.operatorPublicKey, { clientSecretKey: rng.bytes(32), nonce: rng.bytes(12) });
  const s: Setup = {
    sim,
    clock,
    tracker,
    client,
    encrypt,
    replay: () => ({ client_timestamp_ms: clock.now(), recv_window_ms: DEFAULT_RECV_WINDOW_MS }),
    orderWire(order, wallet = ALICE) {
      const params: OrderParams = {
        symbol: 'ETHP',
        strategy: 'main',
        side: 'Bid',
        orderType: ORDER_TYPE.Market,
        nonce: nonces.next(),
        amount: '1',
        price: '0',
        stopPrice: '0',
        ...order,
      };
      const built = buildOrderRequest(wallet, params, sim.venue, s.replay());
      return { wire: encrypt(built.json), orderHash: built.orderHash, nonce: params.nonce, json: built.json };
    },
    async post(body) {
      const response = await fetch(`${sim.url}${PATHS.request}`, {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream' },
        body: typeof body === 'string' ? body : new Uint8Array(body),
      });
      return { status: response.status, body: (await response.json()) as unknown };
    },
    async get<T>(path: string) {
      return (await (await fetch(`${sim.url}${path}`)).json()) as RestEnvelope<T>;
    },
    idle: () => tracker.whenIdle(),
  };
  open = s;
  return s;
}

/** Sends a (UN)SUBSCRIBE and waits for its ack; the frames it causes are begun before the ack is sent. */
async function request(client: RawClient, tracker: WorkTracker, message: { nonce: string }): Promise<void> {
  client.send(message);
  for (;;) {
    await client.waitFor(client.received.length + 1);
    if (client.acks().some((ack) => ack.nonce === message.nonce)) break;
  }
  await tracker.whenIdle();
}

async function subscribe(s: Setup, feeds: unknown[], nonce = 'n1'): Promise<void> {
  await request(s.client, s.tracker, { action: 'SUBSCRIBE', nonce, feeds } as { nonce: string });
}

/** A read's `{value, success, timestamp}` (rest-bodies.ts envelopeSchema). */
interface RestEnvelope<T> {
  value: T;
  success: boolean;
  timestamp: number;
}

const ALICE21 = traderAddress21(ALICE.address);
const MALLORY21 = traderAddress21(MALLORY.address);
const orderFeed = { feed: 'ORDER_UPDATE', params: { orderFilters: [{ traderAddress: ALICE21, strategyIdHash: strategyIdHash('main') }] } };

describe('quiescence', () => {
  it('counts a request from arrival to response, with the frames it causes begun before it ends', async () => {
    const s = await setup();
    await subscribe(s, [orderFeed, { feed: 'STRATEGY_UPDATE', params: { strategyFilters: [{ traderAddress: ALICE21 }] } }]);
    const counts: number[] = [];
    let begun = 0;
    const begin = s.tracker.begin.bind(s.tracker);
    const end = s.tracker.end.bind(s.tracker);
    s.tracker.begin = () => {
      begin();
      begun += 1;
      counts.push(s.tracker.inFlight);
    };
    s.tracker.end = () => {
      end();
      counts.push(s.tracker.inFlight);
    };
    expect((await s.post(s.orderWire({ amount: '0.1' }).wire)).status).toBe(200);
    await s.idle();
    // the request + ORDER_UPDATE Trade + STRATEGY_UPDATE Trade + Fee: 4 begun, 4 ended, zero only at the end
    expect(begun).toBe(4);
    expect(counts).toHaveLength(8);
    expect(counts.slice(0, -1)).not.toContain(0);
    expect(counts.at(-1)).toBe(0);
    expect(s.client.frames().map((f) => f.subscriptionKey)).toEqual([
      `ORDER_UPDATE|traderAddress=${ALICE21}|strategyIdHash=${strategyIdHash('main')}`,
      `STRATEGY_UPDATE|traderAddress=${ALICE21}`,
      `ORDER_UPDATE|traderAddress=${ALICE21}|strategyIdHash=${strategyIdHash('main')}`,
      `STRATEGY_UPDATE|traderAddress=${ALICE21}`,
      `STRATEGY_UPDATE|traderAddress=${ALICE21}`,
    ]);
  });
});

describe('POST /v2/request', () => {
  it('sequences an encrypted, signed order: a bare Sequenced receipt signed by the operator, and the order executes', async () => {
    const s = await setup();
    const { wire, orderHash, nonce, json } = s.orderWire({ amount: '0.5' });
    const receipt = receiptOf(await s.post(wire));
    if (receipt.t !== 'Sequenced') throw new Error(`expected Sequenced, got ${JSON.stringify(receipt)}`);
    // SDK SequencedReceiptContent (§4.4, §10.9): the request's nonce, keccak256 of the plaintext, the signer.
    expect(receipt.c).toMatchObject({
      nonce,
      requestHash: keccak256(toUtf8Bytes(json)),
      requestIndex: 1,
      sender: ALICE.address.toLowerCase(),
    });
    expect(recoverAddress(receipt.c.requestHash, receipt.c.enclaveSignature)).toBe(computeAddress(s.sim.operatorPublicKey));
    await s.idle();
    const rows = s.sim.exchange.orderUpdates({ trader: ALICE.address, orderHashes: [orderHash] }).value;
    expect(rows.map((r) => r.reason)).toEqual([ORDER_UPDATE_REASON.Trade]);
    // A body of 0x + hex text is accepted too.
    const hexBody = await s.post(`0x${Buffer.from(s.orderWire({ amount: '0.1' }).wire).toString('hex')}`);
    expect(receiptOf(hexBody)).toMatchObject({ t: 'Sequenced', c: { requestIndex: 2 } });
  });

  it('cancels a resting order with a signed CancelOrder', async () => {
    const s = await setup();
    const placed = s.orderWire({ orderType: ORDER_TYPE.Limit, price: '1990' });
    expect(receiptOf(await s.post(placed.wire)).t).toBe('Sequenced');
    expect(s.sim.exchange.orderBook({ trader: ALICE.address }).map((o) => o.orderHash)).toEqual([placed.orderHash]);
    const cancel = buildCancelOrderRequest(
      ALICE,
      { symbol: 'ETHP', orderHash: placed.orderHash, nonce: createNonceSource('0x02').next() },
      s.sim.venue,
      s.replay(),
    );
    expect(receiptOf(await s.post(s.encrypt(cancel.json))).t).toBe('Sequenced');
    expect(s.sim.exchange.orderBook({ trader: ALICE.address })).toEqual([]);
  });

  it('takes the signer as the trader: another key`s cancel is a SafetyFailure receipt (OrderNotFound)', async () => {
    const s = await setup();
    const placed = s.orderWire({ orderType: ORDER_TYPE.Limit, price: '1990' });
    expect(receiptOf(await s.post(placed.wire)).t).toBe('Sequenced');
    const forged = buildCancelOrderRequest(
      MALLORY,
      { symbol: 'ETHP', orderHash: placed.orderHash, nonce: createNonceSource('0x09').next() },
      s.sim.venue,
      s.replay(),
    );
    expect(receiptOf(await s.post(s.encrypt(forged.json)))).toMatchObject({ t: 'SafetyFailure', c: { inner: 'OrderNotFound' } });
    expect(s.sim.exchange.orderBook({ trader: ALICE.address }).length).toBe(1);
  });

  it('refuses garbage (422 InvalidEncryption), a bad payload (400), an unrecoverable signature and an off-tick price (SafetyFailure)', async () => {
    const s = await setup();
    expect(refusalOf(await s.post(new Uint8Array(200).fill(7)))).toEqual([422, 'InvalidEncryption']);
    const payload = await s.post(s.encrypt('{"t":"Order","c":{}}'));
    expect(refusalOf(payload)).toEqual([400, 'InvalidRequestPayload']);
    expect(requestErrorBodySchema.parse(payload.body).message).toContain('c.symbol');

    const params: OrderParams = {
      symbol: 'ETHP',
      strategy: 'main',
      side: 'Bid',
      orderType: ORDER_TYPE.Market,
      nonce: createNonceSource('0x09').next(),
      amount: '1',
      price: '0',
      stopPrice: '0',
    };
    const noSigner = formatRequest({
      t: 'Order',
      c: { ...params, sessionKeySignature: null, ...s.replay(), signature: `0x${'00'.repeat(64)}1b` },
    });
    expect(receiptOf(await s.post(s.encrypt(noSigner)))).toMatchObject({ t: 'SafetyFailure', c: { inner: 'SignatureRecoveryMismatch' } });
    // Signed by another key, an order is that key's: sequenced for MALLORY, never ALICE's.
    const mallorys = formatRequest({
      t: 'Order',
      c: { ...params, sessionKeySignature: null, ...s.replay(), signature: signOrder(MALLORY, params, s.sim.venue).signature },
    });
    expect(receiptOf(await s.post(s.encrypt(mallorys)))).toMatchObject({ t: 'Sequenced', c: { sender: MALLORY.address.toLowerCase() } });

    const offTick = await s.post(s.orderWire({ orderType: ORDER_TYPE.Limit, price: '1999.95' }).wire);
    expect(receiptOf(offTick)).toMatchObject({ t: 'SafetyFailure', c: { inner: 'PriceNotMultipleOfTickSize' } });
    // Nothing of ALICE's reached the exchange.
    expect(s.sim.exchange.orderUpdates({ trader: ALICE.address }).value).toEqual([]);
  });

  it('checks the replay window on the simulator clock: missing 400, bad window 400, expired and future 412', async () => {
    const s = await setup();
    const wire = (replay: ReplayWindow | undefined) =>
      s.encrypt(
        buildOrderRequest(
          ALICE,
          {
            symbol: 'ETHP',
            strategy: 'main',
            side: 'Bid',
            orderType: 0,
            nonce: createNonceSource('0x0a').next(),
            amount: '1',
            price: '1990',
            stopPrice: '0',
          },
          s.sim.venue,
          replay,
        ).json,
      );
    expect(refusalOf(await s.post(wire(undefined)))).toEqual([400, 'InvalidRequestPayload']);
    expect(refusalOf(await s.post(wire({ client_timestamp_ms: START, recv_window_ms: 60_001 })))).toEqual([400, 'InvalidRecvWindow']);
    s.clock.advanceTo(START + 10_000);
    expect(refusalOf(await s.post(wire({ client_timestamp_ms: START, recv_window_ms: 5000 })))).toEqual([412, 'ExpiredTimestamp']);
    expect(refusalOf(await s.post(wire({ client_timestamp_ms: START + 11_001, recv_window_ms: 5000 })))).toEqual([412, 'FutureTimestamp']);
    expect(receiptOf(await s.post(wire(s.replay()))).t).toBe('Sequenced');
  });

  it('refuses a replayed nonce with 412 IllegalNonce', async () => {
    const s = await setup();
    const { wire } = s.orderWire({ amount: '0.1' });
    expect(receiptOf(await s.post(wire)).t).toBe('Sequenced');
    expect(refusalOf(await s.post(wire))).toEqual([412, 'IllegalNonce']);
  });

  it('rate-limits per trader on the injected clock (429 RateLimit)', async () => {
    const s = await setup({ rateLimit: { capacity: 2, refillPerSecond: 1 } });
    expect((await s.post(s.orderWire({ amount: '0.1' }).wire)).status).toBe(200);
    expect((await s.post(s.orderWire({ amount: '0.1' }).wire)).status).toBe(200);
    expect(refusalOf(await s.post(s.orderWire({ amount: '0.1' }).wire))).toEqual([429, 'RateLimit']);
    s.clock.advanceTo(START + 1000); // one token back
    expect(receiptOf(await s.post(s.orderWire({ amount: '0.1' }).wire)).t).toBe('Sequenced');
  });

  it('in stepped mode answers with the receipt at once and executes on flush()', async () => {
    const s = await setup({ mode: 'stepped' });
    const { wire, orderHash } = s.orderWire({ amount: '0.1' });
    expect(receiptOf(await s.post(wire)).t).toBe('Sequenced');
    await s.idle();
    expect(s.sim.exchange.orderUpdates({ orderHashes: [orderHash] }).value).toEqual([]);
    expect(s.sim.flush()).toBe(1);
    await s.idle();
    expect(s.sim.flush()).toBe(0);
    expect(s.sim.exchange.orderUpdates({ orderHashes: [orderHash] }).value.map((r) => r.reason)).toEqual([ORDER_UPDATE_REASON.Trade]);
  });
});

describe('stepped determinism over sockets', () => {
  async function run(order: 'alice-first' | 'bob-first'): Promise<string> {
    const s = await setup({ mode: 'stepped', liquidity: { depth: '1', levels: 3, spreadTicks: 2 } });
    s.sim.exchange.deposit(MALLORY.address, 'main', '100000');
    await subscribe(s, [{ feed: 'ORDER_UPDATE', params: { orderFilters: [{ traderAddress: ALICE21 }, { traderAddress: MALLORY21 }] } }]);
    const alice = [s.orderWire({ amount: '2' }), s.orderWire({ amount: '1' })];
    const mallory = [s.orderWire({ amount: '2' }, MALLORY)];
    const bodies = order === 'alice-first' ? [...alice, ...mallory] : [mallory[0]!, alice[0]!, alice[1]!];
    // Sent concurrently: which one the server reads first is up to the sockets.
    const answers = await Promise.all(bodies.map((b) => s.post(b.wire)));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    while (s.sim.flush() > 0) await s.idle();
    await s.idle();
    const frames = JSON.stringify(s.client.frames());
    s.client.close();
    await s.sim.close();
    open = undefined;
    return frames;
  }

  it('gives the same frames whatever order the requests arrived in', async () => {
    const a = await run('alice-first');
    const b = await run('bob-first');
    expect(b).toBe(a);
    // Alice (0x1479…) sorts before Mallory (0x8B28…): her 2 takes 2000.2 and 2000.3, her 1 takes 2000.4,
    // and nothing is left for Mallory.
    // The aggressor of a trade is its takerOrderIntent; a rejected order is the row's makerOrderIntent (§10.7).
    const rows = (JSON.parse(a) as FeedMessage[])
      .filter((f) => f.contents.messageType === 'UPDATE')
      .map((f) => f.contents.data[0] as OrderUpdateRow);
    const trader = (r: OrderUpdateRow): string => (r.takerOrderIntent ?? r.makerOrderIntent).traderAddress;
    expect(rows.map((r) => [trader(r), r.reason, r.reason === ORDER_UPDATE_REASON.Trade ? r.price : r.orderRejection])).toEqual([
      [ALICE21, ORDER_UPDATE_REASON.Trade, '2000.2'],
      [ALICE21, ORDER_UPDATE_REASON.Trade, '2000.3'],
      [ALICE21, ORDER_UPDATE_REASON.Trade, '2000.4'],
      [MALLORY21, ORDER_UPDATE_REASON.OrderRejection, 3],
    ]);
  });
});

describe('faults on the wire', () => {
  it('drop-acks executes the request but answers 503 ServiceUnavailable', async () => {
    const s = await setup();
    s.sim.injectFault({ kind: 'drop-acks', count: 1 });
    const { wire, orderHash } = s.orderWire({ amount: '0.1' });
    expect(refusalOf(await s.post(wire))).toEqual([503, 'ServiceUnavailable']);
    expect(s.sim.exchange.orderUpdates({ orderHashes: [orderHash] }).value.length).toBe(1);
    expect((await s.post(s.orderWire({ amount: '0.1' }).wire)).status).toBe(200); // count 1: only one
  });

  it('delay-acks answers only after the clock moved by the duration, and lets the runner reach quiescence meanwhile', async () => {
    const s = await setup();
    await subscribe(s, [orderFeed]);
    s.sim.injectFault({ kind: 'delay-acks', duration: 5000 });
    const { wire, orderHash } = s.orderWire({ amount: '0.1' });
    let answered = false;
    const answer = s.post(wire).then((a) => {
      answered = true;
      return a;
    });
    // The request executed (its ORDER_UPDATE arrives) and the simulator stopped counting the held answer.
    await s.client.waitFor(3);
    await s.idle();
    expect(answered).toBe(false);
    s.clock.advanceTo(START + 4999);
    s.sim.flush();
    await s.idle();
    expect(answered).toBe(false);
    s.clock.advanceTo(START + 5000);
    s.sim.flush();
    expect(receiptOf(await answer)).toMatchObject({ t: 'Sequenced', c: { sender: ALICE.address.toLowerCase() } });
    expect(s.sim.exchange.orderUpdates({ orderHashes: [orderHash] }).value.length).toBe(1);
  });

  it("reject-next-order turns the strategy's next order into an OrderRejection", async () => {
    const s = await setup();
    s.sim.injectFault({ kind: 'reject-next-order', trader: ALICE.address, strategyId: 'main', reason: 'SolvencyGuard' });
    expect((await s.post(s.orderWire({ amount: '0.1' }).wire)).status).toBe(200);
    expect(s.sim.exchange.orderUpdates({ trader: ALICE.address }).value.at(-1)).toMatchObject({
      reason: ORDER_UPDATE_REASON.OrderRejection,
      orderRejection: 1,
    });
  });
});
