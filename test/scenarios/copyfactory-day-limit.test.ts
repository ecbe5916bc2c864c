import { beforeAll, describe, expect, it } from 'vitest';
import { runScenarioFile, type ScenarioTimeline } from './scenario-file.ts';
import { checkTimelineInvariants } from './timeline-invariants.ts';
import { Timeline } from './timeline-query.ts';

// A strategy-level day/balance-difference limit across 00:00 UTC (config/scenarios/copyfactory-day-limit.yaml).
// docs/copyfactory.md: a breach raises a stopout that holds until a reset; a reset is accepted only when
// no limit of that source and reason still measures a breach — in the new day the baseline is the
// balance at the day's first observation, so the breach no longer measures.
const MIDNIGHT = 180_000; // 23:57:00 + 3 min = 2026-01-06T00:00:00Z

describe('scenario copyfactory-day-limit', () => {
  let run: ScenarioTimeline;
  let tl: Timeline;
  beforeAll(async () => {
    run = await runScenarioFile('copyfactory-day-limit');
    tl = new Timeline(run.records);
  });

  it('keeps the timeline invariants', () => {
    checkTimelineInvariants(run.scenario, run.records);
  });

  it('crosses midnight UTC', () => {
    expect(Date.parse(run.scenario.start) + MIDNIGHT).toBe(Date.parse('2026-01-06T00:00:00Z'));
    expect(tl.summary().t).toBeGreaterThan(MIDNIGHT);
  });

  it('stops the strategy when closing the losing long realizes the loss', () => {
    const close = tl.orders('alpha', 'close');
    expect(close).toHaveLength(1);
    expect(close[0]).toMatchObject({ t: 70_000, side: 'sell', amount: '3' });
    const stop = tl.of('stopout').find((s) => s.action === 'set')!;
    // balance 10000 − 3.0003 − 301.2 − 2.8497 = 9692.95: balance-difference 307.05 ≥ 250
    expect(stop).toMatchObject({
      t: 70_000,
      scope: 'strategy',
      id: 'alpha',
      reason: 'day-balance-difference',
      closePositions: false,
      stoppedTill: '2026-01-06T00:00:00.000Z',
    });
    expect(tl.states('alpha')[0]).toMatchObject({ t: 70_000, from: 'trading', to: 'stopped-out', reason: 'stopout' });
    expect(tl.terminal('alpha', close[0]!.orderId)?.status).toBe('filled');
  });

  it('refuses entries and a reset for the rest of the day', () => {
    const before = tl.of('decision', 'alpha').find((d) => d.t === 120_000)!;
    expect(before.allowed).toBe(false);
    expect(before.rules).toEqual(expect.arrayContaining(['risk-limit', 'stopout', 'state']));
    const [refused] = tl.of('operator');
    expect(refused).toMatchObject({ t: 150_000, action: 'reset-stopout', scope: 'strategy', id: 'alpha', result: 'refused' });
    expect(refused!.reason).toMatch(/307\.05/);
    expect(refused!.reason).toMatch(/startTime/);
  });

  it('keeps the stopout past midnight until it is reset, though the breach no longer measures', () => {
    // No state change at 00:00: the day window rolling does not clear a stopout.
    expect(tl.states('alpha').filter((s) => s.t >= MIDNIGHT && s.t < 240_000)).toEqual([]);
    const after = tl.of('decision', 'alpha').find((d) => d.t === 200_000)!;
    expect(after.allowed).toBe(false);
    expect(after.rules).toEqual(expect.arrayContaining(['stopout', 'state']));
    expect(after.rules).not.toContain('risk-limit');
    expect(tl.of('stopout').filter((s) => s.action === 'reset' && s.t < 240_000)).toEqual([]);
  });

  it('accepts the reset in the new day and trades again', () => {
    const [, accepted] = tl.of('operator');
    expect(accepted).toMatchObject({ t: 240_000, action: 'reset-stopout', result: 'ok' });
    expect(tl.of('stopout').find((s) => s.action === 'reset')).toMatchObject({
      t: 240_000,
      scope: 'strategy',
      id: 'alpha',
      reason: 'day-balance-difference',
    });
    expect(tl.states('alpha')[1]).toMatchObject({ t: 240_000, from: 'stopped-out', to: 'trading' });
    const entry = tl.orders('alpha', 'entry').at(-1)!;
    expect(entry).toMatchObject({ t: 270_000 });
    expect(tl.terminal('alpha', entry.orderId)?.status).toBe('filled');
    expect(tl.summary()).toMatchObject({ liquidated: [], finalStates: { alpha: 'trading' }, blockedEntries: { alpha: 2 } });
  });
});
