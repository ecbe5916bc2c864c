import { SERVER_CLOSE_CODE } from '../../src/venue/protocol.ts';
import { Wallet } from 'ethers';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { SimClock } from '../../src/clock/clock.ts';
import { WorkTracker } from '../../src/clock/work-tracker.ts';
import { strategyIdHash } from '../../src/derivadex/crypto/bytes32.ts';
import { signOrder, type OrderParams } from '../../src/derivadex/crypto/eip712.ts';
import { encryptRequest } from '../../src/derivadex/crypto/encryption.ts';
import { createNonceSource } from '../../src/derivadex/crypto/nonce.ts';
import { buildCancelOrderRequest, buildOrderRequest, formatRequest } from '../../src/derivadex/crypto/request.ts';
import { ORDER_UPDATE_REASON, PATHS, type FeedMessage, type OrderUpdateRow, type RestEnvelope } from '../../src/venue/protocol.ts';
import { createRng } from '../../src/sim/rng.ts';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/sim/server.ts';

const START = Date.parse('2026-01-05T13:00:00Z');
// Fixed test keys (never used anywhere real).
const ALICE = new Wallet('0x0123456789012345678901234567890123456789012345678901234567890123');
const MALLORY = new Wallet('0x3210987654321098765432109876543210987654321098765432109876543210');

type Received = FeedMessage | { action: string; nonce: string; result: { error?: string } };

/** A deliberately tiny WebSocket client: records every frame and ends its tracker work once recorded. */
class RawClient {
  readonly frames: Received[] = [];
  readonly closed: Promise<number>;
  readonly #ws: WebSocket;
  #waiters: Array<() => void> = [];

