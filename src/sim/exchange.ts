import { getAddress, isAddress } from 'ethers';
import type { Clock } from '../clock/clock.ts';
import { Decimal, ZERO, dec, isDecimalString, str, type DecimalString } from '../domain/decimal.ts';
import { applyLedgerEvent, createLedger, projectFill, type LedgerBook, type LedgerEvent, type LedgerState } from '../domain/ledger.ts';
import { riskMetrics, type RiskMetrics } from '../domain/metrics.ts';
import type { Product } from '../domain/product.ts';
import { DEFAULT_PRODUCTS } from '../domain/products.ts';
import { orderViolations, priceBand } from '../domain/rounding.ts';
import { strategyIdHash as hashStrategyId } from '../derivadex/crypto/bytes32.ts';
import {
  HTTP_ERRORS,
  ORDER_REJECTION,
  ORDER_UPDATE_REASON,
  STRATEGY_UPDATE_REASON,
  type BookLevelRow,
  type ExchangeInfoSymbol,
  type HttpErrorName,
  type MarkPriceRow,
  type OpenOrder,
  type OrderRejectionName,
  type OrderUpdateRow,
  type RequestReceipt,
  type StrategyState,
  type StrategyUpdateReason,
  type StrategyUpdateRow,
} from '../venue/protocol.ts';
import { OrderBook, SYNTHETIC_OWNER, levelChanges, type BookFill, type BookLevel, type BookSide, type MatchPlan } from './order-book.ts';
import { DEFAULT_LIQUIDITY, checkLiquidity, syntheticQuotes, type LiquidityConfig } from './synthetic-liquidity.ts';

/**
 * The simulated DerivaDEX matching engine and margin engine: in memory, no I/O, time from the injected
 * Clock. Everything it decides is emitted as protocol rows through the sink and kept per strategy for
 * REST replay by globalOrdinal.
 *
 * Decisions (the venue's docs leave these open; the client and the scenario runner rely on them):
 * - Request-level failures throw ExchangeError (the server maps it to HTTP): 400 InvalidRequestPayload
 *   for a malformed request or unknown symbol; 422 SafetyFailure for tick size, minimum size, size
 *   increment, max order notional, more than `maxOpenOrders` (20) open orders per strategy and symbol,
 *   an unknown order to cancel, a market order before the first mark; 412 IllegalNonce for a nonce the
 *   trader already used. A nonce is used only once a request is sequenced.
 * - Execution-level failures are ORDER_UPDATE OrderRejection rows, checked in this order: a pending
 *   reject-next-order fault; MaxTakerPriceDeviation (a limit buy above mark×(1+dev) or sell below
 *   mark×(1−dev), whether or not it would cross); SelfMatch (the order would trade against a resting
 *   order of its own strategy: nothing fills); NoLiquidity (a market order with nothing to match inside
 *   the band, or no mark yet); SolvencyGuard (see below).
 * - Market orders match only inside the band (a buy up to mark×(1+dev), a sell down to mark×(1−dev));
 *   the unfilled rest is cancelled with an ORDER_UPDATE Cancellation row (remainingAmount "0").
 * - A limit order first takes what crosses, then rests: Trade rows, then one Post row for the rest.
 * - SolvencyGuard: only an order that opens or increases exposure is checked (anything but "opposite
 *   side and no larger than the position"). Its whole amount is projected as filled — the crossing part
 *   at the book prices with the taker fee, the resting part at its limit price with the maker fee — and
 *   the strategy must keep equity ≥ Σ notional_i / maxLeverage_i at the marks (equity / gross notional ≥
 *   1/maxLeverage for one product). The strategy's other working orders are not counted.
 * - Fees: fee = fill amount × fill price × rate (maker / taker); a negative maker rate is a rebate.
 *   Each fill gives the order's owner an ORDER_UPDATE Trade row (fillAmount, fillPrice, fee) and
 *   STRATEGY_UPDATE rows: Trade (collateralChange = realized PnL, the position after) and, when the fee
 *   is not zero, Fee (collateralChange = −fee). The synthetic market maker has no rows.
 * - Synthetic liquidity is re-laid on every mark. A synthetic level that crosses a resting user order
 *   trades with it at the user's price (the user is the maker): resting orders fill when the market
 *   moves through them.
 * - Margin engine, after every mark (all strategies with a position) and after every request's fills
 *   (the strategies involved): margin fraction < maintenance ⇒ liquidation: every open order cancelled
 *   (Cancellation rows), every position closed at its mark (an ORDER_UPDATE Liquidation row per symbol
 *   with a synthetic order hash, and a STRATEGY_UPDATE Liquidation row per symbol with the realized
 *   PnL). A negative balance is absorbed by the insurance fund: the collateral after liquidation is
 *   never below 0 (the last Liquidation row's collateralChange includes the top-up).
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

export type ExchangeEvent =
  | { feed: 'MARK_PRICE'; symbol: string; row: MarkPriceRow }
  | { feed: 'ORDER_BOOK_L2'; symbol: string; rows: BookLevelRow[] }
  | { feed: 'ORDER_UPDATE'; trader: string; strategyIdHash: string; row: OrderUpdateRow }
  | { feed: 'STRATEGY_UPDATE'; trader: string; strategyIdHash: string; row: StrategyUpdateRow };

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

/** A verified request as the engine takes it (the server has decrypted, parsed and checked the signature). */
export type ExchangeRequest =
  | {
      kind: 'Order';
      trader: string;
      strategyId: string;
      symbol: string;
      side: BookSide;
      orderType: 0 | 1;
      amount: DecimalString;
      /** "0" for market orders. */
      price: DecimalString;
      nonce: string;
      orderHash: string;
    }
  | { kind: 'CancelOrder'; trader: string; symbol: string; orderHash: string; nonce: string }
  | { kind: 'CancelAll'; trader: string; strategyId: string; symbol: string; nonce: string };

