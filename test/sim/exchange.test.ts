import { describe, expect, it } from 'vitest';
import { SimClock } from '../../src/clock/clock.ts';
import { ORDER_REJECTION, ORDER_TYPE, ORDER_UPDATE_REASON, POSITION_SIDE, STRATEGY_UPDATE_REASON } from '../../src/derivadex/codes.ts';
import { strategyIdHash } from '../../src/derivadex/crypto/bytes32.ts';
import type { OrderUpdateRow } from '../../src/derivadex/order-update.ts';
import type { StrategyUpdateRow } from '../../src/derivadex/strategy-update.ts';
import { traderAddress21 } from '../../src/derivadex/trader-address.ts';
import { SYNTHETIC_TRADER_ADDRESS } from '../../src/sim/deployment.ts';
import { Exchange, ExchangeError, type ExchangeEvent, type ExchangeOptions, type ExchangeRequest } from '../../src/sim/exchange.ts';

const ALICE = '0x603699848c84529987E14Ba32C8a66DEF67E9eCE';
const BOB = '0xc10f3E99a255CC053b8E9A62c9C416485fdCd20b';
const ALICE21 = traderAddress21(ALICE);
const BOB21 = traderAddress21(BOB);
const START = Date.parse('2026-01-05T13:00:00Z');
const SIGNATURE = `0x${'5a'.repeat(65)}`;

type OrderRequest = ExchangeRequest & { kind: 'Order' };

interface Harness {
  ex: Exchange;
  clock: SimClock;
  events: ExchangeEvent[];
  order(o: Partial<OrderRequest>): OrderRequest;
  place(o: Partial<OrderRequest>): string;
  /** Realtime ORDER_UPDATE rows delivered to the strategy (either side of a trade, or liquidated). */
  orderRows(trader?: string, strategy?: string): OrderUpdateRow[];
  strategyRows(trader?: string, strategy?: string): StrategyUpdateRow[];
  rejection(trader?: string, strategy?: string): number | undefined;
}

function harness(options: Partial<ExchangeOptions> = {}, mark = '2000'): Harness {
  const clock = new SimClock(START);
  const events: ExchangeEvent[] = [];
  const ex = new Exchange({ clock, sink: (e) => events.push(e), ...options });
  ex.setMark('ETHP', mark);
  let n = 0;
  const order = (o: Partial<OrderRequest>): OrderRequest => {
    n += 1;
    return {
      kind: 'Order',
      trader: ALICE,
      strategyId: 'main',
      symbol: 'ETHP',
      side: 0,
      orderType: ORDER_TYPE.Market,
      amount: '1',
      price: '0',
      stopPrice: '0',
      nonce: `0x${n.toString(16).padStart(64, '0')}`,
      signature: SIGNATURE,
      orderHash: `0x${n.toString(16).padStart(50, '0')}`,
      ...o,
    };
  };
  const orderRows = (trader = ALICE, strategy = 'main'): OrderUpdateRow[] => {
    const t = traderAddress21(trader);
    const hash = strategyIdHash(strategy);
    return events.flatMap((e) =>
      e.feed === 'ORDER_UPDATE' && e.parties.some((p) => p.traderAddress === t && p.strategyIdHash === hash) ? [e.row] : [],
    );
  };
  return {
    ex,
    clock,
    events,
    order,
    place: (o) => ex.submit(order(o)).orderHash!,
    orderRows,
    strategyRows: (trader = ALICE, strategy = 'main') =>
      events.flatMap((e) =>
        e.feed === 'STRATEGY_UPDATE' && e.row.traderAddress === traderAddress21(trader) && e.row.strategyIdHash === strategyIdHash(strategy)
          ? [e.row]
          : [],
      ),
    rejection: (trader, strategy) => {
      const last = orderRows(trader, strategy).at(-1);
      return last?.reason === ORDER_UPDATE_REASON.OrderRejection ? last.orderRejection : undefined;
    },
  };
}

function submitError(ex: Exchange, request: ExchangeRequest): ExchangeError {
  try {
    ex.submit(request);
  } catch (error) {
    if (error instanceof ExchangeError) return error;
    throw error;
  }
  throw new Error('expected the request to be refused');
}

