import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { PATHS, REALTIME_PATH } from '../../src/derivadex/paths.ts';

/*
 * A small real gateway on 127.0.0.1 (port 0) for `riskwarden venue check`: HTTP and the realtime API on
 * one port. By default every answer is a golden fixture from test/fixtures/derivadex/ (the real shapes);
 * each answer can be replaced by a hostile one — the invented shapes the project used to speak, an
 * HTTP error, non-JSON, silence — to see that the check names what is wrong.
 */

const FIXTURES = new URL('../fixtures/derivadex/', import.meta.url);

export function fixture(name: string): unknown {
  return JSON.parse(readFileSync(new URL(name, FIXTURES), 'utf8')) as unknown;
}

/** A REST answer: a JSON body, or raw text; status 200 unless said. */
export type RestAnswer = { status?: number; json: unknown } | { status?: number; text: string };

/** A realtime answer: a JSON message, raw text, or nothing at all. */
export type WsAnswer = { json: unknown } | { text: string } | 'silence';

export interface HostileAnswers {
  deploymentInfo: RestAnswer;
  exchangeInfo: RestAnswer;
  encryptionKey: RestAnswer;
  /** The page for the asked `symbol`. */
  markPrices: (symbol: string) => RestAnswer;
  /** The acknowledgement of a SUBSCRIBE with this nonce. */
  ack: (nonce: string) => WsAnswer;
  /** The first MARK_PRICE message for these symbols (empty = all). */
  markFrame: (symbols: readonly string[]) => WsAnswer;
}

/** The golden answers, adapted to the request (nonce, symbols). */
export function conformingAnswers(): HostileAnswers {
  return {
    deploymentInfo: { json: fixture('rest-contract-server-addresses.json') },
    exchangeInfo: { json: fixture('rest-exchange-info.json') },
    encryptionKey: { json: fixture('rest-encryption-key.json') },
    markPrices: (symbol) => {
      const page = fixture('rest-mark-prices.json') as { value: Array<Record<string, unknown>> };
      return { json: { ...page, value: page.value.map((row) => ({ ...row, symbol })) } };
    },
    ack: (nonce) => ({ json: { ...(fixture('ws-ack-success-empty.json') as object), nonce } }),
    markFrame: (symbols) => {
      const frame = fixture('ws-mark-price-partial.json') as { contents: { data: Array<{ symbol: string }> } };
      const data = frame.contents.data.filter((row) => symbols.length === 0 || symbols.includes(row.symbol));
      const key = `MARK_PRICE|symbols=${[...symbols].sort().join(',')}`;
      return { json: { ...frame, subscriptionKey: key, contents: { ...frame.contents, data } } };
    },
  };
}

/** The wrong answers a venue check must catch, each with the row it should fail. */
export const HOSTILE = {
  /** The invented exchange_info this project used to serve: chain settings inside, no `kind`. */
  inventedExchangeInfo: (): Partial<HostileAnswers> => {
    const golden = fixture('rest-exchange-info.json') as { value: { symbols: Array<Record<string, unknown>> } };
    const symbols = golden.value.symbols.map(({ kind: _kind, ...rest }) => rest);
    return {
      exchangeInfo: {
        json: {
          ...golden,
          value: { ...golden.value, chainId: 1337, verifyingContract: `0x${'dd'.repeat(20)}`, amountScaleDecimals: 6, symbols },
        },
      },
    };
  },
  /** The encryption key inside a `{value, success, timestamp}` envelope (it is a bare string). */
  envelopedEncryptionKey: (): Partial<HostileAnswers> => ({
    encryptionKey: { json: { value: fixture('rest-encryption-key.json'), success: true, timestamp: 1767225600 } },
  }),
  /** An acknowledgement without `result` (the one key the SDK requires). */
  ackWithoutResult: (): Partial<HostileAnswers> => ({ ack: (nonce) => ({ json: { action: 'SUBSCRIBE', nonce } }) }),
  /** A MARK_PRICE message whose first price is a JSON number. */
  numberPriceFrame: (): Partial<HostileAnswers> => ({
    markFrame: (symbols) => {
      const answer = conformingAnswers().markFrame(symbols) as { json: { contents: { data: Array<Record<string, unknown>> } } };
      const [first, ...rest] = answer.json.contents.data;
      return { json: { ...answer.json, contents: { ...answer.json.contents, data: [{ ...first, price: 2451.3 }, ...rest] } } };
    },
  }),
  /** Subscribed, acknowledged, and then nothing. */
  noFrame: (): Partial<HostileAnswers> => ({ markFrame: () => 'silence' }),
  /** The deployment info read fails with HTTP 500. */
  deploymentInfo500: (): Partial<HostileAnswers> => ({ deploymentInfo: { status: 500, json: { success: false } } }),
  /** The mark prices read answers HTML. */
  markPricesNotJson: (): Partial<HostileAnswers> => ({ markPrices: () => ({ text: '<html><body>Bad gateway</body></html>' }) }),
} as const;

