import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { SimClock } from '../../src/clock/clock.ts';
import { WorkTracker } from '../../src/clock/work-tracker.ts';
import { backoffDelay, seededRandom } from '../../src/venue/backoff.ts';
import type { FeedMessage, FeedWithParams } from '../../src/derivadex/feed-messages.ts';
import type { FrameError } from '../../src/derivadex/frame-parser.ts';
import { SubscribeError, WsConnection, type GapInfo } from '../../src/venue/ws-connection.ts';

/*
 * WsConnection against a small fake venue on a real loopback socket. The fake counts every frame it
 * writes on the shared WorkTracker, as the simulator does; the connection must end each one. Frames and
 * acks are in the real shapes (SDK realtime models, docs realtime examples: first ordinal 0).
 */

/** ok: `result: {}`; null-error: `result: {error: null}` (the SDK's test server); bare: only `result`. */
type AckMode = 'ok' | 'null-error' | 'bare' | 'error' | 'silent';

interface FakeVenue {
  url: string;
  port: number;
  sockets: WebSocket[];
  requests: Array<{ action: string; nonce: string; feeds: unknown[] }>;
  ackMode: AckMode;
  send(frame: unknown): void;
  sendRaw(text: string): void;
  dropAll(): void;
  close(): Promise<void>;
}

