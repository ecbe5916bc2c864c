import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SigningKey, getAddress, keccak256, toUtf8Bytes } from 'ethers';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { wallClock, type Clock } from '../clock/clock.ts';
import type { Product } from '../domain/product.ts';
import type { Eip712Venue } from '../derivadex/crypto/eip712.ts';
import { DEFAULT_AMOUNT_DECIMALS } from '../derivadex/crypto/scaling.ts';
import { FEEDS, controlMessageSchema, type Ack, type AnyFeed, type Feed } from '../derivadex/feed-messages.ts';
import { PATHS, REALTIME_PATH, SERVER_CLOSE_CODE } from '../derivadex/paths.ts';
import type { MarkPrice } from '../derivadex/rest-bodies.ts';
import { firstIssue } from '../derivadex/wire-values.ts';
import { Exchange, type ExchangeEvent, type ExecutionMode, type FeeSchedule, type FundingConfig } from './exchange.ts';
import { FaultState, type SimFault } from './faults.ts';
import { FeedConnection, type FeedFrame, type Tracker } from './feed-connection.ts';
import { DEFAULT_RATE_LIMIT, RateLimiter, type RateLimitConfig } from './rate-limit.ts';
import { handleRequest, requestError, type GatewayAnswer } from './request-gateway.ts';
import { answerRead, readFailure, type ReadAnswer, type ReadContext } from './rest-reads.ts';
import { eventRows, parseSubscriptions, partialRows, type StreamRows, type Subscription } from './subscriptions.ts';
import type { LiquidityConfig } from './synthetic-liquidity.ts';

/**
 * The simulated DerivaDEX gateway over real sockets: node:http for REST (the paths of
 * src/derivadex/paths.ts with the bodies of rest-bodies.ts, see rest-reads.ts; timestamps are clock
 * seconds) and `ws` on the same port for the realtime API (REALTIME_PATH). Binds 127.0.0.1 by default;
 * port 0 picks a free port. docs/simulator.md lists every endpoint, feed and request with its source.
 *
 * Realtime (docs/derivadex-sources.md §5, §10.11): control messages are parsed with controlMessageSchema
 * and answered `{action, nonce, result: {}}` or `{action, nonce, result: {error}}` (action and nonce
 * null when the message had none); one subscription per feed per connection, a second SUBSCRIBE of a
 * feed replaces it (and sends its PARTIAL again); UNSUBSCRIBE names feeds. Frames carry `sequence` (the
 * simulator's global count of exchange events; a PARTIAL carries the latest) and `ordinal` (per
 * connection, from 0, +1 per feed frame).
 *
 * Quiescence (WorkTracker): every WebSocket frame written is begun here and ended by the client once
 * handled; every HTTP request is begun on arrival and ended when its response is written, and the
 * frames a request causes are begun before that. A delayed ack (delay-acks) stops counting while it
 * waits for the clock — the runner must be able to reach quiescence to move time — and counts again
 * from its release until written.
 */
export interface SimulatorOptions {
  /** Default: the wall clock. Simulations pass the runner's SimClock. */
  clock?: Clock;
  /** Seeds the operator key (and nothing else is random). Default 1. */
  seed?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: a free port. */
  port?: number;
  /** `immediate` (live, default) or `stepped` (requests execute on flush()). */
  mode?: ExecutionMode;
  products?: readonly Product[] | Readonly<Record<string, Product>>;
  liquidity?: LiquidityConfig;
  fees?: Partial<FeeSchedule>;
  funding?: FundingConfig | null;
  epochId?: number;
  maxOpenOrders?: number;
  /** The EIP-712 domain the venue announces at `/contract-server/addresses` (`chainId`, `derivaDEXAddress`). */
  chainId?: number;
  verifyingContract?: string;
  /** Scale of amounts in signed structs (a venue setting; no endpoint announces it). */
  amountScaleDecimals?: number;
  /** Per-trader token bucket; null switches it off. Default {capacity 100, refillPerSecond 50}. */
  rateLimit?: RateLimitConfig | null;
  tracker?: Tracker;
  /** Overrides the seed-derived operator key (0x + 64 hex digits). */
  operatorSecretKey?: string;
}

