import { describe, expect, it } from 'vitest';
import { statePath, topState } from '../../machines/snapshot-state.ts';
import { FleetView } from '../../src/api/fleet-view.ts';
import type { TimelineRecord } from '../../src/timeline/timeline-record.ts';
import { apiScenario, startApiFixture } from './api-harness.ts';

const mark = (t: number, price: string): TimelineRecord => ({ t, kind: 'mark', symbol: 'ETHP', price });

describe('FleetView', () => {
  it('before a fleet is attached: empty, and acting calls are refused', async () => {
    const view = new FleetView();
    expect(view.fleet()).toEqual({ at: expect.any(String), accounts: [], portfolios: [] });
    expect(view.account('alpha')).toBeUndefined();
    expect(await view.stopouts()).toEqual({ stopouts: [] });
    expect(await view.operate({ action: 'set-stopout', scope: 'fleet', id: '*' })).toEqual({
      result: 'refused',
      reason: 'the fleet is not running yet',
    });
  });

  it('keeps a bounded window of recent records and passes each to listeners; a failing listener harms nothing', () => {
    const view = new FleetView({ capacity: 3 });
    const seen: number[] = [];
    view.subscribe(() => {
      throw new Error('a broken socket');
    });
    const unsubscribe = view.subscribe((r) => seen.push(r.t));
    for (let t = 0; t < 5; t += 1) view.record(mark(t, '2000'));
    unsubscribe();
    view.record(mark(5, '2000'));
    expect(seen).toEqual([0, 1, 2, 3, 4]);
    expect(view.recent().map((r) => r.t)).toEqual([3, 4, 5]);
  });

  it('state values read as the timeline writes them', () => {
    expect(topState('trading')).toBe('trading');
    expect(topState({ 'de-risking': 'awaiting' })).toBe('de-risking');
    expect(statePath({ 'stopped-out': 'holding' })).toBe('stopped-out.holding');
    expect(statePath({ a: { b: 'c' } })).toBe('a.b.c');
  });

  it('after a scenario ends it answers from the last snapshots', async () => {
    const f = await startApiFixture({ scenario: apiScenario({ until: '70s' }) });
    try {
      const run = await f.finish();
      expect(f.view.ended).toBe('the scenario has ended');
      const fleet = f.view.fleet();
      expect(fleet.accounts.map((a) => [a.id, a.state])).toEqual(
        Object.entries(
          run.records.at(-1)!.kind === 'summary' ? (run.records.at(-1) as Extract<TimelineRecord, { kind: 'summary' }>).finalStates : {},
        ),
      );
      expect(fleet.accounts.map((a) => a.state)).toEqual(['stopped-out', 'stopped-out']);
      expect(f.view.account('alpha')?.position).toEqual({ ETHP: '6' });
      expect((await f.view.stopouts()).stopouts.map((s) => `${s.scope}:${s.id}:${s.reason}`)).toEqual([
        'portfolio:core:day-equity-difference',
      ]);
      expect(f.view.activeState('alpha')).toEqual({ 'stopped-out': 'holding' });
    } finally {
      await f.close();
    }
  });
});
