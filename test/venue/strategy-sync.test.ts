import { describe, expect, it } from 'vitest';
import { positionSchema, strategySchema, type Position } from '../../src/derivadex/rest-bodies.ts';
import type { LedgerEvent } from '../../src/domain/ledger.ts';
import { OrderLifecycle, type LifecycleEvent } from '../../src/venue/order-lifecycle.ts';
import {
  StrategySync,
  ledgerFromSnapshot,
  mergeRows,
  type Drift,
  type StrategySnapshot,
  type UserRow,
  type WithdrawRejection,
} from '../../src/venue/strategy-sync.ts';
import {
  FIXTURE_TRADER,
  MAIN_HASH,
  asObject,
  fixture,
  intent,
  orderUpdate,
  orderUpdateHistory,
  strategyUpdate,
  strategyUpdateHistory,
} from './wire-fixtures.ts';

/*
 * StrategySync on rows in the real shapes: per-family floors and dedupe, the bracketed snapshot, REST
 * replay merged by (epochId, txOrdinal, ordinal), the collateral checks of §10.6.
 */

const HASH = `0x${'ab'.repeat(25)}`;
const COUNTERPARTY = `0x00${'c0'.repeat(20)}`;

function position(fields: Partial<Position>): Position {
  const base = asObject((fixture('rest-positions') as { value: unknown[] }).value[0], 'position');
  return positionSchema.parse({ ...base, ...fields });
}

/** Collateral 10000, long 2 ETHP at 1900, at horizon ORDER_UPDATE 10 / STRATEGY_UPDATE 100. */
const SNAPSHOT: StrategySnapshot = {
  strategy: strategySchema.parse({ ...asObject(asObject(fixture('rest-strategy'), 'body').value, 'strategy'), availCollateral: '10000' }),
  positions: [position({ balance: '2', side: 1, avgEntryPrice: '1900' })],
  horizon: { ORDER_UPDATE: 10, STRATEGY_UPDATE: 100 },
};

/** Our order HASH (Bid 3 @ 2000) fills `amount` at `price` against a taker; our maker fee `fee`. */
function trade(g: number, amount: string, price: string, fee: string, cumulative: string, extra: Record<string, unknown> = {}): UserRow {
  const row = orderUpdate('ws-order-update-trade', {
    globalOrdinal: g,
    amount,
    price,
    makerFeeCollateral: fee,
    cumulativeFilledAmount: cumulative,
    makerOrderIntent: intent(FIXTURE_TRADER, { orderHash: HASH, amount: '3', side: 0, price: '2000' }),
    takerOrderIntent: intent(COUNTERPARTY, { orderHash: `0x${'ee'.repeat(25)}`, side: 1 }),
    ...extra,
  });
  return { feed: 'ORDER_UPDATE', row };
}

function update(g: number, reason: number, amount: string, collateral: string, extra: Record<string, unknown> = {}): UserRow {
  const row = strategyUpdate('ws-strategy-update-funding', { globalOrdinal: g, reason, amount, newAvailCollateral: collateral, ...extra });
  return { feed: 'STRATEGY_UPDATE', row };
}

function setup() {
  const ledger: LedgerEvent[] = [];
  const drifts: Drift[] = [];
  const lifecycle: LifecycleEvent[] = [];
  const withdrawals: WithdrawRejection[] = [];
  const orders = new OrderLifecycle((e) => lifecycle.push(e));
  orders.submit({ strategyId: 'alpha', clientOrderId: 'c1', orderHash: HASH, symbol: 'ETHP', side: 'buy', amount: '3' }, 0);
  const sync = new StrategySync(
    'alpha',
    { traderAddress: FIXTURE_TRADER, strategyIdHash: MAIN_HASH },
    orders,
    {
      ledger: (_id, event) => ledger.push(event),
      ledgerRejected: (_id, event, reason) => {
        throw new Error(`ledger refused ${event.id}: ${reason}`);
      },
      cancelRejected: () => {},
      liquidation: () => {},
      withdrawRejected: (_id, w) => withdrawals.push(w),
      drift: (d) => drifts.push(d),
    },
    () => 5,
  );
  sync.bootstrap(SNAPSHOT);
  sync.endSync(true);
  return { sync, ledger, drifts, lifecycle, withdrawals };
}

describe('ledgerFromSnapshot', () => {
  it('starts from availCollateral and the positions (side 1 Long, 2 Short, size balance)', () => {
    const ledger = ledgerFromSnapshot(SNAPSHOT.strategy, [
      ...SNAPSHOT.positions,
      position({ symbol: 'BTCP', side: 2, balance: '0.5', avgEntryPrice: '60000' }),
      position({ symbol: 'SOLP', side: 1, balance: '0', avgEntryPrice: '0' }),
    ]);
    expect(ledger.collateral).toBe('10000');
    expect(ledger.positions).toEqual({ BTCP: { size: '-0.5', avgEntry: '60000' }, ETHP: { size: '2', avgEntry: '1900' } });
    expect(ledger.lastSeq).toBe(-1);
  });
});