export interface Simulator {
  /** http://host:port */
  url: string;
  /** ws://host:port/realtime-api (any path is accepted) */
  wsUrl: string;
  port: number;
  /** Compressed secp256k1 public key, 0x-hex (also served at /v2/encryption-key). */
  operatorPublicKey: string;
  exchange: Exchange;
  venue: Eip712Venue;
  /** Releases what is due on the clock, then (stepped mode) executes pending requests; returns how many ran. */
  flush(): number;
  /** Releases what is due on the clock, then sets the mark (exchange.setMark). */
  setMark(symbol: string, price: string): MarkPrice;
  injectFault(fault: SimFault): void;
  /** Releases held frames and delayed acks whose time has come (flush() and setMark() call it). */
  advance(): void;
  /** Open WebSocket connections. */
  readonly connectionCount: number;
  close(): Promise<void>;
}

/** The realtime API's path (src/derivadex/paths.ts). */
export const WS_PATH = REALTIME_PATH;
export const DEFAULT_CHAIN_ID = 1337;
export const DEFAULT_VERIFYING_CONTRACT = getAddress(`0x${'dd'.repeat(20)}`);
const MAX_BODY_BYTES = 64 * 1024;

/** The operator secret key a seed gives: keccak256("riskwarden-sim-operator:<seed>"). */
export function operatorSecretKeyFor(seed: number): string {
  return keccak256(toUtf8Bytes(`riskwarden-sim-operator:${seed}`));
}

interface RequestWork {
  counted: boolean;
}

interface DelayedAck {
  until: number;
  work: RequestWork;
  respond: () => void;
  /** Stepped mode: the client's own unit for this request is parked until the request executes. */
  parked: boolean;
  /** The client gave up waiting (closed the request): there is nobody left to answer. */
  gone: () => boolean;
}

function isServed(feed: AnyFeed): feed is Feed {
  return (FEEDS as readonly string[]).includes(feed);
}

