import { describe, expect, it } from 'vitest';
import { SimClock } from '../../src/clock/clock.ts';
import { strategyIdHash } from '../../src/derivadex/crypto/bytes32.ts';
import {
  ORDER_REJECTION,
  ORDER_UPDATE_REASON,
  STRATEGY_UPDATE_REASON,
  type OrderUpdateRow,
  type StrategyUpdateRow,
} from '../../src/venue/protocol.ts';
import { Exchange, ExchangeError, type ExchangeEvent, type ExchangeOptions, type ExchangeRequest } from '../../src/sim/exchange.ts';

const ALICE = '0x603699848c84529987E14Ba32C8a66DEF67E9eCE';
const BOB = '0xc10f3E99a255CC053b8E9A62c9C416485fdCd20b';
const START = Date.parse('2026-01-05T13:00:00Z');

interface Harness {
  ex: Exchange;
  clock: SimClock;
  events: ExchangeEvent[];
  order(o: Partial<ExchangeRequest & { kind: 'Order' }>): ExchangeRequest & { kind: 'Order' };
  place(o: Partial<ExchangeRequest & { kind: 'Order' }>): string;
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
  const order = (o: Partial<ExchangeRequest & { kind: 'Order' }>): ExchangeRequest & { kind: 'Order' } => {
    n += 1;
    return {
      kind: 'Order',
      trader: ALICE,
      strategyId: 'main',
      symbol: 'ETHP',
      side: 0,
      orderType: 1,
      amount: '1',
      price: '0',
      nonce: `0x${n.toString(16).padStart(64, '0')}`,
      orderHash: `0x${n.toString(16).padStart(50, '0')}`,
      ...o,
    };
  };
  const orderRows = (trader = ALICE, strategy = 'main'): OrderUpdateRow[] => ex.orderUpdates(trader, strategyIdHash(strategy));
  return {
    ex,
    clock,
    events,
    order,
    place: (o) => ex.submit(order(o)).orderHash!,
    orderRows,
    strategyRows: (trader = ALICE, strategy = 'main') => ex.strategyUpdates(trader, strategyIdHash(strategy)),
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
  it('refuses off-tick prices, small or off-increment sizes and large notionals with 422 SafetyFailure', () => {
    const h = harness();
    h.ex.deposit(ALICE, 'main', '1000000');
    const tick = submitError(h.ex, h.order({ orderType: 0, price: '1999.95' }));
    expect([tick.code, tick.status]).toEqual(['SafetyFailure', 422]);
    expect(tick.message).toContain('tickSize 0.1');
    expect(submitError(h.ex, h.order({ amount: '0.00005' })).message).toContain('below minOrderSize 0.0001');
    expect(submitError(h.ex, h.order({ amount: '0.00015' })).message).toContain('size increment 0.0001');
    // limit: 600 × 2000 = 1,200,000 > 1,000,000
    expect(submitError(h.ex, h.order({ orderType: 0, price: '2000', amount: '600' })).message).toContain('exceeds maxOrderNotional');
    // market, at mark: 500.1 × 2000 = 1,000,200
    expect(submitError(h.ex, h.order({ amount: '500.1' })).message).toContain('exceeds maxOrderNotional');
    expect(h.ex.submit(h.order({ amount: '500' })).sequenced).toBe(true); // 500 × 2000 = 1,000,000: at the limit
  });

  it('refuses malformed requests with 400 InvalidRequestPayload', () => {
    const h = harness();
    expect(submitError(h.ex, h.order({ symbol: 'DOGEP' })).status).toBe(400);
    expect(submitError(h.ex, h.order({ price: '2000' })).message).toContain('market order carries price "0"');
    expect(submitError(h.ex, h.order({ amount: 'lots' })).status).toBe(400);
    expect(submitError(h.ex, h.order({ nonce: '0x12' })).status).toBe(400);
    expect(submitError(h.ex, h.order({ trader: 'nobody' })).status).toBe(400);
  });

  it('refuses a reused nonce with 412 IllegalNonce, per trader', () => {
    const h = harness();
    h.ex.deposit(ALICE, 'main', '100000');
    const first = h.order({ orderType: 0, price: '1990' });
    h.ex.submit(first);
    const replay = submitError(h.ex, h.order({ orderType: 0, price: '1991', nonce: first.nonce }));
    expect([replay.code, replay.status]).toEqual(['IllegalNonce', 412]);
    // Another trader may use the same nonce.
    h.ex.deposit(BOB, 'main', '100000');
    expect(h.ex.submit(h.order({ trader: BOB, orderType: 0, price: '1990', nonce: first.nonce })).sequenced).toBe(true);
    // A refused request does not use up its nonce.
    const refused = h.order({ orderType: 0, price: '1990.05' });
    submitError(h.ex, refused);
    expect(h.ex.nonceUsed(ALICE, refused.nonce)).toBe(false);
  });

  it('caps open orders at 20 per strategy and symbol', () => {
    const h = harness();
    h.ex.deposit(ALICE, 'main', '100000');
    for (let i = 0; i < 20; i++) h.place({ orderType: 0, price: '1990', amount: '0.1' });
    expect(h.ex.openOrders(ALICE, strategyIdHash('main'))).toHaveLength(20);
    const capped = submitError(h.ex, h.order({ orderType: 0, price: '1990', amount: '0.1' }));
    expect([capped.code, capped.message]).toEqual(['SafetyFailure', 'ETHP: strategy main already has 20 open orders (at most 20)']);
    // Another strategy of the same trader has its own cap; a market order does not rest.
    h.ex.deposit(ALICE, 'other', '100000');
    h.place({ strategyId: 'other', orderType: 0, price: '1990', amount: '0.1' });
    h.place({ amount: '0.1' });
    expect(h.rejection()).toBeUndefined();
  });
});