describe('request-level validation', () => {
  it('refuses off-tick prices, small or off-increment sizes and large notionals with a SafetyFailure variant', () => {
    const h = harness();
    h.ex.deposit(ALICE, 'main', '1000000');
    const tick = submitError(h.ex, h.order({ orderType: ORDER_TYPE.Limit, price: '1999.95' }));
    expect([tick.code, tick.status, tick.safetyFailure]).toEqual(['SafetyFailure', 422, 'PriceNotMultipleOfTickSize']);
    expect(tick.message).toContain('tickSize 0.1');
    const small = submitError(h.ex, h.order({ amount: '0.00005' }));
    expect([small.safetyFailure, small.message]).toEqual([
      'OrderAmountNotMultipleOfMinOrderSize',
      expect.stringContaining('below minOrderSize 0.0001'),
    ]);
    expect(submitError(h.ex, h.order({ amount: '0.00015' })).message).toContain('size increment 0.0001');
    // limit: 600 × 2000 = 1,200,000 > 1,000,000
    const notional = submitError(h.ex, h.order({ orderType: ORDER_TYPE.Limit, price: '2000', amount: '600' }));
    expect([notional.safetyFailure, notional.message]).toEqual([
      'MaxOrderNotionalBreached',
      expect.stringContaining('exceeds maxOrderNotional'),
    ]);
    // market, at mark: 500.1 × 2000 = 1,000,200
    expect(submitError(h.ex, h.order({ amount: '500.1' })).safetyFailure).toBe('MaxOrderNotionalBreached');
    expect(h.ex.submit(h.order({ amount: '500' })).requestIndex).toBe(1); // 500 × 2000 = 1,000,000: at the limit
  });

  it('names the variant of other refusals on the merits, and keeps HTTP classes for malformed requests', () => {
    const h = harness();
    expect(submitError(h.ex, h.order({ symbol: 'DOGEP' })).safetyFailure).toBe('UnsupportedMarket');
    const priced = submitError(h.ex, h.order({ price: '2000' }));
    expect([priced.safetyFailure, priced.message]).toEqual([
      'OrderTypeIncompatibleWithPrice',
      expect.stringContaining('market order carries price "0"'),
    ]);
    const stop = submitError(h.ex, h.order({ orderType: ORDER_TYPE.Stop, stopPrice: '1900', price: '1900' }));
    expect([stop.code, stop.safetyFailure, stop.message]).toEqual([
      'SafetyFailure',
      'OrderTypeIncompatibleWithPrice',
      expect.stringContaining('no stop orders'),
    ]);
    expect(submitError(h.ex, h.order({ orderType: ORDER_TYPE.Limit, price: '1900', stopPrice: '1' })).safetyFailure).toBe(
      'OrderTypeIncompatibleWithPrice',
    );
    expect(submitError(h.ex, h.order({ amount: '0' })).safetyFailure).toBe('OrderAmountZeroNeg');
    for (const bad of [
      h.order({ amount: 'lots' }),
      h.order({ nonce: '0x12' }),
      h.order({ trader: 'nobody' }),
      h.order({ signature: '0x00' }),
    ]) {
      const error = submitError(h.ex, bad);
      expect([error.code, error.status, error.safetyFailure]).toEqual(['InvalidRequestPayload', 400, undefined]);
    }
  });

  it('refuses a market order before the first mark with 503 ServiceUnavailable', () => {
    const ex = new Exchange({ clock: new SimClock(START) });
    const error = submitError(ex, { ...harness().order({}), symbol: 'BTCP' });
    expect([error.code, error.status]).toEqual(['ServiceUnavailable', 503]);
  });

  it('refuses a reused nonce with 412 IllegalNonce, per trader', () => {
    const h = harness();
    h.ex.deposit(ALICE, 'main', '100000');
    const first = h.order({ orderType: ORDER_TYPE.Limit, price: '1990' });
    h.ex.submit(first);
    const replay = submitError(h.ex, h.order({ orderType: ORDER_TYPE.Limit, price: '1991', nonce: first.nonce }));
    expect([replay.code, replay.status]).toEqual(['IllegalNonce', 412]);
    // Another trader may use the same nonce (in either address form).
    h.ex.deposit(BOB, 'main', '100000');
    expect(h.ex.submit(h.order({ trader: BOB21, orderType: ORDER_TYPE.Limit, price: '1990', nonce: first.nonce })).trader).toBe(BOB21);
    // A refused request does not use up its nonce.
    const refused = h.order({ orderType: ORDER_TYPE.Limit, price: '1990.05' });
    submitError(h.ex, refused);
    expect(h.ex.nonceUsed(ALICE, refused.nonce)).toBe(false);
  });

  it('caps open orders at 20 per strategy and symbol (TooManyOrders)', () => {
    const h = harness();
    h.ex.deposit(ALICE, 'main', '100000');
    for (let i = 0; i < 20; i++) h.place({ orderType: ORDER_TYPE.Limit, price: '1990', amount: '0.1' });
    expect(h.ex.orderBook({ trader: ALICE, strategyIdHash: strategyIdHash('main') })).toHaveLength(20);
    const capped = submitError(h.ex, h.order({ orderType: ORDER_TYPE.Limit, price: '1990', amount: '0.1' }));
    expect([capped.safetyFailure, capped.message]).toEqual([
      'TooManyOrders',
      'ETHP: strategy main already has 20 open orders (at most 20)',
    ]);
    // Another strategy of the same trader has its own cap; a market order does not rest.
    h.ex.deposit(ALICE, 'other', '100000');
    h.place({ strategyId: 'other', orderType: ORDER_TYPE.Limit, price: '1990', amount: '0.1' });
    h.place({ amount: '0.1' });
    expect(h.rejection()).toBeUndefined();
  });
});

