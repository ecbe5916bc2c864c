import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import type { AccountContext } from '../../machines/account-context.ts';
import { coveredAccounts, isSpawned, supervisorMachine } from '../../machines/supervisor.ts';
import type { ResolvedRiskLimit } from '../../src/domain/risk-limit.ts';
import type { Stopout } from '../../src/domain/stopout.ts';
import { accountContext, T0, topState } from './account-fixture.ts';

const PORTFOLIO_DAY: ResolvedRiskLimit = {
  type: 'day',
  applyTo: 'equity-difference',
  maxAbsoluteRisk: '1500',
  closePositions: false,
  level: 'portfolio',
  sourceId: 'core',
};

function startSupervisor(groups = [{ scope: 'portfolio' as const, id: 'core', accounts: ['alpha', 'beta'], limits: [PORTFOLIO_DAY] }]) {
  const persisted: Stopout[] = [];
  const resets: unknown[] = [];
  const failures: unknown[] = [];
  // The machine's own account logic: its effects are no-ops, so the supervisor is tested alone.
  const machine = supervisorMachine.provide({
    actions: {
      persistStopouts: ({ context }) => void persisted.push(...context.outbox.persist),
      reportReset: ({ context }) => void resets.push(context.outbox.resetResult),
      reportFailure: ({ context }) => void failures.push(context.outbox.failure),
    },
  });
  const actor = createActor(machine, { input: { groups } });
  actor.start();
  const spawn = (
    accountId: string,
    scopes = [
      { scope: 'fleet' as const, id: '*' },
      { scope: 'portfolio' as const, id: 'core' },
    ],
  ) => {
    const context: AccountContext = {
      ...accountContext({ riskLimits: [] }),
      settings: { ...accountContext({ riskLimits: [] }).settings, accountId },
    };
    actor.send({ type: 'SPAWN', accountId, input: { context }, scopes });
  };
  const state = (accountId: string) => topState(actor.system.get(accountId)!.getSnapshot().value);
  return { actor, spawn, state, persisted, resets, failures };
}

