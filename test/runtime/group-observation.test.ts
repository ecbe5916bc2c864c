import { describe, expect, it } from 'vitest';
import type { AccountContext } from '../../machines/account-context.ts';
import type { SupervisorContext, SupervisorEvent } from '../../machines/supervisor.ts';
import { observeGroups, type MemberValues } from '../../src/runtime/group-observation.ts';

const member = (collateral: string, equity: string, netTransfers: string) =>
  ({ metrics: { collateral, equity }, ledger: { netTransfers } }) as unknown as AccountContext;

function run(
  groups: Record<string, string[]>,
  local: Record<string, AccountContext | undefined>,
  remote: Record<string, MemberValues> = {},
): SupervisorEvent[] {
  const sent: SupervisorEvent[] = [];
  const sup = {
    accounts: Object.keys(local),
    roster: new Map(Object.keys(local).map((id, at) => [id, { at, scopes: [] }])),
    groups: Object.fromEntries(Object.entries(groups).map(([key, accounts]) => [key, { accounts }])),
  } as unknown as SupervisorContext;
  observeGroups({
    supervisorContext: () => sup,
    accountContext: (id) => local[id],
    remoteMember: (id) => remote[id],
    now: () => 7_000,
    send: (event) => sent.push(event),
  });
  return sent;
}

describe('group observation', () => {
  it('sums balance, equity and transfers of the members run here and of those published elsewhere', () => {
    const sent = run(
      { 'group:g': ['a', 'b', 'c'] },
      { a: member('1000.5', '990', '0'), b: member('2000', '2100.25', '-100') },
      { c: { balance: '500', equity: '450', netTransfers: '50' } },
    );
    // 1000.5 + 2000 + 500 = 3500.5; 990 + 2100.25 + 450 = 3540.25; 0 - 100 + 50 = -50
    expect(sent).toEqual([
      { type: 'GROUP_OBSERVE', group: 'group:g', observation: { at: 7_000, balance: '3500.5', equity: '3540.25', netTransfers: '-50' } },
    ]);
  });

  it('leaves out a group with a member not known yet, or one without metrics', () => {
    expect(run({ g: ['a', 'c'] }, { a: member('1', '1', '0') })).toEqual([]);
    const noMetrics = { metrics: null, ledger: { netTransfers: '0' } } as unknown as AccountContext;
    expect(run({ g: ['a', 'b'] }, { a: member('1', '1', '0'), b: noMetrics })).toEqual([]);
  });

  it('leaves a group none of whose members runs here to the processes that run them', () => {
    expect(run({ g: ['x', 'y'] }, { a: member('1', '1', '0') }, { x: { balance: '1', equity: '1', netTransfers: '0' } })).toEqual([]);
  });
});
