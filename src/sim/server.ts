import { SERVER_CLOSE_CODE } from '../venue/protocol.ts';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SigningKey, getAddress, keccak256, toUtf8Bytes } from 'ethers';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { wallClock, type Clock } from '../clock/clock.ts';
import type { Product } from '../domain/product.ts';
import type { Eip712Venue } from '../derivadex/crypto/eip712.ts';
import { DEFAULT_AMOUNT_DECIMALS } from '../derivadex/crypto/scaling.ts';
import {
  HTTP_ERRORS,
  PATHS,
  type ExchangeInfo,
  type FeedMessage,
  type HttpErrorName,
  type MarkPriceRow,
  type RestEnvelope,
  type RestError,
  type SubscribeAck,
} from '../venue/protocol.ts';
import { Exchange, ExchangeError, type ExchangeEvent, type ExecutionMode, type FeeSchedule, type FundingConfig } from './exchange.ts';
import { FaultState, type SimFault } from './faults.ts';
import { FeedConnection, type Tracker } from './feed-connection.ts';
import { DEFAULT_RATE_LIMIT, RateLimiter, type RateLimitConfig } from './rate-limit.ts';
import { handleRequest } from './request-gateway.ts';
import { eventRows, matches, parseSubscriptions } from './subscriptions.ts';
import type { LiquidityConfig } from './synthetic-liquidity.ts';

/**
 * The simulated DerivaDEX venue over real sockets: node:http for REST (PATHS of protocol.ts, the
 * `{value, success, timestamp}` envelope, timestamp = clock seconds) and `ws` on the same port for the
 * feeds. Binds 127.0.0.1 by default; port 0 picks a free port.
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
  /** EIP-712 domain and amount scale the venue announces in exchange_info. */
  chainId?: number;
  verifyingContract?: string;
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
  setMark(symbol: string, price: string): MarkPriceRow;
  injectFault(fault: SimFault): void;
  /** Releases held frames and delayed acks whose time has come (flush() and setMark() call it). */
  advance(): void;
  /** Open WebSocket connections. */
  readonly connectionCount: number;
  close(): Promise<void>;
}

