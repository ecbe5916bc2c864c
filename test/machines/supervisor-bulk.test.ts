import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import type { AccountContext } from '../../machines/account-context.ts';
import { accountMachine } from '../../machines/account.ts';
import { coveredAccounts, isSpawned, supervisorMachine, type AccountSpawn } from '../../machines/supervisor.ts';
import type { StopoutScope } from '../../src/domain/stopout.ts';
import { accountContext, topState } from './account-fixture.ts';

function contextOf(accountId: string): AccountContext {
  const base = accountContext({ riskLimits: [] });
  return { ...base, settings: { ...base.settings, accountId } };
}

function spawnOf(accountId: string, portfolio = 'core'): AccountSpawn {
  return {
    accountId,
    input: { context: contextOf(accountId) },
    scopes: [
      { scope: 'fleet', id: '*' },
      { scope: 'portfolio', id: portfolio },
    ],
  };
}

function startSupervisor() {
  return createActor(supervisorMachine, { input: { groups: [] } }).start();
}

const state = (actor: ReturnType<typeof startSupervisor>, accountId: string) => topState(actor.system.get(accountId)!.getSnapshot().value);

describe('supervisor bulk spawn (SPAWN_MANY)', () => {
  it('spawns every account of the batch in its order, each under its id as systemId', () => {
    const actor = startSupervisor();
    actor.send({ type: 'SPAWN', accountId: 'a0', input: { context: contextOf('a0') }, scopes: [{ scope: 'fleet', id: '*' }] });
    actor.send({ type: 'SPAWN_MANY', accounts: ['a1', 'a2', 'a3'].map((id) => spawnOf(id)) });
    const context = actor.getSnapshot().context;
    expect(context.accounts).toEqual(['a0', 'a1', 'a2', 'a3']);
    expect(Object.keys(actor.getSnapshot().children).sort()).toEqual(['a0', 'a1', 'a2', 'a3']);
    for (const id of context.accounts) expect(actor.system.get(id)).toBe(actor.getSnapshot().children[id]);
    expect(coveredAccounts(context, 'portfolio', 'core')).toEqual(['a1', 'a2', 'a3']);
    actor.send({ type: 'ROUTE', accountId: 'a2', event: { type: 'FEED_STATUS', stale: true, at: contextOf('a2').now + 1 } });
    expect(state(actor, 'a2')).toBe('entries-blocked');
    expect(state(actor, 'a1')).toBe('trading');
  });

  it('skips accounts already spawned and repeated ids (the first wins), keeping the running actor', () => {
    const actor = startSupervisor();
    actor.send({ type: 'SPAWN_MANY', accounts: [spawnOf('a1')] });
    const running = actor.system.get('a1');
    actor.send({ type: 'SPAWN_MANY', accounts: [spawnOf('a1', 'other'), spawnOf('a2', 'core'), spawnOf('a2', 'other')] });
    const context = actor.getSnapshot().context;
    expect(context.accounts).toEqual(['a1', 'a2']);
    expect(actor.system.get('a1')).toBe(running);
    expect(coveredAccounts(context, 'portfolio', 'core')).toEqual(['a1', 'a2']);
    expect(coveredAccounts(context, 'portfolio', 'other')).toEqual([]);
    const before = actor.getSnapshot();
    actor.send({ type: 'SPAWN_MANY', accounts: [] });
    expect(actor.getSnapshot().context).toBe(before.context);
  });

  it('every account of the batch starts under the stopouts in force over it, and only those', () => {
    const actor = startSupervisor();
    actor.send({ type: 'STOPOUT_SEEN', stopout: { scope: 'portfolio', id: 'core', reason: 'manual', closePositions: false } });
    actor.send({ type: 'SPAWN_MANY', accounts: [spawnOf('a1', 'core'), spawnOf('a2', 'other')] });
    expect(state(actor, 'a1')).toBe('stopped-out');
    expect(state(actor, 'a2')).toBe('trading');
    actor.send({ type: 'STOPOUT_SEEN', stopout: { scope: 'fleet', id: '*', reason: 'manual', closePositions: false } });
    actor.send({ type: 'SPAWN_MANY', accounts: [spawnOf('a3', 'other')] });
    expect(state(actor, 'a3')).toBe('stopped-out');
    actor.send({ type: 'STOPOUT_GONE', scope: 'fleet', id: '*', reason: 'manual' });
    expect(state(actor, 'a2')).toBe('trading');
    expect(state(actor, 'a3')).toBe('trading');
    expect(state(actor, 'a1')).toBe('stopped-out');
  });

  it('resumes persisted accounts in the batch in the state they were saved in', () => {
    const source = createActor(accountMachine, { input: contextOf('a1') }).start();
    source.send({ type: 'FEED_STATUS', stale: true, at: contextOf('a1').now + 1 });
    const persisted = JSON.parse(JSON.stringify(source.getPersistedSnapshot()));
    const actor = startSupervisor();
    actor.send({ type: 'SPAWN_MANY', accounts: [{ ...spawnOf('a1'), input: { persisted } }, spawnOf('a2')] });
    expect(state(actor, 'a1')).toBe('entries-blocked');
    expect(state(actor, 'a2')).toBe('trading');
  });

  it('membership and coverage match a reference list over random spawns, bulk spawns and removals', () => {
    const ids = ['a', 'b', 'c', 'd', 'e', 'f'];
    const portfolios = ['p', 'q'];
    const step = fc.oneof(
      fc.record({ kind: fc.constant('spawn' as const), id: fc.constantFrom(...ids), portfolio: fc.constantFrom(...portfolios) }),
      fc.record({
        kind: fc.constant('many' as const),
        batch: fc.array(fc.record({ id: fc.constantFrom(...ids), portfolio: fc.constantFrom(...portfolios) }), { maxLength: 5 }),
      }),
      fc.record({ kind: fc.constant('despawn' as const), id: fc.constantFrom(...ids) }),
    );
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 30 }), (steps) => {
        const actor = startSupervisor();
        // The reference: spawned ids in order, each with the portfolio it was spawned under.
        let model: { id: string; portfolio: string }[] = [];
        const history: { context: ReturnType<typeof actor.getSnapshot>['context']; model: typeof model }[] = [];
        for (const s of steps) {
          if (s.kind === 'spawn') {
            actor.send({ type: 'SPAWN', ...spawnOf(s.id, s.portfolio) });
            if (!model.some((m) => m.id === s.id)) model = [...model, { id: s.id, portfolio: s.portfolio }];
          } else if (s.kind === 'many') {
            actor.send({ type: 'SPAWN_MANY', accounts: s.batch.map((b) => spawnOf(b.id, b.portfolio)) });
            for (const b of s.batch) if (!model.some((m) => m.id === b.id)) model = [...model, { id: b.id, portfolio: b.portfolio }];
          } else {
            actor.send({ type: 'DESPAWN', accountId: s.id });
            model = model.filter((m) => m.id !== s.id);
          }
          history.push({ context: actor.getSnapshot().context, model });
        }
        // Every snapshot along the way still answers as it did when it was taken.
        for (const { context, model: expected } of history) {
          expect(context.accounts).toEqual(expected.map((m) => m.id));
          for (const id of ids) expect(isSpawned(context, id)).toBe(expected.some((m) => m.id === id));
          expect(coveredAccounts(context, 'fleet', '*')).toEqual(expected.map((m) => m.id));
          for (const p of portfolios) {
            const covered = coveredAccounts(context, 'portfolio' as StopoutScope, p);
            expect([...covered].sort()).toEqual(
              expected
                .filter((m) => m.portfolio === p)
                .map((m) => m.id)
                .sort(),
            );
          }
        }
        expect(Object.keys(actor.getSnapshot().children).sort()).toEqual(model.map((m) => m.id).sort());
        actor.stop();
      }),
      { seed: 20261203, numRuns: 150 },
    );
  });
});
