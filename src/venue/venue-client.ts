import { EventEmitter } from 'node:events';
import { keccak256, toUtf8Bytes } from 'ethers';
import { z } from 'zod';
import type { Clock } from '../clock/clock.ts';
import type { WorkTracker } from '../clock/work-tracker.ts';
import { ORDER_TYPE, ORDER_UPDATE_REASON } from '../derivadex/codes.ts';
import { strategyIdHash as hashStrategyId } from '../derivadex/crypto/bytes32.ts';
import type { Eip712Venue } from '../derivadex/crypto/eip712.ts';
import { createNonceSource, type NonceSource } from '../derivadex/crypto/nonce.ts';
import type { Feed, FeedMessage, FeedWithParams } from '../derivadex/feed-messages.ts';
import type { FrameError } from '../derivadex/frame-parser.ts';
import { isPlaceholderIntent } from '../derivadex/order-intent.ts';
import { orderUpdateHistoryRowSchema, type OrderUpdateRow } from '../derivadex/order-update.ts';
import { DEFAULT_PAGE_LIMIT, PATHS } from '../derivadex/paths.ts';
import {
  deploymentInfoSchema,
  exchangeInfoSchema,
  markPriceSchema,
  orderBookL3EntrySchema,
  positionSchema,
  strategySchema,
  type OrderBookL3Entry,
  type Strategy,
} from '../derivadex/rest-bodies.ts';
import { strategyUpdateHistoryRowSchema } from '../derivadex/strategy-update.ts';
import { traderAddress21, traderKey } from '../derivadex/trader-address.ts';
import { dec } from '../domain/decimal.ts';
import type { LedgerEvent, LedgerOutcome, LedgerState } from '../domain/ledger.ts';
import type { OrderIntent } from '../domain/order.ts';
import { isTerminal } from '../domain/order-status.ts';
import type { Product } from '../domain/product.ts';
import { productFromSpec } from '../domain/products.ts';
import { backoffDelay, seededRandom, type BackoffPolicy, type Random } from './backoff.ts';
import { BookView, type BookSnapshot } from './book-view.ts';
import { createEphemeralSource } from './ephemeral-source.ts';
import { LifecycleError, OrderLifecycle, type LifecycleEvent, type TrackedOrder } from './order-lifecycle.ts';
import { OperatorKey, RequestSender, requestErrorCode, requestOutcome } from './request-sender.ts';
import { RestClient, VenueBodyError, type RetryPolicy } from './rest-client.ts';
import { SigningWorkers } from './signing-workers.ts';
import { DEFAULT_VENUE_STRATEGY_ID, type StrategyAccount } from './strategy-account.ts';
import {
  StrategySync,
  type CancelRejection,
  type Drift,
  type Horizon,
  type StrategySnapshot,
  type UserRow,
  type WithdrawRejection,
} from './strategy-sync.ts';
import { WsConnection } from './ws-connection.ts';

