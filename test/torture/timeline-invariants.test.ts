import { beforeAll, describe, expect, it } from 'vitest';
import { formatProblems, loadConfigFile } from '../../src/config/load.ts';
import type { ScenarioConfig } from '../../src/config/scenario-schema.ts';
import { runScenario } from '../../src/scenario/scenario-runner.ts';
import type { TimelineRecord } from '../../src/timeline/timeline-record.ts';
import { checkTimeline } from '../../torture/timeline-invariants.ts';
import { scenarioPath } from '../scenarios/scenario-file.ts';

type Of<K extends TimelineRecord['kind']> = Extract<TimelineRecord, { kind: K }>;

// The campaign's checker (torture/timeline-invariants.ts) must catch what it exists for: each case breaks
// one rule in the real stress-pass timeline (an entry, a refusal, reductions, a fleet kill switch set
// and reset) and expects that rule's violation, and nothing on the timeline as it is.
describe('the torture timeline checker', () => {
  let scenario: ScenarioConfig;
  let records: TimelineRecord[];
  beforeAll(async () => {
    const loaded = await loadConfigFile(scenarioPath('stress-pass'), { expect: 'scenario' });
    if (!loaded.ok) throw new Error(formatProblems(loaded.problems).join('\n'));
    scenario = loaded.value as ScenarioConfig;
    records = (await runScenario(scenario)).records;
  }, 30_000);

  const broken = (edit: (r: TimelineRecord[]) => void): string[] => {
    const copy = structuredClone(records);
    edit(copy);
    return checkTimeline(scenario, copy).violations;
  };
  const find = (r: TimelineRecord[], match: (x: TimelineRecord) => boolean): number => {
    const i = r.findIndex(match);
    if (i < 0) throw new Error('the stress-pass timeline lacks the record this case edits');
    return i;
  };
  const isReduce = (x: TimelineRecord): x is Of<'order'> => x.kind === 'order' && x.purpose === 'reduce';

  it('accepts the real timeline, and sees the states it went through', () => {
    const check = checkTimeline(scenario, records);
    expect(check.violations).toEqual([]);
    expect(check.reached).toMatchObject({ 'entries-blocked': expect.any(Number), 'de-risking': 1, 'stopped-out': 2 });
  });

  it('catches a second reducing order in flight', () => {
    const violations = broken((r) => {
      const i = find(r, isReduce);
      r.splice(i + 1, 0, { ...(r[i] as Of<'order'>), orderId: 'alpha-99' });
    });
    expect(violations.join('\n')).toMatch(/already has reducing order alpha-\d+ in flight/);
  });

  it('catches a reduction larger than the position, and its fill flipping it', () => {
    const violations = broken((r) => {
      const i = find(r, isReduce);
      const order = r[i] as Of<'order'>;
      r[i] = { ...order, amount: '7' };
      for (const [k, u] of r.entries()) {
        if (u.kind === 'order-update' && u.orderId === order.orderId && u.status === 'filled') r[k] = { ...u, filled: '7' };
      }
    });
    expect(violations.join('\n')).toMatch(/7 larger than position 3/);
    expect(violations.join('\n')).toMatch(/takes 3 to -4 \(a flip or a growth\)/);
  });

  it('catches an entry outside trading', () => {
    const violations = broken((r) => {
      const i = find(r, (x) => x.kind === 'state' && x.to === 'entries-blocked');
      const t = r[i]!.t;
      const order = { symbol: 'ETHP', side: 'buy' as const, amount: '1', type: 'market' as const };
      r.splice(
        i + 1,
        0,
        { t, kind: 'decision', account: 'alpha', allowed: true, rules: [], order },
        {
          t,
          kind: 'order',
          account: 'alpha',
          orderId: 'alpha-98',
          ...order,
          price: '0',
          purpose: 'entry',
        },
      );
    });
    expect(violations.join('\n')).toMatch(/alpha order alpha-98 at \d+: an entry while entries-blocked/);
  });

  it('catches a limit price outside the band on its aggressive side only', () => {
    const reduce = records.find(isReduce)!;
    const above = broken((r) => {
      const i = find(r, isReduce);
      r[i] = { ...(r[i] as Of<'order'>), side: 'buy', price: '1800' };
    });
    expect(above.join('\n')).toMatch(/buy price 1800 outside the band \[1666, 1734\]/);
    // A sell far above the mark rests on the book: not a band breach.
    const passive = broken((r) => {
      const i = find(r, isReduce);
      r[i] = { ...(r[i] as Of<'order'>), price: '1800' };
    });
    expect(passive.filter((v) => v.includes('band'))).toEqual([]);
    expect(reduce.side).toBe('sell');
  });

  it('judges a reducing order the venue answers after a liquidation (a gap) by the position it was sent for', () => {
    // Reproduces the campaign's first false alarm (seed 20261203, scenarios 5, 60, 79): an exit sent in
    // the same instant as the liquidation of its position was reported "against position 0".
    const first = records.find(isReduce)!;
    const violations = broken((r) => {
      const i = find(r, isReduce);
      const order = r[i] as Of<'order'>;
      r.splice(i + 1, 0, { t: order.t, kind: 'liquidation', account: 'alpha', symbol: 'ETHP' });
      for (const [k, u] of r.entries()) {
        if (u.kind === 'order-update' && u.orderId === order.orderId && u.status === 'filled')
          r[k] = { ...u, status: 'rejected', filled: '0', reason: 'SolvencyGuard' };
      }
    });
    expect(violations.filter((v) => v.includes(first.orderId) && /against position 0|larger than position 0/.test(v))).toEqual([]);
    // The next reducing order, sent after the liquidation, is judged against the flat position it met.
    expect(violations.join('\n')).toMatch(/sell 0\.0004 against position 0/);
    // Still a violation: a liquidation the marks did not gap for.
    expect(
      broken((r) => {
        r.splice(3, 0, { t: r[3]!.t, kind: 'liquidation', account: 'beta', symbol: 'ETHP' });
      }).join('\n'),
    ).toMatch(/beta liquidated on ETHP at \d+ without a gap in its marks/);
  });

  it('catches an account leaving stopped-out without a reset or expiry of a stopout over it', () => {
    const violations = broken((r) => {
      const i = find(r, (x) => x.kind === 'stopout' && x.action === 'reset');
      r.splice(i, 1);
    });
    expect(violations.join('\n')).toMatch(/left stopped-out for \S+ without a reset or expiry/);
  });
});
