import { describe, expect, it } from 'vitest';
import { refreshed, type AccountContext } from '../../machines/account-context.ts';
import { UNCERTAIN_OWNERSHIP_SHARE } from '../../machines/account.ts';
import { dec } from '../../src/domain/decimal.ts';
import { applyLedgerEvent } from '../../src/domain/ledger.ts';
import { accountContext, startRecordingActor, T0, topState } from './account-fixture.ts';

/*
 * Issue 12, failure 3: while Redis cannot confirm its lease, an owner keeps de-risking, but one other process
 * may believe it owns the account and send the same order. Every reducing order is then at most half the
 * position, so two of them cannot flip it. Long 6 ETHP @ 2000 on 2500 collateral (account-fixture.ts).
 */

function long(size: string): AccountContext {
  const context = accountContext();
  const fill = { kind: 'fill' as const, id: 'f0', seq: 1, symbol: 'ETHP', side: 'buy' as const, amount: size, price: '2000' };
  return refreshed({ ...context, ledger: applyLedgerEvent(context.ledger, fill).state });
}

function flattenOrder(uncertain: boolean, size = '6'): { state: string; amounts: string[] } {
  const { actor, log } = startRecordingActor(long(size));
  actor.send({ type: 'MARK', symbol: 'ETHP', price: '2000', at: T0 + 1000 });
  if (uncertain) actor.send({ type: 'OWNERSHIP', uncertain: true });
  actor.send({ type: 'STOPOUT_SET', stopout: { scope: 'fleet', id: '*', reason: 'manual', closePositions: true } });
  return { state: topState(actor.getSnapshot().value), amounts: log.sent.map((o) => o.intent.amount) };
}

describe('reductions while ownership is uncertain', () => {
  it('flattens in halves: a closePositions stopout sends 3 of 6, not 6 (two such orders make 6: flat, never short)', () => {
    expect(UNCERTAIN_OWNERSHIP_SHARE).toBe('0.5');
    expect(flattenOrder(false)).toEqual({ state: 'panic-exit', amounts: ['6'] });
    expect(flattenOrder(true)).toEqual({ state: 'panic-exit', amounts: ['3'] });
  });

  it('caps a panic exit at half the position, and lifts the cap when ownership is certain again', () => {
    const { actor, log } = startRecordingActor(long('6'));
    actor.send({ type: 'OWNERSHIP', uncertain: true });
    // 1720: buffer 0.0295 < panic 0.03: an exit sized to restore the buffer, capped at 6 × 0.5 = 3.
    actor.send({ type: 'MARK', symbol: 'ETHP', price: '1720', at: T0 + 1000 });
    expect(topState(actor.getSnapshot().value)).toBe('panic-exit');
    const first = log.sent.at(-1)!;
    expect(first.purpose).toBe('exit');
    expect(dec(first.intent.amount).lte(3)).toBe(true);
    expect(actor.getSnapshot().context.ownershipUncertain).toBe(true);
    actor.send({ type: 'OWNERSHIP', uncertain: false });
    expect(actor.getSnapshot().context.ownershipUncertain).toBe(false);
  });

  it('sends nothing when half the position is below one increment (one increment by two owners would flip it)', () => {
    // ETHP's minimum order size is 0.0001 (DEFAULT_PRODUCTS): half of 0.0001 rounds down to 0.
    expect(flattenOrder(false, '0.0001')).toEqual({ state: 'panic-exit', amounts: ['0.0001'] });
    expect(flattenOrder(true, '0.0001')).toEqual({ state: 'panic-exit', amounts: [] });
  });
});