describe('execution-level rejections', () => {
  it('rejects limit prices outside mark × (1 ± 0.02) on the aggressive side only, with the full intent', () => {
    const h = harness();
    h.ex.deposit(ALICE, 'main', '100000');
    // band: 2000 × 0.98 = 1960, 2000 × 1.02 = 2040
    const rejected = h.place({ orderType: ORDER_TYPE.Limit, price: '2040.1' });
    expect(h.orderRows().at(-1)).toMatchObject({
      reason: ORDER_UPDATE_REASON.OrderRejection,
      orderRejection: ORDER_REJECTION.MaxTakerPriceDeviation,
      makerOrderIntent: {
        orderHash: rejected,
        traderAddress: ALICE21,
        price: '2040.1',
        orderType: 0,
        signature: SIGNATURE,
        nonce: expect.any(String),
      },
    });
    h.place({ orderType: ORDER_TYPE.Limit, side: 1, price: '1959.9' });
    expect(h.rejection()).toBe(ORDER_REJECTION.MaxTakerPriceDeviation);
    const edge = h.place({ orderType: ORDER_TYPE.Limit, price: '2040', amount: '0.5' }); // at the edge: takes 0.5 @ 2000.2
    expect(h.orderRows().at(-1)).toMatchObject({
      reason: ORDER_UPDATE_REASON.Trade,
      price: '2000.2',
      amount: '0.5',
      takerOrderIntent: { orderHash: edge, amount: '0.5' },
      makerOrderIntent: { traderAddress: SYNTHETIC_TRADER_ADDRESS },
    });
    const passive = h.place({ orderType: ORDER_TYPE.Limit, price: '1900', amount: '0.5' }); // a passive bid far below the band rests
    expect(h.orderRows().at(-1)).toMatchObject({
      reason: ORDER_UPDATE_REASON.Post,
      amount: '0',
      cumulativeFilledAmount: '0',
      makerOrderIntent: { orderHash: passive, amount: '0.5' },
    });
  });

  it('matches market orders only inside the band and cancels the rest', () => {
    // asks from 2000 + 350 × 0.1 = 2035 upwards, 1 each: 2035.0 … 2040.0 is 51 levels inside the band
    const h = harness({ liquidity: { depth: '1', levels: 60, spreadTicks: 350 } });
    h.ex.deposit(ALICE, 'main', '1000000');
    const hash = h.place({ amount: '100' });
    const trades = h.orderRows().filter((r) => r.reason === ORDER_UPDATE_REASON.Trade && r.takerOrderIntent?.orderHash === hash);
    expect(trades).toHaveLength(51);
    expect(trades.at(-1)).toMatchObject({ price: '2040', amount: '1' });
    expect(new Set(trades.map((t) => t.orderMatchOrdinal)).size).toBe(1); // one match outcome
    // 100 − 51 = 49 cancelled
    expect(h.orderRows().at(-1)).toMatchObject({
      reason: ORDER_UPDATE_REASON.Cancellation,
      amount: '49',
      cumulativeFilledAmount: '51',
      makerOrderIntent: { orderHash: hash },
    });
  });

  it('rejects a market order with nothing inside the band as NoLiquidity', () => {
    const h = harness({ liquidity: { depth: '1', levels: 5, spreadTicks: 500 } }); // asks from 2050 > 2040
    h.ex.deposit(ALICE, 'main', '100000');
    h.place({});
    expect(h.rejection()).toBe(ORDER_REJECTION.NoLiquidity);
  });

  it('rejects an order that would trade with its own strategy as SelfMatch', () => {
    const h = harness();
    h.ex.deposit(ALICE, 'main', '100000');
    h.place({ orderType: ORDER_TYPE.Limit, side: 1, price: '2000.1', amount: '0.5' }); // inside the synthetic spread: best ask
    h.place({ amount: '1' });
    expect(h.rejection()).toBe(ORDER_REJECTION.SelfMatch);
    expect(h.ex.metrics(ALICE, 'main').positions).toEqual({}); // nothing filled
  });

  it('rejects a LimitPostOnly order that would cross (PostOnlyViolation) and rests one that would not', () => {
    const h = harness(); // synthetic best bid 1999.8, best ask 2000.2
    h.ex.deposit(ALICE, 'main', '100000');
    h.place({ orderType: ORDER_TYPE.LimitPostOnly, price: '2000.2', amount: '0.5' });
    expect(h.rejection()).toBe(ORDER_REJECTION.PostOnlyViolation);
    expect(h.ex.metrics(ALICE, 'main').positions).toEqual({});
    const rested = h.place({ orderType: ORDER_TYPE.LimitPostOnly, price: '2000.1', amount: '0.5' });
    expect(h.orderRows().at(-1)).toMatchObject({ reason: ORDER_UPDATE_REASON.Post, makerOrderIntent: { orderHash: rested, orderType: 3 } });
  });

  it('checks initial margin at 3x (IMF = 1/3) only for orders that open or increase exposure', () => {
    const h = harness();
    h.ex.deposit(ALICE, 'main', '1000');
    // buy 1.5 @ 2000.2: fee 1.5 × 2000.2 × 0.0005 = 1.50015, uPnL 1.5 × (2000 − 2000.2) = −0.3
    // equity 998.19985 < 1.5 × 2000 / 3 = 1000 → refused
    h.place({ amount: '1.5' });
    expect(h.rejection()).toBe(ORDER_REJECTION.SolvencyGuard);
    // buy 1.4: fee 1.40014, uPnL −0.28, equity 998.31986 ≥ 2800 / 3 = 933.33… → accepted
    h.place({ amount: '1.4' });
    expect(h.rejection()).toBeUndefined();
    expect(h.ex.metrics(ALICE, 'main')).toMatchObject({ collateral: '998.59986', equity: '998.31986', grossNotional: '2800' });

    // Mark 1800: equity 998.59986 + 1.4 × (1800 − 2000.2) = 718.31986, notional 2520: MF 0.285 < 1/3, > 0.05
    h.ex.setMark('ETHP', '1800');
    h.place({ amount: '0.0001' }); // increases exposure → refused
    expect(h.rejection()).toBe(ORDER_REJECTION.SolvencyGuard);
    h.place({ side: 1, amount: '1' }); // reduces (opposite side, ≤ position) → not checked, fills @ 1799.8
    expect(h.orderRows().at(-1)).toMatchObject({ reason: ORDER_UPDATE_REASON.Trade, price: '1799.8', amount: '1' });
    // Larger than the 0.4 left: it flips the position, so it is checked. Short 4.6 at 1800 needs
    // 4.6 × 1800 / 3 = 2760 of equity; about 716 is left.
    h.place({ side: 1, amount: '5' });
    expect(h.rejection()).toBe(ORDER_REJECTION.SolvencyGuard);
  });

  it('rejects the next order of a strategy with the injected reason (fault hook)', () => {
    const h = harness();
    h.ex.deposit(ALICE, 'main', '100000');
    h.ex.rejectNextOrder(ALICE, 'main', 'NoLiquidity');
    h.place({});
    expect(h.rejection()).toBe(ORDER_REJECTION.NoLiquidity);
    h.place({});
    expect(h.rejection()).toBeUndefined();
  });
});

