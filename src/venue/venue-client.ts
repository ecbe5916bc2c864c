import { EventEmitter } from 'node:events';
import { keccak256, toUtf8Bytes } from 'ethers';
import type { Clock } from '../clock/clock.ts';
import type { WorkTracker } from '../clock/work-tracker.ts';
import { dec } from '../domain/decimal.ts';
import type { LedgerEvent, LedgerOutcome, LedgerState } from '../domain/ledger.ts';
import type { OrderIntent } from '../domain/order.ts';
import type { Product } from '../domain/product.ts';
import { productFromSpec } from '../domain/products.ts';
import { backoffDelay, seededRandom, type BackoffPolicy, type Random } from './backoff.ts';
import { BookView, type BookSnapshot } from './book-view.ts';
import { strategyIdHash as hashStrategyId } from '../derivadex/crypto/bytes32.ts';
import type { Eip712Venue } from '../derivadex/crypto/eip712.ts';
import { createNonceSource } from '../derivadex/crypto/nonce.ts';
import { createEphemeralSource } from './ephemeral-source.ts';
import type { FeedFrame, FrameError } from './frame-parser.ts';
import { isTerminal } from '../domain/order-status.ts';
import { LifecycleError, OrderLifecycle, type LifecycleEvent, type TrackedOrder } from './order-lifecycle.ts';
import { PATHS, type ExchangeInfo, type Feed, type FeedSubscription, type OpenOrder, type OrderUpdateRow } from './protocol.ts';
import { OperatorKey, RequestSender, requestErrorCode, requestOutcome } from './request-sender.ts';
import { RestClient, type RetryPolicy } from './rest-client.ts';
import { DEFAULT_VENUE_STRATEGY_ID, type StrategyAccount } from './strategy-account.ts';
import { StrategySync, type Drift, type UserRow } from './strategy-sync.ts';
import { WsConnection } from './ws-connection.ts';

/*
 * The venue client the supervisor uses: one WebSocket connection, REST, signed requests, the order
 * lifecycle and one exactly-once ledger per strategy.
 *
 *   connect() → bootstrap(strategies) → events … placeOrder / cancelOrder / cancelAll … close()
 *
 * - bootstrap: exchange_info → products; subscribe MARK_PRICE, ORDER_BOOK_L2, ORDER_UPDATE and
 *   STRATEGY_UPDATE (user rows queue from now on); per strategy: snapshot (collateral, positions, its
 *   globalOrdinal H), open orders, updates after H; then the queue drains in order.
 * - Repair: a gap, a reconnect, or a request whose answer was lost → REST replay after each strategy's
 *   floor (deduplicated), the ledger compared with a fresh snapshot (drift reported), open orders
 *   reconciled, the book resubscribed, the latest marks fetched. Repairs run one at a time; a gap during
 *   a repair runs it again.
 * - Determinism: time comes from the injected Clock, every random choice from `seed` (jitter, nonces,
 *   ephemeral encryption keys). Work is counted on the injected tracker: a request from begin() until
 *   its answer is processed or the feed shows the venue has it (see Hold), a repair from the moment it
 *   is asked for, every frame (WsConnection). Events carry `at` = clock time; act on events, not on when
 *   a request's promise resolves (the receipt and the feed race on different sockets).
 * - `tick()` must be called when the clock moves (a timer does it live): it checks feed staleness,
 *   settles requests whose answer was lost, and looks for updates that a dropped frame hid.
 * - Orders: `sequenced` is reported for every order the venue took, from the receipt or from its first
 *   update, whichever comes first; a 4xx refusal is `rejected` with the HTTP error name as reason
 *   (tick, size and notional violations are the venue's 422 SafetyFailure, the text in `detail`).
 */

export interface MarkEvent {
  symbol: string;
  price: string;
  globalOrdinal: number;
  at: number;
}

export interface BookEvent extends BookSnapshot {
  at: number;
}

export interface LedgerUpdate {
  strategyId: string;
  event: LedgerEvent;
  /** 'reordered': it arrived late and was inserted in seq order. */
  outcome: LedgerOutcome;
  at: number;
}

export interface CancelRejected {
  strategyId: string;
  clientOrderId: string;
  orderHash: string;
  /** The venue's cancelRejection text, or the HTTP error name when the request was refused. */
  reason: string;
  at: number;
}

export interface LiquidationNotice {
  strategyId: string;
  symbol: string;
  price: string;
  globalOrdinal: number;
  at: number;
}

export interface BootstrapNotice {
  strategyId: string;
  ledger: LedgerState;
  openOrders: TrackedOrder[];
  at: number;
}

