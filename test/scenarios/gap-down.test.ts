import { beforeAll, describe, expect, it } from 'vitest';
import { dec } from '../../src/domain/decimal.ts';
import { runScenarioFile, type ScenarioTimeline } from './scenario-file.ts';
import { checkTimelineInvariants } from './timeline-invariants.ts';
import { Timeline } from './timeline-query.ts';

// ETHP gaps 2000 → 1450: straight to panic-exit, one exit at a time, no liquidation
// (config/scenarios/gap-down.yaml has the arithmetic).
describe('scenario gap-down', () => {
  let run: ScenarioTimeline;
  let tl: Timeline;
  beforeAll(async () => {
    run = await runScenarioFile('gap-down');
    tl = new Timeline(run.records);
  });

  it('keeps the timeline invariants', () => {
    checkTimelineInvariants(run.scenario, run.records);
  });

  it('goes straight to panic-exit at the gap, without de-risking first', () => {
    const states = tl.states('alpha');
    const panicAt = states.findIndex((s) => s.to === 'panic-exit');
    expect(panicAt).toBeGreaterThanOrEqual(0);
    const panic = states[panicAt]!;
    expect(panic).toMatchObject({ t: 31_000, reason: 'panic-margin-buffer' });
    expect(['trading', 'entries-blocked']).toContain(panic.from);
    expect(states.slice(0, panicAt).some((s) => s.to === 'de-risking')).toBe(false);
    // equity 6 × 1450 − 7507.2006 = 1192.7994 over gross 8700: buffer 0.0871 < panicMarginBuffer 0.10
    const risk = tl.of('risk', 'alpha').find((r) => r.index > panic.index)!;
    expect(risk).toMatchObject({ t: 31_000, equity: '1192.7994', grossNotional: '8700' });
    expect(dec(risk.marginBuffer!).lt('0.10')).toBe(true);
  });

  it('exits one order at a time, each awaited, and never flips the position', () => {
    const exits = tl.orders('alpha', 'exit');
    expect(exits.length).toBeGreaterThanOrEqual(1);
    // q = (0.25 × 8700 − 1192.7994 + 435) / (1450 × 0.30) = 3.2579… → 3.258 at 1450 × 0.98 = 1421
    expect(exits[0]).toMatchObject({ t: 31_000, side: 'sell', amount: '3.258', price: '1421' });
    const reducing = [...exits, ...tl.orders('alpha', 'reduce')].sort((a, b) => a.index - b.index);
    for (let i = 1; i < reducing.length; i++) {
      const before = tl.terminal('alpha', reducing[i - 1]!.orderId)!;
      expect(reducing[i]!.index).toBeGreaterThan(before.index);
    }
    for (const o of reducing) expect(tl.terminal('alpha', o.orderId)?.status).toBe('filled');
    expect(tl.summary().maxReductionsInFlight.alpha).toBe(1);
  });

  it('is never liquidated and ends trading with a smaller long', () => {
    expect(tl.of('liquidation')).toEqual([]);
    for (const r of tl.of('risk', 'alpha')) if (r.marginFraction !== null) expect(dec(r.marginFraction).gt(r.maintenance)).toBe(true);
    const end = tl.lastRisk('alpha');
    expect(dec(end.position.ETHP!).gt(0) && dec(end.position.ETHP!).lt(6)).toBe(true);
    expect(dec(end.marginBuffer!).gte('0.30')).toBe(true);
    expect(tl.summary()).toMatchObject({ liquidated: [], finalStates: { alpha: 'trading' } });
  });
});