const work = new WorkTracker();
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function fakeVenue(port = 0): Promise<FakeVenue> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  const venue: FakeVenue = {
    url: '',
    port: (wss.address() as AddressInfo).port,
    sockets: [],
    requests: [],
    ackMode: 'ok',
    sendRaw(text) {
      const socket = venue.sockets[venue.sockets.length - 1]!;
      work.begin();
      socket.send(text);
    },
    send(frame) {
      venue.sendRaw(JSON.stringify(frame));
    },
    dropAll() {
      for (const s of venue.sockets) s.terminate();
    },
    async close() {
      for (const s of wss.clients) s.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
  venue.url = `ws://127.0.0.1:${venue.port}`;
  wss.on('connection', (socket) => {
    venue.sockets.push(socket);
    socket.on('message', (raw) => {
      const request = JSON.parse(raw.toString()) as { action: string; nonce: string; feeds: unknown[] };
      venue.requests.push(request);
      const mode = venue.ackMode;
      if (mode === 'silent') return;
      work.begin();
      if (mode === 'bare') {
        socket.send(JSON.stringify({ result: {} }));
        return;
      }
      const result = mode === 'ok' ? {} : mode === 'null-error' ? { error: null } : { error: 'Unexpected error.' };
      socket.send(JSON.stringify({ action: request.action, nonce: request.nonce, result }));
    });
  });
  return venue;
}

function frame(ordinal: number, messageType: 'PARTIAL' | 'UPDATE' = 'UPDATE', key = 'MARK_PRICE|symbols=ETHP') {
  return {
    sequence: ordinal,
    ordinal,
    feed: 'MARK_PRICE',
    subscriptionKey: key,
    contents: {
      messageType,
      data: [{ globalOrdinal: ordinal, epochId: 1, price: '2000', fundingRate: '0', symbol: 'ETHP', createdAt: '2026-01-05T13:00:00Z' }],
    },
  };
}

interface Recorder {
  delivered: number[];
  gaps: GapInfo[];
  rejected: FrameError[];
  order: string[];
}

async function open(
  venue: FakeVenue,
  extra: Partial<ConstructorParameters<typeof WsConnection>[0]> = {},
): Promise<{ conn: WsConnection; rec: Recorder; clock: SimClock }> {
  const clock = new SimClock(1_000_000);
  const conn = new WsConnection({ url: venue.url, clock, work, firstOrdinal: 0, ackTimeoutMs: 200, sleep: async () => {}, ...extra });
  const rec: Recorder = { delivered: [], gaps: [], rejected: [], order: [] };
  conn.on('message', (m: FeedMessage) => {
    rec.delivered.push(m.ordinal);
    rec.order.push(`message ${m.ordinal}`);
  });
  conn.on('gap', (g) => {
    rec.gaps.push(g);
    rec.order.push(`gap ${g.expected}`);
  });
  conn.on('frame-rejected', (e) => rec.rejected.push(e));
  await conn.connect();
  cleanups.push(() => conn.close());
  return { conn, rec, clock };
}

const MARKS: FeedWithParams = { feed: 'MARK_PRICE', params: { symbols: ['ETHP'] } };
const TRADER = '0x00a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';
const ORDERS = (...hashes: string[]): FeedWithParams => ({
  feed: 'ORDER_UPDATE',
  params: { orderFilters: hashes.map((strategyIdHash) => ({ traderAddress: TRADER, strategyIdHash })) },
});

describe('WsConnection subscriptions', () => {
  it('resolves on the ack with its nonce and remembers the subscription', async () => {
    const venue = await fakeVenue();
    cleanups.push(() => venue.close());
    const { conn } = await open(venue);
    await conn.subscribe([MARKS]);
    await work.whenIdle();
    expect(venue.requests).toEqual([{ action: 'SUBSCRIBE', nonce: 'sub-1', feeds: [MARKS] }]);
    expect(conn.subscriptions).toEqual([MARKS]);
    await conn.unsubscribe(['MARK_PRICE']);
    expect(venue.requests[1]).toEqual({ action: 'UNSUBSCRIBE', nonce: 'sub-2', feeds: ['MARK_PRICE'] });
    expect(conn.subscriptions).toEqual([]);
  });

  it('takes every documented ack form; an ack without a nonce settles the oldest request', async () => {
    const venue = await fakeVenue();
    cleanups.push(() => venue.close());
    const { conn } = await open(venue);
    venue.ackMode = 'null-error';
    await conn.subscribe([MARKS]);
    venue.ackMode = 'bare';
    const first = conn.subscribe([ORDERS('0x2576ebd1')]);
    const second = conn.unsubscribe(['MARK_PRICE']);
    await Promise.all([first, second]);
    expect(conn.subscriptions).toEqual([ORDERS('0x2576ebd1')]);
    await work.whenIdle();
    expect(work.inFlight).toBe(0);
  });

  it('keeps one subscription per feed: a second SUBSCRIBE of a feed replaces its filters, and is what a reconnect re-sends', async () => {
    const venue = await fakeVenue();
    cleanups.push(() => venue.close());
    const { conn } = await open(venue);
    await conn.subscribe([MARKS, ORDERS('0x2576ebd1')]);
    await conn.subscribe([ORDERS('0x2576ebd1', '0x11223344')]);
    expect(conn.subscriptions).toEqual([MARKS, ORDERS('0x2576ebd1', '0x11223344')]);
    const reconnected = new Promise<void>((resolve) => conn.once('reconnected', () => resolve()));
    venue.dropAll();
    await reconnected;
    expect(venue.requests.at(-1)).toEqual({ action: 'SUBSCRIBE', nonce: 'sub-3', feeds: [MARKS, ORDERS('0x2576ebd1', '0x11223344')] });
  });

  it('fails with a typed error on result.error and on a missing ack', async () => {
    const venue = await fakeVenue();
    cleanups.push(() => venue.close());
    const { conn } = await open(venue);
    venue.ackMode = 'error';
    const refused = await conn.subscribe([MARKS]).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(SubscribeError);
    expect((refused as SubscribeError).code).toBe('rejected');
    expect((refused as SubscribeError).message).toContain('Unexpected error.');
    venue.ackMode = 'silent';
    const silent = await conn.subscribe([MARKS]).catch((e: unknown) => e);
    expect((silent as SubscribeError).code).toBe('timeout');
    expect(conn.subscriptions).toEqual([]);
    await work.whenIdle();
    expect(work.inFlight).toBe(0);
  });
});

describe('WsConnection ordinals', () => {
  it('delivers in order, drops duplicates, reports a gap before the frame that shows it', async () => {
    const venue = await fakeVenue();
    cleanups.push(() => venue.close());
    const { conn, rec } = await open(venue);
    for (const ordinal of [0, 1, 1, 2, 4, 3, 5]) venue.send(frame(ordinal, ordinal === 0 ? 'PARTIAL' : 'UPDATE'));
    await work.whenIdle();
    expect(rec.delivered).toEqual([0, 1, 2, 4, 5]); // the second 1 and the late 3 are dropped
    expect(rec.gaps).toEqual([{ expected: 3, received: 4, feed: 'MARK_PRICE' }]);
    expect(rec.order).toEqual(['message 0', 'message 1', 'message 2', 'gap 3', 'message 4', 'message 5']);
    expect(conn.stats).toMatchObject({ frames: 7, delivered: 5, duplicates: 2, gaps: 1, rejected: 0 });
  });

  it('survives a listener that throws: counted, reported as handler-failed, the next frame still delivered', async () => {
    const venue = await fakeVenue();
    cleanups.push(() => venue.close());
    const { conn, rec } = await open(venue);
    const failures: Array<{ feed: string; message: string }> = [];
    conn.on('handler-failed', (f) => failures.push(f));
    let calls = 0;
    conn.on('message', () => {
      calls += 1;
      if (calls === 2) throw new Error('listener bug');
    });
    for (const ordinal of [0, 1, 2]) venue.send(frame(ordinal, ordinal === 0 ? 'PARTIAL' : 'UPDATE'));
    await work.whenIdle();
    expect(failures).toEqual([{ feed: 'MARK_PRICE', message: 'listener bug' }]);
    expect(rec.delivered).toEqual([0, 1, 2]);
    expect(conn.stats).toMatchObject({ frames: 3, delivered: 3, handlerErrors: 1 });
  });

  it('treats a first frame after ordinal 0 as a gap, and reports an UPDATE before any PARTIAL', async () => {
    const venue = await fakeVenue();
    cleanups.push(() => venue.close());
    const { conn, rec } = await open(venue);
    const early: string[] = [];
    conn.on('update-before-partial', (u) => early.push(u.subscriptionKey));
    venue.send(frame(1, 'UPDATE'));
    await work.whenIdle();
    expect(rec.gaps).toEqual([{ expected: 0, received: 1, feed: 'MARK_PRICE' }]);
    expect(early).toEqual(['MARK_PRICE|symbols=ETHP']);
  });

  it('counts every malformed frame, ends its work, and changes no state (seeded fuzz over the socket)', async () => {
    const venue = await fakeVenue();
    cleanups.push(() => venue.close());
    const { conn, rec } = await open(venue);
    venue.send(frame(0, 'PARTIAL'));
    const junk = fc.sample(
      fc.oneof(
        fc.string({ maxLength: 200 }),
        fc.jsonValue().map((v) => JSON.stringify(v) ?? 'null'),
        fc.record({ ordinal: fc.integer(), feed: fc.constantFrom('MARK_PRICE', 'NOPE') }).map((v) => JSON.stringify(v)),
      ),
      { seed: 99, numRuns: 2_000 },
    );
    // Valid frames in the sample (an ack for nobody, say) are not junk: count only the rejects.
    for (const text of junk) venue.sendRaw(text);
    venue.send(frame(1));
    await work.whenIdle();
    expect(work.inFlight).toBe(0);
    expect(rec.rejected.length).toBe(conn.stats.rejected);
    expect(conn.stats.rejected).toBeGreaterThan(1_900);
    expect(conn.stats.frames).toBe(junk.length + 2);
    // Junk moved nothing: ordinal 1 follows 0 with no gap.
    expect(rec.delivered).toEqual([0, 1]);
    expect(rec.gaps).toEqual([]);
  });
});

describe('WsConnection reconnect and staleness', () => {
  it('reconnects with seeded backoff, resubscribes, and restarts ordinals', async () => {
    const venue = await fakeVenue();
    cleanups.push(() => venue.close());
    const delays: number[] = [];
    const { conn, rec } = await open(venue, {
      random: seededRandom(5),
      backoff: { baseMs: 100, maxMs: 1_000, jitter: 0.5 },
      sleep: async (ms) => {
        delays.push(ms);
      },
    });
    await conn.subscribe([MARKS]);
    venue.send(frame(0, 'PARTIAL'));
    venue.send(frame(1));
    await work.whenIdle();
    const reconnected = new Promise<void>((resolve) => conn.once('reconnected', () => resolve()));
    venue.dropAll();
    await reconnected;
    // The first delay is the first draw of the seeded jitter source.
    expect(delays).toEqual([backoffDelay(0, { baseMs: 100, maxMs: 1_000, jitter: 0.5 }, seededRandom(5))]);
    expect(venue.requests.map((r) => r.action)).toEqual(['SUBSCRIBE', 'SUBSCRIBE']);
    expect(venue.requests[1]!.feeds).toEqual([MARKS]);
    venue.send(frame(0, 'PARTIAL')); // a new connection counts from 0 again
    await work.whenIdle();
    expect(rec.delivered).toEqual([0, 1, 0]);
    expect(rec.gaps).toEqual([]);
    expect(conn.stats.reconnects).toBe(1);
  });

  it('retries a refused reconnect on the backoff schedule until the venue is back', async () => {
    const venue = await fakeVenue();
    const port = venue.port;
    const delays: number[] = [];
    let restarted: FakeVenue | undefined;
    cleanups.push(async () => {
      await restarted?.close();
    });
    const policy = { baseMs: 100, maxMs: 250, jitter: 0.5 };
    const { conn } = await open(venue, {
      random: seededRandom(11),
      backoff: policy,
      sleep: async (ms) => {
        delays.push(ms);
        if (delays.length === 3) restarted = await fakeVenue(port);
      },
    });
    const reconnected = new Promise<void>((resolve) => conn.once('reconnected', () => resolve()));
    await venue.close();
    await reconnected;
    const jitter = seededRandom(11);
    // min(250, 100·2^n) × (1 − 0.5·r): 100, 200, 250 before jitter.
    expect(delays).toEqual([0, 1, 2].map((n) => backoffDelay(n, policy, jitter)));
    expect(delays[2]).toBeLessThanOrEqual(250);
    expect(delays[2]).toBeGreaterThanOrEqual(125);
  });

  it('reports a feed stale after staleAfterMs of clock time without a message, and fresh again', async () => {
    const venue = await fakeVenue();
    cleanups.push(() => venue.close());
    const { conn, clock } = await open(venue, { staleAfterMs: { MARK_PRICE: 1_000 } });
    const statuses: Array<[string, boolean]> = [];
    conn.on('feed-status', (s) => statuses.push([s.feed, s.stale]));
    await conn.subscribe([MARKS]);
    expect(conn.checkStale(clock.now() + 1_000)).toEqual([]); // exactly the limit is not stale
    clock.advanceTo(clock.now() + 1_001);
    expect(conn.checkStale(clock.now())).toEqual(['MARK_PRICE']);
    expect(conn.checkStale(clock.now())).toEqual(['MARK_PRICE']); // reported once
    venue.send(frame(0, 'PARTIAL'));
    await work.whenIdle();
    expect(statuses).toEqual([
      ['MARK_PRICE', true],
      ['MARK_PRICE', false],
    ]);
  });
});