export const WS_PATH = '/realtime-api';
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
  const knownSymbols = Object.keys(exchange.products);

  // ── feeds ──────────────────────────────────────────────────────────────────────────────────

  exchange.setSink((event: ExchangeEvent) => {
    sequence += 1;
    const seq = sequence;
    const data = eventRows(event);
    for (const conn of connections.values()) {
      for (const sub of conn.subscriptions.values()) {
        if (!matches(sub, event)) continue;
        conn.deliver(
          event.feed,
          (ordinal): FeedMessage => ({
            sequence: seq,
            ordinal,
            feed: event.feed,
            subscriptionKey: sub.key,
            contents: { messageType: 'UPDATE', data },
          }),
        );
      }
    }
  });

  const onClientMessage = (conn: FeedConnection, raw: RawData): void => {
    let message: unknown;
    try {
      message = JSON.parse(raw.toString());
    } catch {
      conn.sendControl({ action: 'SUBSCRIBE', nonce: '', result: { error: 'message is not valid JSON' } });
      return;
    }
    const m = typeof message === 'object' && message !== null ? (message as Record<string, unknown>) : {};
    const action = m.action;
    const nonce = typeof m.nonce === 'string' ? m.nonce : '';
    const ack = (error?: string): void => {
      const reply: SubscribeAck = {
        action: action === 'UNSUBSCRIBE' ? 'UNSUBSCRIBE' : 'SUBSCRIBE',
        nonce,
        result: error === undefined ? {} : { error },
      };
      conn.sendControl(reply);
    };
    if (action !== 'SUBSCRIBE' && action !== 'UNSUBSCRIBE')
      return ack(`action: expected "SUBSCRIBE" or "UNSUBSCRIBE", got ${JSON.stringify(action)}`);
    if (typeof m.nonce !== 'string' || nonce.length === 0) return ack('nonce: expected a non-empty string');
    const parsed = parseSubscriptions(m.feeds, knownSymbols);
    if (!parsed.ok) return ack(parsed.error);
    if (action === 'UNSUBSCRIBE') {
      const missing = parsed.subscriptions.find((s) => !conn.subscriptions.has(s.key));
      if (missing !== undefined) return ack(`not subscribed: ${missing.key}`);
      for (const s of parsed.subscriptions) conn.subscriptions.delete(s.key);
      return ack();
    }
    ack();
    for (const sub of parsed.subscriptions) {
      conn.subscriptions.set(sub.key, sub);
      // Marks and the book start from the current state; user feeds from an empty PARTIAL (bootstrap from REST).
      let data: unknown[] = [];
      if (sub.feed === 'MARK_PRICE') {
        const latest = exchange.latestMarkRow(sub.symbol!);
        data = latest === undefined ? [] : [latest];
      } else if (sub.feed === 'ORDER_BOOK_L2') data = exchange.bookLevels(sub.symbol!);
      const seq = sequence;
      conn.deliver(
        sub.feed,
        (ordinal): FeedMessage => ({
          sequence: seq,
          ordinal,
          feed: sub.feed,
          subscriptionKey: sub.key,
          contents: { messageType: 'PARTIAL', data },
        }),
      );
    }
  };

  // ── REST ───────────────────────────────────────────────────────────────────────────────────

  const send = (res: ServerResponse, status: number, envelope: RestEnvelope<unknown>): void => {
    const body = JSON.stringify(envelope);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };
  const ok = (res: ServerResponse, value: unknown): void => send(res, 200, { value, success: true, timestamp: timestamp() });
  const fail = (res: ServerResponse, code: HttpErrorName, message: string): void => {
    const value: RestError = { code, message };
    send(res, code === 'NotFound' ? 404 : HTTP_ERRORS[code], { value, success: false, timestamp: timestamp() });
  };

  const query = (url: URL, name: string, required: boolean): string | undefined => {
    const value = url.searchParams.get(name);
    if (value === null || value === '') {
      if (required) throw new ExchangeError('InvalidRequestPayload', `query parameter ${name} is required`);
      return undefined;
    }
    return value;
  };
  const ordinalParam = (url: URL): number => {
    const raw = query(url, 'sinceOrdinal', false);
    if (raw === undefined) return 0;
    if (!/^\d+$/.test(raw) || !Number.isSafeInteger(Number(raw)))
      throw new ExchangeError('InvalidRequestPayload', `sinceOrdinal: expected a whole number, got ${JSON.stringify(raw)}`);
    return Number(raw);
  };

  const exchangeInfo = (): ExchangeInfo => ({
    symbols: exchange.symbols(),
    chainId: Number(venue.chainId),
    verifyingContract: venue.verifyingContract,
    amountScaleDecimals: venue.decimals,
  });

  const route = (req: IncomingMessage, res: ServerResponse, body: Uint8Array, work: RequestWork): void => {
    const url = new URL(req.url ?? '/', 'http://simulator');
    const method = req.method ?? 'GET';
    try {
      if (method === 'POST' && url.pathname === PATHS.request) {
        const result = handleRequest({ exchange, operatorSecretKey, venue, rateLimiter }, body);
        if (!result.ok) return fail(res, result.error.code, result.error.message);
        const fate = faults.takeAckFate();
        if (fate.kind === 'drop') return fail(res, 'ServiceUnavailable', 'the request could not be confirmed (simulated drop-acks)');
        if (fate.kind === 'delay') {
          const receipt = result.receipt;
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
            respond: () => ok(res, receipt),
            parked,
            gone: () => res.destroyed || res.writableEnded,
          });
          return;
        }
        return ok(res, result.receipt);
      }
      if (method !== 'GET') return fail(res, 'NotFound', `no route ${method} ${url.pathname}`);
      switch (url.pathname) {
        case PATHS.exchangeInfo:
          return ok(res, exchangeInfo());
        case PATHS.encryptionKey:
          return ok(res, operatorPublicKey);
        case PATHS.strategy:
          return ok(res, exchange.strategyState(query(url, 'trader', true)!, query(url, 'strategyId', true)!));
        case PATHS.openOrders:
          return ok(res, exchange.openOrders(query(url, 'trader', true)!, strategyHashParam(url), query(url, 'symbol', false)));
        case PATHS.orderUpdates:
          return ok(res, exchange.orderUpdates(query(url, 'trader', true)!, strategyHashParam(url), ordinalParam(url)));
        case PATHS.strategyUpdates:
          return ok(res, exchange.strategyUpdates(query(url, 'trader', true)!, strategyHashParam(url), ordinalParam(url)));
        case PATHS.markPrices: {
          const symbols = (query(url, 'symbols', false) ?? knownSymbols.join(',')).split(',').filter((s) => s !== '');
          const unknown = symbols.find((s) => !knownSymbols.includes(s));
          if (unknown !== undefined) return fail(res, 'InvalidRequestPayload', `symbols: unknown symbol ${JSON.stringify(unknown)}`);
          return ok(res, exchange.markPrices(symbols, ordinalParam(url)));
        }
        default:
          return fail(res, 'NotFound', `no route GET ${url.pathname}`);
      }
    } catch (error) {
      if (error instanceof ExchangeError) return fail(res, error.code, error.message);
      if (error instanceof Error && error.name === 'Bytes32Error') return fail(res, 'InvalidRequestPayload', error.message);
      throw error;
    }

    function strategyHashParam(u: URL): string {
      const hash = query(u, 'strategyIdHash', true)!;
      if (!/^0x[0-9a-fA-F]{8}$/.test(hash))
        throw new ExchangeError('InvalidRequestPayload', 'strategyIdHash: expected 0x and 8 hex digits');
      return hash;
    }
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
      if (tooLarge) return fail(res, 'InvalidRequestPayload', `body larger than ${MAX_BODY_BYTES} bytes`);
      try {
        route(req, res, new Uint8Array(Buffer.concat(chunks)), work);
      } catch (error) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            value: { code: 'ServiceUnavailable', message: `simulator error: ${(error as Error).message}` },
            success: false,
            timestamp: timestamp(),
          }),
        );
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
    wsUrl: `ws://${hostInUrl}:${port}${WS_PATH}`,
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
