import { describe, expect, it } from 'vitest';
import { AccountRecords } from '../../src/runtime/account-records.ts';
import type { TimelineRecord } from '../../src/timeline/timeline-record.ts';
import { accountContext } from '../machines/account-fixture.ts';

function setup() {
  let now = 5_000;
  const records: TimelineRecord[] = [];
  const accountRecords = new AccountRecords({ clock: { now: () => now }, origin: 1_000, write: (r) => records.push(r) });
  return { accountRecords, records, advance: (ms: number) => (now += ms) };
}

describe('account records', () => {
  it('only remembers the first state, then writes a state and a risk record on each change', () => {
    const { accountRecords, records } = setup();
    const ctx = accountContext();
    accountRecords.noteState('alpha', 'trading', ctx);
    accountRecords.noteState('alpha', 'trading', ctx);
    expect(records).toEqual([]);
    accountRecords.noteState('alpha', 'de-risking', ctx, 'de-risking.waiting');
    expect(records.map((r) => r.kind)).toEqual(['state', 'risk']);
    expect(records[0]).toMatchObject({
      t: 4_000,
      kind: 'state',
      account: 'alpha',
      from: 'trading',
      to: 'de-risking',
      detail: 'de-risking.waiting',
    });
    expect(records[1]).toMatchObject({ t: 4_000, kind: 'risk', account: 'alpha', state: 'de-risking' });
  });

  it('forgets an account: its next first state is only remembered again', () => {
    const { accountRecords, records } = setup();
    const ctx = accountContext();
    accountRecords.noteState('alpha', 'trading', ctx);
    accountRecords.forget('alpha');
    accountRecords.noteState('alpha', 'de-risking', ctx);
    expect(records).toEqual([]);
  });

  it('says when a risk record is due, counting from the last one written', () => {
    const { accountRecords, advance } = setup();
    expect(accountRecords.riskDue('alpha', 5_000, 10_000)).toBe(true); // never written
    accountRecords.writeRisk('alpha', accountContext());
    advance(9_999);
    expect(accountRecords.riskDue('alpha', 5_000 + 9_999, 10_000)).toBe(false);
    expect(accountRecords.riskDue('alpha', 5_000 + 10_000, 10_000)).toBe(true);
  });

  it('writes no risk record for an account without metrics', () => {
    const { accountRecords, records } = setup();
    accountRecords.writeRisk('alpha', { ...accountContext(), metrics: null });
    accountRecords.writeRisk('alpha', undefined);
    expect(records).toEqual([]);
  });
});
