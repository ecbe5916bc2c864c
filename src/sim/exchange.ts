import type { Clock } from '../clock/clock.ts';
import { Decimal, ZERO, dec, isDecimalString, str, type DecimalString } from '../domain/decimal.ts';
import { applyLedgerEvent, createLedger, projectFill, type LedgerBook, type LedgerEvent, type LedgerState } from '../domain/ledger.ts';
import { riskMetrics, type RiskMetrics } from '../domain/metrics.ts';
import type { Product } from '../domain/product.ts';
import { DEFAULT_PRODUCTS } from '../domain/products.ts';
import { orderViolations, priceBand, type ViolationCode } from '../domain/rounding.ts';
import {
  CANCEL_REJECTION,
  ORDER_REJECTION,
  ORDER_TYPE,
  ORDER_UPDATE_REASON,
  POSITION_SIDE,
  REQUEST_ERRORS,
  STRATEGY_UPDATE_REASON,
  type OrderRejectionName,
  type OrderTypeCode,
  type OrderUpdateReason,
  type PositionSideCode,
  type RequestErrorReason,
  type SafetyFailureName,
  type StrategyUpdateReason,
} from '../derivadex/codes.ts';
import { strategyIdHash as hashStrategyId } from '../derivadex/crypto/bytes32.ts';
import type { OrderIntentRow } from '../derivadex/order-intent.ts';
import type { OrderUpdateHistoryRow, OrderUpdateRow } from '../derivadex/order-update.ts';
import type { ExchangeInfo, MarkPrice, OrderBookL3Entry, Position, Strategy, StrategyMetrics } from '../derivadex/rest-bodies.ts';
import type { StrategyPositionRow, StrategyUpdateHistoryRow, StrategyUpdateRow } from '../derivadex/strategy-update.ts';
import { traderKey } from '../derivadex/trader-address.ts';
import { COLLATERAL_ADDRESS, COLLATERAL_SYMBOL, SYNTHETIC_STRATEGY_ID_HASH, SYNTHETIC_TRADER_ADDRESS, madeUpHex } from './deployment.ts';
import { OrderBook, SYNTHETIC_OWNER, levelChanges, type BookFill, type BookLevel, type BookSide, type MatchPlan } from './order-book.ts';
import { DEFAULT_LIQUIDITY, checkLiquidity, syntheticQuotes, type LiquidityConfig } from './synthetic-liquidity.ts';
import { mergeByOrdinal, pageOf, type HistoryPage, type PageQuery } from './update-history.ts';

/**
 * The simulated DerivaDEX matching engine and margin engine: in memory, no I/O, time from the injected
 * Clock. Everything it decides is emitted through the sink as rows in the real realtime shapes
 * (src/derivadex/order-update.ts, strategy-update.ts) and kept for the REST history endpoints.
 *
 * Numbering (docs/derivadex-sources.md §10.4–§10.5): `globalOrdinal` is counted per family —
 * ORDER_UPDATE, STRATEGY_UPDATE and mark prices each have their own counter, starting at 1. Every
 * state change (an executed request, a mark with what it causes, a deposit) is one transaction with its
 * own `txOrdinal`; the rows of one transaction are numbered by `ordinal` from 0 across both families.
 * Per fill: the ORDER_UPDATE Trade row, then for each user side (maker first, then taker) its
 * STRATEGY_UPDATE Trade row (`amount` = realized PnL, collateral before the fee) and, when the fee is not
 * zero, its Fee row (`amount` = −fee).
 *
 * Whose order a row is (§10.7): `makerOrderIntent` is the order the row is about (posted, cancelled,
 * rejected, the resting side of a trade); `takerOrderIntent` the aggressor of a trade. A Trade row is one
 * row for both sides, delivered to both traders; its `cumulativeFilledAmount` and cumulative quote are
 * the maker order's. The simulator's market maker is a trader of its own (SYNTHETIC_TRADER_ADDRESS) with
 * made-up but well-formed intents; it pays no fees and has no STRATEGY_UPDATE rows.
 *
 * Decisions (the venue's docs leave these open; the client and the scenario runner rely on them):
 * - Request-level failures throw ExchangeError. Refusals on the request's merits carry `safetyFailure`
 *   (the operator's variant name, §10.9): PriceNotMultipleOfTickSize, OrderAmountNotMultipleOfMinOrderSize
 *   (below the minimum or off the increment), OrderAmountZeroNeg, OrderPriceNeg, MaxOrderNotionalBreached,
 *   TooManyOrders (more than `maxOpenOrders`, 20, open orders per strategy and symbol), OrderNotFound (a
 *   cancel of an order the signer does not own or that does not exist), UnsupportedMarket,
 *   OrderTypeIncompatibleWithPrice (a market order with a price, a stop price on a non-Stop order, or a
 *   Stop order at all: the simulator has none). Transport-like failures have no variant: 400
 *   InvalidRequestPayload (malformed), 412 IllegalNonce (a nonce the trader already used; a nonce is used
 *   only once a request is sequenced), 503 ServiceUnavailable (a market order before the first mark).
 * - Execution-level failures are ORDER_UPDATE OrderRejection rows (the full intent, §10.8), checked in
 *   this order: a pending reject-next-order fault; NoLiquidity (no mark yet); MaxTakerPriceDeviation (a
 *   limit buy above mark×(1+dev) or sell below mark×(1−dev), whether or not it would cross);
 *   PostOnlyViolation (a LimitPostOnly order that would cross anything); SelfMatch (it would trade
 *   against a resting order of its own strategy: nothing fills); NoLiquidity (a market order with nothing
 *   inside the band); SolvencyGuard (see below).
 * - Market orders match only inside the band (a buy up to mark×(1+dev), a sell down to mark×(1−dev)); the
 *   unfilled rest is cancelled with a Cancellation row whose `amount` is that rest.
 * - A limit order first takes what crosses, then rests: Trade rows, then one Post row (`amount` "0").
 * - SolvencyGuard: only an order that opens or increases exposure is checked (anything but "opposite
 *   side and no larger than the position"). Its whole amount is projected as filled — the crossing part
 *   at the book prices with the taker fee, the resting part at its limit price with the maker fee — and
 *   the strategy must keep equity ≥ Σ notional_i / maxLeverage_i at the marks. Other working orders are
 *   not counted.
 * - Fees: fee = fill amount × fill price × rate (maker / taker), rates ≥ 0 (the wire's fee fields are
 *   non-negative, so the simulator has no rebates).
 * - Synthetic liquidity is re-laid on every mark. A synthetic level that crosses a resting user order
 *   trades with it at the user's price (the user is the maker, the synthetic level the taker).
 * - Margin engine, after every mark (all strategies with a position) and after every request's fills
 *   (the strategies involved): margin fraction < maintenance ⇒ liquidation (§10.7): every open order
 *   cancelled (Cancellation rows), every position closed at its mark — per symbol an ORDER_UPDATE
 *   Liquidation row (reason 2; `makerOrderIntent` the synthetic order that absorbed it,
 *   `liquidatedTraderAddress` / `liquidatedStrategyIdHash` the strategy, delivered to both) and a
 *   STRATEGY_UPDATE Liquidation row (reason 7, `amount` the realized PnL, `positions` the closed
 *   position). A negative balance is absorbed by the insurance fund: collateral never ends below 0 (the
 *   last Liquidation row's `amount` includes the top-up).
 * - STRATEGY_UPDATE `positions` (Trade and Liquidation rows): the symbol's position after the update; a
 *   position that became flat shows balance "0" with the side and entry price it had.
 * - `stepped` mode: submit() sequences and returns the receipt, flush() executes every pending request
 *   sorted by (trader, strategyId, arrival index within that strategy). Request-level checks happen at
 *   submit time (the open-order cap counts pending limit orders too). Receipts' requestIndex is the
 *   global arrival order, which in stepped mode depends on which request won a race: keep it out of
 *   anything that must be deterministic.
 */

export type ExecutionMode = 'immediate' | 'stepped';

export interface FeeSchedule {
  makerFee: DecimalString;
  takerFee: DecimalString;
}

export const DEFAULT_FEES: Readonly<FeeSchedule> = Object.freeze({ makerFee: '0', takerFee: '0.0005' });

/** Funding: at every `intervalMs` boundary (of the clock's epoch ms) a position pays size × mark × rate (longs pay a positive rate). */
export interface FundingConfig {
  rate: DecimalString;
  intervalMs: number;
}

