import { describe, expect, it } from 'vitest';
import type { LedgerEvent } from '../../src/domain/ledger.ts';
import { OrderLifecycle, type LifecycleEvent } from '../../src/venue/order-lifecycle.ts';
import type { OrderUpdateRow, StrategyState, StrategyUpdateRow } from '../../src/venue/protocol.ts';
import { StrategySync, ledgerFromSnapshot, type Drift, type UserRow } from '../../src/venue/strategy-sync.ts';

const TRADER = `0x${'12'.repeat(20)}`;
const HASH = `0x${'ab'.repeat(25)}`;
const AT = '2026-01-05T13:00:00.000Z';

const SNAPSHOT: StrategyState = {
  trader: TRADER,
  strategyId: 'main',
  strategyIdHash: '0x2576ebd1',
  collateral: '10000',
  positions: [{ symbol: 'ETHP', side: 0, size: '2', avgEntryPrice: '1900' }],
  globalOrdinal: 10,
};

function trade(g: number, amount: string, price: string, fee: string, tradeId: string, filled: string): UserRow {
  const row: OrderUpdateRow = {
    globalOrdinal: g,
    epochId: 1,
    orderHash: HASH,
    symbol: 'ETHP',
    trader: TRADER,
    strategyIdHash: '0x2576ebd1',
    side: 0,
    orderType: 0,
    amount: '3',
    price: '2000',
    reason: 1,
    fillAmount: amount,
    fillPrice: price,
    fee,
    filledAmount: filled,
    remainingAmount: '0',
    tradeId,
    createdAt: AT,
  };
  return { feed: 'ORDER_UPDATE', row };
}

function update(
  g: number,
  reason: StrategyUpdateRow['reason'],
  change: string,
  collateral: string,
  extra: Partial<StrategyUpdateRow> = {},
): UserRow {
  return {
    feed: 'STRATEGY_UPDATE',
    row: {
      globalOrdinal: g,
      epochId: 1,
      trader: TRADER,
      strategyIdHash: '0x2576ebd1',
      reason,
      collateralChange: change,
      collateral,
      createdAt: AT,
      ...extra,
    },
  };
}

function setup() {
  const ledger: LedgerEvent[] = [];
  const drifts: Drift[] = [];
  const lifecycle: LifecycleEvent[] = [];
  const orders = new OrderLifecycle((e) => lifecycle.push(e));
  orders.submit({ strategyId: 'alpha', clientOrderId: 'c1', orderHash: HASH, symbol: 'ETHP', side: 'buy', amount: '3' }, 0);
  const sync = new StrategySync(
    'alpha',
    TRADER,
    '0x2576ebd1',
    orders,
    {
      ledger: (_id, event) => ledger.push(event),
      ledgerRejected: (_id, event, reason) => {
        throw new Error(`ledger refused ${event.id}: ${reason}`);
      },
      cancelRejected: () => {},
      liquidation: () => {},
      drift: (d) => drifts.push(d),
    },
    () => 5,
  );
  sync.bootstrap(SNAPSHOT);
  sync.endSync(true);
  return { sync, ledger, drifts, lifecycle };
}

describe('ledgerFromSnapshot', () => {
  it('starts from the venue state and refuses events at or before its globalOrdinal', () => {
    const ledger = ledgerFromSnapshot({
      ...SNAPSHOT,
      positions: [...SNAPSHOT.positions, { symbol: 'BTCP', side: 1, size: '0.5', avgEntryPrice: '60000' }],
    });
    expect(ledger.collateral).toBe('10000');
    expect(ledger.positions).toEqual({ BTCP: { size: '-0.5', avgEntry: '60000' }, ETHP: { size: '2', avgEntry: '1900' } });
    expect(ledger.lastSeq).toBe(10);
    expect(ledger.checkpoint.lastSeq).toBe(10);
  });
});