export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const clock = options.clock ?? wallClock;
  const tracker: Tracker = options.tracker ?? { begin() {}, end() {} };
  const stepped = (options.mode ?? 'immediate') === 'stepped';
  /** The client still counts a request whose answer we hold; until it executes, that wait is the clock's. */
  const unparkExecuted = (): void => {
    for (const d of delayed) {
      if (!d.parked) continue;
      d.parked = false;
      tracker.unpark?.();
    }
  };
  const operatorSecretKey = options.operatorSecretKey ?? operatorSecretKeyFor(options.seed ?? 1);
  const operatorPublicKey = new SigningKey(operatorSecretKey).compressedPublicKey;
  const venue: Eip712Venue = {
    chainId: options.chainId ?? DEFAULT_CHAIN_ID,
    verifyingContract: getAddress(options.verifyingContract ?? DEFAULT_VERIFYING_CONTRACT),
    decimals: options.amountScaleDecimals ?? DEFAULT_AMOUNT_DECIMALS,
  };
  const exchange = new Exchange({
    clock,
    ...(options.products === undefined ? {} : { products: options.products }),
    ...(options.liquidity === undefined ? {} : { liquidity: options.liquidity }),
    ...(options.fees === undefined ? {} : { fees: options.fees }),
    ...(options.funding === undefined ? {} : { funding: options.funding }),
    ...(options.epochId === undefined ? {} : { epochId: options.epochId }),
    ...(options.maxOpenOrders === undefined ? {} : { maxOpenOrders: options.maxOpenOrders }),
    mode: options.mode ?? 'immediate',
  });
  const rateLimit = options.rateLimit === undefined ? DEFAULT_RATE_LIMIT : options.rateLimit;
  const rateLimiter = rateLimit === null ? null : new RateLimiter(rateLimit, clock);
  const faults = new FaultState(clock);
  const connections = new Map<number, FeedConnection>();
  let nextConnectionId = 1;
  let sequence = 0;
  let delayed: DelayedAck[] = [];

  const timestamp = (): number => Math.floor(clock.now() / 1000);
  const readContext: ReadContext = { exchange, venue, operatorPublicKey, timestamp };

  // ── feeds ──────────────────────────────────────────────────────────────────────────────────

  const deliver = (conn: FeedConnection, sub: Subscription, rows: StreamRows, messageType: 'PARTIAL' | 'UPDATE', seq: number): void => {
    conn.deliver(
      sub.feed,
      (ordinal): FeedFrame => ({
        sequence: seq,
        ordinal,
        feed: sub.feed,
        subscriptionKey: rows.key,
        contents: { messageType, data: rows.data },
      }),
    );
  };

  exchange.setSink((event: ExchangeEvent) => {
    sequence += 1;
    for (const conn of connections.values()) {
      for (const sub of conn.subscriptions.values()) {
        for (const rows of eventRows(sub, event)) deliver(conn, sub, rows, 'UPDATE', sequence);
      }
    }
  });

  const onClientMessage = (conn: FeedConnection, raw: RawData): void => {
    let message: unknown;
    try {
      message = JSON.parse(raw.toString());
    } catch {
      conn.sendControl({ action: null, nonce: null, result: { error: 'message is not valid JSON' } } satisfies Ack);
      return;
    }
    const m = typeof message === 'object' && message !== null ? (message as Record<string, unknown>) : {};
    const echo: Pick<Ack, 'action' | 'nonce'> = {
      action: m.action === 'SUBSCRIBE' || m.action === 'UNSUBSCRIBE' ? m.action : null,
      nonce: typeof m.nonce === 'string' ? m.nonce : null,
    };
    const ack = (error?: string): void => conn.sendControl({ ...echo, result: error === undefined ? {} : { error } } satisfies Ack);
    const parsed = controlMessageSchema.safeParse(message);
    if (!parsed.success) {
      const issue = firstIssue(parsed.error);
      return ack(issue.path === '' ? issue.message : `${issue.path}: ${issue.message}`);
    }
    const control = parsed.data;
    if (control.action === 'UNSUBSCRIBE') {
      // Whole feeds (SDK UnsubscribePayload.feeds: list[Feed]); a feed not subscribed is already gone.
      for (const feed of control.feeds) if (isServed(feed)) conn.subscriptions.delete(feed);
      return ack();
    }
    const subscribed = parseSubscriptions(control.feeds, exchange.products);
    if (!subscribed.ok) return ack(subscribed.error);
    ack();
    for (const sub of subscribed.subscriptions) {
      conn.subscriptions.set(sub.feed, sub);
      for (const rows of partialRows(sub, exchange)) deliver(conn, sub, rows, 'PARTIAL', sequence);
    }
  };

  // ── REST ───────────────────────────────────────────────────────────────────────────────────

  const send = (res: ServerResponse, answer: ReadAnswer): void => {
    const text = JSON.stringify(answer.body);
    res.writeHead(answer.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };

  const route = (req: IncomingMessage, res: ServerResponse, body: Uint8Array, work: RequestWork): void => {
    const url = new URL(req.url ?? '/', 'http://simulator');
    const method = req.method ?? 'GET';
    if (method === 'POST' && url.pathname === PATHS.request) {
      // Bare answers (docs/derivadex-sources.md §4.4, §10.9): a receipt, or a flat {error_reason, message}.
      const reply = (answer: GatewayAnswer): void => {
        const text = JSON.stringify(answer.body);
        res.writeHead(answer.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
        res.end(text);
      };
      const answer = handleRequest({ exchange, operatorSecretKey, venue, rateLimiter, clock }, body);
      // Only a sequenced request has an answer to lose or hold back (drop-acks / delay-acks).
      if (answer.status !== 200 || !('t' in answer.body) || answer.body.t !== 'Sequenced') return reply(answer);
      const fate = faults.takeAckFate();
      if (fate.kind === 'drop')
        return reply(requestError('ServiceUnavailable', 'the request could not be confirmed (simulated drop-acks)'));
      if (fate.kind === 'delay') {
        // Stop counting while the answer waits for the clock, or the runner could never move it.
        work.counted = false;
        // In stepped mode the request only executes at flush(), which waits for quiescence: park the
        // client's unit so the wait cannot deadlock (the execution's frames then release the client).
        const parked = stepped && tracker.park !== undefined;
        if (parked) tracker.park!();
        tracker.end();
        delayed.push({
          until: fate.until,
          work,
          respond: () => reply(answer),
          parked,
          gone: () => res.destroyed || res.writableEnded,
        });
        return;
      }
      return reply(answer);
    }
    const read = method === 'GET' ? answerRead(readContext, url) : undefined;
    send(res, read ?? readFailure(readContext, 404, `no route ${method} ${url.pathname}`));
  };

  const server = createServer((req, res) => {
    tracker.begin();
    const work: RequestWork = { counted: true };
    const done = (): void => {
      if (work.counted) {
        work.counted = false;
        tracker.end();
      }
    };
    res.on('finish', done);
    res.on('close', done);
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => {
      if (tooLarge) return send(res, requestError('InvalidRequestPayload', `body larger than ${MAX_BODY_BYTES} bytes`));
      try {
        route(req, res, new Uint8Array(Buffer.concat(chunks)), work);
      } catch (error) {
        send(res, readFailure(readContext, 500, `simulator error: ${(error as Error).message}`));
      }
    });
    req.on('error', done);
  });

  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws: WebSocket) => {
    const conn = new FeedConnection(nextConnectionId++, ws, faults, tracker);
    connections.set(conn.id, conn);
    ws.on('message', (raw) => onClientMessage(conn, raw));
    ws.on('close', () => connections.delete(conn.id));
    ws.on('error', () => connections.delete(conn.id));
  });

  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const hostInUrl = host.includes(':') ? `[${host}]` : host;

  const advance = (): void => {
    for (const conn of connections.values()) conn.release();
    const now = clock.now();
    const due = delayed.filter((d) => d.until <= now);
    delayed = delayed.filter((d) => d.until > now);
    for (const d of due) {
      if (d.parked) {
        d.parked = false;
        tracker.unpark?.();
      }
      if (d.gone()) continue;
      d.work.counted = true;
      tracker.begin();
      d.respond();
    }
  };

  return {
    url: `http://${hostInUrl}:${port}`,
    wsUrl: `ws://${hostInUrl}:${port}${REALTIME_PATH}`,
    port,
    operatorPublicKey,
    exchange,
    venue,
    flush() {
      advance();
      const executed = exchange.flush();
      unparkExecuted();
      return executed;
    },
    setMark(symbol, price) {
      advance();
      return exchange.setMark(symbol, price);
    },
    injectFault(fault) {
      switch (fault.kind) {
        case 'reject-next-order':
          exchange.rejectNextOrder(fault.trader, fault.strategyId, fault.reason);
          return;
        case 'duplicate-messages':
        case 'reorder-messages':
          for (const conn of connections.values()) conn.faults.add(fault);
          return;
        case 'disconnect':
          for (const conn of connections.values()) conn.close(SERVER_CLOSE_CODE, 'simulated disconnect');
          return;
        default:
          faults.add(fault);
      }
    },
    advance,
    get connectionCount() {
      return connections.size;
    },
    async close() {
      for (const d of delayed) d.respond();
      delayed = [];
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