export interface VenueClientEvents {
  mark: [MarkEvent];
  book: [BookEvent];
  ledger: [LedgerUpdate];
  lifecycle: [LifecycleEvent];
  'cancel-rejected': [CancelRejected];
  liquidation: [LiquidationNotice];
  bootstrap: [BootstrapNotice];
  'feed-status': [{ feed: Feed; stale: boolean; at: number }];
  'frame-rejected': [{ error: FrameError; at: number }];
  repair: [{ reason: string; phase: 'start' | 'done' | 'failed'; at: number }];
  drift: [Drift & { at: number }];
  /** Something went wrong that no other event describes (never carries key material). */
  fault: [{ message: string; at: number }];
}

export interface VenueClientOptions {
  /** REST base, e.g. http://127.0.0.1:8080 */
  restUrl: string;
  /** WebSocket URL. */
  wsUrl: string;
  clock: Clock;
  work?: Pick<WorkTracker, 'begin' | 'end'>;
  /** Simulation: seeds jitter, nonces and ephemeral keys. Absent (live): nonces and keys from the OS. */
  seed?: number;
  /** Symbols for MARK_PRICE / ORDER_BOOK_L2; default: every symbol of exchange_info. */
  symbols?: string[];
  /** Subscribe ORDER_BOOK_L2 (default true). */
  orderBook?: boolean;
  /** Default { MARK_PRICE: 5000 }. */
  staleAfterMs?: Partial<Record<Feed, number>>;
  /** Call tick() this often (ms). Default: every second when live (no seed); never in simulation, whose runner calls tick(). */
  tickIntervalMs?: number;
  /** A request whose answer was lost and of which the venue shows no trace this long after is rejected NotSequenced. */
  unresolvedAfterMs?: number;
  reconnectBackoff?: Partial<BackoffPolicy>;
  retry?: Partial<RetryPolicy>;
  ackTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** Fresh-nonce re-signs after 412 (default 1). */
  nonceRetries?: number;
  /** Ordinal of the first frame on a connection (default 1). */
  firstOrdinal?: number;
  fetch?: typeof globalThis.fetch;
  /** Waits between REST retries and reconnects. */
  sleep?: (ms: number) => Promise<void>;
}

interface StrategyEntry {
  account: StrategyAccount;
  venueStrategyId: string;
  trader: string;
  strategyIdHash: string;
  sync: StrategySync;
  sender: RequestSender;
  bootstrapped: boolean;
}

const noWork = { begin(): void {}, end(): void {} };

/** What the feed showed about an order: the evidence that ends a request's hold early. */
interface Evidence {
  strategyId: string;
  orderHash: string;
  symbol: string;
  status: LifecycleEvent['status'];
  cancelRejected: boolean;
}

/**
 * A request counted as work in flight. It ends when the answer has been processed, or earlier when
 * the feed proves the venue has the request (an update of the order): the simulator's delay-acks
 * holds the answer until its clock moves, and the clock moves only at quiescence.
 */
interface Hold {
  matches(evidence: Evidence): boolean;
  release(): void;
}

export class VenueClient extends EventEmitter<VenueClientEvents> {
  readonly #clock: Clock;
  readonly #work: Pick<WorkTracker, 'begin' | 'end'>;
  readonly #options: VenueClientOptions;
  readonly #random: Random;
  readonly #rest: RestClient;
  readonly #ws: WsConnection;
  readonly #operatorKey: OperatorKey;
  readonly #lifecycle: OrderLifecycle;
  readonly #strategies = new Map<string, StrategyEntry>();
  /** `${trader lower}:${strategyIdHash}` → strategy id */
  readonly #routes = new Map<string, string>();
  readonly #books = new Map<string, BookView>();
  readonly #marks = new Map<string, MarkEvent>();
  readonly #unresolvedSince = new Map<string, number>();
  /** Orders sequenced but with no update yet: a dropped update shows only when another frame arrives. */
  readonly #quietSince = new Map<string, number>();
  #products: Record<string, Product> = {};
  #venue: Eip712Venue | undefined;
  #symbols: string[] = [];
  #marketSubscribed = false;
  #exclusive: Promise<void> = Promise.resolve();
  #repairReasons: string[] = [];
  #repairRunning = false;
  #tickTimer: NodeJS.Timeout | undefined;
  #closed = false;
  readonly #holds = new Set<Hold>();
  #firstSnapshotOrdinal = 0;

