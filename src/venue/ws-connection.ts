import { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import type { Clock } from '../clock/clock.ts';
import type { WorkTracker } from '../clock/work-tracker.ts';
import { backoffDelay, DEFAULT_RECONNECT_BACKOFF, seededRandom, type BackoffPolicy, type Random } from './backoff.ts';
import type { Ack, Feed, FeedMessage, FeedWithParams, SubscribeMessage, UnsubscribeMessage } from '../derivadex/feed-messages.ts';
import { parseFrame, type FrameError, type RawFrame } from '../derivadex/frame-parser.ts';
import { SERVER_CLOSE_CODE } from '../derivadex/paths.ts';

/*
 * One WebSocket connection to the venue.
 *
 * - Subscriptions (docs/derivadex-sources.md §5.2, §10.11): one subscription per feed. A SUBSCRIBE of a
 *   feed replaces its filters, so callers always send a feed's full filter list; UNSUBSCRIBE names whole
 *   feeds. Accepted subscriptions are remembered (one per feed) and re-sent as one SUBSCRIBE after a
 *   reconnect.
 * - Acks: only `result` is required (SDK `AcknowledgePayload`); success is `result: {}` or
 *   `result: {error: null}`, failure an error string. An ack is matched to its request by `nonce` when it
 *   carries one, else to the oldest outstanding control request (docs realtime connection model: "keep
 *   outstanding control-request bookkeeping as fallback correlation state"). `SubscribeError` on
 *   `result.error`, on ack timeout, or when the connection drops first.
 * - Ordinals are per connection and start at 0 (docs realtime examples; §10.11): ordinal === last + 1 is delivered; ordinal <= last is a duplicate
 *   (dropped, counted); ordinal > last + 1 is a gap: the frames in between are lost, a 'gap' event is
 *   emitted BEFORE the frame that revealed it is delivered, and the owner repairs from REST.
 * - PARTIAL / UPDATE per subscriptionKey: a PARTIAL (re)starts a key; an UPDATE on a key without one is
 *   still delivered (user-feed rows stand alone) but reported as 'update-before-partial' so the owner
 *   can resynchronise snapshot feeds such as the book.
 * - Reconnect: after an unexpected close, exponential backoff with seeded jitter, then resubscribe and
 *   emit 'reconnected' (the owner re-bootstraps). Ordinals start afresh on the new connection.
 * - Staleness: `checkStale(now)` flags feeds with no message for longer than their `staleAfterMs`.
 *
 * Work accounting (deterministic simulation): the simulator `begin()`s every frame it sends; this class
 * `end()`s it after the frame has been handled, whatever became of it (delivered, duplicate, rejected).
 * Listeners run synchronously inside that window, so work they start must `begin()` before returning.
 * Sending a (un)subscribe `begin()`s until its ack is handled; a reconnect holds one unit until done.
 */

export type SubscribeErrorCode = 'rejected' | 'timeout' | 'closed';

export class SubscribeError extends Error {
  override readonly name = 'SubscribeError';
  constructor(
    readonly code: SubscribeErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface GapInfo {
  expected: number;
  received: number;
  feed: Feed;
}

export interface FeedStatus {
  feed: Feed;
  stale: boolean;
  /** Time of the last message on the feed (clock ms), or undefined if none yet. */
  lastMessageAt: number | undefined;
}

export interface ConnectionStats {
  frames: number;
  delivered: number;
  rejected: number;
  duplicates: number;
  gaps: number;
  reconnects: number;
  /** Frames whose handling threw (a bug, or input that got past the parser): caught, never fatal. */
  handlerErrors: number;
}

export interface WsConnectionEvents {
  message: [FeedMessage];
  gap: [GapInfo];
  duplicate: [{ ordinal: number; feed: Feed }];
  'frame-rejected': [FrameError];
  /** A listener threw while a valid frame was handled: the frame's effect is unknown, so the owner repairs. */
  'handler-failed': [{ feed: Feed | 'ack'; message: string }];
  'update-before-partial': [{ feed: Feed; subscriptionKey: string }];
  'feed-status': [FeedStatus];
  disconnected: [{ code: number; reason: string }];
  reconnected: [{ attempts: number }];
  'reconnect-failed': [{ attempts: number }];
}

export interface WsConnectionOptions {
  url: string;
  clock: Clock;
  work?: Pick<WorkTracker, 'begin' | 'end'>;
  /** Jitter source for reconnect delays; seed it in simulation. */
  random?: Random;
  backoff?: Partial<BackoffPolicy>;
  /** Give up reconnecting after this many failed attempts (default: never give up). */
  maxReconnectAttempts?: number;
  ackTimeoutMs?: number;
  /** Per feed: stale after this long without a message. Feeds not listed are never stale. */
  staleAfterMs?: Partial<Record<Feed, number>>;
  /** Live mode: call checkStale(clock.now()) this often. Simulation drives checkStale itself. */
  staleCheckIntervalMs?: number;
  /** The ordinal the venue gives the first message on a connection; undefined: take the first as it comes. */
  firstOrdinal?: number;
  /** Waits between reconnect attempts. */
  sleep?: (ms: number) => Promise<void>;
  /** Subscribe nonces; default "sub-1", "sub-2", … (deterministic). */
  nonce?: () => string;
}

type Pending = {
  resolve: () => void;
  reject: (error: SubscribeError) => void;
  timer: NodeJS.Timeout;
} & ({ action: 'SUBSCRIBE'; feeds: FeedWithParams[] } | { action: 'UNSUBSCRIBE'; feeds: Feed[] });

const noWork = { begin(): void {}, end(): void {} };
const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class WsConnection extends EventEmitter<WsConnectionEvents> {
  readonly #url: string;
  readonly #clock: Clock;
  readonly #work: Pick<WorkTracker, 'begin' | 'end'>;
  readonly #random: Random;
  readonly #backoff: BackoffPolicy;
  readonly #maxReconnectAttempts: number;
  readonly #ackTimeoutMs: number;
  readonly #staleAfterMs: Partial<Record<Feed, number>>;
  readonly #firstOrdinal: number | undefined;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #nonce: () => string;

  #socket: WebSocket | undefined;
  #closing = false;
  #reconnecting = false;
  #pending = new Map<string, Pending>();
  /** One per feed: a later SUBSCRIBE of the feed replaced the earlier one (§10.11). */
  #subscriptions = new Map<Feed, FeedWithParams>();
  #lastOrdinal: number | undefined;
  #partials = new Set<string>();
  #lastAt = new Map<Feed, number>();
  #watchedSince = new Map<Feed, number>();
  #stale = new Set<Feed>();
  #staleTimer: NodeJS.Timeout | undefined;
  #nonceCount = 0;
  readonly stats: ConnectionStats = { frames: 0, delivered: 0, rejected: 0, duplicates: 0, gaps: 0, reconnects: 0, handlerErrors: 0 };

  constructor(options: WsConnectionOptions) {
    super();
    this.#url = options.url;
    this.#clock = options.clock;
    this.#work = options.work ?? noWork;
    this.#random = options.random ?? seededRandom(0);
    this.#backoff = { ...DEFAULT_RECONNECT_BACKOFF, ...options.backoff };
    this.#maxReconnectAttempts = options.maxReconnectAttempts ?? Number.POSITIVE_INFINITY;
    this.#ackTimeoutMs = options.ackTimeoutMs ?? 5_000;
    this.#staleAfterMs = { ...options.staleAfterMs };
    this.#firstOrdinal = options.firstOrdinal;
    this.#sleep = options.sleep ?? realSleep;
    this.#nonce = options.nonce ?? (() => `sub-${(this.#nonceCount += 1)}`);
    if (options.staleCheckIntervalMs !== undefined && options.staleCheckIntervalMs > 0) {
      this.#staleTimer = setInterval(() => this.checkStale(this.#clock.now()), options.staleCheckIntervalMs);
      this.#staleTimer.unref();
    }
  }

  get connected(): boolean {
    return this.#socket?.readyState === WebSocket.OPEN;
  }

  /** The subscriptions that are re-sent after a reconnect. */
  get subscriptions(): FeedWithParams[] {
    return [...this.#subscriptions.values()];
  }

  /** Opens the connection (once; reconnects happen by themselves). */
  async connect(): Promise<void> {
    if (this.#socket !== undefined) throw new Error('WsConnection.connect() called twice');
    this.#closing = false;
    await this.#open();
  }

  /** One SUBSCRIBE; each feed's params replace what that feed had (send its full filter list). */
  subscribe(feeds: FeedWithParams[]): Promise<void> {
    return this.#request({ action: 'SUBSCRIBE', feeds });
  }

  /** One UNSUBSCRIBE of whole feeds, by name. */
  unsubscribe(feeds: Feed[]): Promise<void> {
    return this.#request({ action: 'UNSUBSCRIBE', feeds });
  }

  /** Closes for good: no reconnect; pending (un)subscribes fail with 'closed'. */
  async close(): Promise<void> {
    this.#closing = true;
    if (this.#staleTimer !== undefined) clearInterval(this.#staleTimer);
    this.#failPending('connection closed by the client');
    const socket = this.#socket;
    if (socket === undefined || socket.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      socket.once('close', () => resolve());
      socket.close(1000, 'client closing');
    });
  }

  /**
   * Flags feeds with no message for longer than their threshold (or since they were subscribed) and
   * emits 'feed-status' for every change. Returns the feeds that are stale now.
   */
  checkStale(now: number): Feed[] {
    for (const [feed, since] of this.#watchedSince) {
      const limit = this.#staleAfterMs[feed];
      if (limit === undefined) continue;
      const last = this.#lastAt.get(feed) ?? since;
      const stale = now - last > limit;
      if (stale !== this.#stale.has(feed)) {
        if (stale) this.#stale.add(feed);
        else this.#stale.delete(feed);
        this.emit('feed-status', { feed, stale, lastMessageAt: this.#lastAt.get(feed) });
      }
    }
    return [...this.#stale];
  }

  #request(what: { action: 'SUBSCRIBE'; feeds: FeedWithParams[] } | { action: 'UNSUBSCRIBE'; feeds: Feed[] }): Promise<void> {
    const { action } = what;
    const socket = this.#socket;
    if (socket === undefined || socket.readyState !== WebSocket.OPEN) {
      return Promise.reject(new SubscribeError('closed', `${action}: not connected`));
    }
    const nonce = this.#nonce();
    const request: SubscribeMessage | UnsubscribeMessage =
      what.action === 'SUBSCRIBE' ? { action: 'SUBSCRIBE', nonce, feeds: what.feeds } : { action: 'UNSUBSCRIBE', nonce, feeds: what.feeds };
    this.#work.begin();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (this.#pending.delete(nonce)) {
          this.#work.end();
          reject(new SubscribeError('timeout', `${action} ${nonce}: no ack within ${this.#ackTimeoutMs} ms`));
        }
      }, this.#ackTimeoutMs);
      this.#pending.set(nonce, { ...what, resolve, reject, timer });
      socket.send(JSON.stringify(request), (error) => {
        if (error !== undefined && error !== null) this.#settle(nonce, new SubscribeError('closed', `${action} ${nonce}: send failed`));
      });
    });
  }

  /** Settles a pending (un)subscribe: resolves, or rejects with `error`. Ends its work unit. */
  #settle(nonce: string, error?: SubscribeError): void {
    const pending = this.#pending.get(nonce);
    if (pending === undefined) return;
    this.#pending.delete(nonce);
    clearTimeout(pending.timer);
    try {
      if (error !== undefined) {
        pending.reject(error);
        return;
      }
      const now = this.#clock.now();
      if (pending.action === 'SUBSCRIBE') {
        for (const feed of pending.feeds) {
          this.#subscriptions.set(feed.feed, feed);
          if (!this.#watchedSince.has(feed.feed)) this.#watchedSince.set(feed.feed, now);
        }
      } else {
        for (const feed of pending.feeds) {
          this.#subscriptions.delete(feed);
          this.#watchedSince.delete(feed);
          this.#stale.delete(feed);
        }
      }
      pending.resolve();
    } finally {
      this.#work.end();
    }
  }

  #failPending(reason: string): void {
    for (const nonce of [...this.#pending.keys()]) this.#settle(nonce, new SubscribeError('closed', reason));
  }

  #open(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const socket = new WebSocket(this.#url);
      this.#socket = socket;
      let opened = false;
      socket.on('open', () => {
        opened = true;
        this.#lastOrdinal = undefined;
        this.#partials.clear();
        resolve();
      });
      socket.on('message', (data: RawFrame, isBinary: boolean) => this.#onFrame(data, isBinary));
      socket.on('error', (error) => {
        if (!opened) reject(new SubscribeError('closed', `cannot connect to the venue: ${error.message}`));
      });
      socket.on('close', (code, reason) => {
        if (!opened) {
          reject(new SubscribeError('closed', `connection refused (${code})`));
          return;
        }
        // The venue counted its deliberate close as work in flight (see SERVER_CLOSE_CODE): end it only
        // after the reconnect has begun its own.
        const counted = code === SERVER_CLOSE_CODE;
        try {
          if (this.#socket !== socket) return;
          this.#failPending(`connection closed (${code})`);
          if (this.#closing) return;
          this.emit('disconnected', { code, reason: reason.toString('utf8') });
          if (!this.#reconnecting) void this.#reconnect();
        } finally {
          if (counted) this.#work.end();
        }
      });
    });
  }

  async #reconnect(): Promise<void> {
    this.#reconnecting = true;
    this.#work.begin();
    try {
      for (let attempt = 0; attempt < this.#maxReconnectAttempts; attempt += 1) {
        await this.#sleep(backoffDelay(attempt, this.#backoff, this.#random));
        if (this.#closing) return;
        try {
          await this.#open();
          const subscriptions = this.subscriptions;
          if (subscriptions.length > 0) await this.subscribe(subscriptions);
        } catch {
          if (this.#closing) return;
          // Half-open (e.g. the resubscribe timed out): drop it and try a fresh connection.
          const socket = this.#socket;
          if (socket !== undefined && socket.readyState !== WebSocket.CLOSED) socket.terminate();
          continue;
        }
        this.stats.reconnects += 1;
        this.emit('reconnected', { attempts: attempt + 1 });
        return;
      }
      this.emit('reconnect-failed', { attempts: this.#maxReconnectAttempts });
    } finally {
      this.#reconnecting = false;
      this.#work.end();
    }
  }

  #onFrame(data: RawFrame, isBinary: boolean): void {
    this.stats.frames += 1;
    try {
      const parsed = parseFrame(data, isBinary);
      if (!parsed.ok) {
        this.stats.rejected += 1;
        // A feed message whose envelope was fine still took its ordinal: count it, or the next frame
        // would look like a gap on top of the bad frame the owner is already repairing.
        if (parsed.error.code === 'bad-row' || parsed.error.code === 'unknown-feed') this.#consumeOrdinal(data);
        this.emit('frame-rejected', parsed.error);
        return;
      }
      const frame = parsed.frame;
      try {
        if (frame.kind === 'ack') this.#onAck(frame.ack);
        else this.#onFeed(frame.message);
      } catch (error) {
        // Nothing from outside may throw out of the socket's handler and take the process with it.
        this.stats.handlerErrors += 1;
        const feed = frame.kind === 'ack' ? 'ack' : frame.message.feed;
        this.emit('handler-failed', { feed, message: error instanceof Error ? error.message : String(error) });
      }
    } finally {
      this.#work.end();
    }
  }

  #consumeOrdinal(data: RawFrame): void {
    try {
      const text =
        typeof data === 'string'
          ? data
          : Array.isArray(data)
            ? Buffer.concat(data).toString('utf8')
            : Buffer.isBuffer(data)
              ? data.toString('utf8')
              : Buffer.from(new Uint8Array(data)).toString('utf8');
      const ordinal: unknown = (JSON.parse(text) as { ordinal?: unknown }).ordinal;
      const last = this.#lastOrdinal;
      if (typeof ordinal === 'number' && Number.isSafeInteger(ordinal) && (last === undefined || ordinal > last))
        this.#lastOrdinal = ordinal;
    } catch {
      // The envelope parsed a moment ago; nothing to do if it does not now.
    }
  }

  #onAck(ack: Ack): void {
    // By nonce when the ack has one; else the oldest request still waiting (acks come in order).
    const nonce = typeof ack.nonce === 'string' ? ack.nonce : this.#pending.keys().next().value;
    if (nonce === undefined) return;
    const pending = this.#pending.get(nonce);
    if (pending === undefined) return; // late (after a timeout) or not ours
    if (typeof ack.action === 'string' && ack.action !== pending.action) return;
    const error = ack.result.error;
    this.#settle(
      nonce,
      error === undefined || error === null ? undefined : new SubscribeError('rejected', `${pending.action} ${nonce}: ${error}`),
    );
  }

  #onFeed(message: FeedMessage): void {
    const last = this.#lastOrdinal;
    if (last !== undefined && message.ordinal <= last) {
      this.stats.duplicates += 1;
      this.emit('duplicate', { ordinal: message.ordinal, feed: message.feed });
      return;
    }
    const expected = last === undefined ? this.#firstOrdinal : last + 1;
    this.#lastOrdinal = message.ordinal;
    if (expected !== undefined && message.ordinal > expected) {
      this.stats.gaps += 1;
      this.emit('gap', { expected, received: message.ordinal, feed: message.feed });
    }

    const key = `${message.feed}\u0000${message.subscriptionKey}`;
    if (message.contents.messageType === 'PARTIAL') this.#partials.add(key);
    else if (!this.#partials.has(key)) this.emit('update-before-partial', { feed: message.feed, subscriptionKey: message.subscriptionKey });

    const now = this.#clock.now();
    this.#lastAt.set(message.feed, now);
    if (this.#stale.delete(message.feed)) this.emit('feed-status', { feed: message.feed, stale: false, lastMessageAt: now });
    this.stats.delivered += 1;
    this.emit('message', message);
  }
}