  private constructor(ws: WebSocket, tracker: WorkTracker) {
    this.#ws = ws;
    ws.on('message', (data) => {
      this.frames.push(JSON.parse(data.toString()) as Received);
      tracker.end();
      for (const w of this.#waiters.splice(0)) w();
    });
    this.closed = new Promise((resolve) =>
      ws.on('close', (code) => {
        // The simulator counts its deliberate close (SERVER_CLOSE_CODE) as a frame in flight.
        if (code === SERVER_CLOSE_CODE) tracker.end();
        resolve(code);
      }),
    );
  }

  static async connect(url: string, tracker: WorkTracker): Promise<RawClient> {
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return new RawClient(ws, tracker);
  }

  send(message: unknown): void {
    this.#ws.send(JSON.stringify(message));
  }

  /** Waits (on socket I/O) until `count` frames have arrived. */
  async waitFor(count: number): Promise<Received[]> {
    while (this.frames.length < count) await new Promise<void>((resolve) => this.#waiters.push(resolve));
    return this.frames;
  }

  feed(): FeedMessage[] {
    return this.frames.filter((f): f is FeedMessage => 'ordinal' in f);
  }

  close(): void {
    this.#ws.close();
  }
}

interface Setup {
  sim: Simulator;
  clock: SimClock;
  tracker: WorkTracker;
  client: RawClient;
  /** An encrypted, signed order from `wallet` (its own address as traderAddress). */
  orderWire(order: Partial<OrderParams>, wallet?: Wallet): { wire: Uint8Array; orderHash: string; nonce: string };
  encrypt(json: string): Uint8Array;
  post(body: Uint8Array | string): Promise<{ status: number; body: RestEnvelope<Record<string, unknown>> }>;
  get<T>(path: string): Promise<RestEnvelope<T>>;
  /** Resolves once every frame sent has been handled and every request answered. */
  idle(): Promise<void>;
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
    orderWire(order, wallet = ALICE) {
      const params: OrderParams = {
        symbol: 'ETHP',
        strategy: 'main',
        side: 'Bid',
        orderType: 'Market',
        nonce: nonces.next(),
        amount: '1',
        price: '0',
        stopPrice: '0',
        ...order,
      };
      const built = buildOrderRequest(wallet, params, sim.venue);
      return { wire: encrypt(built.json), orderHash: built.orderHash, nonce: params.nonce };
    },
    async post(body) {
      const response = await fetch(`${sim.url}${PATHS.request}`, {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream' },
        body: typeof body === 'string' ? body : new Uint8Array(body),
      });
      return { status: response.status, body: (await response.json()) as RestEnvelope<Record<string, unknown>> };
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
    const frames = await client.waitFor(client.frames.length + 1);
    if (frames.some((f) => 'action' in f && f.nonce === message.nonce)) break;
  }
  await tracker.whenIdle();
}

async function subscribe(s: Setup, feeds: unknown[], nonce = 'n1'): Promise<void> {
  await request(s.client, s.tracker, { action: 'SUBSCRIBE', nonce, feeds } as { nonce: string });
}

const orderFeed = { feed: 'ORDER_UPDATE', params: { trader: ALICE.address, strategyIdHash: strategyIdHash('main') } };

describe('REST', () => {
  it('serves exchange info and the operator key in the {value, success, timestamp} envelope', async () => {
    const s = await setup();
    const info = await s.get<{ symbols: Array<Record<string, string>>; chainId: number; amountScaleDecimals: number }>(PATHS.exchangeInfo);
    expect(info.success).toBe(true);
    expect(info.timestamp).toBe(START / 1000);
    expect(info.value.symbols.map((x) => x.symbol)).toEqual(['BTCP', 'ETHP']);
    expect(info.value.symbols[1]).toMatchObject({
      tickSize: '0.1',
      minOrderSize: '0.0001',
      maxOrderNotional: '1000000',
      maxTakerPriceDeviation: '0.02',
      mmr: '0.05',
    });
    expect(info.value.amountScaleDecimals).toBe(6);
    const key = await s.get<string>(PATHS.encryptionKey);
    expect(key.value).toBe(s.sim.operatorPublicKey);
    expect(key.value).toMatch(/^0x0[23][0-9a-f]{64}$/);
    const missing = await s.get<{ code: string }>('/nope');
    expect([missing.success, missing.value.code]).toEqual([false, 'NotFound']);
    const bad = await s.get<{ code: string }>(`${PATHS.orderUpdates}?trader=${ALICE.address}`);
    expect(bad.value.code).toBe('InvalidRequestPayload');
  });
});

describe('WebSocket feeds', () => {
  it('acks a subscription, sends a PARTIAL of the current state, then UPDATEs with ordinals +1', async () => {
    const s = await setup();
    await subscribe(s, [{ feed: 'MARK_PRICE', params: { symbols: ['ETHP'] } }, orderFeed]);
    expect(s.client.frames[0]).toEqual({ action: 'SUBSCRIBE', nonce: 'n1', result: {} });
    const [mark, orders] = s.client.feed();
    expect(mark).toMatchObject({
      ordinal: 1,
      feed: 'MARK_PRICE',
      subscriptionKey: 'MARK_PRICE:ETHP',
      contents: { messageType: 'PARTIAL', data: [{ symbol: 'ETHP', price: '2000', epochId: 1, fundingRate: '0' }] },
    });
    expect(orders).toEqual({
      sequence: expect.any(Number),
      ordinal: 2,
      feed: 'ORDER_UPDATE',
      subscriptionKey: `ORDER_UPDATE:${ALICE.address}:${strategyIdHash('main')}`,
      contents: { messageType: 'PARTIAL', data: [] }, // user feeds start empty: bootstrap from REST
    });
    s.clock.advanceTo(START + 1000);
    s.sim.setMark('ETHP', '2001.5');
    s.sim.setMark('ETHP', '2002');
    await s.idle();
    const updates = s.client.feed().slice(2);
    expect(updates.map((u) => [u.ordinal, u.contents.messageType, (u.contents.data[0] as { price: string }).price])).toEqual([
      [3, 'UPDATE', '2001.5'],
      [4, 'UPDATE', '2002'],
    ]);
    expect(updates[1]!.sequence).toBeGreaterThan(updates[0]!.sequence); // global: every exchange event counts
  });

  it('answers an unknown feed or bad parameters with result.error and subscribes nothing', async () => {
    const s = await setup();
    await subscribe(s, [{ feed: 'TRADES', params: {} }], 'a');
    await subscribe(s, [{ feed: 'MARK_PRICE', params: { symbols: ['DOGEP'] } }], 'b');
    await subscribe(s, [{ feed: 'ORDER_UPDATE', params: { trader: 'me' } }], 'c');
    await request(s.client, s.tracker, {
      action: 'UNSUBSCRIBE',
      nonce: 'd',
      feeds: [{ feed: 'MARK_PRICE', params: { symbols: ['ETHP'] } }],
    } as { nonce: string });
    expect(s.client.frames).toEqual([
      { action: 'SUBSCRIBE', nonce: 'a', result: { error: expect.stringContaining('unknown feed "TRADES"') } },
      { action: 'SUBSCRIBE', nonce: 'b', result: { error: 'feeds[0].params.symbols[0]: unknown symbol "DOGEP"' } },
      { action: 'SUBSCRIBE', nonce: 'c', result: { error: 'feeds[0].params.trader: expected an address' } },
      { action: 'UNSUBSCRIBE', nonce: 'd', result: { error: 'not subscribed: MARK_PRICE:ETHP' } },
    ]);
    s.sim.setMark('ETHP', '2001');
    await s.idle();
    expect(s.client.feed()).toEqual([]);
  });

  it('sends the book as a PARTIAL of levels, then level changes', async () => {
    const s = await setup({ liquidity: { depth: '2', levels: 2, spreadTicks: 1 } });
    await subscribe(s, [{ feed: 'ORDER_BOOK_L2', params: { symbols: ['ETHP'] } }]);
    expect(s.client.feed()[0]!.contents).toEqual({
      messageType: 'PARTIAL',
      data: [
        { symbol: 'ETHP', side: 0, price: '1999.9', amount: '2' },
        { symbol: 'ETHP', side: 0, price: '1999.8', amount: '2' },
        { symbol: 'ETHP', side: 1, price: '2000.1', amount: '2' },
        { symbol: 'ETHP', side: 1, price: '2000.2', amount: '2' },
      ],
    });
    s.sim.setMark('ETHP', '2000.1');
    await s.idle();
    expect(s.client.feed()[1]!.contents.data).toEqual([
      { symbol: 'ETHP', side: 0, price: '2000', amount: '2' },
      { symbol: 'ETHP', side: 0, price: '1999.8', amount: '0' },
      { symbol: 'ETHP', side: 1, price: '2000.1', amount: '0' },
      { symbol: 'ETHP', side: 1, price: '2000.3', amount: '2' },
    ]);
  });
});

describe('quiescence', () => {
  it('counts a request from arrival to response, with the frames it causes begun before it ends', async () => {
    const s = await setup();
    await subscribe(s, [orderFeed, { feed: 'STRATEGY_UPDATE', params: { trader: ALICE.address } }]);
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
    expect(s.client.feed().map((f) => f.subscriptionKey)).toEqual([
      `ORDER_UPDATE:${ALICE.address}:${strategyIdHash('main')}`,
      `STRATEGY_UPDATE:${ALICE.address}`,
      `ORDER_UPDATE:${ALICE.address}:${strategyIdHash('main')}`,
      `STRATEGY_UPDATE:${ALICE.address}`,
      `STRATEGY_UPDATE:${ALICE.address}`,
    ]);
  });
});

describe('POST /v2/request', () => {
  it('accepts an encrypted, signed order: receipt, then ORDER_UPDATE rows on the feed and over REST', async () => {
    const s = await setup();
    await subscribe(s, [orderFeed]);
    const { wire, orderHash, nonce } = s.orderWire({ amount: '0.5' });
    const answer = await s.post(wire);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ value: { nonce, requestIndex: 1, sequenced: true, orderHash }, success: true, timestamp: START / 1000 });
    await s.idle();
    const rows = s.client
      .feed()
      .slice(1)
      .flatMap((f) => f.contents.data as OrderUpdateRow[]);
    expect(rows).toEqual([
      expect.objectContaining({
        orderHash,
        reason: ORDER_UPDATE_REASON.Trade,
        trader: ALICE.address,
        fillAmount: '0.5',
        fillPrice: '2000.2',
        filledAmount: '0.5',
      }),
    ]);
    const replay = await s.get<OrderUpdateRow[]>(
      `${PATHS.orderUpdates}?trader=${ALICE.address}&strategyIdHash=${strategyIdHash('main')}&sinceOrdinal=0`,
    );
    expect(replay.value).toEqual(rows);
    // A body of 0x + hex text is accepted too.
    const hexBody = await s.post(`0x${Buffer.from(s.orderWire({ amount: '0.1' }).wire).toString('hex')}`);
    expect(hexBody.status).toBe(200);
    const after = await s.get<OrderUpdateRow[]>(
      `${PATHS.orderUpdates}?trader=${ALICE.address}&strategyIdHash=${strategyIdHash('main')}&sinceOrdinal=${rows[0]!.globalOrdinal}`,
    );
    expect(after.value).toEqual([expect.objectContaining({ reason: ORDER_UPDATE_REASON.Trade, fillAmount: '0.1' })]);
    const state = await s.get<Record<string, unknown>>(`${PATHS.strategy}?trader=${ALICE.address}&strategyId=main`);
    expect(state.value).toMatchObject({
      strategyIdHash: strategyIdHash('main'),
      positions: [{ symbol: 'ETHP', side: 0, size: '0.6', avgEntryPrice: '2000.2' }],
    });
  });

  it('cancels a resting order with a signed CancelOrder', async () => {
    const s = await setup();
    const placed = s.orderWire({ orderType: 'Limit', price: '1990' });
    expect((await s.post(placed.wire)).status).toBe(200);
    const open = await s.get<Array<{ orderHash: string }>>(
      `${PATHS.openOrders}?trader=${ALICE.address}&strategyIdHash=${strategyIdHash('main')}`,
    );
    expect(open.value.map((o) => o.orderHash)).toEqual([placed.orderHash]);
    const cancel = buildCancelOrderRequest(
      ALICE,
      { symbol: 'ETHP', orderHash: placed.orderHash, nonce: createNonceSource('0x02').next() },
      s.sim.venue,
    );
    expect((await s.post(s.encrypt(cancel.json))).status).toBe(200);
    const after = await s.get<unknown[]>(`${PATHS.openOrders}?trader=${ALICE.address}&strategyIdHash=${strategyIdHash('main')}`);
    expect(after.value).toEqual([]);
  });

  it('refuses a signature by another key (422 SafetyFailure), garbage (422 InvalidEncryption), a bad payload (400)', async () => {
    const s = await setup();
    const params: OrderParams = {
      symbol: 'ETHP',
      strategy: 'main',
      side: 'Bid',
      orderType: 'Market',
      nonce: createNonceSource('0x09').next(),
      amount: '1',
      price: '0',
      stopPrice: '0',
    };
    const forged = formatRequest({
      t: 'Order',
      c: { traderAddress: ALICE.address, ...params, signature: signOrder(MALLORY, params, s.sim.venue).signature },
    });
    const wrongKey = await s.post(s.encrypt(forged));
    expect([wrongKey.status, wrongKey.body.success, wrongKey.body.value.code]).toEqual([422, false, 'SafetyFailure']);
    expect(wrongKey.body.value.message).toContain(`not traderAddress ${ALICE.address}`);

    const garbage = await s.post(new Uint8Array(200).fill(7));
    expect([garbage.status, garbage.body.value.code]).toEqual([422, 'InvalidEncryption']);

    const payload = await s.post(s.encrypt('{"t":"Order","c":{}}'));
    expect([payload.status, payload.body.value.code]).toEqual([400, 'InvalidRequestPayload']);

    const offTick = await s.post(s.orderWire({ orderType: 'Limit', price: '1999.95' }).wire);
    expect([offTick.status, offTick.body.value.code]).toEqual([422, 'SafetyFailure']);
    // Nothing of it reached the exchange.
    expect(s.sim.exchange.orderUpdates(ALICE.address, strategyIdHash('main'))).toEqual([]);
  });

  it('refuses a replayed nonce with 412 IllegalNonce', async () => {
    const s = await setup();
    const { wire } = s.orderWire({ amount: '0.1' });
    expect((await s.post(wire)).status).toBe(200);
    const replay = await s.post(wire);
    expect([replay.status, replay.body.value.code]).toEqual([412, 'IllegalNonce']);
  });

  it('rate-limits per trader on the injected clock (429 RateLimit)', async () => {
    const s = await setup({ rateLimit: { capacity: 2, refillPerSecond: 1 } });
    expect((await s.post(s.orderWire({ amount: '0.1' }).wire)).status).toBe(200);
    expect((await s.post(s.orderWire({ amount: '0.1' }).wire)).status).toBe(200);
    const limited = await s.post(s.orderWire({ amount: '0.1' }).wire);
    expect([limited.status, limited.body.value.code]).toEqual([429, 'RateLimit']);
    s.clock.advanceTo(START + 1000); // one token back
    expect((await s.post(s.orderWire({ amount: '0.1' }).wire)).status).toBe(200);
  });

  it('in stepped mode answers with the receipt at once and executes on flush()', async () => {
    const s = await setup({ mode: 'stepped' });
    await subscribe(s, [orderFeed]);
    expect((await s.post(s.orderWire({ amount: '0.1' }).wire)).status).toBe(200);
    await s.idle();
    expect(s.client.feed()).toHaveLength(1); // the PARTIAL only
    expect(s.sim.flush()).toBe(1);
    await s.idle();
    expect(s.sim.flush()).toBe(0);
    expect(s.client.feed()[1]!.contents.data[0]).toMatchObject({ reason: ORDER_UPDATE_REASON.Trade });
  });
});