describe('supervisor statechart', () => {
  it('spawns one account actor per strategy, each under its id as systemId, and routes events to it', () => {
    const { actor, spawn, state } = startSupervisor();
    spawn('alpha');
    spawn('beta');
    expect(Object.keys(actor.getSnapshot().children).sort()).toEqual(['alpha', 'beta']);
    actor.send({ type: 'ROUTE', accountId: 'alpha', event: { type: 'FEED_STATUS', stale: true, at: T0 + 1 } });
    expect(state('alpha')).toBe('entries-blocked');
    expect(state('beta')).toBe('trading');
  });

  it('a portfolio breach raises ONE stopout and stops every member in the same step', () => {
    const { actor, spawn, state, persisted } = startSupervisor();
    spawn('alpha');
    spawn('beta');
    // Aggregate equity 5000 at the day open, then 3400: drawdown 1600 >= maxAbsoluteRisk 1500.
    actor.send({
      type: 'GROUP_OBSERVE',
      group: 'portfolio:core',
      observation: { at: T0, balance: '5000', equity: '5000', netTransfers: '0' },
    });
    expect(persisted).toEqual([]);
    actor.send({
      type: 'GROUP_OBSERVE',
      group: 'portfolio:core',
      observation: { at: T0 + 60_000, balance: '5000', equity: '3400', netTransfers: '0' },
    });
    expect(persisted).toHaveLength(1);
    expect(persisted[0]).toMatchObject({ scope: 'portfolio', id: 'core', reason: 'day-equity-difference', closePositions: false });
    // After that single event, both members are out of new entries.
    expect(state('alpha')).toBe('stopped-out');
    expect(state('beta')).toBe('stopped-out');
    // The same breach observed again raises nothing new.
    actor.send({
      type: 'GROUP_OBSERVE',
      group: 'portfolio:core',
      observation: { at: T0 + 61_000, balance: '5000', equity: '3300', netTransfers: '0' },
    });
    expect(persisted).toHaveLength(1);
  });

  it('refuses a group reset while the breach holds, and accepts it after startTime moved', () => {
    const { actor, spawn, resets } = startSupervisor();
    spawn('alpha');
    actor.send({
      type: 'GROUP_OBSERVE',
      group: 'portfolio:core',
      observation: { at: T0, balance: '5000', equity: '5000', netTransfers: '0' },
    });
    actor.send({
      type: 'GROUP_OBSERVE',
      group: 'portfolio:core',
      observation: { at: T0 + 1000, balance: '5000', equity: '3400', netTransfers: '0' },
    });
    actor.send({ type: 'RESET_REQUEST', scope: 'portfolio', id: 'core', reason: 'day-equity-difference', at: T0 + 2000 });
    expect(resets.at(-1)).toMatchObject({ result: 'refused' });
    expect((resets.at(-1) as { why: string }).why).toMatch(/move startTime/);
    actor.send({ type: 'MOVE_START_TIME', scope: 'portfolio', id: 'core', at: T0 + 3000 });
    actor.send({
      type: 'GROUP_OBSERVE',
      group: 'portfolio:core',
      observation: { at: T0 + 3000, balance: '5000', equity: '3400', netTransfers: '0' },
    });
    actor.send({ type: 'RESET_REQUEST', scope: 'portfolio', id: 'core', reason: 'day-equity-difference', at: T0 + 4000 });
    expect(resets.at(-1)).toMatchObject({ result: 'ok' });
  });

  it('the fleet kill switch stops every account, and a new account starts under it', () => {
    const { actor, spawn, state } = startSupervisor();
    spawn('alpha');
    actor.send({ type: 'STOPOUT_SEEN', stopout: { scope: 'fleet', id: '*', reason: 'manual', closePositions: false } });
    expect(state('alpha')).toBe('stopped-out');
    spawn('gamma', [{ scope: 'fleet', id: '*' }]);
    expect(state('gamma')).toBe('stopped-out');
    actor.send({ type: 'STOPOUT_GONE', scope: 'fleet', id: '*', reason: 'manual' });
    expect(state('alpha')).toBe('trading');
    expect(state('gamma')).toBe('trading');
  });

  it('restarts a failed child from its persisted snapshot and reports the failure', () => {
    const { actor, spawn, state, failures } = startSupervisor();
    spawn('alpha');
    actor.send({ type: 'STOPOUT_SEEN', stopout: { scope: 'portfolio', id: 'core', reason: 'manual', closePositions: false } });
    const before = actor.system.get('alpha')!;
    const persisted = JSON.parse(JSON.stringify(before.getPersistedSnapshot()));
    actor.send({ type: 'CHILD_FAILED', accountId: 'alpha', error: 'boom', input: { persisted } });
    expect(actor.system.get('alpha')).not.toBe(before);
    expect(state('alpha')).toBe('stopped-out');
    expect(failures).toEqual([{ accountId: 'alpha', error: 'boom' }]);
  });

  it('removes an account without touching the others (config reload)', () => {
    const { actor, spawn, state } = startSupervisor();
    spawn('alpha');
    spawn('beta');
    actor.send({ type: 'ROUTE', accountId: 'beta', event: { type: 'FEED_STATUS', stale: true, at: T0 + 1 } });
    const beta = actor.system.get('beta');
    actor.send({ type: 'DESPAWN', accountId: 'alpha' });
    expect(actor.system.get('alpha')).toBeUndefined();
    expect(actor.system.get('beta')).toBe(beta);
    expect(state('beta')).toBe('entries-blocked');
    expect(actor.getSnapshot().context.accounts).toEqual(['beta']);
  });

  it('a stopout covers the accounts spawned under its scope now, never one removed since', () => {
    const { actor, spawn } = startSupervisor();
    spawn('alpha');
    spawn('beta');
    actor.send({ type: 'DESPAWN', accountId: 'alpha' });
    const context = actor.getSnapshot().context;
    expect(isSpawned(context, 'alpha')).toBe(false);
    expect(coveredAccounts(context, 'portfolio', 'core')).toEqual(['beta']);
    expect(coveredAccounts(context, 'fleet', '*')).toEqual(['beta']);
    expect(coveredAccounts(context, 'portfolio', 'nowhere')).toEqual([]);
    // Respawned, alpha is covered again, under the scopes of its new spawn.
    spawn('alpha', [{ scope: 'fleet', id: '*' }]);
    const after = actor.getSnapshot().context;
    expect(after.accounts).toEqual(['beta', 'alpha']);
    expect(coveredAccounts(after, 'portfolio', 'core')).toEqual(['beta']);
    expect(coveredAccounts(after, 'fleet', '*')).toEqual(['beta', 'alpha']);
    // The earlier snapshot answers as it did.
    expect(coveredAccounts(context, 'fleet', '*')).toEqual(['beta']);
    expect(isSpawned(context, 'alpha')).toBe(false);
  });
});