describe('fills and fees', () => {
  it('charges the taker fee: ORDER_UPDATE Trade, then STRATEGY_UPDATE Trade (realized PnL) and Fee (−fee)', () => {
    const h = harness();
    h.ex.deposit(ALICE, 'main', '1000');
    const hash = h.place({ amount: '1' });
    const trade = h.orderRows().find((r) => r.takerOrderIntent?.orderHash === hash)!;
    // fee = 1 × 2000.2 × 0.0005 = 1.0001; the synthetic maker pays nothing
    expect(trade).toMatchObject({
      reason: ORDER_UPDATE_REASON.Trade,
      amount: '1',
      price: '2000.2',
      quoteAssetAmount: '2000.2',
      lastExecutedAmount: '1',
      lastExecutedPrice: '2000.2',
      takerFeeCollateral: '1.0001',
      takerRealizedPnl: '0',
      makerFeeCollateral: '0',
      makerFeeDDX: '0',
      takerFeeDDX: '0',
      cumulativeFilledAmount: '1', // the maker's (the synthetic level of 50)
    });
    const rows = h.strategyRows();
    expect(rows.map((r) => [r.reason, r.amount, r.newAvailCollateral, r.newLockedCollateral])).toEqual([
      [STRATEGY_UPDATE_REASON.Deposit, '1000', '1000', '0'],
      [STRATEGY_UPDATE_REASON.Trade, '0', '1000', '0'],
      [STRATEGY_UPDATE_REASON.Fee, '-1.0001', '998.9999', '0'],
    ]);
    expect(rows[1]!.positions).toEqual([
      { symbol: 'ETHP', balance: '1', side: POSITION_SIDE.Long, avgEntryPrice: '2000.2', realizedPnl: '0' },
    ]);
    // Selling at the bid realizes (1999.8 − 2000.2) × 1 = −0.4 and pays 1999.8 × 0.0005 = 0.9999; flat keeps its side and entry
    h.place({ side: 1, amount: '1' });
    expect(
      h
        .strategyRows()
        .slice(-2)
        .map((r) => [r.reason, r.amount, r.newAvailCollateral, r.positions]),
    ).toEqual([
      [
        STRATEGY_UPDATE_REASON.Trade,
        '-0.4',
        '998.5999',
        [{ symbol: 'ETHP', balance: '0', side: 1, avgEntryPrice: '2000.2', realizedPnl: '-0.4' }],
      ],
      [STRATEGY_UPDATE_REASON.Fee, '-0.9999', '997.6', undefined],
    ]);
    expect(h.orderRows().at(-1)).toMatchObject({ takerRealizedPnl: '-0.4' });
  });

  it('makes one Trade row for a fill between two users, delivered to both, with maker fields for the resting order', () => {
    const h = harness({ fees: { makerFee: '0.0001', takerFee: '0.0005' } });
    h.ex.deposit(ALICE, 'main', '10000');
    h.ex.deposit(BOB, 'mm', '10000');
    const ask = h.place({ trader: BOB, strategyId: 'mm', orderType: ORDER_TYPE.Limit, side: 1, price: '2000.1', amount: '1' });
    const bid = h.place({ amount: '0.4' });
    // alice: 0.4 × 2000.1 × 0.0005 = 0.40002; bob: 0.4 × 2000.1 × 0.0001 = 0.080004
    const trade = h.orderRows().at(-1)!;
    expect(trade).toMatchObject({
      reason: ORDER_UPDATE_REASON.Trade,
      amount: '0.4',
      price: '2000.1',
      makerOrderIntent: { orderHash: ask, traderAddress: BOB21, strategyIdHash: strategyIdHash('mm') },
      takerOrderIntent: { orderHash: bid, traderAddress: ALICE21 },
      makerFeeCollateral: '0.080004',
      takerFeeCollateral: '0.40002',
      cumulativeFilledAmount: '0.4',
    });
    expect(h.orderRows(BOB, 'mm').at(-1)).toBe(trade);
    // Maker's STRATEGY_UPDATE rows come before the taker's (the book's L2 change comes last).
    const tail = h.events.slice(-6, -1).map((e) => (e.feed === 'STRATEGY_UPDATE' ? [e.row.traderAddress, e.row.reason] : [e.feed]));
    expect(tail).toEqual([
      ['ORDER_UPDATE'],
      [BOB21, STRATEGY_UPDATE_REASON.Trade],
      [BOB21, STRATEGY_UPDATE_REASON.Fee],
      [ALICE21, STRATEGY_UPDATE_REASON.Trade],
      [ALICE21, STRATEGY_UPDATE_REASON.Fee],
    ]);
    expect(h.ex.orderBook({ trader: BOB })).toEqual([
      {
        bookOrdinal: expect.any(Number),
        orderHash: ask,
        symbol: 'ETHP',
        side: 1,
        originalAmount: '1',
        amount: '0.6',
        price: '2000.1',
        traderAddress: BOB21,
        strategyIdHash: strategyIdHash('mm'),
      },
    ]);
  });

  it('refuses negative fee rates (the wire has no rebates)', () => {
    expect(() => harness({ fees: { makerFee: '-0.0001' } })).toThrow('fees.makerFee: expected a decimal string >= 0');
  });

  it('fills a resting order when the re-laid synthetic book crosses it (the user is the maker)', () => {
    const h = harness();
    h.ex.deposit(ALICE, 'main', '100000');
    const bid = h.place({ orderType: ORDER_TYPE.Limit, price: '1995', amount: '60' });
    // mark 1990: synthetic asks from 1990.2, 50 each; 50 @ 1995 against the first level, 10 against the second
    h.ex.setMark('ETHP', '1990');
    const rows = h.orderRows().filter((r) => r.makerOrderIntent.orderHash === bid);
    expect(rows.map((r) => [r.reason, r.price, r.amount, r.cumulativeFilledAmount, r.takerOrderIntent?.traderAddress])).toEqual([
      [ORDER_UPDATE_REASON.Post, '1995', '0', '0', undefined],
      [ORDER_UPDATE_REASON.Trade, '1995', '50', '50', SYNTHETIC_TRADER_ADDRESS],
      [ORDER_UPDATE_REASON.Trade, '1995', '10', '60', SYNTHETIC_TRADER_ADDRESS],
    ]);
    // The level that traded 10 keeps 40: consumed liquidity replenishes only at the next mark.
    expect(
      h.ex
        .bookLevels('ETHP')
        .filter((l) => l.side === 1)
        .slice(0, 2),
    ).toEqual([
      { side: 1, price: '1990.3', amount: '40' },
      { side: 1, price: '1990.4', amount: '50' },
    ]);
  });

  it('cancels one order, all orders of a symbol, and rejects a cancel of an order no longer open (integer code 0)', () => {
    const h = harness();
    h.ex.deposit(ALICE, 'main', '100000');
    const a = h.place({ orderType: ORDER_TYPE.Limit, price: '1990' });
    const b = h.place({ orderType: ORDER_TYPE.Limit, price: '1991' });
    const c = h.place({ orderType: ORDER_TYPE.Limit, price: '1992' });
    const nonce = (i: number): string => `0x${(1000 + i).toString(16).padStart(64, '0')}`;
    h.ex.submit({ kind: 'CancelOrder', trader: ALICE, symbol: 'ETHP', orderHash: a, nonce: nonce(1) });
    expect(h.orderRows().at(-1)).toMatchObject({
      makerOrderIntent: { orderHash: a },
      reason: ORDER_UPDATE_REASON.Cancellation,
      amount: '1',
    });
    // The signed bytes32 form of the hash is accepted too.
    h.ex.submit({ kind: 'CancelOrder', trader: ALICE, symbol: 'ETHP', orderHash: `${a}${'0'.repeat(14)}`, nonce: nonce(2) });
    expect(h.orderRows().at(-1)).toMatchObject({
      makerOrderIntent: { orderHash: a },
      reason: ORDER_UPDATE_REASON.CancelRejection,
      cancelRejection: 0,
    });
    h.ex.submit({ kind: 'CancelAll', trader: ALICE, strategyId: 'main', symbol: 'ETHP', nonce: nonce(3) });
    expect(
      h
        .orderRows()
        .slice(-2)
        .map((r) => [r.makerOrderIntent.orderHash, r.reason]),
    ).toEqual([
      [b, ORDER_UPDATE_REASON.Cancellation],
      [c, ORDER_UPDATE_REASON.Cancellation],
    ]);
    expect(h.ex.orderBook({ trader: ALICE })).toEqual([]);
    // Bob cannot cancel Alice's order.
    expect(submitError(h.ex, { kind: 'CancelOrder', trader: BOB, symbol: 'ETHP', orderHash: b, nonce: nonce(4) }).safetyFailure).toBe(
      'OrderNotFound',
    );
  });
});

