import { beforeAll, describe, expect, it } from 'vitest';
import { dec } from '../../src/domain/decimal.ts';
import { runScenarioFile, type ScenarioTimeline } from './scenario-file.ts';
import { checkTimelineInvariants } from './timeline-invariants.ts';
import { Timeline } from './timeline-query.ts';

// Losses accrue until the session loss limit stops new entries; the position stays orderly
// (config/scenarios/slow-bleed.yaml has the arithmetic).
describe('scenario slow-bleed', () => {
  let run: ScenarioTimeline;
  let tl: Timeline;
  beforeAll(async () => {
    run = await runScenarioFile('slow-bleed');
    tl = new Timeline(run.records);
  });

  it('keeps the timeline invariants', () => {
    checkTimelineInvariants(run.scenario, run.records);
  });

  it('trades while the loss is under the limit', () => {
    const entries = tl.orders('alpha', 'entry');
    expect(entries.map((o) => [o.t, o.amount])).toEqual([
      [0, '2'],
      [30_000, '1'],
      [60_000, '1'],
      [100_000, '1'],
    ]);
    for (const o of entries) expect(tl.terminal('alpha', o.orderId)?.status).toBe('filled');
  });

  it('blocks entries once the session loss reaches sessionLossLimit', () => {
    const states = tl.states('alpha');
    expect(states.map((s) => [s.t, s.from, s.to, s.reason])).toEqual([[137_000, 'trading', 'entries-blocked', 'session-loss-limit']]);
    // 5 × 1917.8 − 9887 − 4.9435 = −302.9435
    const risk = tl.of('risk', 'alpha').find((r) => r.index > states[0]!.index)!;
    expect(risk).toMatchObject({ t: 137_000, position: { ETHP: '5' }, sessionPnl: '-302.9435' });
    const refused = tl.of('decision', 'alpha').filter((d) => !d.allowed);
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ t: 140_000, order: { side: 'buy', amount: '1' } });
    expect(refused[0]!.rules).toEqual(expect.arrayContaining(['session-loss-limit', 'state']));
    expect(tl.summary().blockedEntries.alpha).toBe(1);
  });

  it('keeps the position orderly: no de-risking, no panic, nothing reduced', () => {
    expect(tl.of('state').some((s) => s.to === 'de-risking' || s.to === 'panic-exit' || s.to === 'stopped-out')).toBe(false);
    expect(tl.of('order').filter((o) => o.purpose !== 'entry')).toEqual([]);
    expect(tl.of('cancel')).toEqual([]);
    const end = tl.lastRisk('alpha');
    expect(end.position).toEqual({ ETHP: '5' });
    expect(dec(end.marginBuffer!).gt('0.9')).toBe(true);
    expect(tl.summary()).toMatchObject({ liquidated: [], finalStates: { alpha: 'entries-blocked' }, maxReductionsInFlight: { alpha: 0 } });
  });
});