/** A request-level failure, answered over HTTP with `status` and `{code, message}`. */
export class ExchangeError extends Error {
  override readonly name = 'ExchangeError';
  readonly status: number;
  constructor(
    readonly code: HttpErrorName,
    message: string,
  ) {
    super(message);
    this.status = code === 'NotFound' ? 404 : HTTP_ERRORS[code];
  }
}

type BookOrderStatus = 'pending' | 'open' | 'filled' | 'cancelled' | 'rejected';

interface OrderRecord {
  orderHash: string;
  strategyKey: string;
  symbol: string;
  side: BookSide;
  orderType: 0 | 1;
  amount: Decimal;
  price: Decimal;
  nonce: string;
  filled: Decimal;
  status: BookOrderStatus;
  createdAt: string;
}

interface StrategyRecord {
  key: string;
  trader: string;
  strategyId: string;
  strategyIdHash: string;
  ledger: LedgerState;
  ledgerSeq: number;
  /** Open orders in placement order. */
  open: Map<string, OrderRecord>;
  orderUpdates: OrderUpdateRow[];
  strategyUpdates: StrategyUpdateRow[];
  arrivals: number;
  rejectNext: OrderRejectionName[];
}

interface PendingRequest {
  request: ExchangeRequest;
  strategy: StrategyRecord;
  arrival: number;
}

