import type { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SigningKey, Wallet, keccak256, toUtf8Bytes } from 'ethers';
import { WebSocketServer, type WebSocket } from 'ws';
import { SimClock } from '../../src/clock/clock.ts';
import { WorkTracker } from '../../src/clock/work-tracker.ts';
import { decryptRequest } from '../../src/derivadex/crypto/encryption.ts';
import { PATHS, REALTIME_PATH } from '../../src/derivadex/paths.ts';
import { traderAddress21 } from '../../src/derivadex/trader-address.ts';
import { VenueClient, type VenueClientEvents, type VenueClientOptions } from '../../src/venue/venue-client.ts';
import { asObject, fixture, type Json } from './wire-fixtures.ts';

/*
 * A small fake DerivaDEX on loopback (real HTTP + WebSocket servers on port 0) serving the golden-fixture
 * shapes of test/fixtures/derivadex/: bare deployment info and encryption key, enveloped reads, paged
 * history (`globalOrdinal` inclusive, `order`, `limit`, `nextGlobalOrdinal`), the L3 book, mark prices,
 * `POST /v2/request` (decrypted with the operator key, answered with a bare receipt), and the realtime
 * API (SUBSCRIBE / UNSUBSCRIBE acks, frames with the connection's ordinal from 0).
 *
 * It matches nothing: a test writes what the exchange did with `orderUpdate()` / `strategyUpdate()`,
 * which both append the REST history row and (unless told not to) push the realtime frame. Every frame
 * it sends is counted on the shared WorkTracker, as the simulator does, so `idle()` waits until the
 * client has handled everything.
 */

export const START = Date.parse('2026-01-05T13:00:00Z');

export function walletFor(id: string): Wallet {
  return new Wallet(keccak256(toUtf8Bytes(`riskwarden-test-trader:${id}`)));
}

const OPERATOR = new SigningKey(keccak256(toUtf8Bytes('riskwarden-fake-venue-operator')));

export type AckStyle = 'empty' | 'error-null' | 'bare' | 'error';

export interface ControlMessage {
  action: string;
  nonce: string;
  feeds: unknown[];
}

/** What the fake answers a POST /v2/request: a status and a JSON body. */
export interface RequestAnswer {
  status: number;
  body: unknown;
}

export interface FakeVenue {
  url: string;
  wsUrl: string;
  work: WorkTracker;
  /** Every GET: path and query, in order. */
  reads: Array<{ path: string; query: URLSearchParams }>;
  /** Every control message received. */
  controls: ControlMessage[];
  /** Every signed request, decrypted: `{t, c}`. */
  requests: Json[];
  /** Answers the next requests (default: a Sequenced receipt echoing the nonce). */
  answer: (request: Json) => RequestAnswer;
  ackStyle: AckStyle;
  /** Per `trader21:strategyIdHash`: the `/stats/api/v1/strategy` value (absent: `null`). */
  strategies: Map<string, Json>;
  positions: Map<string, Json[]>;
  /** The L3 book (every trader). */
  book: Json[];
  marks: Json[];
  orderHistory: Json[];
  strategyHistory: Json[];
  /** Called on every read of the strategy snapshot (e.g. to move the venue while it is read). */
  onSnapshotRead: () => void;
  /** Appends an ORDER_UPDATE row (realtime shape) to the history; pushes it live unless `live` is false. */
  orderUpdate(row: Json, options?: { live?: boolean }): void;
  strategyUpdate(row: Json, options?: { live?: boolean }): void;
  /** Sends a feed frame with the next ordinal of the newest connection. */
  push(feed: string, messageType: 'PARTIAL' | 'UPDATE', data: unknown[]): void;
  /** Sends raw text (counts an ordinal only if `takesOrdinal`). */
  sendRaw(text: string, takesOrdinal?: boolean): void;
  /** Skips `n` ordinals (as if frames were lost). */
  skipOrdinals(n: number): void;
  dropConnections(): void;
  connections: number;
  close(): Promise<void>;
}