describe('StrategySync', () => {
  it('applies live rows once, in arrival order, with a seq in application order, floors per family', () => {
    const { sync, ledger, drifts } = setup();
    // Buy 1 at 2000 with fee 1: collateral 10000 − 1 = 9999. The STRATEGY_UPDATE Trade row shows 10000
    // (before the fee, not checked); the Fee row shows 9999 (checked).
    sync.offer(trade(11, '1', '2000', '1', '1'));
    sync.offer(
      update(101, 5, '0', '10000', {
        positions: [{ symbol: 'ETHP', balance: '3', side: 1, avgEntryPrice: '1933.333333333333', realizedPnl: '0' }],
      }),
    );
    sync.offer(update(102, 6, '-1', '9999'));
    sync.offer(trade(11, '1', '2000', '1', '1')); // a duplicate
    expect(ledger.map((e) => [e.id, e.seq])).toEqual([['order:11', 0]]);
    expect(sync.ledger?.collateral).toBe('9999');
    expect(sync.ledger?.positions.ETHP?.size).toBe('3');
    expect(sync.floors).toEqual({ ORDER_UPDATE: 11, STRATEGY_UPDATE: 102 });
    expect(drifts).toEqual([]);
  });

  it('a globalOrdinal of one family never hides a row of the other', () => {
    const { sync, ledger } = setup();
    // ORDER_UPDATE 11 is above its family's floor (10) though below the STRATEGY_UPDATE one (100);
    // STRATEGY_UPDATE 11 is below its own. ORDER_UPDATE 101 and STRATEGY_UPDATE 101 both count (§10.4).
    sync.offer(trade(11, '1', '2000', '0', '1'));
    sync.offer(update(11, 0, '500', '10500'));
    sync.offer(trade(101, '1', '2000', '0', '2'));
    sync.offer(update(101, 0, '500', '10500'));
    expect(ledger.map((e) => e.id)).toEqual(['order:11', 'order:101', 'strategy:101']);
  });

  it('queues live rows while syncing, replays REST rows up to the horizon merged by (epochId, txOrdinal, ordinal), then drains without doubles', () => {
    const { sync, ledger, lifecycle } = setup();
    sync.beginSync();
    sync.offer(trade(14, '1', '2000', '0', '2')); // live, after the horizon
    sync.offer(trade(11, '1', '2000', '0', '1')); // live, also in REST
    expect(ledger).toEqual([]);
    const rest: UserRow[] = [
      {
        feed: 'ORDER_UPDATE',
        row: orderUpdateHistory('ws-order-update-trade', { ...trade(11, '1', '2000', '0', '1').row, epochId: 7, txOrdinal: 3, ordinal: 0 }),
      },
      {
        feed: 'ORDER_UPDATE',
        row: orderUpdateHistory('ws-order-update-trade', { ...trade(14, '1', '2000', '0', '2').row, epochId: 7, txOrdinal: 9, ordinal: 0 }),
      },
      // Written before the trade (txOrdinal 1) though listed last: applied first.
      {
        feed: 'STRATEGY_UPDATE',
        row: strategyUpdateHistory('ws-strategy-update-deposit', {
          globalOrdinal: 101,
          epochId: 7,
          txOrdinal: 1,
          amount: '500',
          newAvailCollateral: '10500',
        }),
      },
    ];
    sync.replay(rest, { ORDER_UPDATE: 12, STRATEGY_UPDATE: 101 });
    expect(ledger.map((e) => e.id)).toEqual(['strategy:101', 'order:11']);
    expect(sync.floors).toEqual({ ORDER_UPDATE: 12, STRATEGY_UPDATE: 101 });
    sync.endSync(true);
    expect(ledger.map((e) => [e.id, e.seq])).toEqual([
      ['strategy:101', 0],
      ['order:11', 1],
      ['order:14', 2],
    ]);
    expect(sync.floors).toEqual({ ORDER_UPDATE: 14, STRATEGY_UPDATE: 101 });
    expect(lifecycle.map((e) => [e.status, e.filled, e.remaining])).toEqual([
      ['submitted', '0', '3'],
      ['sequenced', '0', '3'],
      ['partially-filled', '1', '2'],
      ['partially-filled', '2', '1'],
    ]);
  });

  it('mergeRows orders REST rows of both families by (epochId, txOrdinal, ordinal)', () => {
    const o = (epochId: number, txOrdinal: number, ordinal: number, g: number): UserRow => ({
      feed: 'ORDER_UPDATE',
      row: orderUpdateHistory('ws-order-update-post', { globalOrdinal: g, epochId, txOrdinal, ordinal }),
    });
    const s = (epochId: number, txOrdinal: number, ordinal: number, g: number): UserRow => ({
      feed: 'STRATEGY_UPDATE',
      row: strategyUpdateHistory('ws-strategy-update-deposit', { globalOrdinal: g, epochId, txOrdinal, ordinal }),
    });
    const merged = mergeRows([s(2, 0, 0, 9), o(1, 5, 1, 3), s(1, 5, 0, 8), o(1, 2, 0, 2)]);
    expect(merged.map((r) => `${r.feed[0]}${r.row.globalOrdinal}`)).toEqual(['O2', 'S8', 'O3', 'S9']);
  });

  it('keeps the floors after an incomplete sync, so the next replay starts below the hole', () => {
    const { sync } = setup();
    sync.beginSync();
    sync.offer(trade(20, '1', '2000', '0', '1'));
    sync.endSync(false);
    sync.offer(update(121, 0, '1', '10001'));
    expect(sync.floors).toEqual({ ORDER_UPDATE: 10, STRATEGY_UPDATE: 100 });
    sync.beginSync();
    const rest: UserRow[] = [
      {
        feed: 'ORDER_UPDATE',
        row: orderUpdateHistory('ws-order-update-trade', { ...trade(15, '0.5', '2000', '0', '0.5').row, txOrdinal: 1 }),
      },
      {
        feed: 'ORDER_UPDATE',
        row: orderUpdateHistory('ws-order-update-trade', { ...trade(20, '1', '2000', '0', '1.5').row, txOrdinal: 2 }),
      },
    ];
    sync.replay(rest, { ORDER_UPDATE: 20, STRATEGY_UPDATE: 121 });
    sync.endSync(true);
    expect(sync.floors).toEqual({ ORDER_UPDATE: 20, STRATEGY_UPDATE: 121 });
    expect(sync.ledger?.positions.ETHP?.size).toBe('3.5'); // 2 + 0.5 + 1
  });

  it('books the insurance top-up shown by a Liquidation row when flat, and reports any other difference as drift', () => {
    const { sync, ledger, drifts } = setup();
    // Liquidated: 2 at 1000 from 1900, realized (1000 − 1900) × 2 = −1800 → collateral 8200. The venue shows 8300.
    const liquidation = orderUpdate('ws-order-update-liquidation', {
      globalOrdinal: 11,
      amount: '2',
      price: '1000',
      liquidatedTraderAddress: FIXTURE_TRADER,
      liquidatedStrategyIdHash: MAIN_HASH,
    });
    sync.offer({ feed: 'ORDER_UPDATE', row: liquidation });
    sync.offer(update(101, 7, '-1700', '8300', { positions: [] }));
    expect(ledger.map((e) => [e.kind, e.id])).toEqual([
      ['liquidation', 'order:11'],
      ['fee', 'insurance:101'],
    ]);
    expect(sync.ledger?.collateral).toBe('8300');
    sync.offer(update(102, 3, '-5', '8200')); // funding −5 → 8295 locally, the venue says 8200
    expect(drifts).toEqual([{ strategyId: 'alpha', globalOrdinal: 102, field: 'collateral', venue: '8200', local: '8295' }]);
  });

  it('checks Deposit, WithdrawIntent and positions[]; a WithdrawRejection is reported and moves nothing', () => {
    const { sync, drifts, withdrawals } = setup();
    sync.offer(update(101, 0, '100', '10100'));
    sync.offer(update(102, 2, '-50', '10050', { newLockedCollateral: '50' })); // 10100 − 50
    sync.offer({ feed: 'STRATEGY_UPDATE', row: strategyUpdate('ws-strategy-update-withdraw-rejection', { globalOrdinal: 103 }) });
    expect(sync.ledger?.collateral).toBe('10050');
    expect(withdrawals).toEqual([{ reason: 'MaxWithdrawalAmount', amount: '0', globalOrdinal: 103 }]);
    sync.offer(
      update(104, 4, '0', '10050', { positions: [{ symbol: 'ETHP', balance: '1', side: 2, avgEntryPrice: '1900', realizedPnl: '0' }] }),
    );
    expect(drifts).toEqual([{ strategyId: 'alpha', globalOrdinal: 104, field: 'position', symbol: 'ETHP', venue: '-1', local: '2' }]);
  });

  it('reconcile compares availCollateral and every position with a snapshot', () => {
    const { sync, drifts } = setup();
    expect(sync.reconcile(SNAPSHOT)).toEqual([]);
    const off = sync.reconcile({
      ...SNAPSHOT,
      strategy: { ...SNAPSHOT.strategy, availCollateral: '9990' },
      positions: [position({ symbol: 'BTCP', side: 2, balance: '1', avgEntryPrice: '1' })],
    });
    expect(off.map((d) => [d.field, d.symbol, d.venue, d.local])).toEqual([
      ['collateral', undefined, '9990', '10000'],
      ['position', 'BTCP', '-1', '0'],
      ['position', 'ETHP', '0', '2'],
    ]);
    expect(drifts.length).toBe(3);
  });
});
