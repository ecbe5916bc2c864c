import { describe, expect, it } from 'vitest';
import { accountResetRefusal, groupResetRefusal } from '../../machines/reset-check.ts';
import type { LimitGroup } from '../../machines/supervisor.ts';
import { createDrawdownHistory, observe } from '../../src/domain/drawdown.ts';
import { accountContext, DAY_LIMIT, T0 } from './account-fixture.ts';

const DAY = { scope: 'strategy' as const, id: 'alpha', reason: 'day-equity-difference' };

describe('reset checks (the machines and the runtime ask the same question)', () => {
  it('an account refuses to reset a stopout its own limit still measures, and accepts a manual one', () => {
    // Day limit: maxAbsoluteRisk 1500. Equity 2500 at the day open, then 900: drawdown 1600 > 1500.
    const start = accountContext({ collateral: '2500' });
    const hit = { ...start, now: T0 + 60_000, ledger: { ...start.ledger, collateral: '900' }, metrics: null };
    const measured = { ...hit, drawdown: observe(start.drawdown, { at: T0 + 60_000, balance: '900', equity: '900', netTransfers: '0' }) };
    expect(accountResetRefusal(measured, DAY)).toMatch(
      /day-equity-difference still breached: .*move startTime on strategy alpha to now first/,
    );
    expect(accountResetRefusal(measured, { ...DAY, reason: 'manual' })).toBeNull();
    expect(accountResetRefusal(start, DAY)).toBeNull();
  });

  it('a group not observed yet lets a reset go; one still in breach refuses it', () => {
    const limit = { ...DAY_LIMIT, level: 'portfolio' as const, sourceId: 'core' };
    const unobserved: LimitGroup = {
      scope: 'portfolio',
      id: 'core',
      accounts: ['alpha'],
      limits: [limit],
      drawdown: createDrawdownHistory(),
    };
    const stopout = { scope: 'portfolio' as const, id: 'core', reason: 'day-equity-difference' };
    expect(groupResetRefusal(unobserved, stopout)).toBeNull();
    expect(groupResetRefusal(undefined, stopout)).toBeNull();
    let drawdown = observe(unobserved.drawdown, { at: T0, balance: '5000', equity: '5000', netTransfers: '0' });
    drawdown = observe(drawdown, { at: T0 + 1000, balance: '5000', equity: '3400', netTransfers: '0' });
    expect(groupResetRefusal({ ...unobserved, drawdown }, stopout)).toMatch(/still breached/);
  });
});