const REALTIME_ONLY = [
  'orderMatchOrdinal',
  'lastExecutedAmount',
  'lastExecutedPrice',
  'cumulativeFilledAmount',
  'cumulativeQuoteAssetTransactedAmount',
  'lastQuoteAssetTransactedAmount',
];

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function enveloped(value: unknown, extra: Json = {}): Json {
  return { ...extra, value, success: true, timestamp: Math.floor(START / 1000) };
}

function key(trader: unknown, hash: unknown): string {
  return `${String(trader).toLowerCase()}:${String(hash).toLowerCase()}`;
}

/** Whether an ORDER_UPDATE history row concerns trader+strategy (either intent, or the liquidated strategy). */
function concerns(row: Json, trader: string, hash: string): boolean {
  const k = key(trader, hash);
  for (const field of ['makerOrderIntent', 'takerOrderIntent']) {
    const intent = row[field];
    if (intent !== undefined && key(asObject(intent, field).traderAddress, asObject(intent, field).strategyIdHash) === k) return true;
  }
  return row.liquidatedTraderAddress !== undefined && key(row.liquidatedTraderAddress, row.liquidatedStrategyIdHash) === k;
}

/** A history page per §10.4: `globalOrdinal >= G`, ascending unless `order=desc`, `limit` rows, cursor of the next. */
function page(rows: Json[], query: URLSearchParams): Json {
  const from = query.get('globalOrdinal');
  const desc = query.get('order') === 'desc';
  const limit = Number(query.get('limit') ?? '500');
  let selected = rows.filter((r) => from === null || Number(r.globalOrdinal) >= Number(from));
  selected.sort((a, b) => Number(a.globalOrdinal) - Number(b.globalOrdinal));
  if (desc) selected.reverse();
  const more = selected.length > limit;
  selected = selected.slice(0, limit);
  const next = more && !desc ? Number(selected[selected.length - 1]!.globalOrdinal) + 1 : null;
  return enveloped(selected, { nextGlobalOrdinal: next });
}

