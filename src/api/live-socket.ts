import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import type { TimelineKind, TimelineRecord } from '../timeline/timeline-record.ts';
import type { LiveMessage } from './api-types.ts';
import type { ApiCaller } from './auth.ts';
import type { FleetView } from './fleet-view.ts';
import { MarkThrottle } from './mark-throttle.ts';

export const LIVE_PATH = '/api/v1/live';

/** The records the live socket pushes (a summary, say, is not news to a watcher). */
export const LIVE_KINDS: ReadonlySet<TimelineKind> = new Set<TimelineKind>([
  'state',
  'decision',
  'order',
  'order-update',
  'cancel',
  'stopout',
  'operator',
  'liquidation',
  'risk',
  'mark',
]);

export interface LiveSocketOptions {
  view: Pick<FleetView, 'subscribe' | 'at'>;
  /**
   * Unsent bytes a client may still have when records come in a later event-loop turn (default 1 MiB):
   * more, and it is not keeping up, so it is dropped. Within one turn a burst may go past it (a fleet
   * crash writes a record per account at once) up to `maxBurstBytes`.
   */
  maxBufferedBytes?: number;
  /** Unsent bytes a client is dropped at, whenever (default 64 MiB). */
  maxBurstBytes?: number;
  /** At most one mark per symbol per this many ms (default 250). */
  markIntervalMs?: number;
  /** Ping period; a client that missed the previous pong is dropped (default 30 s). */
  pingIntervalMs?: number;
}

/**
 * WebSocket `/api/v1/live` on the API's HTTP server: `{type:'hello'}` on connect, then every record of
 * LIVE_KINDS as `{type:'record', record}` the moment the view receives it (marks thinned by MarkThrottle).
 * Each message is serialised once for all clients. A client that does not read — still more than
 * `maxBufferedBytes` unsent when the next turn's records come, or `maxBurstBytes` at any time — is
 * dropped rather than buffered for without bound. Client messages are ignored.
 */
export class LiveSocket {
  readonly #wss = new WebSocketServer({ noServer: true, maxPayload: 4096, perMessageDeflate: false });
  readonly #maxBuffered: number;
  readonly #maxBurst: number;
  /** Records have been sent in the current event-loop turn (reset by setImmediate). */
  #inTurn = false;
  readonly #throttle: MarkThrottle;
  readonly #unsubscribe: () => void;
  readonly #view: LiveSocketOptions['view'];
  readonly #alive = new WeakMap<WebSocket, boolean>();
  readonly #ping: NodeJS.Timeout;
  #dropped = 0;

  constructor(options: LiveSocketOptions) {
    this.#view = options.view;
    this.#maxBuffered = options.maxBufferedBytes ?? 1024 * 1024;
    this.#maxBurst = Math.max(this.#maxBuffered, options.maxBurstBytes ?? 64 * 1024 * 1024);
    this.#throttle = new MarkThrottle(options.markIntervalMs ?? 250, (mark) => this.#broadcast(mark));
    this.#unsubscribe = options.view.subscribe((record) => {
      if (!LIVE_KINDS.has(record.kind)) return;
      if (record.kind === 'mark') this.#throttle.offer(record);
      else this.#broadcast(record);
    });
    this.#ping = setInterval(() => {
      for (const client of this.#wss.clients) {
        if (this.#alive.get(client) === false) {
          client.terminate();
          continue;
        }
        this.#alive.set(client, false);
        client.ping();
      }
    }, options.pingIntervalMs ?? 30_000);
    this.#ping.unref();
  }

  get clientCount(): number {
    return this.#wss.clients.size;
  }

  /** Clients dropped for not keeping up, so far. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Completes an upgrade the server has authenticated (`caller`); refuses it otherwise with 401. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, caller: ApiCaller | undefined): void {
    if (!caller) {
      refuseUpgrade(
        socket,
        401,
        'Unauthorized',
        'a read or admin token is required: Authorization: Bearer, the riskwarden_token cookie, or ?token=',
      );
      return;
    }
    // The checks `ws` would make, answered here so that every refusal is JSON like the rest of the API.
    const problem = handshakeProblem(req);
    if (problem) {
      refuseUpgrade(socket, problem.status, problem.status === 405 ? 'Method Not Allowed' : 'Bad Request', problem.error);
      return;
    }
    // No subprotocols are offered: a malformed list must not fail the handshake.
    delete req.headers['sec-websocket-protocol'];
    this.#wss.handleUpgrade(req, socket, head, (client) => this.#connected(client));
  }

  close(): void {
    this.#unsubscribe();
    this.#throttle.close();
    clearInterval(this.#ping);
    for (const client of this.#wss.clients) client.terminate();
    this.#wss.close();
  }

  #connected(client: WebSocket): void {
    this.#alive.set(client, true);
    client.on('pong', () => this.#alive.set(client, true));
    client.on('error', () => client.terminate());
    client.on('message', () => {});
    const hello: LiveMessage = { type: 'hello', at: this.#view.at() };
    client.send(JSON.stringify(hello));
  }

  #broadcast(record: TimelineRecord): void {
    if (this.#wss.clients.size === 0) return;
    const message: LiveMessage = { type: 'record', record };
    const data = JSON.stringify(message);
    // What a client has not taken since an earlier turn says it is slow; a burst within a turn does not.
    const newTurn = !this.#inTurn;
    if (newTurn) {
      this.#inTurn = true;
      setImmediate(() => {
        this.#inTurn = false;
      });
    }
    for (const client of this.#wss.clients) {
      if (client.readyState !== WebSocket.OPEN) continue;
      const backlog = client.bufferedAmount;
      if ((newTurn && backlog > this.#maxBuffered) || backlog + data.length > this.#maxBurst) {
        this.#dropped += 1;
        client.terminate();
        continue;
      }
      client.send(data);
    }
  }
}

const WS_KEY = /^[+/0-9A-Za-z]{22}==$/;

/** What makes an upgrade request an invalid WebSocket handshake (RFC 6455 §4.2.1), or undefined. */
function handshakeProblem(req: IncomingMessage): { status: 400 | 405; error: string } | undefined {
  if (req.method !== 'GET') return { status: 405, error: `a WebSocket handshake is a GET, not ${req.method ?? 'this'}` };
  if (req.headers.upgrade?.toLowerCase() !== 'websocket') return { status: 400, error: 'Upgrade: websocket expected' };
  const key = req.headers['sec-websocket-key'];
  if (key === undefined || !WS_KEY.test(key)) return { status: 400, error: 'missing or invalid Sec-WebSocket-Key' };
  const version = req.headers['sec-websocket-version'];
  if (version !== '13' && version !== '8') return { status: 400, error: 'Sec-WebSocket-Version 13 expected' };
  return undefined;
}

/** Answers an upgrade request with a JSON error and closes the connection. */
export function refuseUpgrade(socket: Duplex, status: number, statusText: string, error: string): void {
  const body = `${JSON.stringify({ error })}\n`;
  try {
    socket.end(
      `HTTP/1.1 ${status} ${statusText}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  } catch {
    socket.destroy();
  }
}
