import { describe, expect, it } from 'vitest';
import { balanceOfStrategyUpdate, ledgerEventOfOrderUpdate, ledgerEventOfStrategyUpdate } from '../../src/venue/ledger-events.ts';
import type { OrderUpdateRow, StrategyUpdateRow } from '../../src/venue/protocol.ts';

const HASH = `0x${'AB'.repeat(25)}`;
const AT = '2026-01-05T13:00:00.000Z';
const TRADER = `0x${'12'.repeat(20)}`;

function order(reason: OrderUpdateRow['reason'], extra: Partial<OrderUpdateRow> = {}): OrderUpdateRow {
  return {
    globalOrdinal: 41,
    epochId: 1,
    orderHash: HASH,
    symbol: 'ETHP',
    trader: TRADER,
    strategyIdHash: '0x2576ebd1',
    side: 1,
    orderType: 0,
    amount: '2',
    price: '2000',
    reason,
    filledAmount: '0',
    remainingAmount: '2',
    createdAt: AT,
    ...extra,
  };
}

function strategy(reason: StrategyUpdateRow['reason'], change: string, extra: Partial<StrategyUpdateRow> = {}): StrategyUpdateRow {
  return {
    globalOrdinal: 42,
    epochId: 1,
    trader: TRADER,
    strategyIdHash: '0x2576ebd1',
    reason,
    collateralChange: change,
    collateral: '900',
    createdAt: AT,
    ...extra,
  };
}

describe('ledger events from ORDER_UPDATE', () => {
  it('a Trade is a fill with its fee, keyed by order hash and globalOrdinal', () => {
    expect(
      ledgerEventOfOrderUpdate(order(1, { fillAmount: '0.50', fillPrice: '2000.20', fee: '0.5000', filledAmount: '0.5', tradeId: '9' })),
    ).toEqual({
      kind: 'fill',
      id: `${HASH.toLowerCase()}:41`,
      seq: 41,
      symbol: 'ETHP',
      side: 'sell',
      amount: '0.5',
      price: '2000.2',
      fee: '0.5',
    });
  });

  it('a Liquidation with a fill closes the position at the fill price', () => {
    expect(ledgerEventOfOrderUpdate(order(2, { fillAmount: '2', fillPrice: '1200', fee: '0' }))).toEqual({
      kind: 'liquidation',
      id: `${HASH.toLowerCase()}:41`,
      seq: 41,
      symbol: 'ETHP',
      price: '1200',
    });
  });

  it('Post, Cancellation, rejections and a liquidation without a fill move no money', () => {
    for (const r of [order(0), order(3), order(4, { orderRejection: 3 }), order(5, { cancelRejection: 'filled' }), order(2)]) {
      expect(ledgerEventOfOrderUpdate(r)).toBeUndefined();
    }
  });
});

describe('ledger events from STRATEGY_UPDATE', () => {
  it('deposit, withdrawal and funding are the only ledger events', () => {
    expect(ledgerEventOfStrategyUpdate(strategy(0, '1000'))).toEqual({ kind: 'deposit', id: 'strategy:42', seq: 42, amount: '1000' });
    expect(ledgerEventOfStrategyUpdate(strategy(1, '-250.50'))).toEqual({
      kind: 'withdrawal',
      id: 'strategy:42',
      seq: 42,
      amount: '250.5',
    });
    expect(ledgerEventOfStrategyUpdate(strategy(3, '-1.25'))).toEqual({ kind: 'funding', id: 'strategy:42', seq: 42, amount: '-1.25' });
  });

  it('Trade, Fee, PnlSettlement, Liquidation, ADL and WithdrawIntent duplicate other facts: no event', () => {
    for (const reason of [2, 4, 5, 6, 7, 8] as const) expect(ledgerEventOfStrategyUpdate(strategy(reason, '-3'))).toBeUndefined();
  });

  it('reads the balance after the row, with the position signed', () => {
    expect(balanceOfStrategyUpdate(strategy(5, '-3', { symbol: 'ETHP', positionSide: 1, positionSize: '1.5' }))).toEqual({
      globalOrdinal: 42,
      collateral: '900',
      position: { symbol: 'ETHP', size: '-1.5' },
    });
    expect(balanceOfStrategyUpdate(strategy(7, '0', { symbol: 'ETHP', positionSide: null, positionSize: '0' })).position).toEqual({
      symbol: 'ETHP',
      size: '0',
    });
    expect(balanceOfStrategyUpdate(strategy(6, '-1')).position).toBeUndefined();
  });
});
