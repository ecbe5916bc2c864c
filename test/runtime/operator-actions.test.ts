import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { supervisorMachine } from '../../machines/supervisor.ts';
import { OperatorActions } from '../../src/runtime/operator-actions.ts';
import type { StopoutStore } from '../../src/store/stopout-store.ts';
import type { TimelineRecord } from '../../src/timeline/timeline-record.ts';
import { accountContext } from '../machines/account-fixture.ts';

const T = Date.parse('2026-03-01T12:00:00.000Z');

function setup(store: Partial<StopoutStore>) {
  const records: TimelineRecord[] = [];
  // A supervisor with no group and no account spawned: no limit stands in the way of a reset.
  const sup = createActor(supervisorMachine, { input: { groups: [] } }).getSnapshot().context;
  const actions = new OperatorActions({
    store: store as StopoutStore,
    outlet: { clock: { now: () => T }, origin: T - 60_000, write: (r) => records.push(r) },
    supervisorContext: () => sup,
    accountContext: (id) => (id === 'alpha' ? accountContext() : undefined),
  });
  return { actions, records };
}

describe('operator actions', () => {
  it('sets a stopout through the store and writes the operator record', async () => {
    const set: unknown[] = [];
    const { actions, records } = setup({
      set: async (s) => {
        set.push(s);
        return s as never;
      },
    });
    const outcome = await actions.operate({ action: 'set-stopout', scope: 'account', id: 'alpha', by: 'ops' });
    expect(outcome).toEqual({ result: 'ok' });
    expect(set).toEqual([
      { scope: 'account', id: 'alpha', reason: 'manual', closePositions: false, stoppedAt: '2026-03-01T12:00:00.000Z', by: 'ops' },
    ]);
    expect(records).toEqual([
      { t: 60_000, kind: 'operator', action: 'set-stopout', scope: 'account', id: 'alpha', result: 'ok', by: 'ops' },
    ]);
  });

  it('moves the start time to now', async () => {
    const moved: unknown[] = [];
    const { actions } = setup({ setStartTime: async (...args) => void moved.push(args) });
    expect(await actions.operate({ action: 'move-start-time', scope: 'account', id: 'alpha' })).toEqual({ result: 'ok' });
    expect(moved).toEqual([['account', 'alpha', '2026-03-01T12:00:00.000Z']]);
  });

  it('refuses a reset of a stopout that does not exist, and any action the store refuses', async () => {
    const { actions, records } = setup({
      reset: async () => false,
      set: async () => {
        throw new Error('stopout store unreachable');
      },
    });
    expect(await actions.operate({ action: 'reset-stopout', scope: 'account', id: 'alpha' })).toEqual({
      result: 'refused',
      reason: 'no stopout manual on account alpha',
    });
    expect(await actions.operate({ action: 'set-stopout', scope: 'account', id: 'alpha' })).toEqual({
      result: 'refused',
      reason: 'stopout store unreachable',
    });
    expect(records.map((r) => (r.kind === 'operator' ? r.result : null))).toEqual(['refused', 'refused']);
  });

  it('answers what the gate would say to an entry, and nothing for an account not supervised here', () => {
    const { actions } = setup({});
    const order = { symbol: 'ETHP', side: 'buy', amount: '100', type: 'market' } as const;
    const decision = actions.checkEntry('alpha', order);
    expect(decision?.allowed).toBe(false); // 100 ETHP is far over maxPositionSize 6
    expect(actions.checkEntry('beta', order)).toBeUndefined();
  });
});
