import { beforeAll, describe, expect, it } from 'vitest';
import { runScenarioFile, type ScenarioTimeline } from './scenario-file.ts';
import { checkTimelineInvariants } from './timeline-invariants.ts';
import { Timeline } from './timeline-query.ts';

// The first reducing order is rejected (NoLiquidity); the next one leaves only after that rejection
// arrived (config/scenarios/rejected-reduction.yaml).
describe('scenario rejected-reduction', () => {
  let run: ScenarioTimeline;
  let tl: Timeline;
  beforeAll(async () => {
    run = await runScenarioFile('rejected-reduction');
    tl = new Timeline(run.records);
  });

  it('keeps the timeline invariants', () => {
    checkTimelineInvariants(run.scenario, run.records);
  });

  it('de-risks at the gap and the venue rejects the first reducing order', () => {
    const derisk = tl.states('alpha').find((s) => s.to === 'de-risking')!;
    expect(derisk).toMatchObject({ t: 31_000, reason: 'min-margin-buffer' });
    const [first] = tl.orders('alpha', 'reduce');
    expect(first).toMatchObject({ t: 31_000, side: 'sell', amount: '1.4743', price: '1666' });
    expect(tl.terminal('alpha', first!.orderId)).toMatchObject({ status: 'rejected', filled: '0', reason: 'NoLiquidity' });
  });

  it('sends the next reducing order only after the rejection arrived, and it fills', () => {
    const [first, second] = tl.orders('alpha', 'reduce');
    const rejection = tl.terminal('alpha', first!.orderId)!;
    expect(second).toBeDefined();
    expect(second!.index).toBeGreaterThan(rejection.index);
    // Nothing reducing was sent between the first order and its rejection.
    expect(tl.of('order', 'alpha').filter((o) => o.index > first!.index && o.index < rejection.index)).toEqual([]);
    // The same plan again: nothing changed but the rejection.
    expect(second).toMatchObject({ side: 'sell', amount: '1.4743', price: '1666' });
    expect(tl.terminal('alpha', second!.orderId)).toMatchObject({ status: 'filled', filled: '1.4743' });
  });

  it('recovers to trading without liquidation', () => {
    const back = tl.states('alpha').at(-1)!;
    expect(back).toMatchObject({ from: 'de-risking', to: 'trading' });
    expect(tl.lastRisk('alpha').position).toEqual({ ETHP: '4.5231' }); // 6 − 1.4743 − 0.0026
    expect(tl.summary()).toMatchObject({ liquidated: [], finalStates: { alpha: 'trading' }, maxReductionsInFlight: { alpha: 1 } });
  });
});
