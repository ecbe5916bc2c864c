import { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import type { Clock } from '../clock/clock.ts';
import type { WorkTracker } from '../clock/work-tracker.ts';
import { backoffDelay, DEFAULT_RECONNECT_BACKOFF, seededRandom, type BackoffPolicy, type Random } from './backoff.ts';
import { parseFrame, type FeedFrame, type FrameError, type RawFrame } from './frame-parser.ts';
import { SERVER_CLOSE_CODE, type Feed, type FeedSubscription, type SubscribeAck, type SubscribeRequest } from './protocol.ts';

/*
 * One WebSocket connection to the venue.
 *
 * - Subscriptions: SUBSCRIBE / UNSUBSCRIBE carry a nonce and are settled by the ack with that nonce
 *   (`SubscribeError` on `result.error`, on ack timeout, or when the connection drops first). Accepted
 *   subscriptions are remembered and re-sent after a reconnect.
 * - Ordinals are per connection: ordinal === last + 1 is delivered; ordinal <= last is a duplicate
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
}

export interface WsConnectionEvents {
  message: [FeedFrame];
  gap: [GapInfo];
  duplicate: [{ ordinal: number; feed: Feed }];
  'frame-rejected': [FrameError];
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

interface Pending {
  action: SubscribeRequest['action'];
  feeds: FeedSubscription[];
  resolve: () => void;
  reject: (error: SubscribeError) => void;
  timer: NodeJS.Timeout;
}

const noWork = { begin(): void {}, end(): void {} };
const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Identity of a subscription: its feed and params, with keys in a fixed order. */
export function subscriptionId(s: FeedSubscription): string {
  const p = s.params;
  return JSON.stringify([s.feed, p.symbols ?? null, p.trader?.toLowerCase() ?? null, p.strategyIdHash?.toLowerCase() ?? null]);
}

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
  #subscriptions = new Map<string, FeedSubscription>();
  #lastOrdinal: number | undefined;
  #partials = new Set<string>();
  #lastAt = new Map<Feed, number>();
  #watchedSince = new Map<Feed, number>();
  #stale = new Set<Feed>();
  #staleTimer: NodeJS.Timeout | undefined;
  #nonceCount = 0;
  readonly stats: ConnectionStats = { frames: 0, delivered: 0, rejected: 0, duplicates: 0, gaps: 0, reconnects: 0 };

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
  get subscriptions(): FeedSubscription[] {
    return [...this.#subscriptions.values()];
  }

  /** Opens the connection (once; reconnects happen by themselves). */
  async connect(): Promise<void> {
    if (this.#socket !== undefined) throw new Error('WsConnection.connect() called twice');
    this.#closing = false;
    await this.#open();
  }

  subscribe(feeds: FeedSubscription[]): Promise<void> {
    return this.#request('SUBSCRIBE', feeds);
  }

  unsubscribe(feeds: FeedSubscription[]): Promise<void> {
    return this.#request('UNSUBSCRIBE', feeds);
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

  #request(action: SubscribeRequest['action'], feeds: FeedSubscription[]): Promise<void> {
    const socket = this.#socket;
    if (socket === undefined || socket.readyState !== WebSocket.OPEN) {
      return Promise.reject(new SubscribeError('closed', `${action}: not connected`));
    }
    const nonce = this.#nonce();
    const request: SubscribeRequest = { action, nonce, feeds };
    this.#work.begin();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (this.#pending.delete(nonce)) {
          this.#work.end();
          reject(new SubscribeError('timeout', `${action} ${nonce}: no ack within ${this.#ackTimeoutMs} ms`));
        }
      }, this.#ackTimeoutMs);
      this.#pending.set(nonce, { action, feeds, resolve, reject, timer });
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
      for (const feed of pending.feeds) {
        if (pending.action === 'SUBSCRIBE') {
          this.#subscriptions.set(subscriptionId(feed), feed);
          if (!this.#watchedSince.has(feed.feed)) this.#watchedSince.set(feed.feed, now);
        } else {
          this.#subscriptions.delete(subscriptionId(feed));
          if (![...this.#subscriptions.values()].some((s) => s.feed === feed.feed)) {
            this.#watchedSince.delete(feed.feed);
            this.#stale.delete(feed.feed);
          }
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
        this.emit('frame-rejected', parsed.error);
        return;
      }
      if (parsed.frame.kind === 'ack') this.#onAck(parsed.frame.ack);
      else this.#onFeed(parsed.frame.message);
    } finally {
      this.#work.end();
    }
  }

  #onAck(ack: SubscribeAck): void {
    const pending = this.#pending.get(ack.nonce);
    if (pending === undefined || pending.action !== ack.action) return; // late (after a timeout) or not ours
    const error = ack.result.error;
    this.#settle(ack.nonce, error === undefined ? undefined : new SubscribeError('rejected', `${ack.action} ${ack.nonce}: ${error}`));
  }

  #onFeed(message: FeedFrame): void {
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