describe('stepped determinism over sockets', () => {
  async function run(order: 'alice-first' | 'bob-first'): Promise<string> {
    const s = await setup({ mode: 'stepped', liquidity: { depth: '1', levels: 3, spreadTicks: 2 } });
    s.sim.exchange.deposit(MALLORY.address, 'main', '100000');
    await subscribe(s, [
      { feed: 'ORDER_UPDATE', params: { trader: ALICE.address } },
      { feed: 'ORDER_UPDATE', params: { trader: MALLORY.address } },
    ]);
    const alice = [s.orderWire({ amount: '2' }), s.orderWire({ amount: '1' })];
    const mallory = [s.orderWire({ amount: '2' }, MALLORY)];
    const bodies = order === 'alice-first' ? [...alice, ...mallory] : [mallory[0]!, alice[0]!, alice[1]!];
    // Sent concurrently: which one the server reads first is up to the sockets.
    const answers = await Promise.all(bodies.map((b) => s.post(b.wire)));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    while (s.sim.flush() > 0) await s.idle();
    await s.idle();
    const frames = JSON.stringify(s.client.feed());
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
    const rows = (JSON.parse(a) as FeedMessage[]).slice(2).map((f) => f.contents.data[0] as OrderUpdateRow);
    expect(rows.map((r) => [r.trader, r.reason, r.fillPrice ?? r.orderRejection])).toEqual([
      [ALICE.address, ORDER_UPDATE_REASON.Trade, '2000.2'],
      [ALICE.address, ORDER_UPDATE_REASON.Trade, '2000.3'],
      [ALICE.address, ORDER_UPDATE_REASON.Trade, '2000.4'],
      [MALLORY.address, ORDER_UPDATE_REASON.OrderRejection, 3],
    ]);
  });
});