/*
 * The venue client the supervisor uses: one WebSocket connection, REST, signed requests, the order
 * lifecycle and one exactly-once ledger per strategy.
 *
 *   connect() → bootstrap(strategies) → events … placeOrder / cancelOrder / cancelAll … close()
 *
 * docs/venue-client.md lists every endpoint, feed and request with its shape and source; the rules the
 * client relies on where the sources are silent are docs/derivadex-sources.md §10.
 *
 * - bootstrap: the EIP-712 domain from `/contract-server/addresses` (unless chainId and
 *   verifyingContract are given), products from `exchange_info` with margins from `productMargins`
 *   (else 3×, §10.12); ONE SUBSCRIBE of MARK_PRICE, ORDER_BOOK_L2, ORDER_UPDATE and STRATEGY_UPDATE with
 *   every strategy's filter (user rows queue from now on); per strategy: the snapshot (strategy +
 *   positions) bracketed by the newest globalOrdinal of each family (§10.3), then the open orders (L3
 *   book); then the queue drains in arrival order.
 * - Repair: a gap, a frame the client cannot read, a reconnect, or a request whose answer was lost →
 *   per strategy a bracketed snapshot, a REST replay of each family from its own floor up to the
 *   snapshot's horizon (merged by (epochId, txOrdinal, ordinal), §10.5), the ledger compared with the
 *   snapshot (drift reported), open orders reconciled; the book resubscribed; the newest mark of each
 *   symbol fetched (§10.13). Repairs run one at a time; a gap during a repair runs it again.
 * - Bad input: a frame (or body) the client does not know is counted, reported once per place as a
 *   `fault` naming its path, and sends the client to repair: the rows it carried are read from REST,
 *   so no fill is lost.
 * - Determinism: time comes from the injected Clock, every random choice from `seed` (jitter, nonces,
 *   ephemeral encryption keys). Work is counted on the injected tracker: a request from begin() until
 *   its answer is processed or the feed shows the venue has it (see Hold), a repair from the moment it
 *   is asked for, every frame (WsConnection). Events carry `at` = clock time; act on events, not on when
 *   a request's promise resolves (the receipt and the feed race on different sockets).
 * - `tick()` must be called when the clock moves (a timer does it live): it checks feed staleness,
 *   settles requests whose answer was lost, and looks for updates that a dropped frame hid.
 * - Orders: `sequenced` is reported for every order the venue took, from the receipt or from its first
 *   update, whichever comes first; a refusal is `rejected` with its name as reason: a SafetyFailure's
 *   variant (tick size, size, notional…: `PriceNotMultipleOfTickSize`, the message in `detail`) or the
 *   HTTP error class (e.g. IllegalNonce). Market orders are sent as orderType 1, limits as 0 (§10.14).
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
  /** The venue's cancelRejection name (codes.ts CANCEL_REJECTION, e.g. InvalidOrder), or the refusal's name. */
  reason: string;
  at: number;
}

export interface WithdrawRejected extends WithdrawRejection {
  strategyId: string;
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

/** An ORDER_UPDATE row about an order of one of our strategies that this client neither placed nor reclaimed. */
export interface ForeignOrderNotice {
  strategyId: string;
  orderHash: string;
  at: number;
}

export interface VenueClientEvents {
  mark: [MarkEvent];
  book: [BookEvent];
  ledger: [LedgerUpdate];
  lifecycle: [LifecycleEvent];
  'cancel-rejected': [CancelRejected];
  /** A STRATEGY_UPDATE WithdrawRejection (9): reported, moves nothing. */
  'withdraw-rejected': [WithdrawRejected];
  liquidation: [LiquidationNotice];
  bootstrap: [BootstrapNotice];
  'feed-status': [{ feed: Feed; stale: boolean; at: number }];
  'frame-rejected': [{ error: FrameError; at: number }];
  repair: [{ reason: string; phase: 'start' | 'done' | 'failed'; at: number }];
  drift: [Drift & { at: number }];
  /**
   * Another process (or the strategy itself) is working the strategy's orders on the venue: a feed row about an
   * order this client never placed or reclaimed. Takeover ownership waits for these to stop.
   */
  'foreign-order': [ForeignOrderNotice];
  /** Something went wrong that no other event describes (never carries key material). */
  fault: [{ message: string; at: number }];
}

/** A product's margin parameters, which `exchange_info` does not carry (§10.12). */
export interface ProductMargin {
  maxLeverage: number;
  mmr?: string;
}

export interface VenueClientOptions {
  /** REST base, e.g. http://127.0.0.1:8080 */
  restUrl: string;
  /** WebSocket URL (…/realtime-api). */
  wsUrl: string;
  /** `GET /contract-server/addresses?contractDeployment=` (default "testnet", the SDK's default). */
  contractDeployment?: string;
  /** EIP-712 domain override: both or neither; when given, the deployment info is not read. */
  chainId?: number;
  verifyingContract?: string;
  /** Decimals of amounts and prices in signed structs (a venue setting; default 6). */
  amountScaleDecimals?: number;
  /** `recv_window_ms` of signed requests (default 5000, §10.10). */
  recvWindowMs?: number;
  /** Per symbol: margin parameters from the fleet's product config; absent: DerivaDEX's default 3× (mmr 0.15 / 3). */
  productMargins?: Readonly<Record<string, ProductMargin>>;
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
  /** Worker threads that sign bursts (default 1; live they start at bootstrap, else at the first burst; 0: always inline). */
  signingThreads?: number;
  /** Ordinal of the first frame on a connection (default 0, docs realtime examples, §10.11). */
  firstOrdinal?: number;
  fetch?: typeof globalThis.fetch;
  /** Waits between REST retries and reconnects. */
  sleep?: (ms: number) => Promise<void>;
}

interface StrategyEntry {
  account: StrategyAccount;
  venueStrategyId: string;
  /** 20-byte checksummed: signing and `/stats/api/v1` filters (§10.1). */
  trader: string;
  /** 21-byte lower-case: rows, realtime filters, `/exchange/api/v1` filters (§10.1). */
  trader21: string;
  strategyIdHash: string;
  sync: StrategySync;
  sender: RequestSender;
  /** The nonce the sender drew last (it signs right after drawing): matches placeholder rejections. */
  lastNonce: () => string | undefined;
  bootstrapped: boolean;
}

/** How often a snapshot is read again when the feed moved while it was read (§10.3: retry 3 times). */
const SNAPSHOT_RETRIES = 3;
/** History pages a replay reads at most per family before it gives up (and the repair is retried). */
const REPLAY_MAX_PAGES = 100;

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
  readonly #signing: SigningWorkers;
  readonly #lifecycle: OrderLifecycle;
  readonly #strategies = new Map<string, StrategyEntry>();
  /** `${trader 21-byte}:${strategyIdHash}` → strategy id */
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
  /** `code:path` of every unreadable frame or body already reported (each is reported once). */
  readonly #reportedBadInput = new Set<string>();
  #badInput = 0;

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
    this.#signing = new SigningWorkers(options.signingThreads === undefined ? {} : { threads: options.signingThreads });
    this.#ws = new WsConnection({
      url: options.wsUrl,
      clock: options.clock,
      work: this.#work,
      random: stream(2),
      firstOrdinal: options.firstOrdinal ?? 0,
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