export async function startFakeVenue(): Promise<FakeVenue> {
  const work = new WorkTracker();
  const sockets: WebSocket[] = [];
  let ordinal = 0;
  let txOrdinal = 0;

  const venue: FakeVenue = {
    url: '',
    wsUrl: '',
    work,
    reads: [],
    controls: [],
    requests: [],
    answer: (request) => ({
      status: 200,
      body: {
        t: 'Sequenced',
        c: {
          nonce: asObject(request.c, 'c').nonce,
          requestHash: keccak256(toUtf8Bytes(JSON.stringify(request))),
          requestIndex: venue.requests.length,
          sender: '0x51b1ae430353cef32bcb68dd6e7d14d52884b2e3',
          enclaveSignature: `0x${'ab'.repeat(65)}`,
        },
      },
    }),
    ackStyle: 'empty',
    strategies: new Map(),
    positions: new Map(),
    book: [],
    marks: [],
    orderHistory: [],
    strategyHistory: [],
    onSnapshotRead: () => {},
    orderUpdate(row, options = {}) {
      const rest: Json = { ...row, txOrdinal: (txOrdinal += 1) };
      for (const k of REALTIME_ONLY) delete rest[k];
      venue.orderHistory.push(rest);
      if (options.live !== false) venue.push('ORDER_UPDATE', 'UPDATE', [row]);
    },
    strategyUpdate(row, options = {}) {
      const rest: Json = { ...row, txOrdinal: (txOrdinal += 1), ordinal: 0 };
      if (Array.isArray(row.positions)) rest.positions = row.positions.map((p) => ({ ...asObject(p, 'position'), balance: undefined }));
      venue.strategyHistory.push(JSON.parse(JSON.stringify(rest)) as Json);
      if (options.live !== false) venue.push('STRATEGY_UPDATE', 'UPDATE', [row]);
    },
    push(feed, messageType, data) {
      const socket = sockets[sockets.length - 1];
      if (socket === undefined) throw new Error('fake venue: no connection to push to');
      const frame = { sequence: 90_000 + ordinal, ordinal, feed, subscriptionKey: `${feed}|fake`, contents: { messageType, data } };
      ordinal += 1;
      work.begin();
      socket.send(JSON.stringify(frame));
    },
    sendRaw(text, takesOrdinal = false) {
      const socket = sockets[sockets.length - 1];
      if (socket === undefined) throw new Error('fake venue: no connection to send to');
      if (takesOrdinal) ordinal += 1;
      work.begin();
      socket.send(text);
    },
    skipOrdinals(n) {
      ordinal += n;
    },
    dropConnections() {
      for (const s of sockets) s.terminate();
    },
    connections: 0,
    async close() {
      for (const s of wss.clients) s.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };

  const read = (path: string, query: URLSearchParams): { status: number; body: unknown } | undefined => {
    const trader = query.get('trader') ?? '';
    switch (path) {
      case PATHS.deploymentInfo:
        return { status: 200, body: fixture('rest-contract-server-addresses') };
      case PATHS.exchangeInfo:
        return { status: 200, body: fixture('rest-exchange-info') };
      case PATHS.encryptionKey:
        return { status: 200, body: OPERATOR.compressedPublicKey };
      case PATHS.strategy:
      case PATHS.positions: {
        // `/stats/api/v1` is sent the 20-byte trader (§10.1); the strategy by its id.
        const k = key(traderAddress21(trader), query.get('strategyId') === 'main' ? '0x2576ebd1' : query.get('strategyId'));
        if (path === PATHS.strategy) {
          venue.onSnapshotRead();
          return { status: 200, body: enveloped(venue.strategies.get(k) ?? null) };
        }
        return { status: 200, body: enveloped(venue.positions.get(k) ?? []) };
      }
      case PATHS.orderUpdates: {
        const hash = query.get('strategyIdHash') ?? '';
        const hashes = query.getAll('orderHash').map((h) => h.toLowerCase());
        const rows = venue.orderHistory.filter(
          (r) =>
            concerns(r, trader, hash) &&
            (hashes.length === 0 ||
              ['makerOrderIntent', 'takerOrderIntent'].some(
                (f) => r[f] !== undefined && hashes.includes(String(asObject(r[f], f).orderHash).toLowerCase()),
              )),
        );
        return { status: 200, body: page(rows, query) };
      }
      case PATHS.strategyUpdates: {
        const k = key(trader, query.get('strategyIdHash'));
        return {
          status: 200,
          body: page(
            venue.strategyHistory.filter((r) => key(r.traderAddress, r.strategyIdHash) === k),
            query,
          ),
        };
      }
      case PATHS.orderBookL3: {
        const k = key(trader, query.get('strategyIdHash'));
        return { status: 200, body: enveloped(venue.book.filter((o) => key(o.traderAddress, o.strategyIdHash) === k)) };
      }
      case PATHS.markPrices:
        return {
          status: 200,
          body: page(
            venue.marks.filter((m) => m.symbol === query.get('symbol')),
            query,
          ),
        };
      default:
        return undefined;
    }
  };

  const http = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    if (req.method === 'POST' && url.pathname === PATHS.request) {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const { json } = decryptRequest(new Uint8Array(Buffer.concat(chunks)), OPERATOR.privateKey);
        const request = asObject(JSON.parse(json), 'request');
        venue.requests.push(request);
        const { status, body } = venue.answer(request);
        send(res, status, body);
      });
      return;
    }
    venue.reads.push({ path: url.pathname, query: url.searchParams });
    const answer = read(url.pathname, url.searchParams);
    if (answer === undefined) send(res, 404, { success: false });
    else send(res, answer.status, answer.body);
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', () => resolve()));
  const port = (http.address() as AddressInfo).port;

  const wss = new WebSocketServer({ server: http, path: REALTIME_PATH });
  wss.on('connection', (socket) => {
    sockets.push(socket);
    venue.connections += 1;
    ordinal = 0; // per connection, from 0 (§10.11)
    socket.on('message', (raw) => {
      const control = JSON.parse(raw.toString()) as ControlMessage;
      venue.controls.push(control);
      const ack =
        venue.ackStyle === 'bare'
          ? { result: {} }
          : {
              action: control.action,
              nonce: control.nonce,
              result: venue.ackStyle === 'empty' ? {} : { error: venue.ackStyle === 'error' ? 'Unexpected error.' : null },
            };
      work.begin();
      socket.send(JSON.stringify(ack));
      if (control.action !== 'SUBSCRIBE') return;
      // The first message of each subscription is a PARTIAL: populated for market feeds, empty for user feeds.
      for (const f of control.feeds) {
        const feed = String(asObject(f, 'feed').feed);
        if (feed === 'MARK_PRICE') venue.push(feed, 'PARTIAL', latestMarks(venue.marks));
        else if (feed === 'ORDER_BOOK_L2') venue.push(feed, 'PARTIAL', l2Rows());
        else venue.push(feed, 'PARTIAL', []);
      }
    });
  });

  venue.url = `http://127.0.0.1:${port}`;
  venue.wsUrl = `ws://127.0.0.1:${port}${REALTIME_PATH}`;
  return venue;
}