const SYNTHETIC_HASH_PREFIX = 'synthetic:';

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
  readonly #markHistory = new Map<string, MarkPriceRow[]>();
  readonly #nextFunding = new Map<string, number>();
  readonly #strategies = new Map<string, StrategyRecord>();
  readonly #orders = new Map<string, OrderRecord>();
  readonly #nonces = new Map<string, Set<string>>();
  #pending: PendingRequest[] = [];
  #globalOrdinal = 0;
  #requestIndex = 0;
  #tradeCount = 0;
  #liquidationCount = 0;
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
      if (!isDecimalString(fees[name])) throw new Error(`fees.${name}: expected a decimal string, got ${JSON.stringify(fees[name])}`);
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

  /** The last globalOrdinal handed out (0 before any row). */
  get globalOrdinal(): number {
    return this.#globalOrdinal;
  }

  /** Requests sequenced but not yet executed (stepped mode). */
  get pendingCount(): number {
    return this.#pending.length;
  }

  symbols(): ExchangeInfoSymbol[] {
    return Object.values(this.#products).map((p) => ({
      symbol: p.symbol,
      tickSize: p.tickSize,
      minOrderSize: p.minOrderSize,
      maxOrderNotional: p.maxOrderNotional,
      maxTakerPriceDeviation: p.maxTakerPriceDeviation,
      maxLeverage: String(p.maxLeverage),
      mmr: p.mmr,
    }));
  }

  mark(symbol: string): DecimalString | undefined {
    const m = this.#marks.get(symbol);
    return m === undefined ? undefined : str(m);
  }

  latestMarkRow(symbol: string): MarkPriceRow | undefined {
    const history = this.#markHistory.get(symbol);
    return history?.[history.length - 1];
  }

  /** Mark rows with globalOrdinal > sinceOrdinal for the given symbols, in ordinal order. */
  markPrices(symbols: readonly string[], sinceOrdinal = 0): MarkPriceRow[] {
    const rows: MarkPriceRow[] = [];
    for (const symbol of symbols)
      for (const row of this.#markHistory.get(symbol) ?? []) if (row.globalOrdinal > sinceOrdinal) rows.push(row);
    return rows.sort((a, b) => a.globalOrdinal - b.globalOrdinal);
  }

  bookLevels(symbol: string): BookLevelRow[] {
    const book = this.#books.get(symbol);
    return book === undefined ? [] : book.levels().map((l) => levelRow(symbol, l));
  }

  /** The strategy as REST shows it; an unknown strategy is an empty one (collateral "0", no positions). */
  strategyState(trader: string, strategyId: string): StrategyState {
    const t = normalizeTrader(trader);
    const hash = hashStrategyId(strategyId);
    const s = this.#strategies.get(strategyKeyOf(t, hash));
    const ledger = s?.ledger;
    return {
      trader: t,
      strategyId,
      strategyIdHash: hash,
      collateral: ledger?.collateral ?? '0',
      positions: Object.entries(ledger?.positions ?? {}).map(([symbol, p]) => ({
        symbol,
        side: dec(p.size).gt(0) ? 0 : 1,
        size: str(dec(p.size).abs()),
        avgEntryPrice: p.avgEntry,
      })),
      globalOrdinal: this.#globalOrdinal,
    };
  }

  openOrders(trader: string, strategyIdHash: string, symbol?: string): OpenOrder[] {
    const s = this.#strategies.get(strategyKeyOf(normalizeTrader(trader), strategyIdHash.toLowerCase()));
    if (s === undefined) return [];
    return [...s.open.values()]
      .filter((o) => symbol === undefined || o.symbol === symbol)
      .map((o) => ({
        orderHash: o.orderHash,
        symbol: o.symbol,
        side: o.side,
        orderType: o.orderType,
        amount: str(o.amount),
        price: str(o.price),
        filledAmount: str(o.filled),
        remainingAmount: str(o.amount.minus(o.filled)),
        nonce: o.nonce,
        createdAt: o.createdAt,
      }));
  }

  orderUpdates(trader: string, strategyIdHash: string, sinceOrdinal = 0): OrderUpdateRow[] {
    const s = this.#strategies.get(strategyKeyOf(normalizeTrader(trader), strategyIdHash.toLowerCase()));
    return (s?.orderUpdates ?? []).filter((r) => r.globalOrdinal > sinceOrdinal);
  }

  strategyUpdates(trader: string, strategyIdHash: string, sinceOrdinal = 0): StrategyUpdateRow[] {
    const s = this.#strategies.get(strategyKeyOf(normalizeTrader(trader), strategyIdHash.toLowerCase()));
    return (s?.strategyUpdates ?? []).filter((r) => r.globalOrdinal > sinceOrdinal);
  }

  /** Risk metrics of a strategy at the current marks (for tests and inspection). */
  metrics(trader: string, strategyId: string): RiskMetrics {
    const s = this.#strategies.get(strategyKeyOf(normalizeTrader(trader), hashStrategyId(strategyId)));
    return riskMetrics({ ledger: s?.ledger ?? createLedger('0'), marks: this.#markStrings(), products: this.#products });
  }

  /** True when the trader has used this nonce (a sequenced request carried it). */
  nonceUsed(trader: string, nonce: string): boolean {
    return this.#nonces.get(normalizeTrader(trader))?.has(nonce.toLowerCase()) ?? false;
  }

  /** The trader and strategy an order belongs to, if the exchange knows the order. */
  orderOwner(orderHash: string): { trader: string; strategyId: string; strategyIdHash: string } | undefined {
    const order = this.#orders.get(orderHash.toLowerCase());
    if (order === undefined) return undefined;
    const s = this.#strategies.get(order.strategyKey)!;
    return { trader: s.trader, strategyId: s.strategyId, strategyIdHash: s.strategyIdHash };
  }

  // ── writes ─────────────────────────────────────────────────────────────────────────────────

  /** Credits collateral (a STRATEGY_UPDATE Deposit row). */
  deposit(trader: string, strategyId: string, amount: DecimalString): StrategyUpdateRow {
    if (!isDecimalString(amount) || !dec(amount).gt(0))
      throw new Error(`deposit amount: expected a positive decimal string, got ${JSON.stringify(amount)}`);
    return this.#operation(() => {
      const s = this.#strategy(normalizeTrader(trader), strategyId);
      this.#applyLedger(s, { kind: 'deposit', id: `deposit:${s.ledgerSeq + 1}`, seq: 0, amount });
      return this.#strategyUpdate(s, STRATEGY_UPDATE_REASON.Deposit, dec(amount), {});
    });
  }

  /** Fault hook: the strategy's next executed order is rejected with `reason`. */
  rejectNextOrder(trader: string, strategyId: string, reason: OrderRejectionName): void {
    if (!Object.hasOwn(ORDER_REJECTION, reason)) throw new Error(`reject-next-order reason: unknown ${JSON.stringify(reason)}`);
    this.#strategy(normalizeTrader(trader), strategyId).rejectNext.push(reason);
  }

  /**
   * A new mark: MARK_PRICE row, funding when due, the synthetic book re-laid (resting user orders it
   * crosses fill), then the margin engine over every strategy with a position.
   */
  setMark(symbol: string, price: DecimalString): MarkPriceRow {
    const product = this.#products[symbol];
    if (product === undefined) throw new Error(`setMark: unknown symbol ${JSON.stringify(symbol)}`);
    if (!isDecimalString(price) || !dec(price).gt(0))
      throw new Error(`setMark ${symbol}: expected a positive decimal string, got ${JSON.stringify(price)}`);
    return this.#operation(() => {
      const mark = dec(price);
      this.#marks.set(symbol, mark);
      const row: MarkPriceRow = {
        globalOrdinal: this.#nextOrdinal(),
        epochId: this.epochId,
        symbol,
        price: str(mark),
        fundingRate: this.#funding?.rate ?? '0',
        createdAt: this.#now(),
      };
      const history = this.#markHistory.get(symbol)!;
      history.push(row);
      if (history.length > this.#markHistoryLimit) history.splice(0, history.length - this.#markHistoryLimit);
      this.#sink({ feed: 'MARK_PRICE', symbol, row });
      this.#payFundingIfDue(symbol, mark);
      this.#relaySynthetic(product, mark);
      this.#marginEngine([...this.#strategies.values()]);
      return row;
    });
  }

  /**
   * Validates and sequences a request; returns its receipt. Throws ExchangeError for request-level
   * failures (nothing is sequenced then). In immediate mode the request also executes now.
   */
  submit(request: ExchangeRequest): RequestReceipt {
    if (this.#busy) throw new Error('Exchange.submit called from inside an exchange operation');
    const trader = normalizeTrader(request.trader);
    const nonce = checkNonce(request.nonce);
    if (this.nonceUsed(trader, nonce)) throw new ExchangeError('IllegalNonce', `nonce ${nonce} was already used by ${trader}`);
    const symbol = request.symbol;
    const product = this.#products[symbol];
    if (product === undefined) throw new ExchangeError('InvalidRequestPayload', `unknown symbol ${JSON.stringify(symbol)}`);

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
          (p) => p.request.kind === 'Order' && p.strategy === strategy && p.request.symbol === symbol && p.request.orderType === 0,
        ).length;
        if (order.orderType === 0 && openHere + pendingHere >= this.#maxOpenOrders) {
          throw new ExchangeError(
            'SafetyFailure',
            `${symbol}: strategy ${request.strategyId} already has ${openHere + pendingHere} open orders (at most ${this.#maxOpenOrders})`,
          );
        }
        orderHash = order.orderHash;
        const record: OrderRecord = { ...order, strategyKey: strategy.key, filled: ZERO, status: 'pending', createdAt: this.#now(), nonce };
        this.#orders.set(orderHash, record);
        normalized = { ...request, trader, nonce, orderHash };
        break;
      }
      case 'CancelOrder': {
        const hash = checkOrderHash(request.orderHash);
        const order = this.#orders.get(hash);
        const owner = order === undefined ? undefined : this.#strategies.get(order.strategyKey);
        if (order === undefined || owner === undefined || owner.trader !== trader) {
          throw new ExchangeError('SafetyFailure', `no order ${hash} of ${trader}`);
        }
        if (order.symbol !== symbol) throw new ExchangeError('InvalidRequestPayload', `order ${hash} is on ${order.symbol}, not ${symbol}`);
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
    const receipt: RequestReceipt = { nonce, requestIndex: this.#requestIndex, sequenced: true };
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
      const ta = a.strategy.trader.toLowerCase();
      const tb = b.strategy.trader.toLowerCase();
      if (ta !== tb) return ta < tb ? -1 : 1;
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
          this.#orderUpdate(strategy, order, ORDER_UPDATE_REASON.CancelRejection, {
            cancelRejection: `order is ${order.status === 'pending' ? 'not yet executed' : `not open (${order.status})`}`,
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
    const limit = order.orderType === 0;
    if (limit && (buy ? order.price.gt(band.high) : order.price.lt(band.low))) return this.#reject(s, order, 'MaxTakerPriceDeviation');

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
    for (const fill of plan.fills) {
      const tradeId = String(++this.#tradeCount);
      this.#fill(s, order, fill.price, fill.amount, false, tradeId);
      const maker = this.#makerOf(fill);
      if (maker !== undefined) {
        this.#fill(maker.strategy, maker.order, fill.price, fill.amount, true, tradeId);
        involved.add(maker.strategy);
      }
    }
    const rest = order.amount.minus(order.filled);
    if (rest.gt(0) && limit) {
      book.add({ orderHash: order.orderHash, owner: s.key, side: order.side, price: order.price, remaining: rest });
      order.status = 'open';
      s.open.set(order.orderHash, order);
      this.#orderUpdate(s, order, ORDER_UPDATE_REASON.Post, {});
    } else if (rest.gt(0)) {
      // A market order's unfilled rest (nothing more inside the band) is cancelled.
      order.status = 'cancelled';
      this.#orderUpdate(s, order, ORDER_UPDATE_REASON.Cancellation, { remainingAmount: '0' });
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
    if (rest.gt(0) && order.orderType === 0) fill(rest, order.price, this.#fees.maker);
    const metrics = riskMetrics({ ledger: book, marks: this.#markStrings(), products: this.#products });
    let required = ZERO;
    for (const p of Object.values(metrics.positions)) {
      required = required.plus(dec(p.notional).div(this.#products[p.symbol]!.maxLeverage).toDecimalPlaces(20, Decimal.ROUND_CEIL));
    }
    return dec(metrics.equity).gte(required);
  }

  #makerOf(fill: BookFill): { strategy: StrategyRecord; order: OrderRecord } | undefined {
    if (fill.makerOwner === SYNTHETIC_OWNER) return undefined;
    const order = this.#orders.get(fill.makerHash);
    const strategy = this.#strategies.get(fill.makerOwner);
    if (order === undefined || strategy === undefined) throw new Error(`maker ${fill.makerHash} is unknown to the exchange`);
    return { strategy, order };
  }

  /** One fill of `order` (taker or maker): ledger, ORDER_UPDATE Trade, STRATEGY_UPDATE Trade and Fee. */
  #fill(s: StrategyRecord, order: OrderRecord, price: Decimal, amount: Decimal, maker: boolean, tradeId: string): void {
    const fee = amount.times(price).times(maker ? this.#fees.maker : this.#fees.taker);
    const before = dec(s.ledger.collateral);
    this.#applyLedger(s, {
      kind: 'fill',
      id: `trade:${tradeId}:${maker ? 'maker' : 'taker'}`,
      seq: 0,
      symbol: order.symbol,
      side: order.side === 0 ? 'buy' : 'sell',
      amount: str(amount),
      price: str(price),
      fee: str(fee),
    });
    order.filled = order.filled.plus(amount);
    const remaining = order.amount.minus(order.filled);
    if (maker && !remaining.gt(0)) {
      order.status = 'filled';
      s.open.delete(order.orderHash);
    }
    this.#orderUpdate(s, order, ORDER_UPDATE_REASON.Trade, {
      fillAmount: str(amount),
      fillPrice: str(price),
      fee: str(fee),
      tradeId,
      // A market taker's rest is never on the book; a limit taker's rest goes there next.
      remainingAmount: str(remaining),
    });
    const realized = dec(s.ledger.collateral).plus(fee).minus(before);
    this.#strategyUpdate(s, STRATEGY_UPDATE_REASON.Trade, realized, { symbol: order.symbol, tradeId }, before.plus(realized));
    if (!fee.isZero()) this.#strategyUpdate(s, STRATEGY_UPDATE_REASON.Fee, fee.neg(), {});
  }

  #reject(s: StrategyRecord, order: OrderRecord, reason: OrderRejectionName): void {
    order.status = 'rejected';
    this.#orderUpdate(s, order, ORDER_UPDATE_REASON.OrderRejection, { orderRejection: ORDER_REJECTION[reason], remainingAmount: '0' });
  }

  #cancel(s: StrategyRecord, order: OrderRecord): void {
    this.#books.get(order.symbol)!.remove(order.orderHash);
    s.open.delete(order.orderHash);
    order.status = 'cancelled';
    this.#orderUpdate(s, order, ORDER_UPDATE_REASON.Cancellation, { remainingAmount: '0' });
  }

  // ── marks: synthetic book, funding, margin ─────────────────────────────────────────────────

  #relaySynthetic(product: Product, mark: Decimal): void {
    const book = this.#books.get(product.symbol)!;
    book.removeWhere((o) => o.owner === SYNTHETIC_OWNER);
    const quotes = syntheticQuotes(mark, product.tickSize, this.#liquidity);
    const lay = (side: BookSide, levels: typeof quotes.asks): void => {
      levels.forEach((level, i) => {
        // The synthetic maker first trades with resting user orders its level crosses (at their price).
        const plan = book.plan({ owner: SYNTHETIC_OWNER, side, amount: level.amount, limit: level.price });
        if (!plan.selfMatch) {
          book.execute(plan);
          for (const fill of plan.fills) {
            const maker = this.#makerOf(fill);
            if (maker !== undefined) this.#fill(maker.strategy, maker.order, fill.price, fill.amount, true, String(++this.#tradeCount));
          }
        }
        const rest = level.amount.minus(plan.filled);
        if (rest.gt(0)) {
          book.add({
            orderHash: `${SYNTHETIC_HASH_PREFIX}${product.symbol}:${side}:${i}`,
            owner: SYNTHETIC_OWNER,
            side,
            price: level.price,
            remaining: rest,
          });
        }
      });
    };
    lay(1, quotes.asks);
    lay(0, quotes.bids);
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
        this.#strategyUpdate(s, STRATEGY_UPDATE_REASON.FundingPayment, payment, { symbol });
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
    symbols.forEach((symbol, i) => {
      const size = dec(s.ledger.positions[symbol]!.size);
      const mark = this.#marks.get(symbol)!;
      const before = dec(s.ledger.collateral);
      this.#applyLedger(s, { kind: 'liquidation', id: `liquidation:${s.ledgerSeq + 1}`, seq: 0, symbol, price: str(mark) });
      // The insurance fund absorbs a negative balance once every position is closed.
      const deficit = dec(s.ledger.collateral);
      if (i === symbols.length - 1 && deficit.lt(0)) {
        this.#applyLedger(s, { kind: 'fee', id: `insurance:${s.ledgerSeq + 1}`, seq: 0, amount: str(deficit) });
      }
      const liquidationHash = `0x${'ff'}${(++this.#liquidationCount).toString(16).padStart(48, '0')}`;
      const tradeId = String(++this.#tradeCount);
      const closing: OrderRecord = {
        orderHash: liquidationHash,
        strategyKey: s.key,
        symbol,
        side: size.gt(0) ? 1 : 0,
        orderType: 1,
        amount: size.abs(),
        price: ZERO,
        nonce: '',
        filled: size.abs(),
        status: 'filled',
        createdAt: this.#now(),
      };
      this.#orderUpdate(s, closing, ORDER_UPDATE_REASON.Liquidation, {
        fillAmount: str(size.abs()),
        fillPrice: str(mark),
        fee: '0',
        tradeId,
        remainingAmount: '0',
      });
      this.#strategyUpdate(s, STRATEGY_UPDATE_REASON.Liquidation, dec(s.ledger.collateral).minus(before), { symbol, tradeId });
    });
  }

  // ── rows ───────────────────────────────────────────────────────────────────────────────────

  #orderUpdate(s: StrategyRecord, order: OrderRecord, reason: OrderUpdateRow['reason'], extra: Partial<OrderUpdateRow>): OrderUpdateRow {
    const row: OrderUpdateRow = {
      globalOrdinal: this.#nextOrdinal(),
      epochId: this.epochId,
      orderHash: order.orderHash,
      symbol: order.symbol,
      trader: s.trader,
      strategyIdHash: s.strategyIdHash,
      side: order.side,
      orderType: order.orderType,
      amount: str(order.amount),
      price: str(order.price),
      reason,
      filledAmount: str(order.filled),
      remainingAmount: order.status === 'open' ? str(order.amount.minus(order.filled)) : '0',
      createdAt: this.#now(),
      ...extra,
    };
    s.orderUpdates.push(row);
    this.#sink({ feed: 'ORDER_UPDATE', trader: s.trader, strategyIdHash: s.strategyIdHash, row });
    return row;
  }

  /** A STRATEGY_UPDATE row; `collateral` defaults to the ledger's. Trade/Liquidation rows carry the position after. */
  #strategyUpdate(
    s: StrategyRecord,
    reason: StrategyUpdateReason,
    change: Decimal,
    extra: { symbol?: string; tradeId?: string },
    collateral: Decimal = dec(s.ledger.collateral),
  ): StrategyUpdateRow {
    const row: StrategyUpdateRow = {
      globalOrdinal: this.#nextOrdinal(),
      epochId: this.epochId,
      trader: s.trader,
      strategyIdHash: s.strategyIdHash,
      reason,
      collateralChange: str(change),
      collateral: str(collateral),
      createdAt: this.#now(),
    };
    if (extra.symbol !== undefined) {
      row.symbol = extra.symbol;
      if (
        reason === STRATEGY_UPDATE_REASON.Trade ||
        reason === STRATEGY_UPDATE_REASON.Liquidation ||
        reason === STRATEGY_UPDATE_REASON.ADL
      ) {
        const held = s.ledger.positions[extra.symbol];
        row.positionSide = held === undefined ? null : dec(held.size).gt(0) ? 0 : 1;
        row.positionSize = held === undefined ? '0' : str(dec(held.size).abs());
        row.avgEntryPrice = held === undefined ? '0' : held.avgEntry;
      }
    }
    if (extra.tradeId !== undefined) row.tradeId = extra.tradeId;
    s.strategyUpdates.push(row);
    this.#sink({ feed: 'STRATEGY_UPDATE', trader: s.trader, strategyIdHash: s.strategyIdHash, row });
    return row;
  }

  // ── helpers ────────────────────────────────────────────────────────────────────────────────

  /** Runs a state change; afterwards emits the ORDER_BOOK_L2 changes it made, per symbol. */
  #operation<T>(work: () => T): T {
    if (this.#busy) return work();
    this.#busy = true;
    const before = new Map([...this.#books].map(([symbol, book]) => [symbol, book.levels()]));
    try {
      return work();
    } finally {
      this.#busy = false;
      for (const [symbol, book] of this.#books) {
        const changes = levelChanges(before.get(symbol)!, book.levels());
        if (changes.length > 0) this.#sink({ feed: 'ORDER_BOOK_L2', symbol, rows: changes.map((l) => levelRow(symbol, l)) });
      }
    }
  }

  #validateOrder(
    request: ExchangeRequest & { kind: 'Order' },
    product: Product,
  ): Pick<OrderRecord, 'orderHash' | 'symbol' | 'side' | 'orderType' | 'amount' | 'price'> {
    if (request.side !== 0 && request.side !== 1)
      throw new ExchangeError('InvalidRequestPayload', `side: expected 0 (Bid) or 1 (Ask), got ${String(request.side)}`);
    if (request.orderType !== 0 && request.orderType !== 1) {
      throw new ExchangeError('InvalidRequestPayload', `orderType: expected 0 (Limit) or 1 (Market), got ${String(request.orderType)}`);
    }
    if (!isDecimalString(request.amount) || !dec(request.amount).gt(0)) {
      throw new ExchangeError('InvalidRequestPayload', `amount: expected a positive decimal string, got ${JSON.stringify(request.amount)}`);
    }
    if (!isDecimalString(request.price) || dec(request.price).isNeg()) {
      throw new ExchangeError('InvalidRequestPayload', `price: expected a decimal string >= 0, got ${JSON.stringify(request.price)}`);
    }
    const limit = request.orderType === 0;
    if (!limit && !dec(request.price).isZero())
      throw new ExchangeError('InvalidRequestPayload', `price: a market order carries price "0", got ${JSON.stringify(request.price)}`);
    if (limit && !dec(request.price).gt(0)) throw new ExchangeError('InvalidRequestPayload', 'price: a limit order needs a price > 0');
    const orderHash = checkOrderHash(request.orderHash);
    if (this.#orders.has(orderHash)) throw new ExchangeError('InvalidRequestPayload', `order ${orderHash} was already submitted`);
    const mark = this.#marks.get(product.symbol);
    if (!limit && mark === undefined)
      throw new ExchangeError('SafetyFailure', `${product.symbol}: no mark price yet, a market order cannot be sized`);
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
    if (violations.length > 0) throw new ExchangeError('SafetyFailure', violations.map((v) => v.message).join('; '));
    return {
      orderHash,
      symbol: product.symbol,
      side: request.side,
      orderType: request.orderType,
      amount: dec(request.amount),
      price: dec(request.price),
    };
  }

  #strategy(trader: string, strategyId: string): StrategyRecord {
    const hash = hashStrategyId(strategyId);
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
        orderUpdates: [],
        strategyUpdates: [],
        arrivals: 0,
        rejectNext: [],
      };
      this.#strategies.set(key, s);
    }
    return s;
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

  #nextOrdinal(): number {
    return ++this.#globalOrdinal;
  }

  #now(): string {
    return new Date(this.clock.now()).toISOString();
  }
}