  /** Products from exchange_info and the margin overlay (after bootstrap). */
  get products(): Readonly<Record<string, Product>> {
    return this.#products;
  }

  /** Frame and connection counters; `badInput` counts frames and REST bodies the client could not read. */
  get stats(): WsConnection['stats'] & { badInput: number } {
    return { ...this.#ws.stats, badInput: this.#badInput };
  }

  /** How many signatures went inline and on the worker threads, and the threads running. */
  get signingStats(): SigningWorkers['stats'] {
    return this.#signing.stats;
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
    for (const e of this.#strategies.values()) e.sender.close();
    await Promise.all([this.#ws.close(), this.#signing.close()]);
  }

  /**
   * Loads the venue's products and, per strategy, its state, open orders and the updates since, and
   * subscribes to every feed. May be called again with more strategies.
   */
  bootstrap(strategies: readonly StrategyAccount[]): Promise<void> {
    this.#work.begin();
    return this.#serial(async () => {
      if (this.#venue === undefined) await this.#loadVenue();
      const fresh: StrategyEntry[] = [];
      for (const account of strategies) {
        if (this.#strategies.has(account.strategyId)) continue;
        const entry = this.#entry(account);
        this.#strategies.set(account.strategyId, entry);
        this.#routes.set(`${entry.trader21}:${entry.strategyIdHash}`, account.strategyId);
        fresh.push(entry);
      }
      const market = !this.#marketSubscribed && this.#symbols.length > 0;
      const feeds: FeedWithParams[] = market ? this.#marketFeeds() : [];
      if (fresh.length > 0) feeds.push(...this.#userFeeds());
      let unstable = false;
      try {
        if (feeds.length > 0) await this.#ws.subscribe(feeds);
        if (market) this.#marketSubscribed = true;
        unstable = await this.#bootstrapEach(fresh);
      } catch (error) {
        // Forget what did not finish, so that bootstrap can be called again for it.
        for (const e of fresh) {
          if (e.bootstrapped) continue;
          this.#strategies.delete(e.account.strategyId);
          this.#routes.delete(`${e.trader21}:${e.strategyIdHash}`);
        }
        throw error;
      }
      const complete = this.#repairReasons.length === 0 && !unstable;
      for (const e of fresh) {
        if (complete) e.sync.endSync(true);
        this.emit('bootstrap', {
          strategyId: e.account.strategyId,
          ledger: e.sync.ledger!,
          openOrders: this.liveOrders(e.account.strategyId),
          at: this.#clock.now(),
        });
      }
      if (unstable) this.#requestRepair('snapshot-unstable');
    }).finally(() => this.#work.end());
  }

  /** Per strategy: the bracketed snapshot, then the open orders. True when a snapshot never held still. */
  async #bootstrapEach(fresh: readonly StrategyEntry[]): Promise<boolean> {
    let unstable = false;
    for (const e of fresh) {
      const { snapshot, stable } = await this.#snapshot(e);
      if (!stable) unstable = true;
      // The snapshot is every row up to its horizon; later rows arrive on the feed, queued since the subscribe.
      e.sync.bootstrap(snapshot);
      // Read after the snapshot: an order that moved since has its update in the queue.
      for (const o of await this.#openOrders(e)) this.#lifecycle.applyOpenOrder(e.account.strategyId, o, this.#clock.now());
      e.bootstrapped = true;
    }
    return unstable;
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
    const holder = this.#lifecycle.get(strategyId, clientOrderId);
    // An ended order of an earlier tenure may hold the id (the lifecycle moves it to an alias); a live one is a caller error.
    if (holder !== undefined && !isTerminal(holder.status)) {
      throw new LifecycleError(`clientOrderId ${JSON.stringify(clientOrderId)} is already used by strategy ${strategyId}`);
    }
    const order = {
      symbol: intent.symbol,
      strategy: e.venueStrategyId,
      side: intent.side === 'buy' ? ('Bid' as const) : ('Ask' as const),
      // §10.14: the client sends Limit (0) and Market (1).
      orderType: intent.type === 'market' ? ORDER_TYPE.Market : ORDER_TYPE.Limit,
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
            const nonce = e.lastNonce();
            if (previous === undefined) {
              this.#lifecycle.submit(
                {
                  strategyId,
                  clientOrderId,
                  orderHash: signed,
                  symbol: intent.symbol,
                  side: intent.side,
                  amount: intent.amount,
                  ...(nonce === undefined ? {} : { nonce }),
                },
                this.#clock.now(),
              );
            } else {
              this.#lifecycle.rekey(previous, signed, nonce);
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
      // The order's own history: `orderHash=` filters the ORDER_UPDATE history (§3.1, §8.6).
      const { rows } = await this.#rest.getAllPages(
        PATHS.orderUpdates,
        { trader: e.trader21, strategyIdHash: e.strategyIdHash, orderHash: hash },
        orderUpdateHistoryRowSchema,
        { limit: DEFAULT_PAGE_LIMIT, maxPages: REPLAY_MAX_PAGES },
      );
      const intentOf = (row: (typeof rows)[number]) =>
        [row.makerOrderIntent, row.takerOrderIntent].find((i) => i !== undefined && i.orderHash.toLowerCase() === hash);
      const mine = rows.filter((row) => intentOf(row) !== undefined).sort((a, b) => a.globalOrdinal - b.globalOrdinal);
      if (mine.length === 0) return null;
      // Replay the order's own history through a scratch tracker: the same rules decide its outcome.
      const scratch = new OrderLifecycle(() => {});
      for (const row of mine) scratch.applyUpdate(strategyId, row, intentOf(row)!, this.#clock.now());
      const order = scratch.byHash(hash);
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
    ws.on('frame-rejected', (error) => this.#onBadFrame(error));
    ws.on('handler-failed', ({ feed, message }) => {
      this.emit('fault', { message: `handling a ${feed} frame failed: ${message}`, at: this.#clock.now() });
      this.#invalidateBooks();
      this.#requestRepair(`handler failed on ${feed}`);
    });
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

  /**
   * A frame the client does not know. It may have carried a fill, so it is never just dropped: it is
   * counted, reported once per place, and the feeds are repaired from REST (the book resubscribed).
   */
  #onBadFrame(error: FrameError): void {
    const at = this.#clock.now();
    this.emit('frame-rejected', { error, at });
    this.#reportBadInput(`frame ${error.code}`, error.path, error.message);
    this.#invalidateBooks();
    this.#requestRepair(`bad frame: ${error.path === '' ? error.code : error.path}`);
  }

  #reportBadInput(what: string, path: string, message: string): void {
    this.#badInput += 1;
    const key = `${what}\u0000${path}`;
    if (this.#reportedBadInput.has(key)) return;
    this.#reportedBadInput.add(key);
    this.emit('fault', {
      message: `venue sent a ${what} the client does not know: ${path === '' ? '(whole)' : path}: ${message}`,
      at: this.#clock.now(),
    });
  }

  #onMessage(message: FeedMessage): void {
    const at = this.#clock.now();
    switch (message.feed) {
      case 'MARK_PRICE':
        for (const row of message.contents.data) this.#mark(row.symbol, row.price, row.globalOrdinal, at);
        return;
      case 'ORDER_BOOK_L2': {
        // By the rows' symbols: subscriptionKey is a normalized filter name, not for parsing (§5.4).
        const symbols = new Set(message.contents.data.map((r) => r.symbol));
        // An empty PARTIAL names no symbol: it empties every book this subscription covers.
        if (symbols.size === 0 && message.contents.messageType === 'PARTIAL') for (const s of this.#symbols) symbols.add(s);
        for (const symbol of symbols) {
          let view = this.#books.get(symbol);
          if (view === undefined) this.#books.set(symbol, (view = new BookView(symbol)));
          if (view.apply(message.contents.messageType, message.contents.data)) this.emit('book', { ...view.snapshot(), at });
        }
        return;
      }
      case 'ORDER_UPDATE':
        for (const row of message.contents.data) {
          // Before the sync adopts an unknown hash: afterwards it is tracked like one of ours.
          this.#noteForeign(row, at);
          for (const e of this.#routeOrderUpdate(row)) e.sync.offer({ feed: 'ORDER_UPDATE', row });
        }
        return;
      case 'STRATEGY_UPDATE':
        for (const row of message.contents.data)
          this.#route(row.traderAddress, row.strategyIdHash)?.sync.offer({ feed: 'STRATEGY_UPDATE', row });
        return;
    }
  }

  /**
   * Every strategy of ours a row concerns (§10.7): the owners of its maker and taker intents and the
   * liquidated strategy; a placeholder rejection goes to the strategy that signed its nonce (§10.8).
   */
  #routeOrderUpdate(row: OrderUpdateRow): StrategyEntry[] {
    const found = new Set<StrategyEntry>();
    const add = (e: StrategyEntry | undefined): void => {
      if (e !== undefined) found.add(e);
    };
    for (const intent of [row.makerOrderIntent, row.takerOrderIntent]) {
      if (intent !== undefined && intent.traderAddress !== '') add(this.#route(intent.traderAddress, intent.strategyIdHash));
    }
    if (row.liquidatedTraderAddress !== undefined && row.liquidatedStrategyIdHash !== undefined) {
      add(this.#route(row.liquidatedTraderAddress, row.liquidatedStrategyIdHash));
    }
    if (
      row.reason === ORDER_UPDATE_REASON.OrderRejection &&
      isPlaceholderIntent(row.makerOrderIntent) &&
      row.makerOrderIntent.nonce !== ''
    ) {
      const order = this.#lifecycle.byNonce(row.makerOrderIntent.nonce);
      if (order !== undefined) add(this.#strategies.get(order.strategyId));
    }
    return [...found];
  }

  /** Emits `foreign-order` for each intent of the row that is an order of one of our strategies we did not place. */
  #noteForeign(row: OrderUpdateRow, at: number): void {
    for (const intent of [row.makerOrderIntent, row.takerOrderIntent]) {
      if (intent === undefined || intent.traderAddress === '' || isPlaceholderIntent(intent)) continue;
      const e = this.#route(intent.traderAddress, intent.strategyIdHash);
      if (e === undefined || this.#lifecycle.placedHere(intent.orderHash)) continue;
      this.emit('foreign-order', { strategyId: e.account.strategyId, orderHash: intent.orderHash.toLowerCase(), at });
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
    let key: string;
    try {
      key = `${traderKey(trader)}:${strategyIdHash.toLowerCase()}`;
    } catch {
      return undefined; // not an address: not one of ours
    }
    const id = this.#routes.get(key);
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
    const trader21 = traderAddress21(trader);
    const strategyIdHash = hashStrategyId(venueStrategyId).toLowerCase();
    const seed = this.#options.seed;
    // Simulation: one seed per (trader, strategy), so two strategies never share a nonce sequence.
    const derived = (what: string): string | undefined =>
      seed === undefined ? undefined : keccak256(toUtf8Bytes(`riskwarden/${what}/${seed}/${trader.toLowerCase()}/${venueStrategyId}`));
    const sync = new StrategySync(account.strategyId, { traderAddress: trader21, strategyIdHash }, this.#lifecycle, this.#syncSink(), () =>
      this.#clock.now(),
    );
    const source = createNonceSource(derived('nonce'));
    let last: string | undefined;
    const nonces: NonceSource = {
      next: () => (last = source.next()),
      get issued() {
        return source.issued;
      },
    };
    const sender = new RequestSender(
      {
        rest: this.#rest,
        signer: account.signer,
        venue: () => {
          if (this.#venue === undefined) throw new Error('venue settings unknown before bootstrap');
          return this.#venue;
        },
        nonces,
        ephemeral: createEphemeralSource(derived('ephemeral')),
        clock: this.#clock,
        ...(this.#options.recvWindowMs === undefined ? {} : { recvWindowMs: this.#options.recvWindowMs }),
        ...(this.#options.nonceRetries === undefined ? {} : { nonceRetries: this.#options.nonceRetries }),
        signing: this.#signing,
      },
      this.#operatorKey,
    );
    return { account, venueStrategyId, trader, trader21, strategyIdHash, sync, sender, lastNonce: () => last, bootstrapped: false };
  }

  #syncSink() {
    return {
      ledger: (strategyId: string, event: LedgerEvent, outcome: LedgerOutcome) =>
        this.emit('ledger', { strategyId, event, outcome, at: this.#clock.now() }),
      ledgerRejected: (strategyId: string, event: LedgerEvent, reason: string) =>
        this.emit('fault', { message: `${strategyId}: ledger refused ${event.kind} ${event.id}: ${reason}`, at: this.#clock.now() }),
      cancelRejected: (strategyId: string, rejection: CancelRejection) => {
        const order = this.#lifecycle.byHash(rejection.orderHash);
        const orderHash = rejection.orderHash.toLowerCase();
        this.emit('cancel-rejected', {
          strategyId,
          clientOrderId: order?.clientOrderId ?? orderHash,
          orderHash,
          reason: rejection.reason,
          at: this.#clock.now(),
        });
        this.#evidence({ strategyId, orderHash, symbol: rejection.symbol, status: order?.status ?? 'sequenced', cancelRejected: true });
      },
      liquidation: (strategyId: string, symbol: string, price: string, globalOrdinal: number) =>
        this.emit('liquidation', { strategyId, symbol, price, globalOrdinal, at: this.#clock.now() }),
      withdrawRejected: (strategyId: string, rejection: WithdrawRejection) =>
        this.emit('withdraw-rejected', { ...rejection, strategyId, at: this.#clock.now() }),
      drift: (drift: Drift) => this.emit('drift', { ...drift, at: this.#clock.now() }),
    };
  }

  /** The signing domain, the products and the symbols (§1, §10.12). */
  async #loadVenue(): Promise<void> {
    const { chainId, verifyingContract } = this.#options;
    if ((chainId === undefined) !== (verifyingContract === undefined)) {
      throw new Error('VenueClient options: chainId and verifyingContract override the deployment info together; set both or neither');
    }
    let domain: { chainId: number; verifyingContract: string };
    if (chainId !== undefined && verifyingContract !== undefined) {
      domain = { chainId, verifyingContract };
    } else {
      // Bare body (SDK system_client.py `get_deployment_info`): chainId + the DerivaDEX diamond (S-CLIENT).
      const info = await this.#rest.getBare(
        PATHS.deploymentInfo,
        { contractDeployment: this.#options.contractDeployment ?? 'testnet' },
        deploymentInfoSchema,
      );
      domain = { chainId: info.chainId, verifyingContract: info.addresses.derivaDEXAddress };
    }
    const info = await this.#rest.getEnveloped(PATHS.exchangeInfo, {}, exchangeInfoSchema);
    const margins = this.#options.productMargins ?? {};
    const products: Record<string, Product> = {};
    for (const s of info.symbols) {
      // exchange_info has no margin parameters (§1.2): the fleet's product config, else DerivaDEX's default 3×.
      const margin = margins[s.symbol];
      products[s.symbol] = productFromSpec({
        symbol: s.symbol,
        tickSize: s.tickSize,
        minOrderSize: s.minOrderSize,
        maxOrderNotional: s.maxOrderNotional,
        maxTakerPriceDeviation: s.maxTakerPriceDeviation,
        maxLeverage: margin?.maxLeverage ?? 3,
        ...(margin?.mmr === undefined ? {} : { mmr: margin.mmr }),
      });
    }
    this.#products = products;
    this.#venue = { ...domain, decimals: this.#options.amountScaleDecimals ?? 6 };
    // Live: the operator key now, so the senders' encryption pools are ready before the first request
    // (a failure here is retried by that request), and the signing threads up before the first burst.
    // Simulation keeps its REST traffic as it was; its requests go one at a time (no bursts).
    if (this.#options.seed === undefined) {
      this.#operatorKey.get().catch(() => {});
      void this.#signing.warm();
    }
    this.#symbols = this.#options.symbols ?? Object.keys(products).sort();
  }

  /** MARK_PRICE for our symbols; ORDER_BOOK_L2 with one filter per symbol at its tick size (§10.11). */
  #marketFeeds(): FeedWithParams[] {
    const feeds: FeedWithParams[] = [{ feed: 'MARK_PRICE', params: { symbols: [...this.#symbols] } }];
    if (this.#options.orderBook !== false) feeds.push(this.#bookFeed());
    return feeds;
  }

  #bookFeed(): FeedWithParams {
    // `aggregation` is a JSON number on the wire (SDK `OrderBookL2Filter`): a parameter, not money.
    const orderBookL2Filters = this.#symbols.map((symbol) => ({
      symbol,
      aggregation: dec(this.#products[symbol]?.tickSize ?? '1').toNumber(),
    }));
    return { feed: 'ORDER_BOOK_L2', params: { orderBookL2Filters } };
  }

  /** Both user feeds with EVERY strategy's filter: a second SUBSCRIBE of a feed replaces the first (§10.11). */
  #userFeeds(): FeedWithParams[] {
    const all = [...this.#strategies.values()].map((e) => ({ traderAddress: e.trader21, strategyIdHash: e.strategyIdHash }));
    return [
      { feed: 'ORDER_UPDATE', params: { orderFilters: all } },
      { feed: 'STRATEGY_UPDATE', params: { strategyFilters: all.map((f) => ({ ...f })) } },
    ];
  }

  /** Per family, the newest globalOrdinal of the strategy's rows (-1: none), by `order=desc&limit=1` (§10.3). */
  async #newest(e: StrategyEntry): Promise<Horizon> {
    const query = { trader: e.trader21, strategyIdHash: e.strategyIdHash, order: 'desc', limit: 1 };
    const orders = await this.#rest.getPage(PATHS.orderUpdates, query, orderUpdateHistoryRowSchema);
    const strategy = await this.#rest.getPage(PATHS.strategyUpdates, query, strategyUpdateHistoryRowSchema);
    return { ORDER_UPDATE: orders.rows[0]?.globalOrdinal ?? -1, STRATEGY_UPDATE: strategy.rows[0]?.globalOrdinal ?? -1 };
  }

  /**
   * The strategy and its positions, bracketed by the newest ordinals of both families read before and
   * after (§10.3): equal brackets mean the snapshot is exactly the rows up to them. Read again up to
   * SNAPSHOT_RETRIES times; after that `stable` is false and the horizon is the last bracket read.
   */
  async #snapshot(e: StrategyEntry): Promise<{ snapshot: StrategySnapshot; stable: boolean }> {
    // `/stats/api/v1` takes the 20-byte trader (§10.1).
    const query = { trader: e.trader, strategyId: e.venueStrategyId };
    for (let attempt = 0; ; attempt += 1) {
      const before = await this.#newest(e);
      const strategy = (await this.#rest.getEnveloped(PATHS.strategy, query, strategySchema.nullable())) ?? this.#emptyStrategy(e);
      const positions = await this.#rest.getEnveloped(PATHS.positions, query, z.array(positionSchema));
      const after = await this.#newest(e);
      const stable = before.ORDER_UPDATE === after.ORDER_UPDATE && before.STRATEGY_UPDATE === after.STRATEGY_UPDATE;
      if (stable || attempt >= SNAPSHOT_RETRIES) return { snapshot: { strategy, positions, horizon: after }, stable };
    }
  }

  /** A strategy the venue does not know yet (`value: null`): nothing deposited, nothing held. */
  #emptyStrategy(e: StrategyEntry): Strategy {
    return {
      trader: e.trader21,
      strategyIdHash: e.strategyIdHash,
      strategyId: e.venueStrategyId,
      maxLeverage: 3,
      availCollateral: '0',
      lockedCollateral: '0',
      frozen: false,
    };
  }

  /** Both families from their floors on (`globalOrdinal` is inclusive, §10.4), every page. */
  async #updatesSince(e: StrategyEntry, floors: Readonly<Horizon>): Promise<UserRow[]> {
    const base = { trader: e.trader21, strategyIdHash: e.strategyIdHash };
    const pages = { limit: DEFAULT_PAGE_LIMIT, maxPages: REPLAY_MAX_PAGES };
    const orders = await this.#rest.getAllPages(
      PATHS.orderUpdates,
      { ...base, globalOrdinal: floors.ORDER_UPDATE + 1 },
      orderUpdateHistoryRowSchema,
      pages,
    );
    const strategy = await this.#rest.getAllPages(
      PATHS.strategyUpdates,
      { ...base, globalOrdinal: floors.STRATEGY_UPDATE + 1 },
      strategyUpdateHistoryRowSchema,
      pages,
    );
    if (orders.nextGlobalOrdinal !== null || strategy.nextGlobalOrdinal !== null) {
      throw new Error(`${e.account.strategyId}: the replay needs more than ${REPLAY_MAX_PAGES} pages`);
    }
    return [
      ...orders.rows.map((row): UserRow => ({ feed: 'ORDER_UPDATE', row })),
      ...strategy.rows.map((row): UserRow => ({ feed: 'STRATEGY_UPDATE', row })),
    ];
  }

  /** The strategy's open orders: the L3 book filtered by trader and strategy (§3.3, the only open-orders view). */
  #openOrders(e: StrategyEntry): Promise<OrderBookL3Entry[]> {
    return this.#rest.getEnveloped(
      PATHS.orderBookL3,
      { trader: e.trader21, strategyIdHash: e.strategyIdHash },
      z.array(orderBookL3EntrySchema),
    );
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
  #reconcileOpenOrders(e: StrategyEntry, open: readonly OrderBookL3Entry[], before: readonly TrackedOrder[]): void {
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
        if (error instanceof VenueBodyError) this.#reportBadInput('REST body', error.path, error.message);
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
      const { snapshot, stable } = await this.#snapshot(e);
      if (!stable) throw new Error(`${e.account.strategyId}: the strategy moved while its snapshot was read ${SNAPSHOT_RETRIES + 1} times`);
      // Read after the snapshot's horizon: every row up to it is in these pages.
      const rows = await this.#updatesSince(e, e.sync.floors);
      e.sync.replay(rows, snapshot.horizon);
      e.sync.reconcile(snapshot);
      this.#reconcileOpenOrders(e, open, before);
    }
    // The newest mark of each symbol (§10.13): older ones are of no use.
    const at = this.#clock.now();
    for (const symbol of this.#symbols) {
      const { rows } = await this.#rest.getPage(PATHS.markPrices, { symbol, order: 'desc', limit: 1 }, markPriceSchema);
      const row = rows[0];
      if (row !== undefined) this.#mark(symbol, row.price, row.globalOrdinal, at);
    }
    if (this.#options.orderBook !== false && this.#marketSubscribed && this.#ws.connected) {
      const stale = this.#symbols.filter((s) => this.#books.get(s)?.synced !== true);
      if (stale.length > 0) {
        // UNSUBSCRIBE names the whole feed (§5.2); the SUBSCRIBE brings a fresh PARTIAL.
        await this.#ws.unsubscribe(['ORDER_BOOK_L2']);
        await this.#ws.subscribe([this.#bookFeed()]);
      }
    }
  }
}