  constructor(options: VenueClientOptions) {
    super();
    this.#options = options;
    this.#clock = options.clock;
    this.#work = options.work ?? noWork;
    // One jitter stream per user, so that retries in one place never shift another's schedule.
    const stream = (k: number): Random => seededRandom(((options.seed ?? 0) * 31 + k) >>> 0);
    this.#random = stream(0);
    const restOptions = {
      baseUrl: options.restUrl,
      random: stream(1),
      ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
      ...(options.sleep === undefined ? {} : { sleep: options.sleep }),
      ...(options.retry === undefined ? {} : { retry: options.retry }),
      ...(options.requestTimeoutMs === undefined ? {} : { timeoutMs: options.requestTimeoutMs }),
    };
    this.#rest = new RestClient(restOptions);
    this.#operatorKey = new OperatorKey(this.#rest);
    this.#ws = new WsConnection({
      url: options.wsUrl,
      clock: options.clock,
      work: this.#work,
      random: stream(2),
      firstOrdinal: options.firstOrdinal ?? 1,
      staleAfterMs: options.staleAfterMs ?? { MARK_PRICE: 5_000 },
      ...(options.reconnectBackoff === undefined ? {} : { backoff: options.reconnectBackoff }),
      ...(options.ackTimeoutMs === undefined ? {} : { ackTimeoutMs: options.ackTimeoutMs }),
      ...(options.sleep === undefined ? {} : { sleep: options.sleep }),
    });
    this.#lifecycle = new OrderLifecycle((event) => {
      if (event.status !== 'submitted') this.#unresolvedSince.delete(event.orderHash);
      if (event.status === 'sequenced') this.#quietSince.set(event.orderHash, event.at);
      else this.#quietSince.delete(event.orderHash);
      this.emit('lifecycle', event);
      if (event.status !== 'submitted') this.#evidence({ ...event, cancelRejected: false });
    });
    this.#wire();
  }

  /** Products from exchange_info (after bootstrap). */
  get products(): Readonly<Record<string, Product>> {
    return this.#products;
  }

  /** Frame and connection counters. */
  get stats(): WsConnection['stats'] {
    return this.#ws.stats;
  }

  /** The strategy's ledger as the venue's rows built it (undefined before bootstrap). */
  ledger(strategyId: string): LedgerState | undefined {
    return this.#strategies.get(strategyId)?.sync.ledger;
  }

  /** An order by the caller's id. */
  order(strategyId: string, clientOrderId: string): TrackedOrder | undefined {
    const order = this.#lifecycle.get(strategyId, clientOrderId);
    return order === undefined ? undefined : { ...order };
  }

  /** Orders not yet terminal. */
  liveOrders(strategyId?: string): TrackedOrder[] {
    return this.#lifecycle.live(strategyId).map((o) => ({ ...o }));
  }

  lastMark(symbol: string): MarkEvent | undefined {
    return this.#marks.get(symbol);
  }

  book(symbol: string): BookSnapshot | undefined {
    const view = this.#books.get(symbol);
    return view?.synced === true ? view.snapshot() : undefined;
  }

  async connect(): Promise<void> {
    await this.#ws.connect();
    // Live (no seed): a timer ticks; a simulation ticks when its clock moves.
    const every = this.#options.tickIntervalMs ?? (this.#options.seed === undefined ? 1_000 : undefined);
    if (every !== undefined && every > 0) {
      this.#tickTimer = setInterval(() => this.tick(), every);
      this.#tickTimer.unref();
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#tickTimer !== undefined) clearInterval(this.#tickTimer);
    await this.#ws.close();
  }

  /**
   * Loads the venue's products and, per strategy, its state, open orders and the updates since, and
   * subscribes to every feed. May be called again with more strategies.
   */
  bootstrap(strategies: readonly StrategyAccount[]): Promise<void> {
    this.#work.begin();
    return this.#serial(async () => {
      if (this.#venue === undefined) await this.#loadExchangeInfo();
      const fresh: StrategyEntry[] = [];
      for (const account of strategies) {
        if (this.#strategies.has(account.strategyId)) continue;
        const entry = this.#entry(account);
        this.#strategies.set(account.strategyId, entry);
        this.#routes.set(`${entry.trader.toLowerCase()}:${entry.strategyIdHash}`, account.strategyId);
        fresh.push(entry);
      }
      const feeds: FeedSubscription[] = [];
      for (const e of fresh) {
        feeds.push({ feed: 'ORDER_UPDATE', params: { trader: e.trader, strategyIdHash: e.strategyIdHash } });
        feeds.push({ feed: 'STRATEGY_UPDATE', params: { trader: e.trader, strategyIdHash: e.strategyIdHash } });
      }
      const market = !this.#marketSubscribed && this.#symbols.length > 0;
      if (market) {
        feeds.push({ feed: 'MARK_PRICE', params: { symbols: this.#symbols } });
        if (this.#options.orderBook !== false) feeds.push({ feed: 'ORDER_BOOK_L2', params: { symbols: this.#symbols } });
      }
      try {
        if (feeds.length > 0) await this.#ws.subscribe(feeds);
        if (market) this.#marketSubscribed = true;
        await this.#bootstrapEach(fresh);
      } catch (error) {
        // Forget what did not finish, so that bootstrap can be called again for it.
        for (const e of fresh) {
          if (e.bootstrapped) continue;
          this.#strategies.delete(e.account.strategyId);
          this.#routes.delete(`${e.trader.toLowerCase()}:${e.strategyIdHash}`);
        }
        throw error;
      }
      const complete = this.#repairReasons.length === 0;
      for (const e of fresh) {
        if (complete) e.sync.endSync(true);
        this.emit('bootstrap', {
          strategyId: e.account.strategyId,
          ledger: e.sync.ledger!,
          openOrders: this.liveOrders(e.account.strategyId),
          at: this.#clock.now(),
        });
      }
    }).finally(() => this.#work.end());
  }

  /** Per strategy: snapshot, updates after it, open orders. */
  async #bootstrapEach(fresh: readonly StrategyEntry[]): Promise<void> {
    for (const e of fresh) {
      const state = await this.#rest.get(PATHS.strategy, { trader: e.trader, strategyId: e.venueStrategyId }, 'strategy');
      e.sync.bootstrap(state);
      if (this.#firstSnapshotOrdinal === 0) this.#firstSnapshotOrdinal = state.globalOrdinal;
      const rows = await this.#updatesSince(e, state.globalOrdinal);
      e.sync.replay(rows, state.globalOrdinal);
      // Read after the snapshot: an order that moved since has its update in the queue.
      for (const o of await this.#openOrders(e)) this.#lifecycle.applyOpenOrder(e.account.strategyId, o, this.#clock.now());
      e.bootstrapped = true;
    }
  }

  /**
   * Signs and sends an order. Resolves with the order as tracked once the request is settled: its
   * receipt, its refusal, its hand-over to reconciliation (answer lost), or an update showing the venue
   * has it, whichever comes first (under delay-acks the update comes long before the receipt). Its
   * progress arrives as 'lifecycle' events. Rejects only for caller errors (unknown strategy,
   * clientOrderId reuse) or an order that cannot be signed at all (RequestNotSentError 'SigningFailed').
   */
  async placeOrder(strategyId: string, clientOrderId: string, intent: OrderIntent): Promise<TrackedOrder> {
    const e = this.#strategy(strategyId);
    if (this.#lifecycle.get(strategyId, clientOrderId) !== undefined) {
      throw new LifecycleError(`clientOrderId ${JSON.stringify(clientOrderId)} is already used by strategy ${strategyId}`);
    }
    const order = {
      symbol: intent.symbol,
      strategy: e.venueStrategyId,
      side: intent.side === 'buy' ? ('Bid' as const) : ('Ask' as const),
      orderType: intent.type === 'market' ? ('Market' as const) : ('Limit' as const),
      amount: intent.amount,
      price: intent.type === 'market' ? '0' : (intent.price ?? '0'),
    };
    let hash: string | undefined;
    const tracked = (): TrackedOrder => ({ ...this.#lifecycle.get(strategyId, clientOrderId)! });
    return this.#request(
      (ev) => hash !== undefined && ev.orderHash === hash,
      async () => {
        try {
          const { orderHash } = await e.sender.placeOrder(order, (signed, previous) => {
            if (previous === undefined) {
              this.#lifecycle.submit(
                { strategyId, clientOrderId, orderHash: signed, symbol: intent.symbol, side: intent.side, amount: intent.amount },
                this.#clock.now(),
              );
            } else {
              this.#lifecycle.rekey(previous, signed);
            }
            hash = signed;
          });
          this.#lifecycle.sequenced(orderHash, this.#clock.now());
        } catch (error) {
          if (hash === undefined) throw error;
          this.#requestFailed(hash, error);
        }
        return tracked();
      },
      tracked,
    );
  }

  /**
   * Takes over an order another process placed, known from a persisted snapshot by its clientOrderId and
   * hash: an open order (adopted at bootstrap) is renamed and followed from now on; an order that already
   * ended is found in the venue's update history and returned with its outcome; null means the venue never
   * sequenced it. Nothing is sent: a reduction in flight is never sent twice.
   */
  async reclaimOrder(strategyId: string, clientOrderId: string, orderHash: string): Promise<TrackedOrder | null> {
    const e = this.#strategy(strategyId);
    const hash = orderHash.toLowerCase();
    if (this.#lifecycle.byHash(hash) !== undefined) return { ...this.#lifecycle.rename(hash, clientOrderId) };
    this.#work.begin();
    try {
      const rows = await this.#rest.get(
        PATHS.orderUpdates,
        { trader: e.trader, strategyIdHash: e.strategyIdHash, sinceOrdinal: 0 },
        'orderUpdates',
      );
      const mine = rows.filter((row) => row.orderHash.toLowerCase() === hash).sort((a, b) => a.globalOrdinal - b.globalOrdinal);
      if (mine.length === 0) return null;
      // Replay the order's own history through a scratch tracker: the same rules decide its outcome.
      const scratch = new OrderLifecycle(() => {});
      let order: TrackedOrder | undefined;
      for (const row of mine) order = scratch.applyUpdate(strategyId, row, this.#clock.now()).order;
      // The feed may have shown it while we read.
      if (this.#lifecycle.byHash(hash) !== undefined) return { ...this.#lifecycle.rename(hash, clientOrderId) };
      const reclaimed: TrackedOrder = { ...order!, clientOrderId };
      // Still working: follow it, or its later updates (and a cancel by clientOrderId) would find no order.
      if (!isTerminal(reclaimed.status))
        this.#lifecycle.adopt(
          reclaimed,
          mine.map((row) => row.globalOrdinal),
        );
      return { ...reclaimed };
    } finally {
      this.#work.end();
    }
  }

  /**
   * Asks the venue to cancel an order. Resolves when the request is settled or the order's end (or the
   * cancel's rejection) shows on the feed; the outcome arrives as a 'lifecycle' or 'cancel-rejected' event.
   */
  async cancelOrder(strategyId: string, clientOrderId: string): Promise<void> {
    const e = this.#strategy(strategyId);
    const order = this.#lifecycle.get(strategyId, clientOrderId);
    if (order === undefined) throw new LifecycleError(`strategy ${strategyId} has no order ${JSON.stringify(clientOrderId)}`);
    if (isTerminal(order.status)) return;
    const hash = order.orderHash;
    await this.#request(
      (ev) => ev.orderHash === hash && (ev.cancelRejected || isTerminal(ev.status)),
      async () => {
        try {
          await e.sender.cancelOrder({ symbol: order.symbol, orderHash: hash });
        } catch (error) {
          if (requestOutcome(error) === 'refused') {
            this.emit('cancel-rejected', {
              strategyId,
              clientOrderId,
              orderHash: hash,
              reason: requestErrorCode(error),
              at: this.#clock.now(),
            });
          } else {
            this.#requestRepair('cancel-unresolved');
          }
        }
      },
      () => undefined,
    );
  }

  /** Cancels every open order of the strategy in `symbol`; outcomes arrive as 'lifecycle' events. */
  async cancelAll(strategyId: string, symbol: string): Promise<void> {
    const e = this.#strategy(strategyId);
    await this.#request(
      (ev) => ev.strategyId === strategyId && ev.symbol === symbol && ev.status === 'cancelled',
      async () => {
        try {
          await e.sender.cancelAll({ symbol, strategy: e.venueStrategyId });
        } catch (error) {
          if (requestOutcome(error) === 'refused')
            this.emit('fault', { message: `cancelAll ${strategyId} ${symbol}: ${requestErrorCode(error)}`, at: this.#clock.now() });
          else this.#requestRepair('cancel-unresolved');
        }
      },
      () => undefined,
    );
  }

  /**
   * Call when the clock moves (simulation) or on a timer (live): reports feed staleness and settles
   * requests whose answer was lost once `unresolvedAfterMs` has passed.
   */
  tick(): void {
    const now = this.#clock.now();
    this.#ws.checkStale(now);
    const limit = this.#options.unresolvedAfterMs ?? 5_000;
    if ([...this.#unresolvedSince.values()].some((since) => now - since >= limit)) this.#requestRepair('request-unresolved');
    const quiet = [...this.#quietSince.entries()].filter(([, since]) => now - since >= limit);
    if (quiet.length > 0) {
      // Ask the venue once per period, not on every tick.
      for (const [hash] of quiet) this.#quietSince.set(hash, now);
      this.#requestRepair('sequenced-without-update');
    }
  }

  /** Asks for a repair (replay, reconcile) now, e.g. from an operator. Resolves when it is done. */
  async repair(reason = 'requested'): Promise<void> {
    this.#requestRepair(reason);
    await this.#serial(async () => {});
  }

  // ── internals ──────────────────────────────────────────────────────────────────────────────

  #wire(): void {
    const ws = this.#ws;
    ws.on('message', (message) => this.#onMessage(message));
    ws.on('gap', (gap) => {
      this.#invalidateBooks();
      this.#requestRepair(`gap: ordinal ${gap.expected} missing (got ${gap.received})`);
    });
    ws.on('frame-rejected', (error) => this.emit('frame-rejected', { error, at: this.#clock.now() }));
    ws.on('feed-status', (status) => this.emit('feed-status', { feed: status.feed, stale: status.stale, at: this.#clock.now() }));
    ws.on('disconnected', () => {
      // Rows on the new connection must wait for the repair that follows the reconnect.
      for (const e of this.#strategies.values()) if (e.bootstrapped) e.sync.beginSync();
      this.#invalidateBooks();
    });
    ws.on('reconnected', () => this.#requestRepair('reconnected'));
    ws.on('reconnect-failed', ({ attempts }) =>
      this.emit('fault', { message: `cannot reconnect after ${attempts} attempts`, at: this.#clock.now() }),
    );
  }

  #onMessage(message: FeedFrame): void {
    const at = this.#clock.now();
    switch (message.feed) {
      case 'MARK_PRICE':
        for (const row of message.contents.data) this.#mark(row.symbol, row.price, row.globalOrdinal, at);
        return;
      case 'ORDER_BOOK_L2': {
        const symbols = new Set(message.contents.data.map((r) => r.symbol));
        const key = message.subscriptionKey;
        const subscribed = key.startsWith('ORDER_BOOK_L2:') ? key.slice('ORDER_BOOK_L2:'.length) : undefined;
        if (subscribed !== undefined) symbols.add(subscribed);
        for (const symbol of symbols) {
          let view = this.#books.get(symbol);
          if (view === undefined) this.#books.set(symbol, (view = new BookView(symbol)));
          if (view.apply(message.contents.messageType, message.contents.data)) this.emit('book', { ...view.snapshot(), at });
        }
        return;
      }
      case 'ORDER_UPDATE':
        for (const row of message.contents.data) this.#route(row.trader, row.strategyIdHash)?.sync.offer({ feed: 'ORDER_UPDATE', row });
        return;
      case 'STRATEGY_UPDATE':
        for (const row of message.contents.data) this.#route(row.trader, row.strategyIdHash)?.sync.offer({ feed: 'STRATEGY_UPDATE', row });
        return;
    }
  }

  #mark(symbol: string, price: string, globalOrdinal: number, at: number): void {
    const last = this.#marks.get(symbol);
    if (last !== undefined && last.globalOrdinal >= globalOrdinal) return;
    const mark: MarkEvent = { symbol, price, globalOrdinal, at };
    this.#marks.set(symbol, mark);
    this.emit('mark', mark);
  }

  #route(trader: string, strategyIdHash: string): StrategyEntry | undefined {
    const id = this.#routes.get(`${trader.toLowerCase()}:${strategyIdHash.toLowerCase()}`);
    return id === undefined ? undefined : this.#strategies.get(id);
  }

  #strategy(strategyId: string): StrategyEntry {
    const e = this.#strategies.get(strategyId);
    if (e === undefined || !e.bootstrapped) throw new LifecycleError(`strategy ${JSON.stringify(strategyId)} is not bootstrapped`);
    return e;
  }

  #entry(account: StrategyAccount): StrategyEntry {
    const venueStrategyId = account.venueStrategyId ?? DEFAULT_VENUE_STRATEGY_ID;
    const trader = account.signer.address;
    const strategyIdHash = hashStrategyId(venueStrategyId).toLowerCase();
    const seed = this.#options.seed;
    // Simulation: one seed per (trader, strategy), so two strategies never share a nonce sequence.
    const derived = (what: string): string | undefined =>
      seed === undefined ? undefined : keccak256(toUtf8Bytes(`riskwarden/${what}/${seed}/${trader.toLowerCase()}/${venueStrategyId}`));
    const sync = new StrategySync(account.strategyId, trader, strategyIdHash, this.#lifecycle, this.#syncSink(), () => this.#clock.now());
    const sender = new RequestSender(
      {
        rest: this.#rest,
        signer: account.signer,
        venue: () => {
          if (this.#venue === undefined) throw new Error('venue settings unknown before bootstrap');
          return this.#venue;
        },
        nonces: createNonceSource(derived('nonce')),
        ephemeral: createEphemeralSource(derived('ephemeral')),
        ...(this.#options.nonceRetries === undefined ? {} : { nonceRetries: this.#options.nonceRetries }),
      },
      this.#operatorKey,
    );
    return { account, venueStrategyId, trader, strategyIdHash, sync, sender, bootstrapped: false };
  }

  #syncSink() {
    return {
      ledger: (strategyId: string, event: LedgerEvent, outcome: LedgerOutcome) =>
        this.emit('ledger', { strategyId, event, outcome, at: this.#clock.now() }),
      ledgerRejected: (strategyId: string, event: LedgerEvent, reason: string) =>
        this.emit('fault', { message: `${strategyId}: ledger refused ${event.kind} ${event.id}: ${reason}`, at: this.#clock.now() }),
      cancelRejected: (strategyId: string, row: OrderUpdateRow) => {
        const order = this.#lifecycle.byHash(row.orderHash);
        const orderHash = row.orderHash.toLowerCase();
        this.emit('cancel-rejected', {
          strategyId,
          clientOrderId: order?.clientOrderId ?? orderHash,
          orderHash,
          reason: row.cancelRejection ?? 'CancelRejection',
          at: this.#clock.now(),
        });
        this.#evidence({ strategyId, orderHash, symbol: row.symbol, status: order?.status ?? 'sequenced', cancelRejected: true });
      },
      liquidation: (strategyId: string, symbol: string, price: string, globalOrdinal: number) =>
        this.emit('liquidation', { strategyId, symbol, price, globalOrdinal, at: this.#clock.now() }),
      drift: (drift: Drift) => this.emit('drift', { ...drift, at: this.#clock.now() }),
    };
  }

  async #loadExchangeInfo(): Promise<void> {
    const info: ExchangeInfo = await this.#rest.get(PATHS.exchangeInfo, {}, 'exchangeInfo');
    const products: Record<string, Product> = {};
    for (const s of info.symbols) {
      products[s.symbol] = productFromSpec({
        symbol: s.symbol,
        tickSize: s.tickSize,
        minOrderSize: s.minOrderSize,
        maxOrderNotional: s.maxOrderNotional,
        maxTakerPriceDeviation: s.maxTakerPriceDeviation,
        maxLeverage: s.maxLeverage === undefined ? 3 : dec(s.maxLeverage).toNumber(),
        ...(s.mmr === undefined ? {} : { mmr: s.mmr }),
      });
    }
    this.#products = products;
    this.#venue = { chainId: info.chainId, verifyingContract: info.verifyingContract, decimals: info.amountScaleDecimals };
    this.#symbols = this.#options.symbols ?? Object.keys(products).sort();
  }

  async #updatesSince(e: StrategyEntry, since: number): Promise<UserRow[]> {
    const query = { trader: e.trader, strategyIdHash: e.strategyIdHash, sinceOrdinal: since };
    const orders = await this.#rest.get(PATHS.orderUpdates, query, 'orderUpdates');
    const strategy = await this.#rest.get(PATHS.strategyUpdates, query, 'strategyUpdates');
    return [
      ...orders.map((row): UserRow => ({ feed: 'ORDER_UPDATE', row })),
      ...strategy.map((row): UserRow => ({ feed: 'STRATEGY_UPDATE', row })),
    ];
  }

  #openOrders(e: StrategyEntry): Promise<OpenOrder[]> {
    return this.#rest.get(PATHS.openOrders, { trader: e.trader, strategyIdHash: e.strategyIdHash }, 'openOrders');
  }

  /**
   * Open orders at the venue → lifecycle, then the orders we thought were working but the venue does
   * not list. `open` was read after `before` was taken and BEFORE the snapshot whose updates were just
   * replayed: an order that was on the book in `before` and left it before the read has its terminal
   * update in the replay, so if it is still live here that is a real inconsistency (reported, never
   * assumed terminal). A request whose answer was lost before the read, with neither an update nor a
   * place on the book, was not sequenced (once `unresolvedAfterMs` has passed, for venues that execute
   * later than they sequence). Orders placed after the read are left to the next reconcile.
   */
  #reconcileOpenOrders(e: StrategyEntry, open: readonly OpenOrder[], before: readonly TrackedOrder[]): void {
    const now = this.#clock.now();
    const openHashes = new Set<string>();
    for (const o of open) {
      openHashes.add(o.orderHash.toLowerCase());
      this.#lifecycle.applyOpenOrder(e.account.strategyId, o, now);
    }
    for (const earlier of before) {
      const order = this.#lifecycle.byHash(earlier.orderHash);
      if (order === undefined || isTerminal(order.status) || openHashes.has(order.orderHash)) continue;
      if (earlier.unresolved && order.unresolved) {
        const since = this.#unresolvedSince.get(order.orderHash) ?? now;
        if (now - since >= (this.#options.unresolvedAfterMs ?? 5_000)) this.#lifecycle.notSequenced(order.orderHash, now);
      } else if (earlier.status === 'posted' || earlier.status === 'partially-filled') {
        // Not open, yet no terminal update was seen up to the snapshot: report, never assume.
        this.emit('fault', {
          message: `${e.account.strategyId}: order ${order.clientOrderId} is ${order.status} locally but not open at the venue`,
          at: now,
        });
      }
    }
  }

  #requestFailed(orderHash: string, error: unknown): void {
    const now = this.#clock.now();
    if (requestOutcome(error) === 'refused') {
      this.#lifecycle.refused(orderHash, requestErrorCode(error), error instanceof Error ? error.message : 'refused', now);
      return;
    }
    // The venue may have sequenced it: find out from REST and the feed, never assume.
    this.#lifecycle.markUnresolved(orderHash);
    if (this.#lifecycle.byHash(orderHash)?.unresolved === true) {
      this.#unresolvedSince.set(orderHash, now);
      this.#requestRepair('request-unresolved');
    }
  }

  /**
   * Runs a request as counted work. The work, and the caller's wait, end when `send` settles or when
   * the feed shows evidence that the venue has the request, whichever is first; `send` carries on
   * processing a late answer in the background either way.
   */
  #request<T>(matches: (evidence: Evidence) => boolean, send: () => Promise<T>, early: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const hold = this.#hold(matches, () => {
        if (settled) return;
        settled = true;
        // After the rest of the frame: the evidence may be the first of several changes it makes.
        queueMicrotask(() => resolve(early()));
      });
      send().then(
        (value) => {
          if (!settled) {
            settled = true;
            resolve(value);
          }
          hold.release();
        },
        (error: unknown) => {
          if (!settled) {
            settled = true;
            reject(error);
          }
          hold.release();
        },
      );
    });
  }

  #hold(matches: (evidence: Evidence) => boolean, onEvidence: () => void): Hold {
    this.#work.begin();
    let open = true;
    const hold: Hold = {
      matches,
      release: () => {
        if (!open) return;
        open = false;
        this.#holds.delete(hold);
        this.#work.end();
      },
    };
    this.#holds.add(hold);
    const evidence = (e: Evidence): boolean => {
      if (!matches(e)) return false;
      onEvidence();
      return true;
    };
    hold.matches = evidence;
    return hold;
  }

  #evidence(evidence: Evidence): void {
    for (const hold of [...this.#holds]) if (hold.matches(evidence)) hold.release();
  }

  #invalidateBooks(): void {
    for (const view of this.#books.values()) view.invalidate();
  }

  /** Runs `task` after every task queued before it (bootstrap and repairs never interleave). */
  #serial(task: () => Promise<void>): Promise<void> {
    const run = this.#exclusive.then(task);
    this.#exclusive = run.catch(() => {});
    return run;
  }

  #requestRepair(reason: string): void {
    if (this.#closed) return;
    this.#repairReasons.push(reason);
    for (const e of this.#strategies.values()) if (e.bootstrapped) e.sync.beginSync();
    if (this.#repairRunning) return;
    this.#repairRunning = true;
    this.#work.begin();
    void this.#serial(() => this.#repairLoop()).finally(() => {
      this.#repairRunning = false;
      // A reason that arrived as the loop was finishing starts a new one (before this one's work ends).
      const again = this.#repairReasons.length > 0 && !this.#closed;
      const reasons = this.#repairReasons;
      this.#repairReasons = [];
      if (again) for (const reason of reasons) this.#requestRepair(reason);
      this.#work.end();
    });
  }

  async #repairLoop(): Promise<void> {
    let failures = 0;
    while (this.#repairReasons.length > 0 && !this.#closed) {
      const reason = [...new Set(this.#repairReasons)].join('; ');
      this.#repairReasons = [];
      this.emit('repair', { reason, phase: 'start', at: this.#clock.now() });
      try {
        await this.#repairOnce();
        failures = 0;
        if (this.#repairReasons.length === 0) {
          for (const e of this.#strategies.values()) if (e.bootstrapped) e.sync.endSync(true);
        }
        this.emit('repair', { reason, phase: 'done', at: this.#clock.now() });
      } catch (error) {
        failures += 1;
        const message = error instanceof Error ? error.message : 'unknown error';
        this.emit('repair', { reason: `${reason}: ${message}`, phase: 'failed', at: this.#clock.now() });
        if (failures >= 5 || this.#closed) {
          // Give up for now: apply what is queued, keep the floor (the next repair replays from it).
          for (const e of this.#strategies.values()) if (e.bootstrapped) e.sync.endSync(false);
          this.emit('fault', { message: `repair failed ${failures} times: ${message}`, at: this.#clock.now() });
          this.#repairReasons = [];
          return;
        }
        this.#repairReasons.push(reason);
        await (this.#options.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms))))(
          backoffDelay(failures - 1, { baseMs: 100, maxMs: 5_000, jitter: 0.5 }, this.#random),
        );
      }
    }
  }

  async #repairOnce(): Promise<void> {
    for (const e of this.#strategies.values()) {
      if (!e.bootstrapped) continue;
      // What we believed before reading the book: only that can be checked against the read.
      const before = this.#lifecycle.live(e.account.strategyId).map((o) => ({ ...o }));
      const open = await this.#openOrders(e);
      const state = await this.#rest.get(PATHS.strategy, { trader: e.trader, strategyId: e.venueStrategyId }, 'strategy');
      const rows = await this.#updatesSince(e, e.sync.floor);
      e.sync.replay(rows, state.globalOrdinal);
      e.sync.reconcile(state);
      this.#reconcileOpenOrders(e, open, before);
    }
    if (this.#symbols.length > 0) {
      // Only the newest mark matters; a symbol without one is asked from the first snapshot on, not from the start of history.
      const since = Math.min(...this.#symbols.map((s) => this.#marks.get(s)?.globalOrdinal ?? this.#firstSnapshotOrdinal));
      const marks = await this.#rest.get(PATHS.markPrices, { symbols: this.#symbols.join(','), sinceOrdinal: since }, 'markPrices');
      const latest = new Map<string, (typeof marks)[number]>();
      for (const row of marks) {
        const seen = latest.get(row.symbol);
        if (seen === undefined || seen.globalOrdinal < row.globalOrdinal) latest.set(row.symbol, row);
      }
      const at = this.#clock.now();
      for (const symbol of [...latest.keys()].sort()) {
        const row = latest.get(symbol)!;
        this.#mark(symbol, row.price, row.globalOrdinal, at);
      }
    }
    if (this.#options.orderBook !== false && this.#marketSubscribed && this.#ws.connected) {
      const stale = this.#symbols.filter((s) => this.#books.get(s)?.synced !== true);
      if (stale.length > 0) {
        const feed: FeedSubscription = { feed: 'ORDER_BOOK_L2', params: { symbols: this.#symbols } };
        await this.#ws.unsubscribe([feed]);
        await this.#ws.subscribe([feed]);
      }
    }
  }
}
