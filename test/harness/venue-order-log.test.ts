import { beforeEach, describe, expect, it } from 'vitest';
import { ORDER_SIDE, ORDER_TYPE, ORDER_UPDATE_REASON } from '../../src/derivadex/codes.ts';
import { strategyIdHash } from '../../src/derivadex/crypto/bytes32.ts';
import type { OrderUpdateHistoryRow } from '../../src/derivadex/order-update.ts';
import { checkOrderLog } from './venue-order-log.ts';

/*
 * The order-log checker on hand-written ORDER_UPDATE history rows (the shapes the simulator serves), so
 * each verdict can be read off the rows: lifetimes, overlaps, flips, and what is not ours.
 */

const TRADER = `0x00${'11'.repeat(20)}`;
const OTHER = `0x00${'22'.repeat(20)}`;
const ALPHA = strategyIdHash('alpha');
const BETA = strategyIdHash('beta');
const hash = (n: number) => `0x${n.toString(16).padStart(50, '0')}`;

interface Intent {
  order: number;
  side: 'buy' | 'sell';
  amount: string;
  trader?: string;
  strategy?: string;
}

function intent(i: Intent): OrderUpdateHistoryRow['makerOrderIntent'] {
  return {
    epochId: 1,
    orderHash: hash(i.order),
    symbol: 'ETHP',
    side: i.side === 'buy' ? ORDER_SIDE.Bid : ORDER_SIDE.Ask,
    amount: i.amount,
    price: '2000',
    traderAddress: i.trader ?? TRADER,
    strategyIdHash: i.strategy ?? ALPHA,
    orderType: ORDER_TYPE.Limit,
    stopPrice: '0',
    nonce: `0x${'00'.repeat(32)}`,
    signature: `0x${'00'.repeat(65)}`,
    createdAt: '2026-01-05T13:00:00.000Z',
  };
}

let ordinal = 0;
function row(reason: number, maker: Intent, extra: { amount?: string; taker?: Intent } = {}): OrderUpdateHistoryRow {
  ordinal += 1;
  return {
    globalOrdinal: ordinal,
    epochId: 1,
    txOrdinal: ordinal,
    ordinal: 0,
    reason: reason as OrderUpdateHistoryRow['reason'],
    symbol: 'ETHP',
    makerOrderIntent: intent(maker),
    ...(extra.taker ? { takerOrderIntent: intent(extra.taker) } : {}),
    ...(extra.amount ? { amount: extra.amount, price: '2000' } : {}),
    createdAt: '2026-01-05T13:00:00.000Z',
  };
}

const { Post, Trade, Cancellation, OrderRejection } = ORDER_UPDATE_REASON;
const options = { trader: TRADER, strategy: 'alpha', startPositions: { ETHP: '1' } };

describe('checkOrderLog', () => {
  // Each test's rows are numbered from 1.
  beforeEach(() => {
    ordinal = 0;
  });

  it('finds two reducing orders working at once', () => {
    const a = { order: 1, side: 'sell', amount: '1' } as const;
    const b = { order: 2, side: 'sell', amount: '1' } as const;
    const report = checkOrderLog([row(Post, a), row(Post, b), row(Cancellation, a), row(Cancellation, b)], options);
    // a lives over ordinals 1..3, b starts at 2: one overlap, at b's first row.
    expect(report.overlaps).toEqual([{ first: hash(1), second: hash(2), at: 2 }]);
    expect(report.orders.map((o) => [o.first, o.end, o.outcome])).toEqual([
      [1, 3, 'cancelled'],
      [2, 4, 'cancelled'],
    ]);
    expect(report.flips).toEqual([]);
  });

  it('an exit sent twice: no overlap when the first filled first, but the second flips long 1 to short 1 through flat', () => {
    const exit1 = { order: 3, side: 'sell', amount: '1' } as const;
    const exit2 = { order: 4, side: 'sell', amount: '1' } as const;
    const maker = { order: 90, side: 'buy', amount: '5', trader: OTHER } as const;
    // We are the taker both times: the intent is found as takerOrderIntent.
    const rows = [row(Trade, maker, { amount: '1', taker: exit1 }), row(Trade, maker, { amount: '1', taker: exit2 })];
    const report = checkOrderLog(rows, options);
    expect(report.overlaps).toEqual([]);
    // 1 − 1 = 0 (exit 1 ends flat), 0 − 1 = −1: short, the other side of the long held before exit 2 began.
    expect(report.flips).toEqual([{ orderHash: hash(4), symbol: 'ETHP', before: '0', after: '-1', heldSide: 1, at: 2 }]);
    expect(report.positions).toEqual({ ETHP: '-1' });
  });

  it('a partial fill then a cancel ends the order at the cancel; an order with no terminal row is still open', () => {
    const a = { order: 5, side: 'sell', amount: '1' } as const;
    const b = { order: 6, side: 'sell', amount: '0.5' } as const;
    const maker = { order: 91, side: 'buy', amount: '5', trader: OTHER } as const;
    const report = checkOrderLog([row(Trade, maker, { amount: '0.4', taker: a }), row(Cancellation, a), row(Post, b)], options);
    expect(report.orders.map((o) => [o.filled, o.end, o.outcome ?? 'open'])).toEqual([
      ['0.4', 2, 'cancelled'],
      ['0', Number.POSITIVE_INFINITY, 'open'],
    ]);
    expect(report.overlaps).toEqual([]);
    // 1 − 0.4 = 0.6 left.
    expect(report.positions).toEqual({ ETHP: '0.6' });
  });

  it("ignores other strategies and traders, rejections end an order, and `reducing` leaves the strategy's entries out", () => {
    const entry = { order: 7, side: 'buy', amount: '1' } as const;
    const exit = { order: 8, side: 'sell', amount: '1' } as const;
    const beta = { order: 9, side: 'sell', amount: '1', strategy: BETA } as const;
    const stranger = { order: 10, side: 'sell', amount: '1', trader: OTHER } as const;
    const rejected = { order: 11, side: 'sell', amount: '1' } as const;
    const rows = [row(Post, entry), row(Post, exit), row(Post, beta), row(Post, stranger), row(OrderRejection, rejected)];
    const all = checkOrderLog(rows, options);
    expect(all.orders.map((o) => o.orderHash)).toEqual([hash(7), hash(8), hash(11)]);
    expect(all.orders.find((o) => o.orderHash === hash(11))).toMatchObject({ first: 5, end: 5, outcome: 'rejected' });
    // Every order counts as reducing by default: the working entry overlaps the exit.
    expect(all.overlaps.map((o) => [o.first, o.second])).toEqual([
      [hash(7), hash(8)],
      [hash(7), hash(11)],
      [hash(8), hash(11)],
    ]);
    const exitsOnly = checkOrderLog(rows, { ...options, reducing: (o) => o.orderHash !== hash(7) });
    // The exit is still working when the rejected one arrived: that is an overlap too (both were sent).
    expect(exitsOnly.overlaps.map((o) => [o.first, o.second])).toEqual([[hash(8), hash(11)]]);
  });

  it('says what is missing', () => {
    expect(() => checkOrderLog([], { trader: TRADER })).toThrow('options.strategy or options.strategyIdHash');
  });
});
