import { beforeAll, describe, expect, it } from 'vitest';
import { dec } from '../../src/domain/decimal.ts';
import { runScenarioFile, type ScenarioTimeline } from './scenario-file.ts';
import { checkTimelineInvariants } from './timeline-invariants.ts';
import { Timeline } from './timeline-query.ts';

const ids = (prefix: string, from: number, to: number): string[] =>
  Array.from({ length: to - from + 1 }, (_, i) => `${prefix}-${String(from + i).padStart(2, '0')}`);
const CORE = ids('core', 1, 20);
const GROWTH = ids('growth', 1, 15);
const MACRO_LONG = ids('macro', 1, 10);
const MACRO_SHORT = ids('macro', 11, 15);

// 50 accounts in three portfolios through a −27.5 % crash (config/scenarios/fleet-crash.yaml has the
// arithmetic). Nobody is liquidated: the closest, an unreduced long 6 on 4500, would need ETHP under
// 1317.05; the crash bottoms at 1450.
describe('scenario fleet-crash', () => {
  let run: ScenarioTimeline;
  let tl: Timeline;
  beforeAll(async () => {
    run = await runScenarioFile('fleet-crash');
    tl = new Timeline(run.records);
  }, 60_000);

  it('keeps the timeline invariants for all 50 accounts, with no liquidation', () => {
    expect(run.scenario.accounts).toHaveLength(50);
    expect(run.scenario.portfolios.map((p) => [p.id, p.members.length])).toEqual([
      ['core', 20],
      ['growth', 15],
      ['macro', 15],
    ]);
    checkTimelineInvariants(run.scenario, run.records);
    expect(tl.summary().liquidated).toEqual([]);
  });

  it('fires the core and growth portfolio stopouts, not macro', () => {
    const set = tl.of('stopout').filter((s) => s.action === 'set');
    expect(set.map((s) => [s.t, s.scope, s.id, s.reason, s.closePositions])).toEqual([
      [22_000, 'portfolio', 'core', 'day-equity-difference', true], // 20 × (7.2006 + 6 × 80) = 9744 ≥ 9000
      [40_000, 'portfolio', 'growth', 'day-equity-difference', false], // 15 × (7.2006 + 6 × 200) = 18108 ≥ 18000
    ]);
  });

  it('flattens every core account through panic-exit in the same step', () => {
    const stop = tl.of('stopout').find((s) => s.id === 'core')!;
    for (const account of CORE) {
      const states = tl.states(account).filter((s) => s.t >= stop.t);
      expect(states[0], account).toMatchObject({ t: stop.t, to: 'panic-exit', reason: 'stopout' });
      expect(states[1], account).toMatchObject({ from: 'panic-exit', to: 'stopped-out' });
      expect(states[0]!.index).toBeGreaterThan(stop.index);
      const exits = tl.orders(account, 'exit');
      expect(exits.length, account).toBeGreaterThanOrEqual(1);
      for (const o of exits) expect(tl.terminal(account, o.orderId)?.status, account).toBe('filled');
      expect(tl.lastRisk(account).position, account).toEqual({});
    }
    expect(Object.fromEntries(CORE.map((a) => [a, tl.summary().finalStates[a]]))).toEqual(
      Object.fromEntries(CORE.map((a) => [a, 'stopped-out'])),
    );
  });

  it('stops every growth account in the same step and keeps its position', () => {
    const stop = tl.of('stopout').find((s) => s.id === 'growth')!;
    for (const account of GROWTH) {
      const to = tl.states(account).filter((s) => s.to === 'stopped-out');
      expect(
        to.map((s) => s.t),
        account,
      ).toEqual([stop.t]);
      expect(tl.orders(account, 'exit'), account).toEqual([]);
      expect(tl.orders(account, 'reduce'), account).toEqual([]);
      // at 1480: equity 7992.7994 − 6 × 520 = 4872.7994 over gross 8880, buffer ≈ 0.499
      expect(tl.lastRisk(account).position, account).toEqual({ ETHP: '6' });
      expect(tl.summary().finalStates[account], account).toBe('stopped-out');
    }
  });

  it('de-risks the macro longs one order at a time and leaves the shorts alone', () => {
    for (const account of MACRO_LONG) {
      expect(
        tl.states(account).some((s) => s.to === 'de-risking'),
        account,
      ).toBe(true);
      expect(
        tl.states(account).some((s) => s.to === 'stopped-out'),
        account,
      ).toBe(false);
      const reducing = tl.of('order', account).filter((o) => o.purpose === 'reduce' || o.purpose === 'exit');
      expect(reducing.length, account).toBeGreaterThan(1);
      for (let i = 1; i < reducing.length; i++) {
        expect(reducing[i]!.index, account).toBeGreaterThan(tl.terminal(account, reducing[i - 1]!.orderId)!.index);
      }
      const end = tl.lastRisk(account);
      expect(dec(end.position.ETHP!).gt(0) && dec(end.position.ETHP!).lt(6), account).toBe(true);
      expect(tl.summary().maxReductionsInFlight[account], account).toBe(1);
    }
    for (const account of MACRO_SHORT) {
      expect(tl.states(account), account).toEqual([]);
      expect(tl.lastRisk(account).position, account).toEqual({ ETHP: '-4' });
      expect(dec(tl.lastRisk(account).sessionPnl).gt(1900), account).toBe(true); // 4 × (1999.8 − 1480) − 4 × 1999.8 × 0.0005 ≈ 2075.2
    }
  });
});
