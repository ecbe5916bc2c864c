import { describe, expect, it } from 'vitest';
import {
  balanceOfStrategyUpdate,
  ledgerEventOfStrategyUpdate,
  ledgerEventsOfOrderUpdate,
  ourIntents,
} from '../../src/venue/ledger-events.ts';
import { FIXTURE_COUNTERPARTY, FIXTURE_TRADER, MAIN_HASH, orderUpdate, strategyUpdate, strategyUpdateHistory } from './wire-fixtures.ts';

/*
 * Venue rows in the golden shapes → ledger events. In the fixtures our trader 0x00a1b2… is the maker of
 * the trade and the liquidated strategy; the counterparty 0x00c0ff… is the taker and the absorber.
 */

const US = { traderAddress: FIXTURE_TRADER, strategyIdHash: MAIN_HASH };
const THEM = { traderAddress: FIXTURE_COUNTERPARTY, strategyIdHash: MAIN_HASH };

describe('ledger events from ORDER_UPDATE', () => {
  it('a Trade is a fill of our intent: the row amount and price, our side, our fee (maker side)', () => {
    const row = orderUpdate('ws-order-update-trade');
    expect(ourIntents(row, US).map((i) => i.role)).toEqual(['maker']);
    // Our maker intent is a Bid (side 0); makerFeeCollateral "0".
    expect(ledgerEventsOfOrderUpdate(row, US)).toEqual([
      { kind: 'fill', id: 'order:90211', symbol: 'ETHP', side: 'buy', amount: '0.5', price: '2450.5', fee: '0' },
    ]);
  });

  it('the same Trade seen by the taker: the taker intent side (Ask) and takerFeeCollateral', () => {
    expect(ledgerEventsOfOrderUpdate(orderUpdate('ws-order-update-trade'), THEM)).toEqual([
      { kind: 'fill', id: 'order:90211', symbol: 'ETHP', side: 'sell', amount: '0.5', price: '2450.5', fee: '0.6126' },
    ]);
  });

  it('a Liquidation closes the liquidated strategy at the row price, and fills the absorbing order', () => {
    const row = orderUpdate('ws-order-update-liquidation');
    expect(ledgerEventsOfOrderUpdate(row, US)).toEqual([{ kind: 'liquidation', id: 'order:90240', symbol: 'ETHP', price: '2300' }]);
    expect(ledgerEventsOfOrderUpdate(row, THEM)).toEqual([
      { kind: 'fill', id: 'order:90240', symbol: 'ETHP', side: 'buy', amount: '1.5', price: '2300', fee: '0' },
    ]);
  });

  it('Post, Cancellation and both rejections move no money; a row of someone else is nobody of ours', () => {
    for (const name of [
      'ws-order-update-post',
      'ws-order-update-cancellation',
      'ws-order-update-order-rejection',
      'ws-order-update-cancel-rejection',
    ]) {
      expect(ledgerEventsOfOrderUpdate(orderUpdate(name), US)).toEqual([]);
    }
    const stranger = { traderAddress: `0x00${'77'.repeat(20)}`, strategyIdHash: MAIN_HASH };
    expect(ledgerEventsOfOrderUpdate(orderUpdate('ws-order-update-trade'), stranger)).toEqual([]);
    // Another strategy of the same trader is not us either.
    expect(ledgerEventsOfOrderUpdate(orderUpdate('ws-order-update-trade'), { ...US, strategyIdHash: '0x11223344' })).toEqual([]);
  });
});

describe('ledger events from STRATEGY_UPDATE', () => {
  it('Deposit, WithdrawIntent and FundingPayment are the only money movements, ids per family', () => {
    expect(ledgerEventOfStrategyUpdate(strategyUpdate('ws-strategy-update-deposit'))).toEqual({
      kind: 'deposit',
      id: 'strategy:5120',
      amount: '10000',
    });
    // amount "-500": 500 leaves availCollateral for lockedCollateral (§10.2).
    expect(ledgerEventOfStrategyUpdate(strategyUpdate('ws-strategy-update-withdraw-intent'))).toEqual({
      kind: 'withdrawal',
      id: 'strategy:5135',
      amount: '500',
    });
    expect(ledgerEventOfStrategyUpdate(strategyUpdate('ws-strategy-update-funding'))).toEqual({
      kind: 'funding',
      id: 'strategy:5134',
      amount: '-0.37',
    });
  });

  it('Withdraw, WithdrawRejection, PnlSettlement, Trade, Fee, Liquidation and ADL are not ledger events', () => {
    expect(
      ledgerEventOfStrategyUpdate(strategyUpdate('ws-strategy-update-withdraw-intent', { reason: 1, newLockedCollateral: '0' })),
    ).toBeUndefined();
    expect(ledgerEventOfStrategyUpdate(strategyUpdate('ws-strategy-update-withdraw-rejection'))).toBeUndefined();
    for (const reason of [4, 5, 6, 7, 8]) {
      expect(ledgerEventOfStrategyUpdate(strategyUpdate('ws-strategy-update-pnl-settlement', { reason }))).toBeUndefined();
    }
  });

  it('the balance a row reports: newAvailCollateral and positions with side 1 Long / 2 Short', () => {
    expect(balanceOfStrategyUpdate(strategyUpdate('ws-strategy-update-pnl-settlement'))).toEqual({
      globalOrdinal: 5133,
      collateral: '10012.5',
      positions: [{ symbol: 'ETHP', size: '1.5' }],
    });
    const short = strategyUpdate('ws-strategy-update-pnl-settlement', {
      positions: [{ symbol: 'ETHP', balance: '2', side: 2, avgEntryPrice: '2400', realizedPnl: '0' }],
    });
    expect(balanceOfStrategyUpdate(short).positions).toEqual([{ symbol: 'ETHP', size: '-2' }]);
    // REST history positions carry no balance: nothing to compare.
    expect(balanceOfStrategyUpdate(strategyUpdateHistory('ws-strategy-update-pnl-settlement'))).toEqual({
      globalOrdinal: 5133,
      collateral: '10012.5',
    });
    expect(balanceOfStrategyUpdate(strategyUpdate('ws-strategy-update-withdraw-rejection'))).toEqual({ globalOrdinal: 5136 });
  });
});