describe('numbering and history', () => {
  it('counts globalOrdinal per family and numbers rows within a transaction across both families', () => {
    const h = harness();
    h.ex.deposit(ALICE, 'main', '1000');
    h.place({ amount: '1' });
    h.ex.setMark('ETHP', '2001');
    // marks: 2000, 2001; ORDER_UPDATE: the trade; STRATEGY_UPDATE: deposit, trade, fee
    expect(h.ex.lastGlobalOrdinals).toEqual({ orderUpdate: 1, strategyUpdate: 3, markPrice: 2 });
    const orders = h.ex.orderUpdates({ trader: ALICE21 }).value;
    const strategies = h.ex.strategyUpdates({ trader: ALICE }).value;
    expect(orders.map((r) => [r.globalOrdinal, r.txOrdinal, r.ordinal])).toEqual([[1, 3, 0]]);
    expect(strategies.map((r) => [r.globalOrdinal, r.reason, r.txOrdinal, r.ordinal])).toEqual([
      [1, STRATEGY_UPDATE_REASON.Deposit, 2, 0],
      [2, STRATEGY_UPDATE_REASON.Trade, 3, 1],
      [3, STRATEGY_UPDATE_REASON.Fee, 3, 2],
    ]);
    // REST rows have no realtime-only fields; REST positions no balance.
    expect(Object.keys(orders[0]!)).not.toContain('cumulativeFilledAmount');
    expect(strategies[1]!.positions).toEqual([{ symbol: 'ETHP', side: 1, avgEntryPrice: '2000.2', realizedPnl: '0' }]);
  });

  it('pages with an inclusive globalOrdinal cursor, asc or desc, and filters by orderHash and reason', () => {
    const h = harness();
    h.ex.deposit(ALICE, 'main', '100000');
    const hashes = [1, 2, 3, 4, 5].map((i) => h.place({ orderType: ORDER_TYPE.Limit, price: String(1990 + i), amount: '0.1' }));
    const first = h.ex.orderUpdates({ trader: ALICE, limit: 2 });
    expect([first.value.map((r) => r.globalOrdinal), first.nextGlobalOrdinal]).toEqual([[1, 2], 3]);
    const next = h.ex.orderUpdates({ trader: ALICE, limit: 2, globalOrdinal: 3 });
    expect([next.value.map((r) => r.globalOrdinal), next.nextGlobalOrdinal]).toEqual([[3, 4], 5]);
    const last = h.ex.orderUpdates({ trader: ALICE, limit: 2, globalOrdinal: 5 });
    expect([last.value.map((r) => r.globalOrdinal), last.nextGlobalOrdinal]).toEqual([[5], null]);
    const newest = h.ex.orderUpdates({ trader: ALICE, order: 'desc', limit: 1 });
    expect([newest.value.map((r) => r.globalOrdinal), newest.nextGlobalOrdinal]).toEqual([[5], 4]);
    expect(h.ex.orderUpdates({ orderHashes: [hashes[1]!, hashes[3]!] }).value.map((r) => r.globalOrdinal)).toEqual([2, 4]);
    expect(h.ex.orderUpdates({ trader: ALICE, reasons: [ORDER_UPDATE_REASON.Trade] }).value).toEqual([]);
    expect(h.ex.orderUpdates({ trader: BOB }).value).toEqual([]);
    expect(h.ex.markPrices({ symbol: 'ETHP', order: 'desc', limit: 1 }).value.map((m) => m.price)).toEqual(['2000']);
  });

  it('serves the strategy, positions (side 2 = Short) and metrics of a strategy', () => {
    const h = harness();
    expect(h.ex.strategy(ALICE, 'main')).toBeNull();
    h.ex.deposit(ALICE, 'main', '1000');
    h.place({ side: 1, amount: '1' }); // short 1 @ 1999.8, fee 0.9999
    expect(h.ex.strategy(ALICE21, 'main')).toEqual({
      trader: ALICE21,
      strategyIdHash: strategyIdHash('main'),
      strategyId: 'main',
      maxLeverage: 3,
      availCollateral: '999.0001',
      lockedCollateral: '0',
      frozen: false,
    });
    expect(h.ex.positions(ALICE, 'main')).toEqual([
      {
        trader: ALICE21,
        symbol: 'ETHP',
        strategyIdHash: strategyIdHash('main'),
        strategyId: 'main',
        side: 2,
        balance: '1',
        avgEntryPrice: '1999.8',
        lastModifiedInEpoch: 1,
      },
    ]);
    // equity 999.0001 + (1999.8 − 2000) = 998.8001; notional 2000; mmr 0.05
    expect(h.ex.strategyMetrics(ALICE, 'main')).toMatchObject({ mmr: '0.05', strategyMargin: '999.0001', strategyValue: '998.8001' });
  });
});

