import { beforeAll, describe, expect, it } from 'vitest';
import { dec } from '../../src/domain/decimal.ts';
import { runScenarioFile, type ScenarioTimeline } from './scenario-file.ts';
import { checkTimelineInvariants } from './timeline-invariants.ts';
import { Timeline } from './timeline-query.ts';

// The tutorial's cycle (config/scenarios/stress-pass.yaml has the arithmetic in its comments).
describe('scenario stress-pass', () => {
  let run: ScenarioTimeline;
  let tl: Timeline;
  beforeAll(async () => {
    run = await runScenarioFile('stress-pass');
    tl = new Timeline(run.records);
  });

  it('keeps the timeline invariants', () => {
    checkTimelineInvariants(run.scenario, run.records);
  });

  it('trades normally first: the entry is allowed and filled', () => {
    const [first] = tl.of('decision', 'alpha');
    expect(first).toMatchObject({ t: 0, allowed: true, rules: [] });
    const entries = tl.orders('alpha', 'entry');
    expect(entries.map((o) => [o.t, o.side, o.amount])).toEqual([[0, 'buy', '3']]);
    expect(entries[0]!.index).toBeGreaterThan(first!.index);
    expect(tl.terminal('alpha', entries[0]!.orderId)).toMatchObject({ status: 'filled', filled: '3' });
  });

  it('blocks entries once the budget binds, and refuses the next one with its rules', () => {
    const blocked = tl.states('alpha')[0]!;
    // session loss 3.6003 + 3 × (2000 − 1966) = 105.6003 ≥ 100 at 17 s (16 s: 99.6003)
    expect(blocked).toMatchObject({ t: 17_000, from: 'trading', to: 'entries-blocked', reason: 'session-loss-limit' });
    const refused = tl.of('decision', 'alpha').filter((d) => !d.allowed);
    expect(refused).toHaveLength(1);
    expect(refused[0]!.index).toBeGreaterThan(blocked.index);
    expect(refused[0]).toMatchObject({ t: 20_000, order: { side: 'buy', amount: '3', type: 'limit', price: '1995' } });
    // 3 + 3 = 6 > maxPositionSize 4; the session loss; the account is not trading
    expect(refused[0]!.rules).toEqual(expect.arrayContaining(['max-position-size', 'session-loss-limit', 'state']));
    expect(tl.orders('alpha', 'entry').filter((o) => o.index > blocked.index)).toEqual([]);
  });

  it('de-risks when the fall shrinks the margin buffer below minMarginBuffer', () => {
    const derisk = tl.states('alpha').find((s) => s.to === 'de-risking')!;
    expect(derisk).toMatchObject({ t: 61_000, from: 'entries-blocked', reason: 'min-margin-buffer' });
    // Before the gap the slide alone kept the buffer above 0.25: 2036.40 / 5640 − 0.05 = 0.3111 at 1880.
    const before = tl.of('risk', 'alpha').filter((r) => r.t < 61_000);
    for (const r of before) if (r.marginBuffer !== null) expect(dec(r.marginBuffer).gte('0.25'), `risk at ${r.t}`).toBe(true);
    const risk = tl.of('risk', 'alpha').find((r) => r.index > derisk.index)!;
    // equity 3 × 1700 − 3603.6003 = 1496.3997 over gross 5100: MF 0.29341, buffer 0.24341
    expect(risk).toMatchObject({ t: 61_000, position: { ETHP: '3' }, grossNotional: '5100', equity: '1496.3997' });
    expect(dec(risk.marginBuffer!).lt('0.25') && dec(risk.marginBuffer!).gt('0.10')).toBe(true);
    expect(tl.states('alpha').some((s) => s.to === 'panic-exit')).toBe(false);
  });

  it('reduces with one order at a time, each filled before the next is sent', () => {
    const reduces = tl.orders('alpha', 'reduce');
    expect(reduces.length).toBeGreaterThanOrEqual(1);
    // q = (0.2625 × 5100 − 1496.3997 + 255) / (1700 × 0.3125) = 0.18325… → 0.1833, at 1700 × 0.98 = 1666
    expect(reduces[0]).toMatchObject({ t: 61_000, side: 'sell', amount: '0.1833', type: 'limit', price: '1666' });
    let previousEnd = -1;
    for (const o of reduces) {
      expect(o.index).toBeGreaterThan(previousEnd);
      expect(
        tl.of('order', 'alpha').filter((other) => other.index > o.index && other.index < tl.terminal('alpha', o.orderId)!.index),
      ).toEqual([]);
      const end = tl.terminal('alpha', o.orderId)!;
      expect(end).toMatchObject({ status: 'filled', filled: o.amount });
      previousEnd = end.index;
    }
    expect(tl.orders('alpha', 'exit')).toEqual([]);
  });

  it('stands down cleanly: back to entries-blocked with the buffer restored, no liquidation, no limit breached', () => {
    const reduces = tl.orders('alpha', 'reduce');
    const lastFill = tl.terminal('alpha', reduces[reduces.length - 1]!.orderId)!;
    const back = tl.states('alpha').find((s) => s.from === 'de-risking')!;
    expect(back).toMatchObject({ t: 61_000, to: 'entries-blocked', reason: 'session-loss-limit' });
    expect(back.index).toBeGreaterThan(lastFill.index);
    const risk = tl.of('risk', 'alpha').find((r) => r.index > back.index)!;
    // The recovery level is minMarginBuffer × (1 + hysteresis) = 0.25 × 1.05 = 0.2625.
    expect(dec(risk.marginBuffer!).gte('0.2625')).toBe(true);
    expect(dec(risk.position.ETHP!).gt(2) && dec(risk.position.ETHP!).lt(3)).toBe(true);
    expect(tl.of('liquidation')).toEqual([]);
    // Only the operator's kill switch: no CopyFactory limit (strategy, portfolio, subscriber) fired.
    expect(tl.of('stopout').map((s) => [s.scope, s.reason, s.action])).toEqual([
      ['fleet', 'manual', 'set'],
      ['fleet', 'manual', 'reset'],
    ]);
    expect(tl.summary()).toMatchObject({
      liquidated: [],
      finalStates: { alpha: 'entries-blocked', beta: 'trading' },
      maxReductionsInFlight: { alpha: 1, beta: 0 },
      blockedEntries: { alpha: 1, beta: 0 },
    });
  });

  it('rides out a feed drop, a disconnect and the operator kill switch', () => {
    // beta holds nothing, so the dropped marks (80–90 s) only show as a stale feed, 5 s after the last one.
    expect(
      tl
        .states('beta')
        .slice(0, 2)
        .map((s) => [s.t, s.from, s.to, s.reason]),
    ).toEqual([
      [86_000, 'trading', 'entries-blocked', 'feed-stale'],
      [90_000, 'entries-blocked', 'trading', 'budget-has-room'],
    ]);
    expect(tl.of('operator').map((o) => [o.t, o.action, o.result])).toEqual([
      [120_000, 'set-stopout', 'ok'],
      [130_000, 'reset-stopout', 'ok'],
    ]);
    expect(
      tl
        .states('alpha')
        .filter((s) => s.t >= 120_000)
        .map((s) => [s.t, s.from, s.to]),
    ).toEqual([
      [120_000, 'entries-blocked', 'stopped-out'],
      [130_000, 'stopped-out', 'entries-blocked'],
    ]);
  });
});