/** A trader and strategy a row concerns (21-byte lower-case trader address). */
export interface RowParty {
  traderAddress: string;
  strategyIdHash: string;
}

export type ExchangeEvent =
  | { feed: 'MARK_PRICE'; row: MarkPrice }
  /** The book of `symbol` changed: its raw levels before and after (subscriptions aggregate them). */
  | { feed: 'ORDER_BOOK_L2'; symbol: string; before: BookLevel[]; after: BookLevel[] }
  /** `parties`: every strategy the row is delivered to (the intents' and a liquidated strategy). */
  | { feed: 'ORDER_UPDATE'; row: OrderUpdateRow; parties: RowParty[] }
  | { feed: 'STRATEGY_UPDATE'; row: StrategyUpdateRow };

export type ExchangeSink = (event: ExchangeEvent) => void;

export interface ExchangeOptions {
  clock: Clock;
  /** Default: DEFAULT_PRODUCTS (ETHP, BTCP). */
  products?: readonly Product[] | Readonly<Record<string, Product>>;
  liquidity?: LiquidityConfig;
  fees?: Partial<FeeSchedule>;
  funding?: FundingConfig | null;
  epochId?: number;
  mode?: ExecutionMode;
  /** Open orders per strategy and symbol (DerivaDEX: 20). */
  maxOpenOrders?: number;
  /** Mark rows kept per symbol for REST replay (oldest dropped first). */
  markHistoryLimit?: number;
  sink?: ExchangeSink;
}

/**
 * A verified request as the engine takes it (the gateway has decrypted and parsed it and recovered the
 * signer). Internal to the simulator, not a wire shape: `trader` is the signer (20- or 21-byte form).
 */
export type ExchangeRequest =
  | {
      kind: 'Order';
      trader: string;
      strategyId: string;
      symbol: string;
      side: BookSide;
      orderType: OrderTypeCode;
      amount: DecimalString;
      /** "0" for market orders. */
      price: DecimalString;
      /** "0" unless a Stop order (which the simulator refuses). */
      stopPrice: DecimalString;
      /** The request's bytes32 nonce and 65-byte signature, kept for the order's intent on every row. */
      nonce: string;
      signature: string;
      /** 25 bytes, computed by the gateway from the signed struct. */
      orderHash: string;
    }
  | { kind: 'CancelOrder'; trader: string; symbol: string; orderHash: string; nonce: string }
  | { kind: 'CancelAll'; trader: string; strategyId: string; symbol: string; nonce: string };

/** What the engine says about a sequenced request; the gateway turns it into the wire receipt. */
export interface ExchangeReceipt {
  /** The request's nonce (lower-case). */
  nonce: string;
  /** Global arrival order, from 1. */
  requestIndex: number;
  /** The trader, 21-byte lower-case. */
  trader: string;
  /** Orders and cancels: the order concerned. */
  orderHash?: string;
}

/**
 * A request-level failure. `code` is the request endpoint's error class (codes.ts REQUEST_ERRORS) and
 * `status` its HTTP status; a refusal on the request's merits has code 'SafetyFailure' and names the
 * operator's variant in `safetyFailure` (answered `{"t":"SafetyFailure","c":{message, inner}}`, §10.9).
 */
export class ExchangeError extends Error {
  override readonly name = 'ExchangeError';
  readonly status: number;
  constructor(
    readonly code: RequestErrorReason,
    message: string,
    readonly safetyFailure?: SafetyFailureName,
  ) {
    super(message);
    this.status = REQUEST_ERRORS[code];
  }

  /** A refusal on the request's merits. */
  static safety(variant: SafetyFailureName, message: string): ExchangeError {
    return new ExchangeError('SafetyFailure', message, variant);
  }
}

/** Filters of `/exchange/api/v1/order_updates` (docs get-order-update-history). */
export interface OrderUpdateQuery extends PageQuery {
  /** Either address form. */
  trader?: string;
  strategyIdHash?: string;
  symbol?: string;
  orderHashes?: readonly string[];
  reasons?: readonly number[];
  /** Earliest `createdAt`, ms. */
  sinceMs?: number;
}

/** Filters of `/exchange/api/v1/strategy_updates` (docs get-strategy-update-history). */
export interface StrategyUpdateQuery extends PageQuery {
  trader?: string;
  strategyIdHash?: string;
  reasons?: readonly number[];
  sinceMs?: number;
}

/** Filters of `/exchange/api/v1/order_book` (L3). `depth`: price levels per side. */
export interface OrderBookQuery {
  trader?: string;
  strategyIdHash?: string;
  symbol?: string;
  side?: BookSide;
  depth?: number;
}

export interface MarkPriceQuery extends PageQuery {
  symbol?: string;
  sinceMs?: number;
}

type BookOrderStatus = 'pending' | 'open' | 'filled' | 'cancelled' | 'rejected';

interface OrderRecord {
  orderHash: string;
  strategyKey: string;
  symbol: string;
  side: BookSide;
  orderType: OrderTypeCode;
  amount: Decimal;
  price: Decimal;
  stopPrice: DecimalString;
  nonce: string;
  signature: string;
  filled: Decimal;
  quoteFilled: Decimal;
  status: BookOrderStatus;
  createdAt: string;
}

/** A resting synthetic order: its made-up intent and how much of it has traded. */
interface SyntheticOrder {
  intent: OrderIntentRow;
  filled: Decimal;
  quoteFilled: Decimal;
}

interface StrategyRecord {
  key: string;
  /** 21-byte lower-case. */
  trader: string;
  strategyId: string;
  strategyIdHash: string;
  ledger: LedgerState;
  ledgerSeq: number;
  /** Open orders in placement order. */
  open: Map<string, OrderRecord>;
  arrivals: number;
  rejectNext: OrderRejectionName[];
}

interface StoredOrderUpdate {
  row: OrderUpdateRow;
  txOrdinal: number;
  parties: RowParty[];
  at: number;
}

interface StoredStrategyUpdate {
  row: StrategyUpdateRow;
  txOrdinal: number;
  ordinal: number;
  at: number;
}

interface StoredMark {
  row: MarkPrice;
  globalOrdinal: number;
  at: number;
}

interface PendingRequest {
  request: ExchangeRequest;
  strategy: StrategyRecord;
  arrival: number;
}

/** One side of a fill. */
type FillSide = { kind: 'user'; strategy: StrategyRecord; order: OrderRecord } | { kind: 'synthetic'; order: SyntheticOrder };

/** What a fill did to a user side's strategy: for its STRATEGY_UPDATE rows. */
interface Booked {
  strategy: StrategyRecord;
  symbol: string;
  fee: Decimal;
  realized: Decimal;
  /** Collateral after the PnL, before the fee. */
  beforeFee: Decimal;
  /** The position before the fill (for a fill that closes it). */
  held: { size: Decimal; avgEntry: DecimalString } | undefined;
}

export class Exchange {
  readonly clock: Clock;
  readonly mode: ExecutionMode;
  readonly epochId: number;
  readonly #products: Record<string, Product>;
  readonly #liquidity: LiquidityConfig;
  readonly #fees: { maker: Decimal; taker: Decimal };
  readonly #funding: FundingConfig | null;
  readonly #maxOpenOrders: number;
  readonly #markHistoryLimit: number;
  #sink: ExchangeSink;

  readonly #books = new Map<string, OrderBook>();
  readonly #marks = new Map<string, Decimal>();
  readonly #markHistory = new Map<string, StoredMark[]>();
  readonly #nextFunding = new Map<string, number>();
  readonly #strategies = new Map<string, StrategyRecord>();
  readonly #orders = new Map<string, OrderRecord>();
  readonly #synthetic = new Map<string, SyntheticOrder>();
  readonly #nonces = new Map<string, Set<string>>();
  readonly #orderHistory: StoredOrderUpdate[] = [];
  readonly #strategyHistory: StoredStrategyUpdate[] = [];
  #pending: PendingRequest[] = [];
  readonly #ordinals = { orderUpdate: 0, strategyUpdate: 0, markPrice: 0 };
  #txOrdinal = 0;
  #txRow = 0;
  #requestIndex = 0;
  #matchOrdinal = 0;
  #layCount = 0;
  #blockNumber = 0;
  #busy = false;

