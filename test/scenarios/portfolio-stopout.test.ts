import { beforeAll, describe, expect, it } from 'vitest';
import { runScenarioFile, type ScenarioTimeline } from './scenario-file.ts';
import { checkTimelineInvariants } from './timeline-invariants.ts';
import { Timeline } from './timeline-query.ts';

// A portfolio day limit stops both members at once; closePositions flattens them; a reset is refused
// until startTime moves (config/scenarios/portfolio-stopout.yaml).
describe('scenario portfolio-stopout', () => {
  let run: ScenarioTimeline;
  let tl: Timeline;
  beforeAll(async () => {
    run = await runScenarioFile('portfolio-stopout');
    tl = new Timeline(run.records);
  });

  it('keeps the timeline invariants', () => {
    checkTimelineInvariants(run.scenario, run.records);
  });

  it('raises one portfolio stopout and stops both members in the same step', () => {
    const set = tl.of('stopout').filter((s) => s.action === 'set');
    // drawdown 2 × (3.0003 + 3 × (2000.2 − 1900)) = 607.2 ≥ 600 at 50 s
    expect(set).toHaveLength(1);
    expect(set[0]).toMatchObject({ t: 50_000, scope: 'portfolio', id: 'core', reason: 'day-equity-difference', closePositions: true });
    const first = ['north', 'south'].map((a) => tl.states(a)[0]!);
    for (const s of first) {
      expect(s).toMatchObject({ from: 'trading', to: 'panic-exit', reason: 'stopout' });
      expect(s.index).toBeGreaterThan(set[0]!.index);
    }
    expect(first[0]!.t).toBe(first[1]!.t);
    expect(first[0]!.t).toBe(set[0]!.t);
  });

  it('flattens both with exit orders and holds them stopped out', () => {
    for (const account of ['north', 'south']) {
      const exits = tl.orders(account, 'exit');
      expect(exits).toHaveLength(1);
      expect(exits[0]).toMatchObject({ t: 50_000, side: 'sell', amount: '3', price: '1862' }); // 1900 × 0.98
      expect(tl.terminal(account, exits[0]!.orderId)).toMatchObject({ status: 'filled', filled: '3' });
      expect(tl.states(account)[1]).toMatchObject({ t: 50_000, from: 'panic-exit', to: 'stopped-out' });
      const flat = tl.of('risk', account).find((r) => r.t > 50_000 && r.t < 100_000)!;
      expect(flat.position).toEqual({});
    }
    const refused = tl.of('decision', 'south').find((d) => !d.allowed)!;
    expect(refused).toMatchObject({ t: 80_000 });
    expect(refused.rules).toEqual(expect.arrayContaining(['stopout', 'state']));
  });

  it('refuses a reset before startTime moves, naming startTime, and accepts it after', () => {
    const ops = tl.of('operator');
    expect(ops.map((o) => [o.t, o.action, o.result])).toEqual([
      [90_000, 'reset-stopout', 'refused'],
      [100_000, 'move-start-time', 'ok'],
      [101_000, 'reset-stopout', 'ok'],
    ]);
    // 607.2 + 2 × (3 × 0.2 + 2.8497) = 614.0994 still ≥ 600
    expect(ops[0]!.reason).toMatch(/startTime/);
    expect(ops[0]!.reason).toMatch(/614\.1/);
    const reset = tl.of('stopout').find((s) => s.action === 'reset')!;
    expect(reset).toMatchObject({ t: 101_000, scope: 'portfolio', id: 'core', reason: 'day-equity-difference' });
    for (const account of ['north', 'south']) {
      const states = tl.states(account);
      // Until the accepted reset nobody left stopped-out.
      expect(states.filter((s) => s.from === 'stopped-out').map((s) => [s.t, s.to])).toEqual([[101_000, 'trading']]);
    }
  });

  it('trades again after the reset, flat and unliquidated', () => {
    const entry = tl.orders('south', 'entry').at(-1)!;
    expect(entry).toMatchObject({ t: 110_000, amount: '1' });
    expect(tl.terminal('south', entry.orderId)?.status).toBe('filled');
    expect(tl.lastRisk('north').position).toEqual({});
    expect(tl.summary()).toMatchObject({ liquidated: [], finalStates: { north: 'trading', south: 'trading' } });
  });
});