describe('margin engine', () => {
  function longAlice(): Harness & { ask: string } {
    const h = harness();
    h.ex.deposit(ALICE, 'main', '1000');
    h.place({ amount: '1.4' }); // collateral 1000 − 1.40014 = 998.59986, long 1.4 @ 2000.2
    const ask = h.place({ orderType: ORDER_TYPE.Limit, side: 1, price: '2030', amount: '0.5' }); // a working (reducing) order
    return { ...h, ask };
  }

  it('liquidates when the margin fraction falls below 0.05: cancels, closes at the mark, settles collateral', () => {
    const h = longAlice();
    // mark 1360: equity 998.59986 + 1.4 × (1360 − 2000.2) = 102.31986 ≥ 0.05 × 1904 = 95.2 → kept
    h.ex.setMark('ETHP', '1360');
    expect(h.ex.metrics(ALICE, 'main').liquidatable).toBe(false);
    const before = h.events.length;
    // mark 1350: equity 998.59986 − 910.28 = 88.31986 < 0.05 × 1890 = 94.5 → MF 0.0467 < 0.05
    h.ex.setMark('ETHP', '1350');
    const orders = h.events.slice(before).flatMap((e) => (e.feed === 'ORDER_UPDATE' ? [e] : []));
    expect(orders.map((e) => [e.row.reason, e.row.makerOrderIntent.orderHash === h.ask])).toEqual([
      [ORDER_UPDATE_REASON.Cancellation, true],
      [ORDER_UPDATE_REASON.Liquidation, false],
    ]);
    expect(orders[1]!.row).toMatchObject({
      amount: '1.4',
      price: '1350',
      liquidatedTraderAddress: ALICE21,
      liquidatedStrategyIdHash: strategyIdHash('main'),
      makerOrderIntent: { traderAddress: SYNTHETIC_TRADER_ADDRESS, side: 0, amount: '1.4', price: '1350' },
    });
    expect(orders[1]!.parties).toContainEqual({ traderAddress: ALICE21, strategyIdHash: strategyIdHash('main') });
    const strategy = h.events.slice(before).flatMap((e) => (e.feed === 'STRATEGY_UPDATE' ? [e.row] : []));
    // realized 1.4 × (1350 − 2000.2) = −910.28
    expect(strategy).toEqual([
      expect.objectContaining({
        reason: STRATEGY_UPDATE_REASON.Liquidation,
        amount: '-910.28',
        newAvailCollateral: '88.31986',
        positions: [{ symbol: 'ETHP', balance: '0', side: POSITION_SIDE.Long, avgEntryPrice: '2000.2', realizedPnl: '-910.28' }],
      }),
    ]);
    expect(h.ex.strategy(ALICE, 'main')).toMatchObject({ availCollateral: '88.31986' });
    expect(h.ex.positions(ALICE, 'main')).toEqual([]);
    expect(h.ex.orderBook({ trader: ALICE })).toEqual([]);
  });

  it('lets the insurance fund absorb a negative balance after a gap', () => {
    const h = longAlice();
    // mark 1000: 998.59986 + 1.4 × (1000 − 2000.2) = −401.68014 → collateral settles at 0
    h.ex.setMark('ETHP', '1000');
    expect(h.strategyRows().at(-1)).toMatchObject({
      reason: STRATEGY_UPDATE_REASON.Liquidation,
      amount: '-998.59986',
      newAvailCollateral: '0',
    });
  });
});

