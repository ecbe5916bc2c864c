import { describe, expect, it } from 'vitest';
import { createAccountContext, type AccountContext } from '../../machines/account-context.ts';
import { applyLedgerEvent, createLedger } from '../../src/domain/ledger.ts';
import { DEFAULT_PRODUCTS } from '../../src/domain/products.ts';
import { accountReach } from '../../src/runtime/account-reach.ts';

const T0 = Date.UTC(2026, 0, 5, 13);

function account(marks: Record<string, string> = { ETHP: '2000' }): AccountContext {
  const ledger = applyLedgerEvent(createLedger('4200'), {
    kind: 'fill',
    id: 'f',
    seq: 1,
    symbol: 'ETHP',
    side: 'buy',
    amount: '6',
    price: '2000',
  }).state;
  return createAccountContext(
    {
      accountId: 'a',
      budget: { minMarginBuffer: '0.10', panicMarginBuffer: '0.03' },
      products: { ETHP: DEFAULT_PRODUCTS.ETHP! },
      riskLimits: [],
      hysteresis: '0.2',
      reductionFraction: '0.25',
      reductionTimeoutMs: 15_000,
    },
    { collateral: '4200', at: T0, marks, ledger },
  );
}

describe('accountReach', () => {
  it('a quiet trading account has a band and needs no tick', () => {
    const reach = accountReach(account(), 'trading');
    expect(reach.timed).toBe(false);
    expect(reach.marks.kind).toBe('band');
  });

  it('a reducing state, a working reduction or a missing mark: every mark; a timer: ticks', () => {
    expect(accountReach(account(), 'de-risking.awaiting')).toEqual({
      marks: { kind: 'every', why: 'state de-risking.awaiting' },
      timed: true,
    });
    const reducing = { ...account(), reduction: 'a-1' };
    expect(accountReach(reducing, 'trading')).toMatchObject({ marks: { kind: 'every', why: 'a reducing order is working' }, timed: true });
    expect(accountReach(account({}), 'entries-blocked')).toMatchObject({ marks: { kind: 'every', why: 'no mark yet for a held symbol' } });
    const cancelling = account();
    const withCancel = {
      ...cancelling,
      orders: {
        e: {
          clientOrderId: 'e',
          intent: { symbol: 'ETHP', side: 'buy', amount: '1', type: 'limit', price: '1990' },
          purpose: 'entry',
          status: 'posted',
          filled: '0',
          sentAt: T0,
          cancelSentAt: T0,
        },
      },
    } as AccountContext;
    expect(accountReach(withCancel, 'entries-blocked')).toMatchObject({ marks: { kind: 'band' }, timed: true });
  });

  it('a moved startTime waiting for its baseline: every mark', () => {
    const c = account();
    const pending = { ...c, drawdown: { ...c.drawdown, anchors: { '2026-01-05T14:00:00.000Z': null } } };
    expect(accountReach(pending, 'trading').marks).toEqual({ kind: 'every', why: 'a moved startTime awaits its baseline' });
  });
});