describe('faults on the wire', () => {
  const markFeed = { feed: 'MARK_PRICE', params: { symbols: ['ETHP'] } };
  const marks = (s: Setup): Array<[number, string]> =>
    s.client
      .feed()
      .filter((f) => f.feed === 'MARK_PRICE' && f.contents.messageType === 'UPDATE')
      .map((f) => [f.ordinal, (f.contents.data[0] as { price: string }).price]);

  it('drop-feed leaves an ordinal gap for the duration', async () => {
    const s = await setup();
    await subscribe(s, [markFeed]); // PARTIAL: ordinal 1
    s.sim.injectFault({ kind: 'drop-feed', feed: 'MARK_PRICE', duration: 2000 });
    s.sim.setMark('ETHP', '2001'); // ordinal 2, dropped
    s.clock.advanceTo(START + 1000);
    s.sim.setMark('ETHP', '2002'); // ordinal 3, dropped
    s.clock.advanceTo(START + 2000);
    s.sim.setMark('ETHP', '2003'); // ordinal 4, sent
    await s.idle();
    expect(marks(s)).toEqual([[4, '2003']]);
  });

  it('pause-feed holds frames and delivers them late, in order, without a gap', async () => {
    const s = await setup();
    await subscribe(s, [markFeed, orderFeed]); // ordinals 1, 2
    s.sim.injectFault({ kind: 'pause-feed', feed: 'MARK_PRICE', duration: 1000 });
    s.sim.setMark('ETHP', '2001');
    s.sim.setMark('ETHP', '2002');
    expect((await s.post(s.orderWire({ amount: '0.1' }).wire)).status).toBe(200); // ORDER_UPDATE passes: ordinal 3
    await s.idle();
    expect(marks(s)).toEqual([]);
    expect(s.client.feed().at(-1)).toMatchObject({ ordinal: 3, feed: 'ORDER_UPDATE' });
    s.clock.advanceTo(START + 1000);
    s.sim.advance();
    await s.idle();
    expect(marks(s)).toEqual([
      [4, '2001'],
      [5, '2002'],
    ]);
  });

  it('duplicate-messages sends a frame twice with the same ordinal', async () => {
    const s = await setup();
    await subscribe(s, [markFeed]);
    s.sim.injectFault({ kind: 'duplicate-messages', feed: 'MARK_PRICE', count: 1 });
    s.sim.setMark('ETHP', '2001');
    s.sim.setMark('ETHP', '2002');
    await s.idle();
    expect(marks(s)).toEqual([
      [2, '2001'],
      [2, '2001'],
      [3, '2002'],
    ]);
  });

  it('reorder-messages swaps two consecutive frames', async () => {
    const s = await setup();
    await subscribe(s, [markFeed]);
    s.sim.injectFault({ kind: 'reorder-messages', count: 1 });
    s.sim.setMark('ETHP', '2001');
    s.sim.setMark('ETHP', '2002');
    s.sim.setMark('ETHP', '2003');
    await s.idle();
    expect(marks(s)).toEqual([
      [3, '2002'],
      [2, '2001'],
      [4, '2003'],
    ]);
  });

  it('disconnect closes every WebSocket; a new connection starts at ordinal 1', async () => {
    const s = await setup();
    await subscribe(s, [markFeed]);
    s.sim.injectFault({ kind: 'disconnect' });
    expect(await s.client.closed).toBe(1012);
    const again = await RawClient.connect(s.sim.wsUrl, s.tracker);
    await request(again, s.tracker, { action: 'SUBSCRIBE', nonce: 'r', feeds: [markFeed] } as { nonce: string });
    expect(again.feed()[0]).toMatchObject({ ordinal: 1, contents: { messageType: 'PARTIAL' } });
    again.close();
  });

  it('drop-acks executes the request but answers 503 ServiceUnavailable', async () => {
    const s = await setup();
    s.sim.injectFault({ kind: 'drop-acks', count: 1 });
    const { wire, orderHash } = s.orderWire({ amount: '0.1' });
    const answer = await s.post(wire);
    expect([answer.status, answer.body.value.code]).toEqual([503, 'ServiceUnavailable']);
    expect(s.sim.exchange.orderUpdates(ALICE.address, strategyIdHash('main')).map((r) => r.orderHash)).toEqual([orderHash]);
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
    const { status, body } = await answer;
    expect([status, body.value.orderHash]).toEqual([200, orderHash]);
    expect(body.timestamp).toBe((START + 5000) / 1000);
  });

  it("reject-next-order turns the strategy's next order into an OrderRejection", async () => {
    const s = await setup();
    s.sim.injectFault({ kind: 'reject-next-order', trader: ALICE.address, strategyId: 'main', reason: 'SolvencyGuard' });
    expect((await s.post(s.orderWire({ amount: '0.1' }).wire)).status).toBe(200);
    expect(s.sim.exchange.orderUpdates(ALICE.address, strategyIdHash('main')).at(-1)).toMatchObject({
      reason: ORDER_UPDATE_REASON.OrderRejection,
      orderRejection: 1,
    });
  });
});