describe('execution-level rejections', () => {
  it('rejects limit prices outside mark × (1 ± 0.02) on the aggressive side only', () => {
    const h = harness();
    h.ex.deposit(ALICE, 'main', '100000');
    // band: 2000 × 0.98 = 1960, 2000 × 1.02 = 2040
    h.place({ orderType: 0, price: '2040.1' });
    expect(h.rejection()).toBe(ORDER_REJECTION.MaxTakerPriceDeviation);
    h.place({ orderType: 0, side: 1, price: '1959.9' });
    expect(h.rejection()).toBe(ORDER_REJECTION.MaxTakerPriceDeviation);
    h.place({ orderType: 0, price: '2040', amount: '0.5' }); // at the edge: takes 0.5 @ 2000.2
    expect(h.orderRows().at(-1)).toMatchObject({
      reason: ORDER_UPDATE_REASON.Trade,
      fillPrice: '2000.2',
      fillAmount: '0.5',
      remainingAmount: '0',
    });
    h.place({ orderType: 0, price: '1900', amount: '0.5' }); // a passive bid far below the band rests
    expect(h.orderRows().at(-1)).toMatchObject({ reason: ORDER_UPDATE_REASON.Post, remainingAmount: '0.5', filledAmount: '0' });
  });

  it('matches market orders only inside the band and cancels the rest', () => {
    // asks from 2000 + 350 × 0.1 = 2035 upwards, 1 each: 2035.0 … 2040.0 is 51 levels inside the band
    const h = harness({ liquidity: { depth: '1', levels: 60, spreadTicks: 350 } });
    h.ex.deposit(ALICE, 'main', '1000000');
    const hash = h.place({ amount: '100' });
    const rows = h.orderRows().filter((r) => r.orderHash === hash);
    const trades = rows.filter((r) => r.reason === ORDER_UPDATE_REASON.Trade);
    expect(trades).toHaveLength(51);
    expect(trades.at(-1)).toMatchObject({ fillPrice: '2040', filledAmount: '51' });
    expect(rows.at(-1)).toMatchObject({ reason: ORDER_UPDATE_REASON.Cancellation, filledAmount: '51', remainingAmount: '0' });
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
    h.place({ orderType: 0, side: 1, price: '2000.1', amount: '0.5' }); // inside the synthetic spread: best ask
    h.place({ amount: '1' });
    expect(h.rejection()).toBe(ORDER_REJECTION.SelfMatch);
    expect(h.ex.metrics(ALICE, 'main').positions).toEqual({}); // nothing filled
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
    expect(h.orderRows().at(-1)).toMatchObject({ reason: ORDER_UPDATE_REASON.Trade, fillPrice: '1799.8', fillAmount: '1' });
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
  it('charges the taker fee and reports Trade and Fee strategy updates', () => {
    const h = harness();
    h.ex.deposit(ALICE, 'main', '1000');
    const hash = h.place({ amount: '1' });
    const trade = h.orderRows().find((r) => r.orderHash === hash)!;
    // fee = 1 × 2000.2 × 0.0005 = 1.0001
    expect(trade).toMatchObject({
      reason: ORDER_UPDATE_REASON.Trade,
      fillAmount: '1',
      fillPrice: '2000.2',
      fee: '1.0001',
      filledAmount: '1',
      remainingAmount: '0',
    });
    const rows = h.strategyRows();
    expect(rows.map((r) => [r.reason, r.collateralChange, r.collateral])).toEqual([
      [STRATEGY_UPDATE_REASON.Deposit, '1000', '1000'],
      [STRATEGY_UPDATE_REASON.Trade, '0', '1000'],
      [STRATEGY_UPDATE_REASON.Fee, '-1.0001', '998.9999'],
    ]);
    expect(rows[1]).toMatchObject({ symbol: 'ETHP', positionSide: 0, positionSize: '1', avgEntryPrice: '2000.2', tradeId: trade.tradeId });
    // Selling at the bid realizes (1999.8 − 2000.2) × 1 = −0.4 and pays 1999.8 × 0.0005 = 0.9999
    h.place({ side: 1, amount: '1' });
    expect(
      h
        .strategyRows()
        .slice(-2)
        .map((r) => [r.reason, r.collateralChange, r.collateral, r.positionSide]),
    ).toEqual([
      [STRATEGY_UPDATE_REASON.Trade, '-0.4', '998.5999', null],
      [STRATEGY_UPDATE_REASON.Fee, '-0.9999', '997.6', undefined],
    ]);
  });

  it('charges (or rebates) the configurable maker fee to a resting user order', () => {
    const h = harness({ fees: { makerFee: '-0.0001', takerFee: '0.0005' } });
    h.ex.deposit(ALICE, 'main', '10000');
    h.ex.deposit(BOB, 'mm', '10000');
    const ask = h.place({ trader: BOB, strategyId: 'mm', orderType: 0, side: 1, price: '2000.1', amount: '1' });
    h.place({ amount: '1' });
    // alice: 1 × 2000.1 × 0.0005 = 1.00005; bob: 1 × 2000.1 × −0.0001 = −0.20001 (a rebate)
    expect(h.orderRows().at(-1)).toMatchObject({ fillPrice: '2000.1', fee: '1.00005' });
    const bobRows = h.orderRows(BOB, 'mm').filter((r) => r.orderHash === ask);
    expect(bobRows.map((r) => [r.reason, r.fee, r.remainingAmount])).toEqual([
      [ORDER_UPDATE_REASON.Post, undefined, '1'],
      [ORDER_UPDATE_REASON.Trade, '-0.20001', '0'],
    ]);
    expect(h.strategyRows(BOB, 'mm').at(-1)).toMatchObject({
      reason: STRATEGY_UPDATE_REASON.Fee,
      collateralChange: '0.20001',
      collateral: '10000.20001',
    });
    expect(h.ex.openOrders(BOB, strategyIdHash('mm'))).toEqual([]);
  });

  it('fills a resting order when the re-laid synthetic book crosses it (the user is the maker)', () => {
    const h = harness();
    h.ex.deposit(ALICE, 'main', '100000');
    const bid = h.place({ orderType: 0, price: '1995', amount: '60' });
    // mark 1990: synthetic asks from 1990.2, 50 each; 50 @ 1995 against the first level, 10 against the second
    h.ex.setMark('ETHP', '1990');
    const rows = h.orderRows().filter((r) => r.orderHash === bid);
    expect(rows.map((r) => [r.reason, r.fillPrice, r.fillAmount, r.remainingAmount])).toEqual([
      [ORDER_UPDATE_REASON.Post, undefined, undefined, '60'],
      [ORDER_UPDATE_REASON.Trade, '1995', '50', '10'],
      [ORDER_UPDATE_REASON.Trade, '1995', '10', '0'],
    ]);
    // The level that traded 10 keeps 40: consumed liquidity replenishes only at the next mark.
    expect(
      h.ex
        .bookLevels('ETHP')
        .filter((l) => l.side === 1)
        .slice(0, 2),
    ).toEqual([
      { symbol: 'ETHP', side: 1, price: '1990.3', amount: '40' },
      { symbol: 'ETHP', side: 1, price: '1990.4', amount: '50' },
    ]);
  });

  it('cancels one order, all orders of a symbol, and rejects a cancel of an order no longer open', () => {
    const h = harness();
    h.ex.deposit(ALICE, 'main', '100000');
    const a = h.place({ orderType: 0, price: '1990' });
    const b = h.place({ orderType: 0, price: '1991' });
    const c = h.place({ orderType: 0, price: '1992' });
    const nonce = (i: number): string => `0x${(1000 + i).toString(16).padStart(64, '0')}`;
    h.ex.submit({ kind: 'CancelOrder', trader: ALICE, symbol: 'ETHP', orderHash: a, nonce: nonce(1) });
    expect(h.orderRows().at(-1)).toMatchObject({ orderHash: a, reason: ORDER_UPDATE_REASON.Cancellation, remainingAmount: '0' });
    h.ex.submit({ kind: 'CancelOrder', trader: ALICE, symbol: 'ETHP', orderHash: a, nonce: nonce(2) });
    expect(h.orderRows().at(-1)).toMatchObject({
      orderHash: a,
      reason: ORDER_UPDATE_REASON.CancelRejection,
      cancelRejection: 'order is not open (cancelled)',
    });
    h.ex.submit({ kind: 'CancelAll', trader: ALICE, strategyId: 'main', symbol: 'ETHP', nonce: nonce(3) });
    expect(
      h
        .orderRows()
        .slice(-2)
        .map((r) => [r.orderHash, r.reason]),
    ).toEqual([
      [b, ORDER_UPDATE_REASON.Cancellation],
      [c, ORDER_UPDATE_REASON.Cancellation],
    ]);
    expect(h.ex.openOrders(ALICE, strategyIdHash('main'))).toEqual([]);
    // Bob cannot cancel Alice's order.
    expect(submitError(h.ex, { kind: 'CancelOrder', trader: BOB, symbol: 'ETHP', orderHash: b, nonce: nonce(4) }).code).toBe(
      'SafetyFailure',
    );
  });
});

describe('margin engine', () => {
  function longAlice(): Harness & { ask: string } {
    const h = harness();
    h.ex.deposit(ALICE, 'main', '1000');
    h.place({ amount: '1.4' }); // collateral 1000 − 1.40014 = 998.59986, long 1.4 @ 2000.2
    const ask = h.place({ orderType: 0, side: 1, price: '2030', amount: '0.5' }); // a working (reducing) order
    return { ...h, ask };
  }

  it('liquidates when the margin fraction falls below 0.05: cancels, closes at the mark, settles collateral', () => {
    const h = longAlice();
    // mark 1360: equity 998.59986 + 1.4 × (1360 − 2000.2) = 102.31986 ≥ 0.05 × 1904 = 95.2 → kept
    h.ex.setMark('ETHP', '1360');
    expect(h.ex.metrics(ALICE, 'main').liquidatable).toBe(false);
    const before = h.ex.globalOrdinal;
    // mark 1350: equity 998.59986 − 910.28 = 88.31986 < 0.05 × 1890 = 94.5 → MF 0.0467 < 0.05
    h.ex.setMark('ETHP', '1350');
    const orders = h.orderRows().filter((r) => r.globalOrdinal > before);
    expect(orders.map((r) => [r.reason, r.orderHash === h.ask])).toEqual([
      [ORDER_UPDATE_REASON.Cancellation, true],
      [ORDER_UPDATE_REASON.Liquidation, false],
    ]);
    expect(orders[1]).toMatchObject({
      side: 1,
      orderType: 1,
      amount: '1.4',
      fillAmount: '1.4',
      fillPrice: '1350',
      filledAmount: '1.4',
      remainingAmount: '0',
    });
    const strategy = h.strategyRows().filter((r) => r.globalOrdinal > before);
    // realized 1.4 × (1350 − 2000.2) = −910.28
    expect(strategy).toEqual([
      expect.objectContaining({
        reason: STRATEGY_UPDATE_REASON.Liquidation,
        collateralChange: '-910.28',
        collateral: '88.31986',
        symbol: 'ETHP',
        positionSide: null,
        positionSize: '0',
      }),
    ]);
    expect(h.ex.strategyState(ALICE, 'main')).toMatchObject({ collateral: '88.31986', positions: [] });
    expect(h.ex.openOrders(ALICE, strategyIdHash('main'))).toEqual([]);
    // Every row reached the sink too, in ordinal order.
    const sunk = h.events
      .filter((e) => e.feed === 'ORDER_UPDATE' || e.feed === 'STRATEGY_UPDATE')
      .map((e) => ('row' in e ? e.row.globalOrdinal : 0));
    expect(sunk).toEqual([...sunk].sort((a, b) => a - b));
  });

  it('lets the insurance fund absorb a negative balance after a gap', () => {
    const h = longAlice();
    // mark 1000: 998.59986 + 1.4 × (1000 − 2000.2) = −401.68014 → collateral settles at 0
    h.ex.setMark('ETHP', '1000');
    expect(h.strategyRows().at(-1)).toMatchObject({
      reason: STRATEGY_UPDATE_REASON.Liquidation,
      collateralChange: '-998.59986',
      collateral: '0',
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
        h.order({ orderType: 0, side: 1, price: '2001', amount: '1', nonce: `0x${'a2'.repeat(32)}`, orderHash: `0x${'a2'.repeat(25)}` }),
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
    for (const r of sequence) receipts += h.ex.submit(r).sequenced ? 1 : 0;
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
    expect(rows.filter((r) => r.reason === ORDER_UPDATE_REASON.Trade && r.trader === BOB).map((r) => r.fillPrice)).toEqual([
      '2000.4',
      '2001',
    ]);
    expect(rows.at(-1)).toMatchObject({
      trader: BOB,
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
      collateralChange: '-0.201',
      collateral: '9998.7989',
      symbol: 'ETHP',
    });
  });
});