function l2Rows(): unknown[] {
  const contents = asObject(asObject(fixture('ws-order-book-l2-partial'), 'l2').contents, 'contents');
  return contents.data as unknown[];
}

function latestMarks(marks: Json[]): Json[] {
  const latest = new Map<string, Json>();
  for (const m of marks) {
    const seen = latest.get(String(m.symbol));
    if (seen === undefined || Number(seen.globalOrdinal) < Number(m.globalOrdinal)) latest.set(String(m.symbol), m);
  }
  return [...latest.values()];
}

export type Recorded = { [K in keyof VenueClientEvents]: VenueClientEvents[K][0][] };

const EVENT_NAMES: (keyof VenueClientEvents)[] = [
  'mark',
  'book',
  'ledger',
  'lifecycle',
  'cancel-rejected',
  'withdraw-rejected',
  'liquidation',
  'bootstrap',
  'feed-status',
  'frame-rejected',
  'repair',
  'drift',
  'fault',
];

/** Records every event of `client` by name. */
export function record(client: VenueClient): Recorded {
  const events = Object.fromEntries(EVENT_NAMES.map((name) => [name, []])) as unknown as Recorded;
  // The untyped view of the same emitter: recorded by name, whatever the payload.
  const emitter: EventEmitter = client;
  for (const name of EVENT_NAMES) emitter.on(name, (event: unknown) => void (events[name] as unknown[]).push(event));
  return events;
}

export interface FakeHarness {
  venue: FakeVenue;
  clock: SimClock;
  client: VenueClient;
  events: Recorded;
  /** Waits until the client has handled every frame and finished its work (fails after 5 s of wall time). */
  idle(): Promise<void>;
  /** Moves the clock, ticks the client, waits. */
  step(ms: number): Promise<void>;
  close(): Promise<void>;
}

/** Resolves when the tracker is idle, or fails after `ms` of wall time naming what is stuck. */
export async function idleWithin(work: WorkTracker, ms = 5_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not quiescent after ${ms} ms: ${work.inFlight} unit(s) of work in flight`)), ms);
  });
  try {
    await Promise.race([work.whenIdle(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A fake venue and a VenueClient connected to it (not bootstrapped). */
export async function startFakeHarness(
  options: Partial<VenueClientOptions> = {},
  prepare?: (venue: FakeVenue) => void,
): Promise<FakeHarness> {
  const venue = await startFakeVenue();
  prepare?.(venue);
  const clock = new SimClock(START);
  const client = new VenueClient({
    restUrl: venue.url,
    wsUrl: venue.wsUrl,
    clock,
    work: venue.work,
    seed: 1,
    sleep: () => new Promise((resolve) => setImmediate(resolve)),
    ...options,
  });
  const events = record(client);
  await client.connect();
  return {
    venue,
    clock,
    client,
    events,
    idle: () => idleWithin(venue.work),
    async step(ms) {
      clock.advanceTo(clock.now() + ms);
      client.tick();
      await idleWithin(venue.work);
    },
    async close() {
      await client.close();
      await venue.close();
    },
  };
}