export interface RecordedRequest {
  method: string;
  /** Path and query, as sent. */
  url: string;
}

export interface HostileVenue {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** `ws://127.0.0.1:<port>/realtime-api` */
  wsUrl: string;
  /** Every HTTP request, in arrival order. */
  requests: RecordedRequest[];
  /** Every realtime message received, as text. */
  received: string[];
  close(): Promise<void>;
}

export async function startHostileVenue(overrides: Partial<HostileAnswers> = {}): Promise<HostileVenue> {
  const answers: HostileAnswers = { ...conformingAnswers(), ...overrides };
  const requests: RecordedRequest[] = [];
  const received: string[] = [];

  const reply = (res: ServerResponse, answer: RestAnswer): void => {
    const body = 'json' in answer ? JSON.stringify(answer.json) : answer.text;
    res.writeHead(answer.status ?? 200, { 'content-type': 'json' in answer ? 'application/json' : 'text/html' });
    res.end(body);
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '' });
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (req.method !== 'GET') return reply(res, { status: 405, json: { success: false } });
    switch (url.pathname) {
      case PATHS.deploymentInfo:
        return reply(res, answers.deploymentInfo);
      case PATHS.exchangeInfo:
        return reply(res, answers.exchangeInfo);
      case PATHS.encryptionKey:
        return reply(res, answers.encryptionKey);
      case PATHS.markPrices:
        return reply(res, answers.markPrices(url.searchParams.get('symbol') ?? ''));
      default:
        return reply(res, { status: 404, json: { success: false } });
    }
  });

  const wss = new WebSocketServer({ server, path: REALTIME_PATH });
  const send = (socket: WebSocket, answer: WsAnswer): void => {
    if (answer === 'silence') return;
    socket.send('json' in answer ? JSON.stringify(answer.json) : answer.text);
  };
  wss.on('connection', (socket) => {
    socket.on('message', (data) => {
      const text = data.toString();
      received.push(text);
      let message: { action?: unknown; nonce?: unknown; feeds?: Array<{ feed?: unknown; params?: { symbols?: unknown } }> };
      try {
        message = JSON.parse(text) as typeof message;
      } catch {
        return;
      }
      if (message.action !== 'SUBSCRIBE') return;
      send(socket, answers.ack(typeof message.nonce === 'string' ? message.nonce : ''));
      const mark = message.feeds?.find((f) => f.feed === 'MARK_PRICE');
      if (mark === undefined) return;
      const symbols = Array.isArray(mark.params?.symbols) ? mark.params.symbols.filter((s): s is string => typeof s === 'string') : [];
      send(socket, answers.markFrame(symbols));
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}${REALTIME_PATH}`,
    requests,
    received,
    close: async () => {
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A loopback port nobody listens on: bound on port 0, then released. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