describe('StrategySync', () => {
  it('applies live rows once, in order, and checks the Trade and Fee rows against the ledger', () => {
    const { sync, ledger, drifts } = setup();
    // Buy 1 at 2000 with fee 1: collateral 10000 − 1 = 9999; the Trade row shows 10000 (before the fee).
    sync.offer(trade(11, '1', '2000', '1', 't1', '1'));
    sync.offer(update(12, 5, '0', '10000', { symbol: 'ETHP', positionSide: 0, positionSize: '3', tradeId: 't1' }));
    sync.offer(update(13, 6, '-1', '9999'));
    sync.offer(trade(11, '1', '2000', '1', 't1', '1')); // a duplicate
    expect(ledger.map((e) => e.id)).toEqual([`${HASH}:11`]);
    expect(sync.ledger?.collateral).toBe('9999');
    expect(sync.ledger?.positions.ETHP?.size).toBe('3');
    // Per feed: ORDER_UPDATE is applied up to 11, STRATEGY_UPDATE up to 13; a replay starts at the lower.
    expect(sync.floor).toBe(11);
    expect(drifts).toEqual([]);
  });

  it('queues live rows while syncing, replays REST rows up to the horizon, then drains without doubles', () => {
    const { sync, ledger, lifecycle } = setup();
    sync.beginSync();
    sync.offer(trade(14, '1', '2000', '0', 't3', '2')); // live, after the horizon
    sync.offer(trade(11, '1', '2000', '0', 't2', '1')); // live, also in REST
    expect(ledger).toEqual([]);
    sync.replay([trade(11, '1', '2000', '0', 't2', '1'), trade(14, '1', '2000', '0', 't3', '2'), update(12, 0, '500', '10500')], 12);
    expect(ledger.map((e) => e.seq)).toEqual([11, 12]);
    expect(sync.floor).toBe(12);
    sync.endSync(true);
    expect(ledger.map((e) => e.seq)).toEqual([11, 12, 14]);
    // ORDER_UPDATE is complete up to 14, STRATEGY_UPDATE only up to the horizon 12: the floor is the lower.
    expect(sync.floor).toBe(12);
    expect(lifecycle.map((e) => [e.status, e.filled])).toEqual([
      ['submitted', '0'],
      ['sequenced', '0'],
      ['partially-filled', '1'],
      ['partially-filled', '2'],
    ]);
  });

  it('keeps the floor after an incomplete sync, so the next replay starts below the hole', () => {
    const { sync } = setup();
    sync.beginSync();
    sync.offer(trade(20, '1', '2000', '0', 't4', '1'));
    sync.endSync(false);
    sync.offer(update(21, 0, '1', '10001'));
    expect(sync.floor).toBe(10);
    sync.beginSync();
    sync.replay([trade(15, '0.5', '2000', '0', 't5', '0.5'), trade(20, '1', '2000', '0', 't4', '1'), update(21, 0, '1', '10001')], 21);
    sync.endSync(true);
    expect(sync.floor).toBe(21);
    expect(sync.ledger?.positions.ETHP?.size).toBe('3.5'); // 2 + 0.5 + 1
  });

  it('books the insurance top-up shown by a Liquidation row, and reports any other difference as drift', () => {
    const { sync, ledger, drifts } = setup();
    // Liquidation of 2 at 1000 from 1900: realized (1000 − 1900) × 2 = −1800; collateral 8200. Made up: the venue shows 8300.
    sync.offer({
      feed: 'ORDER_UPDATE',
      row: { ...trade(11, '2', '1000', '0', 'L1', '2').row, orderHash: `0xff${'00'.repeat(24)}`, reason: 2, side: 1 } as OrderUpdateRow,
    });
    sync.offer(update(12, 7, '-1700', '8300', { symbol: 'ETHP', positionSide: null, positionSize: '0', tradeId: 'L1' }));
    expect(ledger.map((e) => [e.kind, e.id])).toEqual([
      ['liquidation', `0xff${'00'.repeat(24)}:11`],
      ['fee', 'insurance:12'],
    ]);
    expect(sync.ledger?.collateral).toBe('8300');
    sync.offer(update(13, 3, '-5', '8200')); // funding −5 → 8295 locally, the venue says 8200
    expect(drifts).toEqual([{ strategyId: 'alpha', globalOrdinal: 13, field: 'collateral', venue: '8200', local: '8295' }]);
  });

  it('reconcile compares collateral and every position with a snapshot', () => {
    const { sync, drifts } = setup();
    expect(sync.reconcile(SNAPSHOT)).toEqual([]);
    const off = sync.reconcile({
      ...SNAPSHOT,
      collateral: '9990',
      positions: [{ symbol: 'BTCP', side: 1, size: '1', avgEntryPrice: '1' }],
    });
    expect(off.map((d) => [d.field, d.symbol, d.venue, d.local])).toEqual([
      ['collateral', undefined, '9990', '10000'],
      ['position', 'BTCP', '-1', '0'],
      ['position', 'ETHP', '0', '2'],
    ]);
    expect(drifts.length).toBe(3);
  });
});