describe('stepped mode', () => {
  function run(order: 'alice-first' | 'bob-first'): { events: string; receipts: number } {
    const h = harness({ mode: 'stepped', liquidity: { depth: '1', levels: 3, spreadTicks: 2 } });
    h.ex.deposit(ALICE, 'main', '100000');
    h.ex.deposit(BOB, 'b', '100000');
    const requests = {
      alice: [
        h.order({ amount: '2', nonce: `0x${'a1'.repeat(32)}`, orderHash: `0x${'a1'.repeat(25)}` }),
        h.order({
          orderType: ORDER_TYPE.Limit,
          side: 1,
          price: '2001',
          amount: '1',
          nonce: `0x${'a2'.repeat(32)}`,
          orderHash: `0x${'a2'.repeat(25)}`,
        }),
      ],
      bob: [
        h.order({ trader: BOB, strategyId: 'b', amount: '2', nonce: `0x${'b1'.repeat(32)}`, orderHash: `0x${'b1'.repeat(25)}` }),
        h.order({ trader: BOB, strategyId: 'b', amount: '1', nonce: `0x${'b2'.repeat(32)}`, orderHash: `0x${'b2'.repeat(25)}` }),
      ],
    };
    const sequence =
      order === 'alice-first'
        ? [requests.alice[0]!, requests.alice[1]!, requests.bob[0]!, requests.bob[1]!]
        : [requests.bob[0]!, requests.alice[0]!, requests.bob[1]!, requests.alice[1]!];
    const before = h.events.length;
    let receipts = 0;
    for (const r of sequence) receipts += h.ex.submit(r).requestIndex > 0 ? 1 : 0;
    expect(h.events.length).toBe(before); // sequenced, not executed
    expect(h.ex.flush()).toBe(4);
    expect(h.ex.flush()).toBe(0);
    return { events: JSON.stringify(h.events), receipts };
  }

  it('executes pending requests in (trader, strategy, arrival) order whatever order they arrived in', () => {
    const a = run('alice-first');
    const b = run('bob-first');
    expect(a.receipts).toBe(4);
    expect(b.events).toBe(a.events);
    // Alice (0x6036…) sorts before Bob (0xc10f…): she takes 2000.2 and 2000.3, Bob 2000.4 and then her
    // ask at 2001; his second order finds nothing left inside the band.
    const rows = (JSON.parse(a.events) as ExchangeEvent[]).flatMap((e) => (e.feed === 'ORDER_UPDATE' ? [e.row] : []));
    expect(
      rows.filter((r) => r.reason === ORDER_UPDATE_REASON.Trade && r.takerOrderIntent?.traderAddress === BOB21).map((r) => r.price),
    ).toEqual(['2000.4', '2001']);
    expect(rows.at(-1)).toMatchObject({
      makerOrderIntent: { traderAddress: BOB21 },
      reason: ORDER_UPDATE_REASON.OrderRejection,
      orderRejection: ORDER_REJECTION.NoLiquidity,
    });
  });
});