function levelRow(symbol: string, level: BookLevel): BookLevelRow {
  return { symbol, side: level.side, price: level.price, amount: level.amount };
}

function strategyKeyOf(trader: string, strategyIdHash: string): string {
  return `${trader}:${strategyIdHash}`;
}

/** The checksummed address; ExchangeError InvalidRequestPayload for anything else. */
export function normalizeTrader(trader: string): string {
  if (typeof trader !== 'string' || !isAddress(trader))
    throw new ExchangeError('InvalidRequestPayload', `trader: expected an address, got ${JSON.stringify(trader)}`);
  return getAddress(trader);
}

function checkNonce(nonce: string): string {
  if (typeof nonce !== 'string' || !/^0x[0-9a-fA-F]{64}$/.test(nonce)) {
    throw new ExchangeError('InvalidRequestPayload', `nonce: expected a bytes32 (0x and 64 hex digits), got ${JSON.stringify(nonce)}`);
  }
  return nonce.toLowerCase();
}

function checkOrderHash(hash: string): string {
  if (typeof hash !== 'string' || !/^0x[0-9a-fA-F]{50}$/.test(hash)) {
    throw new ExchangeError('InvalidRequestPayload', `orderHash: expected 25 bytes (0x and 50 hex digits), got ${JSON.stringify(hash)}`);
  }
  return hash.toLowerCase();
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
