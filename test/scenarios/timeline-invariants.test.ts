import { beforeAll, describe, expect, it } from 'vitest';
import type { TimelineRecord } from '../../src/timeline/timeline-record.ts';
import { runScenarioFile, type ScenarioTimeline } from './scenario-file.ts';
import { checkTimelineInvariants } from './timeline-invariants.ts';

// The shared checks must fail on the faults they exist for: each case breaks one rule in a real
// timeline (rejected-reduction: an entry, a rejected reduce, a filled reduce, a top-up) and expects a failure.
describe('timeline invariants', () => {
  let run: ScenarioTimeline;
  beforeAll(async () => {
    run = await runScenarioFile('rejected-reduction');
  });

  const broken =
    (edit: (records: TimelineRecord[]) => void): (() => void) =>
    () => {
      const records = structuredClone(run.records);
      edit(records);
      checkTimelineInvariants(run.scenario, records);
    };
  const indexOf = (records: TimelineRecord[], match: (r: TimelineRecord) => boolean): number => {
    const i = records.findIndex(match);
    if (i < 0) throw new Error('the fixture timeline lacks the record this case edits');
    return i;
  };

  it('accept the real timeline', () => {
    expect(() => checkTimelineInvariants(run.scenario, run.records)).not.toThrow();
  });

  it('catch two reducing orders in flight', () => {
    expect(
      broken((records) => {
        // Move the second reduce's order record before the first reduce's rejection.
        const second = indexOf(records, (r) => r.kind === 'order' && r.purpose === 'reduce' && r.orderId === 'alpha-3');
        const [order] = records.splice(second, 1);
        const rejection = indexOf(records, (r) => r.kind === 'order-update' && r.status === 'rejected');
        records.splice(rejection, 0, order!);
      }),
    ).toThrow(/already has reducing order/);
  });

  it('catch a reducing order on the wrong side or larger than the position', () => {
    expect(
      broken((records) => {
        const i = indexOf(records, (r) => r.kind === 'order' && r.purpose === 'reduce');
        records[i] = { ...(records[i] as Extract<TimelineRecord, { kind: 'order' }>), side: 'buy' };
      }),
    ).toThrow(/against position/);
    expect(
      broken((records) => {
        const i = indexOf(records, (r) => r.kind === 'order' && r.purpose === 'reduce');
        records[i] = { ...(records[i] as Extract<TimelineRecord, { kind: 'order' }>), amount: '7' };
      }),
    ).toThrow(/larger than position/);
  });

  it('catch a liquidation the scenario did not ask for, and a refused entry without rules', () => {
    expect(
      broken((records) => {
        records.splice(records.length - 1, 0, { t: records.at(-1)!.t, kind: 'liquidation', account: 'alpha', symbol: 'ETHP' });
      }),
    ).toThrow(/liquidated/);
    expect(
      broken((records) => {
        const i = indexOf(records, (r) => r.kind === 'decision');
        records[i] = { ...(records[i] as Extract<TimelineRecord, { kind: 'decision' }>), allowed: false, rules: [] };
      }),
    ).toThrow(/lists the rules/);
  });

  it('catch a summary that disagrees with the records', () => {
    expect(
      broken((records) => {
        const summary = records.at(-1) as Extract<TimelineRecord, { kind: 'summary' }>;
        summary.maxReductionsInFlight = { alpha: 2 };
      }),
    ).toThrow(/maxReductionsInFlight/);
    expect(
      broken((records) => {
        const summary = records.at(-1) as Extract<TimelineRecord, { kind: 'summary' }>;
        summary.finalStates = { alpha: 'de-risking' };
      }),
    ).toThrow(/finalStates/);
  });

  it('catch a state chain with a gap and time going back', () => {
    expect(
      broken((records) => {
        const i = indexOf(records, (r) => r.kind === 'state');
        records[i] = { ...(records[i] as Extract<TimelineRecord, { kind: 'state' }>), from: 'panic-exit' };
      }),
    ).toThrow(/from must be where it was/);
    expect(
      broken((records) => {
        const i = indexOf(records, (r) => r.kind === 'order' && r.purpose === 'reduce');
        records[i] = { ...records[i]!, t: 0 };
      }),
    ).toThrow(/time went back/);
  });
});