describe('funding', () => {
  it('pays size × mark × rate at each interval boundary (longs pay a positive rate)', () => {
    const h = harness({ funding: { rate: '0.0001', intervalMs: 8 * 3_600_000 } });
    h.ex.deposit(ALICE, 'main', '10000');
    h.place({ amount: '1' }); // long 1 @ 2000.2, fee 1.0001 → collateral 9998.9999
    h.clock.advanceTo(Date.parse('2026-01-05T15:59:59Z'));
    h.ex.setMark('ETHP', '2005');
    expect(h.strategyRows().at(-1)!.reason).toBe(STRATEGY_UPDATE_REASON.Fee); // not due before 16:00
    h.clock.advanceTo(Date.parse('2026-01-05T16:00:00Z'));
    const row = h.ex.setMark('ETHP', '2010');
    expect(row.fundingRate).toBe('0.0001');
    // −1 × 2010 × 0.0001 = −0.201
    expect(h.strategyRows().at(-1)).toMatchObject({
      reason: STRATEGY_UPDATE_REASON.FundingPayment,
      amount: '-0.201',
      newAvailCollateral: '9998.7989',
    });
    expect(h.ex.exchangeInfo().settlementsInfo).toEqual([{ type: 'funding', durationValue: '28800', durationUnit: 'second' }]);
  });
});
