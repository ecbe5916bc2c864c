import { beforeAll, describe, expect, it } from 'vitest';
import { runScenarioFile, type ScenarioTimeline } from './scenario-file.ts';
import { checkTimelineInvariants } from './timeline-invariants.ts';
import { Timeline } from './timeline-query.ts';

// Marks stop for 20 s (pause-feed); entries are refused while the feed is stale and resume after
// (config/scenarios/feed-outage.yaml). The venue client's staleAfterMs for MARK_PRICE is 5 s.
describe('scenario feed-outage', () => {
  let run: ScenarioTimeline;
  let tl: Timeline;
  beforeAll(async () => {
    run = await runScenarioFile('feed-outage');
    tl = new Timeline(run.records);
  });

  it('keeps the timeline invariants', () => {
    checkTimelineInvariants(run.scenario, run.records);
  });

  it('receives no mark while the feed is paused', () => {
    const during = tl.marks('ETHP').filter((m) => m.t > 30_000 && m.t < 50_000);
    expect(during).toEqual([]);
  });

  it('blocks entries once the marks are more than 5 s old, and refuses the entry asked meanwhile', () => {
    const [stale, fresh] = tl.states('alpha');
    // last mark at 30 s; stale once more than 5 s have passed: the 36 s step
    expect(stale).toMatchObject({ t: 36_000, from: 'trading', to: 'entries-blocked', reason: 'feed-stale' });
    const refused = tl.of('decision', 'alpha').find((d) => !d.allowed)!;
    expect(refused).toMatchObject({ t: 40_000, order: { side: 'buy', amount: '1' } });
    expect(refused.rules).toContain('state');
    expect(refused.index).toBeGreaterThan(stale!.index);
    expect(refused.index).toBeLessThan(fresh!.index);
    expect(tl.orders('alpha', 'entry').filter((o) => o.t > 30_000 && o.t < 50_000)).toEqual([]);
  });

  it('trades again after the marks return', () => {
    const fresh = tl.states('alpha')[1]!;
    expect(fresh).toMatchObject({ t: 50_000, from: 'entries-blocked', to: 'trading' });
    expect(tl.marks('ETHP').some((m) => m.t >= 50_000)).toBe(true);
    const later = tl.of('decision', 'alpha').find((d) => d.index > fresh.index)!;
    expect(later).toMatchObject({ t: 70_000, allowed: true });
    const entry = tl.orders('alpha', 'entry').find((o) => o.index > fresh.index)!;
    expect(tl.terminal('alpha', entry.orderId)?.status).toBe('filled');
    expect(tl.summary()).toMatchObject({ liquidated: [], finalStates: { alpha: 'trading' }, blockedEntries: { alpha: 1 } });
  });
});