  constructor(options: ExchangeOptions) {
    this.clock = options.clock;
    this.mode = options.mode ?? 'immediate';
    this.epochId = options.epochId ?? 1;
    const products = options.products ?? DEFAULT_PRODUCTS;
    const list = Array.isArray(products) ? (products as readonly Product[]) : Object.values(products as Record<string, Product>);
    this.#products = {};
    for (const product of [...list].sort((a, b) => (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0))) {
      this.#products[product.symbol] = product;
      this.#books.set(product.symbol, new OrderBook(product.symbol));
      this.#markHistory.set(product.symbol, []);
    }
    this.#liquidity = checkLiquidity({ ...DEFAULT_LIQUIDITY, ...options.liquidity });
    if (this.#liquidity.spreadTicks < 1)
      throw new Error('liquidity.spreadTicks: expected a whole number >= 1 (0 would cross the synthetic book)');
    const fees = { ...DEFAULT_FEES, ...options.fees };
    for (const name of ['makerFee', 'takerFee'] as const) {
      if (!isDecimalString(fees[name]) || dec(fees[name]).isNeg()) {
        throw new Error(
          `fees.${name}: expected a decimal string >= 0 (fee fields on the wire are non-negative), got ${JSON.stringify(fees[name])}`,
        );
      }
    }
    this.#fees = { maker: dec(fees.makerFee), taker: dec(fees.takerFee) };
    this.#funding = options.funding ?? null;
    if (this.#funding !== null) {
      if (!isDecimalString(this.#funding.rate))
        throw new Error(`funding.rate: expected a decimal string, got ${JSON.stringify(this.#funding.rate)}`);
      if (!Number.isSafeInteger(this.#funding.intervalMs) || this.#funding.intervalMs <= 0) {
        throw new Error(`funding.intervalMs: expected whole milliseconds > 0, got ${String(this.#funding.intervalMs)}`);
      }
    }
    this.#maxOpenOrders = options.maxOpenOrders ?? 20;
    this.#markHistoryLimit = options.markHistoryLimit ?? 100_000;
    this.#sink = options.sink ?? (() => {});
  }

  /** Replaces the event sink (the server installs its own). */
  setSink(sink: ExchangeSink): void {
    this.#sink = sink;
  }

  // ── reads ──────────────────────────────────────────────────────────────────────────────────

  get products(): Readonly<Record<string, Product>> {
    return this.#products;
  }

  /** The last globalOrdinal handed out in each family (0 before any row). */
  get lastGlobalOrdinals(): Readonly<{ orderUpdate: number; strategyUpdate: number; markPrice: number }> {
    return { ...this.#ordinals };
  }

  /** Requests sequenced but not yet executed (stepped mode). */
  get pendingCount(): number {
    return this.#pending.length;
  }

  /** `exchange_info` `value` (SDK `ExchangeInfo`): no margin parameters (§1.2, §10.12). */
  exchangeInfo(): ExchangeInfo {
    return {
      settlementsInfo:
        this.#funding === null ? [] : [{ type: 'funding', durationValue: String(this.#funding.intervalMs / 1000), durationUnit: 'second' }],
      assets: [COLLATERAL_SYMBOL],
      symbols: Object.values(this.#products).map((p) => ({
        symbol: p.symbol,
        tickSize: p.tickSize,
        maxOrderNotional: p.maxOrderNotional,
        maxTakerPriceDeviation: p.maxTakerPriceDeviation,
        minOrderSize: p.minOrderSize,
        kind: 'SingleNamePerpetual',
      })),
    };
  }

  mark(symbol: string): DecimalString | undefined {
    const m = this.#marks.get(symbol);
    return m === undefined ? undefined : str(m);
  }

  latestMark(symbol: string): MarkPrice | undefined {
    return this.#markHistory.get(symbol)?.at(-1)?.row;
  }

  /** `/exchange/api/v1/mark_prices`: one symbol or all, paged by the mark family's globalOrdinal. */
  markPrices(query: MarkPriceQuery = {}): HistoryPage<MarkPrice> {
    const lists = query.symbol === undefined ? [...this.#markHistory.values()] : [this.#markHistory.get(query.symbol) ?? []];
    const since = query.sinceMs;
    const page = pageOf(mergeByOrdinal(lists), (m) => since === undefined || m.at >= since, query);
    return { value: page.value.map((m) => m.row), nextGlobalOrdinal: page.nextGlobalOrdinal };
  }

  /** The raw levels of a symbol's book: bids best-first, then asks best-first. */
  bookLevels(symbol: string): BookLevel[] {
    return this.#books.get(symbol)?.levels() ?? [];
  }

  /** `/exchange/api/v1/order_book`: the L3 book (SDK `OrderBookL3Entry`), bids then asks, best first, in time priority. */
  orderBook(query: OrderBookQuery = {}): OrderBookL3Entry[] {
    const trader = query.trader === undefined ? undefined : traderKey(query.trader);
    const hash = query.strategyIdHash?.toLowerCase();
    const out: OrderBookL3Entry[] = [];
    for (const [symbol, book] of this.#books) {
      if (query.symbol !== undefined && query.symbol !== symbol) continue;
      for (const side of [0, 1] as const) {
        if (query.side !== undefined && query.side !== side) continue;
        let levels = 0;
        let lastPrice: Decimal | undefined;
        for (const resting of book.orders(side)) {
          if (lastPrice === undefined || !lastPrice.eq(resting.price)) {
            levels += 1;
            lastPrice = resting.price;
          }
          if (query.depth !== undefined && levels > query.depth) break;
          const owner = this.#ownerOf(resting.orderHash, resting.owner);
          if (trader !== undefined && owner.traderAddress !== trader) continue;
          if (hash !== undefined && owner.strategyIdHash !== hash) continue;
          out.push({
            bookOrdinal: resting.priority,
            orderHash: resting.orderHash,
            symbol,
            side,
            originalAmount: owner.amount,
            amount: str(resting.remaining),
            price: str(resting.price),
            traderAddress: owner.traderAddress,
            strategyIdHash: owner.strategyIdHash,
          });
        }
      }
    }
    return out;
  }

  /** `/stats/api/v1/strategy` (SDK `Strategy`), or null for a strategy the exchange has never seen. */
  strategy(trader: string, strategyId: string): Strategy | null {
    const s = this.#strategies.get(strategyKeyOf(checkTrader(trader), hashOf(strategyId)));
    if (s === undefined) return null;
    return {
      trader: s.trader,
      strategyIdHash: s.strategyIdHash,
      strategyId: s.strategyId,
      maxLeverage: this.#maxLeverage(),
      availCollateral: s.ledger.collateral,
      lockedCollateral: '0',
      frozen: false,
    };
  }

  /** `/stats/api/v1/positions` (SDK `Position`: side 1 Long / 2 Short, `balance` ≥ 0); flat positions are omitted. */
  positions(trader: string, strategyId: string, symbol?: string): Position[] {
    const s = this.#strategies.get(strategyKeyOf(checkTrader(trader), hashOf(strategyId)));
    if (s === undefined) return [];
    return Object.entries(s.ledger.positions)
      .filter(([sym, p]) => (symbol === undefined || sym === symbol) && !dec(p.size).isZero())
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([sym, p]) => ({
        trader: s.trader,
        symbol: sym,
        strategyIdHash: s.strategyIdHash,
        strategyId: s.strategyId,
        side: sideOfSize(dec(p.size)),
        balance: str(dec(p.size).abs()),
        avgEntryPrice: p.avgEntry,
        lastModifiedInEpoch: this.epochId,
      }));
  }

  /**
   * `/stats/api/v1/strategy_metrics` (docs get-strategy-metrics) at the current marks: strategyValue =
   * equity, strategyMargin = available collateral, marginFraction = equity / gross notional, leverage =
   * gross notional / equity, mmr = the maintenance fraction. Flat: marginFraction and leverage "0", mmr
   * 0.15 / maxLeverage.
   */
  strategyMetrics(trader: string, strategyId: string): StrategyMetrics {
    const m = this.metrics(trader, strategyId);
    const flat = dec(m.grossNotional).isZero();
    const equity = dec(m.equity);
    return {
      marginFraction: m.marginFraction ?? '0',
      mmr: flat ? str(dec('0.15').div(this.#maxLeverage())) : m.maintenance,
      leverage: flat || !equity.gt(0) ? '0' : str(dec(m.grossNotional).div(equity).toDecimalPlaces(12, Decimal.ROUND_UP)),
      strategyMargin: m.collateral,
      strategyValue: m.equity,
    };
  }

  /** `/exchange/api/v1/order_updates`: REST history rows (with txOrdinal, without the realtime-only fields). */
  orderUpdates(query: OrderUpdateQuery = {}): HistoryPage<OrderUpdateHistoryRow> {
    const trader = query.trader === undefined ? undefined : traderKey(query.trader);
    const hash = query.strategyIdHash?.toLowerCase();
    const hashes = query.orderHashes === undefined ? undefined : new Set(query.orderHashes.map((h) => h.toLowerCase()));
    const keep = (u: StoredOrderUpdate): boolean =>
      (trader === undefined && hash === undefined) ||
      u.parties.some((p) => (trader === undefined || p.traderAddress === trader) && (hash === undefined || p.strategyIdHash === hash));
    const page = pageOf(
      this.#orderHistory.map((u) => ({ globalOrdinal: u.row.globalOrdinal, u })),
      ({ u }) =>
        keep(u) &&
        (query.symbol === undefined || u.row.symbol === query.symbol) &&
        (hashes === undefined ||
          hashes.has(u.row.makerOrderIntent.orderHash) ||
          (u.row.takerOrderIntent !== undefined && hashes.has(u.row.takerOrderIntent.orderHash))) &&
        (query.reasons === undefined || query.reasons.includes(u.row.reason)) &&
        (query.sinceMs === undefined || u.at >= query.sinceMs),
      query,
    );
    return { value: page.value.map(({ u }) => orderHistoryRow(u)), nextGlobalOrdinal: page.nextGlobalOrdinal };
  }

  /** `/exchange/api/v1/strategy_updates`: REST history rows (positions without `balance`). */
  strategyUpdates(query: StrategyUpdateQuery = {}): HistoryPage<StrategyUpdateHistoryRow> {
    const trader = query.trader === undefined ? undefined : traderKey(query.trader);
    const hash = query.strategyIdHash?.toLowerCase();
    const page = pageOf(
      this.#strategyHistory.map((u) => ({ globalOrdinal: u.row.globalOrdinal, u })),
      ({ u }) =>
        (trader === undefined || u.row.traderAddress === trader) &&
        (hash === undefined || u.row.strategyIdHash === hash) &&
        (query.reasons === undefined || query.reasons.includes(u.row.reason)) &&
        (query.sinceMs === undefined || u.at >= query.sinceMs),
      query,
    );
    return { value: page.value.map(({ u }) => strategyHistoryRow(u)), nextGlobalOrdinal: page.nextGlobalOrdinal };
  }

  /** Risk metrics of a strategy at the current marks (for tests and inspection). */
  metrics(trader: string, strategyId: string): RiskMetrics {
    const s = this.#strategies.get(strategyKeyOf(checkTrader(trader), hashOf(strategyId)));
    return riskMetrics({ ledger: s?.ledger ?? createLedger('0'), marks: this.#markStrings(), products: this.#products });
  }

  /** True when the trader has used this nonce (a sequenced request carried it). */
  nonceUsed(trader: string, nonce: string): boolean {
    return this.#nonces.get(checkTrader(trader))?.has(nonce.toLowerCase()) ?? false;
  }

  /** The trader (21-byte) and strategy an order belongs to, if the exchange knows the order. */
  orderOwner(orderHash: string): { trader: string; strategyId: string; strategyIdHash: string } | undefined {
    const order = this.#orders.get(orderHash.toLowerCase());
    if (order === undefined) return undefined;
    const s = this.#strategies.get(order.strategyKey)!;
    return { trader: s.trader, strategyId: s.strategyId, strategyIdHash: s.strategyIdHash };
  }

  // ── writes ─────────────────────────────────────────────────────────────────────────────────

  /** Credits collateral (a STRATEGY_UPDATE Deposit row). `trader` in either address form. */
  deposit(trader: string, strategyId: string, amount: DecimalString): StrategyUpdateRow {
    if (!isDecimalString(amount) || !dec(amount).gt(0))
      throw new Error(`deposit amount: expected a positive decimal string, got ${JSON.stringify(amount)}`);
    const t = traderKey(trader);
    return this.#operation(() => {
      const s = this.#strategy(t, strategyId);
      this.#applyLedger(s, { kind: 'deposit', id: `deposit:${s.ledgerSeq + 1}`, seq: 0, amount });
      // On-chain events carry their block (made up: the simulator has no chain).
      return this.#strategyUpdate(s, STRATEGY_UPDATE_REASON.Deposit, dec(amount), { blockNumber: ++this.#blockNumber });
    });
  }

  /** Fault hook: the strategy's next executed order is rejected with `reason`. */
  rejectNextOrder(trader: string, strategyId: string, reason: OrderRejectionName): void {
    if (!Object.hasOwn(ORDER_REJECTION, reason)) throw new Error(`reject-next-order reason: unknown ${JSON.stringify(reason)}`);
    this.#strategy(traderKey(trader), strategyId).rejectNext.push(reason);
  }

  /**
   * A new mark: MARK_PRICE row, funding when due, the synthetic book re-laid (resting user orders it
   * crosses fill), then the margin engine over every strategy with a position. One transaction.
   */
  setMark(symbol: string, price: DecimalString): MarkPrice {
    const product = this.#products[symbol];
    if (product === undefined) throw new Error(`setMark: unknown symbol ${JSON.stringify(symbol)}`);
    if (!isDecimalString(price) || !dec(price).gt(0))
      throw new Error(`setMark ${symbol}: expected a positive decimal string, got ${JSON.stringify(price)}`);
    return this.#operation(() => {
      const mark = dec(price);
      this.#marks.set(symbol, mark);
      const row: MarkPrice = {
        globalOrdinal: ++this.#ordinals.markPrice,
        epochId: this.epochId,
        price: str(mark),
        fundingRate: this.#funding?.rate ?? '0',
        symbol,
        createdAt: this.#now(),
      };
      const history = this.#markHistory.get(symbol)!;
      history.push({ row, globalOrdinal: row.globalOrdinal, at: this.clock.now() });
      if (history.length > this.#markHistoryLimit) history.splice(0, history.length - this.#markHistoryLimit);
      this.#sink({ feed: 'MARK_PRICE', row });
      this.#payFundingIfDue(symbol, mark);
      this.#relaySynthetic(product, mark);
      this.#marginEngine([...this.#strategies.values()]);
      return row;
    });
  }

  /**
   * Validates and sequences a request; returns what the receipt needs. Throws ExchangeError for
   * request-level failures (nothing is sequenced then). In immediate mode the request also executes now.
   */
  submit(request: ExchangeRequest): ExchangeReceipt {
    if (this.#busy) throw new Error('Exchange.submit called from inside an exchange operation');
    const trader = checkTrader(request.trader);
    const nonce = checkNonce(request.nonce);
    if (this.nonceUsed(trader, nonce)) throw new ExchangeError('IllegalNonce', `nonce ${nonce} was already used by ${trader}`);
    const symbol = request.symbol;
    const product = this.#products[symbol];
    if (product === undefined) throw ExchangeError.safety('UnsupportedMarket', `unknown symbol ${JSON.stringify(symbol)}`);

    let strategy: StrategyRecord;
    let orderHash: string | undefined;
    let normalized: ExchangeRequest;
    switch (request.kind) {
      case 'Order': {
        checkStrategyId(request.strategyId);
        const order = this.#validateOrder(request, product);
        strategy = this.#strategy(trader, request.strategyId);
        const openHere = [...strategy.open.values()].filter((o) => o.symbol === symbol).length;
        const pendingHere = this.#pending.filter(
          (p) => p.request.kind === 'Order' && p.strategy === strategy && p.request.symbol === symbol && rests(p.request.orderType),
        ).length;
        if (rests(order.orderType) && openHere + pendingHere >= this.#maxOpenOrders) {
          throw ExchangeError.safety(
            'TooManyOrders',
            `${symbol}: strategy ${request.strategyId} already has ${openHere + pendingHere} open orders (at most ${this.#maxOpenOrders})`,
          );
        }
        orderHash = order.orderHash;
        const record: OrderRecord = {
          ...order,
          strategyKey: strategy.key,
          filled: ZERO,
          quoteFilled: ZERO,
          status: 'pending',
          createdAt: this.#now(),
          nonce,
        };
        this.#orders.set(orderHash, record);
        normalized = { ...request, trader, nonce, orderHash };
        break;
      }
      case 'CancelOrder': {
        const hash = checkOrderHash(request.orderHash);
        const order = this.#orders.get(hash);
        const owner = order === undefined ? undefined : this.#strategies.get(order.strategyKey);
        if (order === undefined || owner === undefined || owner.trader !== trader) {
          throw ExchangeError.safety('OrderNotFound', `no order ${hash} of ${trader}`);
        }
        if (order.symbol !== symbol) throw ExchangeError.safety('OrderNotFound', `order ${hash} is on ${order.symbol}, not ${symbol}`);
        strategy = owner;
        orderHash = hash;
        normalized = { ...request, trader, nonce, orderHash: hash };
        break;
      }
      case 'CancelAll': {
        checkStrategyId(request.strategyId);
        strategy = this.#strategy(trader, request.strategyId);
        normalized = { ...request, trader, nonce };
        break;
      }
      default:
        throw new ExchangeError('InvalidRequestPayload', 'unknown request kind');
    }

    let used = this.#nonces.get(trader);
    if (used === undefined) this.#nonces.set(trader, (used = new Set()));
    used.add(nonce);
    this.#requestIndex += 1;
    strategy.arrivals += 1;
    const receipt: ExchangeReceipt = { nonce, requestIndex: this.#requestIndex, trader };
    if (orderHash !== undefined) receipt.orderHash = orderHash;
    if (this.mode === 'immediate') this.#operation(() => this.#execute(normalized, strategy));
    else this.#pending.push({ request: normalized, strategy, arrival: strategy.arrivals });
    return receipt;
  }

  /**
   * Stepped mode: executes every pending request in a deterministic order — by trader, then strategy
   * id, then arrival within that strategy — and returns how many ran (0 in immediate mode).
   */
  flush(): number {
    if (this.#pending.length === 0) return 0;
    const pending = this.#pending;
    this.#pending = [];
    pending.sort((a, b) => {
      if (a.strategy.trader !== b.strategy.trader) return a.strategy.trader < b.strategy.trader ? -1 : 1;
      if (a.strategy.strategyId !== b.strategy.strategyId) return a.strategy.strategyId < b.strategy.strategyId ? -1 : 1;
      return a.arrival - b.arrival;
    });
    for (const p of pending) this.#operation(() => this.#execute(p.request, p.strategy));
    return pending.length;
  }

  // ── execution ──────────────────────────────────────────────────────────────────────────────

  #execute(request: ExchangeRequest, strategy: StrategyRecord): void {
    switch (request.kind) {
      case 'Order':
        this.#executeOrder(this.#orders.get(request.orderHash)!, strategy);
        return;
      case 'CancelOrder': {
        const order = this.#orders.get(request.orderHash)!;
        if (order.status === 'open') this.#cancel(strategy, order);
        else {
          // An order no longer (or not yet) open: docs' CancelRejection 0 InvalidOrder.
          this.#orderUpdate(this.#userIntent(strategy, order), ORDER_UPDATE_REASON.CancelRejection, [partyOf(strategy)], {
            cancelRejection: CANCEL_REJECTION.InvalidOrder,
          });
        }
        return;
      }
      case 'CancelAll':
        for (const order of [...strategy.open.values()]) if (order.symbol === request.symbol) this.#cancel(strategy, order);
        return;
    }
  }

  #executeOrder(order: OrderRecord, s: StrategyRecord): void {
    const product = this.#products[order.symbol]!;
    const book = this.#books.get(order.symbol)!;
    const fault = s.rejectNext.shift();
    if (fault !== undefined) return this.#reject(s, order, fault);
    const mark = this.#marks.get(order.symbol);
    if (mark === undefined) return this.#reject(s, order, 'NoLiquidity');
    const band = priceBand(product, mark);
    const buy = order.side === 0;
    const limit = rests(order.orderType);
    if (limit && (buy ? order.price.gt(band.high) : order.price.lt(band.low))) return this.#reject(s, order, 'MaxTakerPriceDeviation');
    if (order.orderType === ORDER_TYPE.LimitPostOnly) {
      const best = book.best(buy ? 1 : 0);
      if (best !== null && (buy ? order.price.gte(best) : order.price.lte(best))) return this.#reject(s, order, 'PostOnlyViolation');
    }

    const plan = book.plan({
      owner: s.key,
      side: order.side,
      amount: order.amount,
      limit: limit ? order.price : buy ? band.high : band.low,
    });
    if (plan.selfMatch) return this.#reject(s, order, 'SelfMatch');
    if (!limit && !plan.filled.gt(0)) return this.#reject(s, order, 'NoLiquidity');
    if (this.#increasesExposure(s, order) && !this.#solventAfter(s, order, plan)) return this.#reject(s, order, 'SolvencyGuard');

    book.execute(plan);
    const involved = new Set<StrategyRecord>([s]);
    const matchOrdinal = ++this.#matchOrdinal;
    for (const fill of plan.fills) {
      const maker = this.#makerOf(fill);
      if (maker.kind === 'user') involved.add(maker.strategy);
      this.#trade(maker, { kind: 'user', strategy: s, order }, fill.price, fill.amount, matchOrdinal);
    }
    const rest = order.amount.minus(order.filled);
    if (rest.gt(0) && limit) {
      book.add({ orderHash: order.orderHash, owner: s.key, side: order.side, price: order.price, remaining: rest });
      order.status = 'open';
      s.open.set(order.orderHash, order);
      this.#orderUpdate(this.#userIntent(s, order), ORDER_UPDATE_REASON.Post, [partyOf(s)], {
        amount: '0',
        price: str(order.price),
        cumulativeFilledAmount: str(order.filled),
      });
    } else if (rest.gt(0)) {
      // A market order's unfilled rest (nothing more inside the band) is cancelled.
      order.status = 'cancelled';
      this.#orderUpdate(this.#userIntent(s, order), ORDER_UPDATE_REASON.Cancellation, [partyOf(s)], {
        amount: str(rest),
        cumulativeFilledAmount: str(order.filled),
      });
    } else order.status = 'filled';
    this.#marginEngine([...involved]);
  }

  /** Anything but "opposite side and no larger than the position" opens or increases exposure. */
  #increasesExposure(s: StrategyRecord, order: OrderRecord): boolean {
    const held = s.ledger.positions[order.symbol];
    if (held === undefined) return true;
    const size = dec(held.size);
    const opposite = order.side === 0 ? size.lt(0) : size.gt(0);
    return !(opposite && order.amount.lte(size.abs()));
  }

  /** Initial margin after the whole order filled: equity ≥ Σ notional_i / maxLeverage_i at the marks. */
  #solventAfter(s: StrategyRecord, order: OrderRecord, plan: MatchPlan): boolean {
    const side = order.side === 0 ? 'buy' : 'sell';
    let book: LedgerBook = s.ledger;
    const fill = (amount: Decimal, price: Decimal, rate: Decimal): void => {
      book = projectFill(book, { symbol: order.symbol, side, amount: str(amount), price: str(price) });
      book = { ...book, collateral: str(dec(book.collateral).minus(amount.times(price).times(rate))) };
    };
    for (const f of plan.fills) fill(f.amount, f.price, this.#fees.taker);
    const rest = order.amount.minus(plan.filled);
    if (rest.gt(0) && rests(order.orderType)) fill(rest, order.price, this.#fees.maker);
    const metrics = riskMetrics({ ledger: book, marks: this.#markStrings(), products: this.#products });
    let required = ZERO;
    for (const p of Object.values(metrics.positions)) {
      required = required.plus(dec(p.notional).div(this.#products[p.symbol]!.maxLeverage).toDecimalPlaces(20, Decimal.ROUND_CEIL));
    }
    return dec(metrics.equity).gte(required);
  }

  #makerOf(fill: BookFill): FillSide {
    if (fill.makerOwner === SYNTHETIC_OWNER) {
      const order = this.#synthetic.get(fill.makerHash);
      if (order === undefined) throw new Error(`synthetic maker ${fill.makerHash} is unknown to the exchange`);
      return { kind: 'synthetic', order };
    }
    const order = this.#orders.get(fill.makerHash);
    const strategy = this.#strategies.get(fill.makerOwner);
    if (order === undefined || strategy === undefined) throw new Error(`maker ${fill.makerHash} is unknown to the exchange`);
    return { kind: 'user', strategy, order };
  }

  /** One fill between a maker and a taker: ledgers, the ORDER_UPDATE Trade row, then each user side's STRATEGY_UPDATE rows. */
  #trade(maker: FillSide, taker: FillSide, price: Decimal, amount: Decimal, matchOrdinal: number): void {
    const quote = amount.times(price);
    const makerBooked = this.#book(maker, price, amount, true);
    const takerBooked = this.#book(taker, price, amount, false);
    const makerRecord = maker.order;
    const parties = [this.#sideParty(maker), this.#sideParty(taker)];
    this.#orderUpdate(this.#sideIntent(maker), ORDER_UPDATE_REASON.Trade, parties, {
      amount: str(amount),
      quoteAssetAmount: str(quote),
      price: str(price),
      orderMatchOrdinal: matchOrdinal,
      lastExecutedAmount: str(amount),
      lastExecutedPrice: str(price),
      cumulativeFilledAmount: str(makerRecord.filled),
      cumulativeQuoteAssetTransactedAmount: str(makerRecord.quoteFilled),
      lastQuoteAssetTransactedAmount: str(quote),
      makerFeeCollateral: str(makerBooked?.fee ?? ZERO),
      makerFeeDDX: '0',
      makerRealizedPnl: str(makerBooked?.realized ?? ZERO),
      takerOrderIntent: this.#sideIntent(taker),
      takerFeeCollateral: str(takerBooked?.fee ?? ZERO),
      takerFeeDDX: '0',
      takerRealizedPnl: str(takerBooked?.realized ?? ZERO),
    });
    for (const booked of [makerBooked, takerBooked]) {
      if (booked === undefined) continue;
      this.#strategyUpdate(booked.strategy, STRATEGY_UPDATE_REASON.Trade, booked.realized, {
        collateral: booked.beforeFee,
        positions: [this.#positionAfter(booked.strategy, booked.symbol, booked.held, booked.realized)],
      });
      if (!booked.fee.isZero()) this.#strategyUpdate(booked.strategy, STRATEGY_UPDATE_REASON.Fee, booked.fee.neg(), {});
    }
  }

  /** Books one side of a fill: a user side's ledger (fee by role) and the order's filled amounts. */
  #book(side: FillSide, price: Decimal, amount: Decimal, maker: boolean): Booked | undefined {
    const quote = amount.times(price);
    side.order.filled = side.order.filled.plus(amount);
    side.order.quoteFilled = side.order.quoteFilled.plus(quote);
    if (side.kind === 'synthetic') return undefined;
    const { strategy: s, order } = side;
    const fee = quote.times(maker ? this.#fees.maker : this.#fees.taker);
    const before = dec(s.ledger.collateral);
    const heldBefore = s.ledger.positions[order.symbol];
    const held = heldBefore === undefined ? undefined : { size: dec(heldBefore.size), avgEntry: heldBefore.avgEntry };
    this.#applyLedger(s, {
      kind: 'fill',
      id: `fill:${s.ledgerSeq + 1}`,
      seq: 0,
      symbol: order.symbol,
      side: order.side === 0 ? 'buy' : 'sell',
      amount: str(amount),
      price: str(price),
      fee: str(fee),
    });
    if (maker && !order.amount.minus(order.filled).gt(0)) {
      order.status = 'filled';
      s.open.delete(order.orderHash);
    }
    const realized = dec(s.ledger.collateral).plus(fee).minus(before);
    return { strategy: s, symbol: order.symbol, fee, realized, beforeFee: before.plus(realized), held };
  }

  #reject(s: StrategyRecord, order: OrderRecord, reason: OrderRejectionName): void {
    order.status = 'rejected';
    this.#orderUpdate(this.#userIntent(s, order), ORDER_UPDATE_REASON.OrderRejection, [partyOf(s)], {
      orderRejection: ORDER_REJECTION[reason],
      amount: '0',
    });
  }

  #cancel(s: StrategyRecord, order: OrderRecord): void {
    this.#books.get(order.symbol)!.remove(order.orderHash);
    s.open.delete(order.orderHash);
    order.status = 'cancelled';
    this.#orderUpdate(this.#userIntent(s, order), ORDER_UPDATE_REASON.Cancellation, [partyOf(s)], {
      amount: str(order.amount.minus(order.filled)),
      cumulativeFilledAmount: str(order.filled),
    });
  }

  // ── marks: synthetic book, funding, margin ─────────────────────────────────────────────────

  #relaySynthetic(product: Product, mark: Decimal): void {
    const book = this.#books.get(product.symbol)!;
    for (const removed of book.removeWhere((o) => o.owner === SYNTHETIC_OWNER)) this.#synthetic.delete(removed.orderHash);
    const quotes = syntheticQuotes(mark, product.tickSize, this.#liquidity);
    const lay = this.#layCount++;
    const matchOrdinal = ++this.#matchOrdinal;
    const place = (side: BookSide, levels: typeof quotes.asks): void => {
      levels.forEach((level, i) => {
        const order: SyntheticOrder = {
          intent: this.#syntheticIntent(product.symbol, side, level.amount, level.price, `${lay}:${side}:${i}`),
          filled: ZERO,
          quoteFilled: ZERO,
        };
        // The synthetic maker first trades with resting user orders its level crosses (at their price).
        const plan = book.plan({ owner: SYNTHETIC_OWNER, side, amount: level.amount, limit: level.price });
        if (!plan.selfMatch) {
          book.execute(plan);
          for (const fill of plan.fills)
            this.#trade(this.#makerOf(fill), { kind: 'synthetic', order }, fill.price, fill.amount, matchOrdinal);
        }
        const rest = level.amount.minus(plan.filled);
        if (rest.gt(0)) {
          this.#synthetic.set(order.intent.orderHash, order);
          book.add({ orderHash: order.intent.orderHash, owner: SYNTHETIC_OWNER, side, price: level.price, remaining: rest });
        }
      });
    };
    place(1, quotes.asks);
    place(0, quotes.bids);
  }

  #payFundingIfDue(symbol: string, mark: Decimal): void {
    if (this.#funding === null) return;
    const now = this.clock.now();
    const interval = this.#funding.intervalMs;
    let due = this.#nextFunding.get(symbol);
    if (due === undefined) {
      this.#nextFunding.set(symbol, (Math.floor(now / interval) + 1) * interval);
      return;
    }
    const rate = dec(this.#funding.rate);
    while (now >= due) {
      for (const s of this.#sortedStrategies()) {
        const held = s.ledger.positions[symbol];
        if (held === undefined) continue;
        const payment = dec(held.size).times(mark).times(rate).neg();
        if (payment.isZero()) continue;
        this.#applyLedger(s, { kind: 'funding', id: `funding:${symbol}:${due}`, seq: 0, amount: str(payment) });
        this.#strategyUpdate(s, STRATEGY_UPDATE_REASON.FundingPayment, payment, {});
      }
      due += interval;
    }
    this.#nextFunding.set(symbol, due);
  }

  #marginEngine(candidates: StrategyRecord[]): void {
    const marks = this.#markStrings();
    for (const s of [...candidates].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))) {
      if (Object.keys(s.ledger.positions).length === 0) continue;
      if (riskMetrics({ ledger: s.ledger, marks, products: this.#products }).liquidatable) this.#liquidate(s);
    }
  }

  #liquidate(s: StrategyRecord): void {
    for (const order of [...s.open.values()]) this.#cancel(s, order);
    const symbols = Object.keys(s.ledger.positions).sort();
    const matchOrdinal = ++this.#matchOrdinal;
    symbols.forEach((symbol, i) => {
      const position = s.ledger.positions[symbol]!;
      const held = { size: dec(position.size), avgEntry: position.avgEntry };
      const mark = this.#marks.get(symbol)!;
      const before = dec(s.ledger.collateral);
      this.#applyLedger(s, { kind: 'liquidation', id: `liquidation:${s.ledgerSeq + 1}`, seq: 0, symbol, price: str(mark) });
      const realized = dec(s.ledger.collateral).minus(before);
      // The insurance fund absorbs a negative balance once every position is closed.
      const deficit = dec(s.ledger.collateral);
      if (i === symbols.length - 1 && deficit.lt(0)) {
        this.#applyLedger(s, { kind: 'fee', id: `insurance:${s.ledgerSeq + 1}`, seq: 0, amount: str(deficit) });
      }
      const size = held.size.abs();
      // The order that absorbed the position: the simulator's own, on the other side, at the mark.
      const absorber = this.#syntheticIntent(symbol, held.size.gt(0) ? 0 : 1, size, mark, `liquidation:${s.key}:${matchOrdinal}:${symbol}`);
      this.#orderUpdate(
        absorber,
        ORDER_UPDATE_REASON.Liquidation,
        [{ traderAddress: SYNTHETIC_TRADER_ADDRESS, strategyIdHash: SYNTHETIC_STRATEGY_ID_HASH }, partyOf(s)],
        {
          amount: str(size),
          quoteAssetAmount: str(size.times(mark)),
          price: str(mark),
          orderMatchOrdinal: matchOrdinal,
          lastExecutedAmount: str(size),
          lastExecutedPrice: str(mark),
          cumulativeFilledAmount: str(size),
          makerFeeCollateral: '0',
          makerRealizedPnl: '0',
          liquidatedTraderAddress: s.trader,
          liquidatedStrategyIdHash: s.strategyIdHash,
        },
      );
      this.#strategyUpdate(s, STRATEGY_UPDATE_REASON.Liquidation, dec(s.ledger.collateral).minus(before), {
        positions: [this.#positionAfter(s, symbol, held, realized)],
      });
    });
  }

  // ── rows ───────────────────────────────────────────────────────────────────────────────────

  /** A user order's intent: the order as signed (SDK `OrderIntent`), trader in the 21-byte form. */
  #userIntent(s: StrategyRecord, order: OrderRecord): OrderIntentRow {
    return {
      epochId: this.epochId,
      orderHash: order.orderHash,
      symbol: order.symbol,
      side: order.side,
      amount: str(order.amount),
      price: str(order.price),
      traderAddress: s.trader,
      strategyIdHash: s.strategyIdHash,
      orderType: order.orderType,
      stopPrice: order.stopPrice,
      nonce: order.nonce,
      signature: order.signature,
      createdAt: order.createdAt,
    };
  }

  /** A made-up but well-formed intent of the simulator's market maker (a Limit order at `price`). */
  #syntheticIntent(symbol: string, side: BookSide, amount: Decimal, price: Decimal, label: string): OrderIntentRow {
    return {
      epochId: this.epochId,
      orderHash: madeUpHex(`synthetic-order:${symbol}:${label}`, 25),
      symbol,
      side,
      amount: str(amount),
      price: str(price),
      traderAddress: SYNTHETIC_TRADER_ADDRESS,
      strategyIdHash: SYNTHETIC_STRATEGY_ID_HASH,
      orderType: ORDER_TYPE.Limit,
      stopPrice: '0',
      nonce: madeUpHex(`synthetic-nonce:${symbol}:${label}`, 32),
      signature: madeUpHex(`synthetic-signature:${symbol}:${label}`, 65),
      createdAt: this.#now(),
    };
  }

  #sideIntent(side: FillSide): OrderIntentRow {
    return side.kind === 'user' ? this.#userIntent(side.strategy, side.order) : side.order.intent;
  }

  #sideParty(side: FillSide): RowParty {
    return side.kind === 'user'
      ? partyOf(side.strategy)
      : { traderAddress: SYNTHETIC_TRADER_ADDRESS, strategyIdHash: SYNTHETIC_STRATEGY_ID_HASH };
  }

  /** The symbol's position after an update; a flat one keeps the side and entry it had (balance "0"). */
  #positionAfter(
    s: StrategyRecord,
    symbol: string,
    before: { size: Decimal; avgEntry: DecimalString } | undefined,
    realized: Decimal,
  ): StrategyPositionRow {
    const now = s.ledger.positions[symbol];
    const size = now === undefined ? ZERO : dec(now.size);
    if (!size.isZero())
      return { symbol, balance: str(size.abs()), side: sideOfSize(size), avgEntryPrice: now!.avgEntry, realizedPnl: str(realized) };
    return {
      symbol,
      balance: '0',
      side: before === undefined ? POSITION_SIDE.Long : sideOfSize(before.size),
      avgEntryPrice: before?.avgEntry ?? '0',
      realizedPnl: str(realized),
    };
  }

  #orderUpdate(intent: OrderIntentRow, reason: OrderUpdateReason, parties: RowParty[], extra: Partial<OrderUpdateRow>): OrderUpdateRow {
    const row: OrderUpdateRow = {
      globalOrdinal: ++this.#ordinals.orderUpdate,
      epochId: this.epochId,
      reason,
      symbol: intent.symbol,
      ordinal: this.#txRow++,
      ...extra,
      makerOrderIntent: intent,
      createdAt: this.#now(),
    };
    this.#orderHistory.push({ row, txOrdinal: this.#txOrdinal, parties, at: this.clock.now() });
    this.#sink({ feed: 'ORDER_UPDATE', row, parties });
    return row;
  }

  /** A STRATEGY_UPDATE row; `collateral` (→ newAvailCollateral) defaults to the ledger's. */
  #strategyUpdate(
    s: StrategyRecord,
    reason: StrategyUpdateReason,
    change: Decimal,
    extra: { collateral?: Decimal; positions?: StrategyPositionRow[]; blockNumber?: number },
  ): StrategyUpdateRow {
    const row: StrategyUpdateRow = {
      globalOrdinal: ++this.#ordinals.strategyUpdate,
      epochId: this.epochId,
      reason,
      traderAddress: s.trader,
      strategyIdHash: s.strategyIdHash,
      collateralAddress: COLLATERAL_ADDRESS,
      collateralSymbol: COLLATERAL_SYMBOL,
      amount: str(change),
      newAvailCollateral: str(extra.collateral ?? dec(s.ledger.collateral)),
      newLockedCollateral: '0',
      createdAt: this.#now(),
    };
    if (extra.blockNumber !== undefined) row.blockNumber = extra.blockNumber;
    if (extra.positions !== undefined) row.positions = extra.positions;
    this.#strategyHistory.push({ row, txOrdinal: this.#txOrdinal, ordinal: this.#txRow++, at: this.clock.now() });
    this.#sink({ feed: 'STRATEGY_UPDATE', row });
    return row;
  }

  // ── helpers ────────────────────────────────────────────────────────────────────────────────

  /**
   * Runs a state change as one transaction (its own txOrdinal, rows numbered from 0); afterwards emits
   * the ORDER_BOOK_L2 change of every symbol whose book it changed.
   */
  #operation<T>(work: () => T): T {
    if (this.#busy) return work();
    this.#busy = true;
    this.#txOrdinal += 1;
    this.#txRow = 0;
    const before = new Map([...this.#books].map(([symbol, book]) => [symbol, book.levels()]));
    try {
      return work();
    } finally {
      this.#busy = false;
      for (const [symbol, book] of this.#books) {
        const was = before.get(symbol)!;
        const now = book.levels();
        if (levelChanges(was, now).length > 0) this.#sink({ feed: 'ORDER_BOOK_L2', symbol, before: was, after: now });
      }
    }
  }

  /** Who owns a resting order, for the L3 book. */
  #ownerOf(orderHash: string, owner: string): { traderAddress: string; strategyIdHash: string; amount: DecimalString } {
    if (owner === SYNTHETIC_OWNER) {
      const order = this.#synthetic.get(orderHash)!;
      return { traderAddress: order.intent.traderAddress, strategyIdHash: order.intent.strategyIdHash, amount: order.intent.amount };
    }
    const s = this.#strategies.get(owner)!;
    return { traderAddress: s.trader, strategyIdHash: s.strategyIdHash, amount: str(this.#orders.get(orderHash)!.amount) };
  }

  #validateOrder(
    request: ExchangeRequest & { kind: 'Order' },
    product: Product,
  ): Pick<OrderRecord, 'orderHash' | 'symbol' | 'side' | 'orderType' | 'amount' | 'price' | 'stopPrice' | 'signature'> {
    if (request.side !== 0 && request.side !== 1)
      throw new ExchangeError('InvalidRequestPayload', `side: expected 0 (Bid) or 1 (Ask), got ${String(request.side)}`);
    if (!(Object.values(ORDER_TYPE) as number[]).includes(request.orderType)) {
      throw new ExchangeError(
        'InvalidRequestPayload',
        `orderType: expected 0 (Limit), 1 (Market), 2 (Stop) or 3 (LimitPostOnly), got ${String(request.orderType)}`,
      );
    }
    if (request.orderType === ORDER_TYPE.Stop)
      throw ExchangeError.safety('OrderTypeIncompatibleWithPrice', 'orderType 2 (Stop): the simulator has no stop orders');
    if (!isDecimalString(request.stopPrice) || !dec(request.stopPrice).isZero()) {
      throw ExchangeError.safety(
        'OrderTypeIncompatibleWithPrice',
        `stopPrice: expected "0" for orderType ${request.orderType}, got ${JSON.stringify(request.stopPrice)}`,
      );
    }
    if (typeof request.signature !== 'string' || !/^0x[0-9a-fA-F]{130}$/.test(request.signature)) {
      throw new ExchangeError('InvalidRequestPayload', 'signature: expected 65 bytes (0x and 130 hex digits)');
    }
    if (!isDecimalString(request.amount))
      throw new ExchangeError('InvalidRequestPayload', `amount: expected a decimal string, got ${JSON.stringify(request.amount)}`);
    if (!dec(request.amount).gt(0)) throw ExchangeError.safety('OrderAmountZeroNeg', `amount: expected > 0, got ${request.amount}`);
    if (!isDecimalString(request.price))
      throw new ExchangeError('InvalidRequestPayload', `price: expected a decimal string, got ${JSON.stringify(request.price)}`);
    const limit = rests(request.orderType);
    if (!limit && !dec(request.price).isZero())
      throw ExchangeError.safety(
        'OrderTypeIncompatibleWithPrice',
        `price: a market order carries price "0", got ${JSON.stringify(request.price)}`,
      );
    if (limit && !dec(request.price).gt(0)) throw ExchangeError.safety('OrderPriceNeg', 'price: a limit order needs a price > 0');
    const orderHash = checkOrderHash(request.orderHash);
    if (this.#orders.has(orderHash)) throw new ExchangeError('InvalidRequestPayload', `order ${orderHash} was already submitted`);
    const mark = this.#marks.get(product.symbol);
    if (!limit && mark === undefined)
      throw new ExchangeError('ServiceUnavailable', `${product.symbol}: no mark price yet, a market order cannot be sized`);
    const violations = orderViolations(
      product,
      {
        symbol: product.symbol,
        side: request.side === 0 ? 'buy' : 'sell',
        type: limit ? 'limit' : 'market',
        amount: request.amount,
        ...(limit ? { price: request.price } : {}),
      },
      mark ?? dec(request.price),
    ).filter((v) => v.code !== 'price-band'); // the band is an execution-time rejection
    if (violations.length > 0)
      throw ExchangeError.safety(VIOLATION_FAILURES[violations[0]!.code], violations.map((v) => v.message).join('; '));
    return {
      orderHash,
      symbol: product.symbol,
      side: request.side,
      orderType: request.orderType,
      amount: dec(request.amount),
      price: dec(request.price),
      stopPrice: '0',
      signature: request.signature.toLowerCase(),
    };
  }

  #strategy(trader: string, strategyId: string): StrategyRecord {
    const hash = hashOf(strategyId);
    const key = strategyKeyOf(trader, hash);
    let s = this.#strategies.get(key);
    if (s === undefined) {
      s = {
        key,
        trader,
        strategyId,
        strategyIdHash: hash,
        // The engine applies its own events in order: a minimal replay window is enough.
        ledger: createLedger('0', { journal: 1, ids: 1 }),
        ledgerSeq: 0,
        open: new Map(),
        arrivals: 0,
        rejectNext: [],
      };
      this.#strategies.set(key, s);
    }
    return s;
  }

  /** The strategy's `maxLeverage`: the smallest of the exchange's products' (§10.12). */
  #maxLeverage(): number {
    return Math.min(...Object.values(this.#products).map((p) => p.maxLeverage));
  }

  #sortedStrategies(): StrategyRecord[] {
    return [...this.#strategies.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  #applyLedger(s: StrategyRecord, event: LedgerEvent): void {
    s.ledgerSeq += 1;
    const result = applyLedgerEvent(s.ledger, { ...event, seq: s.ledgerSeq } as LedgerEvent);
    if (result.outcome !== 'applied') throw new Error(`simulator ledger of ${s.key}: ${result.outcome} ${result.reason ?? ''}`);
    s.ledger = result.state;
  }

  #markStrings(): Record<string, DecimalString> {
    const marks: Record<string, DecimalString> = {};
    for (const [symbol, mark] of this.#marks) marks[symbol] = str(mark);
    return marks;
  }

  #now(): string {
    return new Date(this.clock.now()).toISOString();
  }
}

/** Which safety failure each product rule names (§10.9). */
const VIOLATION_FAILURES: Readonly<Record<ViolationCode, SafetyFailureName>> = {
  'tick-size': 'PriceNotMultipleOfTickSize',
  'min-order-size': 'OrderAmountNotMultipleOfMinOrderSize',
  'size-increment': 'OrderAmountNotMultipleOfMinOrderSize',
  'max-order-notional': 'MaxOrderNotionalBreached',
  'price-band': 'MaxTakerPriceDeviationBreached',
  'invalid-amount': 'OrderAmountZeroNeg',
  'invalid-price': 'OrderPriceNeg',
};

/** Limit and LimitPostOnly orders rest; Market orders do not. */
function rests(orderType: OrderTypeCode): boolean {
  return orderType === ORDER_TYPE.Limit || orderType === ORDER_TYPE.LimitPostOnly;
}

function sideOfSize(size: Decimal): PositionSideCode {
  return size.gt(0) ? POSITION_SIDE.Long : POSITION_SIDE.Short;
}

function partyOf(s: StrategyRecord): RowParty {
  return { traderAddress: s.trader, strategyIdHash: s.strategyIdHash };
}

/** The REST history row of a stored ORDER_UPDATE: `txOrdinal` added, the realtime-only fields dropped (SDK REST `OrderUpdate`). */
function orderHistoryRow(u: StoredOrderUpdate): OrderUpdateHistoryRow {
  const {
    orderMatchOrdinal: _match,
    lastExecutedAmount: _lastAmount,
    lastExecutedPrice: _lastPrice,
    cumulativeFilledAmount: _cumulative,
    cumulativeQuoteAssetTransactedAmount: _cumulativeQuote,
    lastQuoteAssetTransactedAmount: _lastQuote,
    ...rest
  } = u.row;
  return { ...rest, txOrdinal: u.txOrdinal };
}

/** The REST history row of a stored STRATEGY_UPDATE: `txOrdinal`, `ordinal` added, positions without `balance` (SDK `StrategyPositionUpdate`). */
function strategyHistoryRow(u: StoredStrategyUpdate): StrategyUpdateHistoryRow {
  const { positions, ...rest } = u.row;
  const row: StrategyUpdateHistoryRow = { ...rest, txOrdinal: u.txOrdinal, ordinal: u.ordinal };
  if (positions !== undefined && positions !== null) {
    row.positions = positions.map((p) => ({ symbol: p.symbol, side: p.side, avgEntryPrice: p.avgEntryPrice, realizedPnl: p.realizedPnl }));
  }
  return row;
}

function strategyKeyOf(trader: string, strategyIdHash: string): string {
  return `${trader}:${strategyIdHash}`;
}

/** Either address form → the 21-byte lower-case form; ExchangeError InvalidRequestPayload for anything else. */
export function checkTrader(trader: string): string {
  try {
    return traderKey(trader);
  } catch {
    throw new ExchangeError(
      'InvalidRequestPayload',
      `trader: expected an address (20 bytes, or 21 with the 0x00 prefix), got ${JSON.stringify(trader)}`,
    );
  }
}

function hashOf(strategyId: string): string {
  checkStrategyId(strategyId);
  return hashStrategyId(strategyId).toLowerCase();
}

function checkNonce(nonce: string): string {
  if (typeof nonce !== 'string' || !/^0x[0-9a-fA-F]{64}$/.test(nonce)) {
    throw new ExchangeError('InvalidRequestPayload', `nonce: expected a bytes32 (0x and 64 hex digits), got ${JSON.stringify(nonce)}`);
  }
  return nonce.toLowerCase();
}

/** A 25-byte order hash, or its signed bytes32 form (25 bytes + 7 zero bytes, as cancels carry it) → 25 bytes lower-case. */
function checkOrderHash(hash: string): string {
  if (typeof hash !== 'string' || !/^0x[0-9a-fA-F]{50}(?:0{14})?$/.test(hash)) {
    throw new ExchangeError('InvalidRequestPayload', `orderHash: expected 25 bytes (0x and 50 hex digits), got ${JSON.stringify(hash)}`);
  }
  return hash.slice(0, 52).toLowerCase();
}

function checkStrategyId(strategyId: string): void {
  if (typeof strategyId !== 'string' || strategyId.length === 0) {
    throw new ExchangeError('InvalidRequestPayload', `strategy: expected a non-empty string, got ${JSON.stringify(strategyId)}`);
  }
  try {
    hashStrategyId(strategyId);
  } catch (error) {
    throw new ExchangeError('InvalidRequestPayload', `strategy: ${(error as Error).message}`);
  }
}
