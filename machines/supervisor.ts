import { assign, enqueueActions, setup, stopChild } from 'xstate';
import type { AccountEvent } from './account-context.ts';
import { accountMachine } from './account.ts';
import { groupResetRefusal } from './reset-check.ts';
import { restorableAccount, type AccountSpawnInput } from './restorable-account.ts';
import { createDrawdownHistory, observe, pinAnchor, type DrawdownHistory, type ObservationInput } from '../src/domain/drawdown.ts';
import { toIso } from '../src/domain/periods.ts';
import { evaluateRiskLimits, LEVEL_STOPOUT_SCOPE } from '../src/domain/risk-limits.ts';
import type { ResolvedRiskLimit } from '../src/domain/risk-limit.ts';
import type { Stopout, StopoutScope } from '../src/domain/stopout.ts';
import { scopeKey, stopoutKey } from '../src/domain/stopout-identity.ts';

/**
 * A set of accounts whose limits are measured on their aggregate (a portfolio, a subscription, a
 * subscriber), with its own drawdown history. Account-level limits (strategy, member) live in the accounts.
 */
export interface LimitGroup {
  scope: StopoutScope;
  id: string;
  accounts: string[];
  limits: ResolvedRiskLimit[];
  drawdown: DrawdownHistory;
}

/** An account the supervisor spawned: where it sits in `accounts` and the scope keys it was spawned under. */
export interface RosterEntry {
  at: number;
  scopes: readonly string[];
}

/** One account of a `SPAWN_MANY` batch. */
export interface AccountSpawn {
  accountId: string;
  input: AccountSpawnInput;
  scopes: { scope: StopoutScope; id: string }[];
}

export interface SupervisorContext {
  /** Account ids currently spawned, in spawn order (the runtime spawns in config order). Never mutated. */
  accounts: string[];
  /**
   * Account id → its entry, for O(1) membership (`isSpawned`). Shared between successive snapshots and only
   * ever grown by new keys: an entry counts for a snapshot only where `accounts[entry.at]` is that id, so a
   * key added for a later (or another) snapshot changes no earlier answer. A key is never rewritten in
   * place: a respawn or a removal copies the map.
   */
  roster: ReadonlyMap<string, RosterEntry>;
  /**
   * `scope:id` → ids ever spawned under it (fleet is all accounts, not listed), grown in place like
   * `roster`; `coveredAccounts` keeps those spawned now under that scope.
   */
  scopes: ReadonlyMap<string, ReadonlySet<string>>;
  groups: Record<string, LimitGroup>;
  /** Every stopout in force, whatever its scope. */
  stopouts: Stopout[];
  /** What the last transition asks the runtime to do (the effects read it). */
  outbox: {
    persist: Stopout[];
    resetResult: { scope: StopoutScope; id: string; reason: string; result: 'ok' | 'refused'; why?: string; by?: string } | null;
    failure: { accountId: string; error: string } | null;
  };
}

export type SupervisorEvent =
  | { type: 'SPAWN'; accountId: string; input: AccountSpawnInput; scopes: { scope: StopoutScope; id: string }[] }
  /** Many accounts in one step (a recovery, a fleet start): one assign, one copy of the children. */
  | { type: 'SPAWN_MANY'; accounts: AccountSpawn[] }
  | { type: 'DESPAWN'; accountId: string }
  | { type: 'ROUTE'; accountId: string; event: AccountEvent }
  | { type: 'BROADCAST'; event: AccountEvent }
  | { type: 'GROUP_OBSERVE'; group: string; observation: ObservationInput }
  | { type: 'STOPOUT_SEEN'; stopout: Stopout }
  | { type: 'STOPOUT_GONE'; scope: StopoutScope; id: string; reason: string }
  | { type: 'RESET_REQUEST'; scope: StopoutScope; id: string; reason: string; by?: string; at: number }
  | { type: 'MOVE_START_TIME'; scope: StopoutScope; id: string; at: number }
  | { type: 'CHILD_FAILED'; accountId: string; error: string; input: AccountSpawnInput }
  /** A reloaded config: the limit groups as they are now (a kept group keeps its drawdown history). */
  | { type: 'SET_GROUPS'; groups: Array<Omit<LimitGroup, 'drawdown'>> };

export interface SupervisorInput {
  groups: Array<Omit<LimitGroup, 'drawdown'>>;
}

/** Whether `accountId` is spawned now, in O(1). */
export function isSpawned(context: SupervisorContext, accountId: string): boolean {
  const entry = context.roster.get(accountId);
  return entry !== undefined && context.accounts[entry.at] === accountId;
}

/** Accounts a stopout at (scope, id) covers, in O(accounts ever spawned under that scope). */
export function coveredAccounts(context: SupervisorContext, scope: StopoutScope, id: string): readonly string[] {
  if (scope === 'fleet') return context.accounts;
  const key = scopeKey(scope, id);
  const members = context.scopes.get(key);
  if (!members) return [];
  const covered: string[] = [];
  for (const accountId of members) {
    const entry = context.roster.get(accountId);
    if (entry !== undefined && context.accounts[entry.at] === accountId && entry.scopes.includes(key)) covered.push(accountId);
  }
  return covered;
}

function groupOf(context: SupervisorContext, scope: StopoutScope, id: string): LimitGroup | undefined {
  return context.groups[scopeKey(scope, id)];
}

/** Whether a stopout applies to an account spawned under `scopes`. */
function stopoutCovers(stopout: Stopout, scopes: readonly { scope: StopoutScope; id: string }[]): boolean {
  return stopout.scope === 'fleet' || scopes.some((s) => s.scope === stopout.scope && s.id === stopout.id);
}

/**
 * The bookkeeping of `spawns` joining the spawned accounts (each new and unique: the caller filters), in
 * O(spawns) plus one copy of `accounts`.
 */
function joined(context: SupervisorContext, spawns: readonly AccountSpawn[]): Pick<SupervisorContext, 'accounts' | 'roster' | 'scopes'> {
  // A key already present (a respawn) must not be rewritten under snapshots that read it: copy the map.
  const shared = spawns.every((s) => !context.roster.has(s.accountId));
  const roster = (shared ? context.roster : new Map(context.roster)) as Map<string, RosterEntry>;
  const scopes = context.scopes as Map<string, Set<string>>;
  const accounts = context.accounts.slice();
  for (const { accountId, scopes: under } of spawns) {
    const keys = under.filter((s) => s.scope !== 'fleet').map((s) => scopeKey(s.scope, s.id));
    roster.set(accountId, { at: accounts.length, scopes: keys });
    accounts.push(accountId);
    for (const key of keys) {
      const members = scopes.get(key);
      if (members) members.add(accountId);
      else scopes.set(key, new Set([accountId]));
    }
  }
  return { accounts, roster, scopes };
}

const noOutbox: SupervisorContext['outbox'] = { persist: [], resetResult: null, failure: null };

/**
 * The supervisor: one account actor per strategy (spawned with its id as systemId), routing of venue
 * events, CopyFactory limits measured on portfolios, subscriptions and subscribers, and the fan-out of
 * stopouts. A group breach raises ONE stopout and puts every covered account out of new entries in the
 * same step. Pure like the account machine: effects are named actions the runtime provides.
 */
export const supervisorMachine = setup({
  types: {
    context: {} as SupervisorContext,
    events: {} as SupervisorEvent,
    input: {} as SupervisorInput,
  },
  // The runtime provides the same logic with its effects (restorableAccount(provideAccountEffects(…))).
  actors: { account: restorableAccount(accountMachine) },
  guards: {
    groupResetAccepted: ({ context, event }) =>
      event.type === 'RESET_REQUEST' && groupResetRefusal(groupOf(context, event.scope, event.id), event) === null,
  },
  actions: {
    // ── effects (provided by src/runtime/fleet-runtime.ts) ──
    persistStopouts: () => {},
    reportReset: () => {},
    reportFailure: () => {},

    spawnAccount: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'SPAWN' || isSpawned(context, event.accountId)) return;
      enqueue.spawnChild('account', { id: event.accountId, systemId: event.accountId, input: event.input });
      enqueue.assign(joined(context, [event]));
      // A new account starts under every stopout already in force over it.
      for (const stopout of context.stopouts) {
        if (stopoutCovers(stopout, event.scopes)) enqueue.sendTo(event.accountId, { type: 'STOPOUT_SET', stopout });
      }
    }),
    /**
     * Like SPAWN for each account not spawned yet (the first of repeated ids wins), in one assign: XState
     * copies the supervisor's children once per spawning action, so a batch costs one copy, not one each.
     */
    spawnAccounts: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'SPAWN_MANY') return;
      const seen = new Set<string>();
      const spawns = event.accounts.filter((s) => {
        if (seen.has(s.accountId) || isSpawned(context, s.accountId)) return false;
        seen.add(s.accountId);
        return true;
      });
      if (spawns.length === 0) return;
      enqueue.assign(({ spawn }) => {
        for (const s of spawns) spawn('account', { id: s.accountId, systemId: s.accountId, input: s.input });
        return joined(context, spawns);
      });
      for (const stopout of context.stopouts) {
        for (const s of spawns) if (stopoutCovers(stopout, s.scopes)) enqueue.sendTo(s.accountId, { type: 'STOPOUT_SET', stopout });
      }
    }),
    despawnAccount: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'DESPAWN' || !isSpawned(context, event.accountId)) return;
      enqueue(stopChild(event.accountId));
      // Positions after the removed one shift: a new roster, never a rewrite of the shared one.
      const accounts = context.accounts.filter((a) => a !== event.accountId);
      const roster = new Map<string, RosterEntry>();
      accounts.forEach((accountId, at) => roster.set(accountId, { at, scopes: context.roster.get(accountId)?.scopes ?? [] }));
      enqueue.assign({ accounts, roster });
    }),
    restartAccount: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'CHILD_FAILED') return;
      enqueue.assign({ outbox: { ...noOutbox, failure: { accountId: event.accountId, error: event.error } } });
      if (!isSpawned(context, event.accountId)) return;
      enqueue(stopChild(event.accountId));
      enqueue.spawnChild('account', { id: event.accountId, systemId: event.accountId, input: event.input });
    }),
    route: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'ROUTE' || !isSpawned(context, event.accountId)) return;
      enqueue.sendTo(event.accountId, event.event);
    }),
    broadcast: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'BROADCAST') return;
      for (const accountId of context.accounts) enqueue.sendTo(accountId, event.event);
    }),
    /** Measures a group's limits on its aggregate; a new breach raises one stopout over every member. */
    observeGroup: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'GROUP_OBSERVE') return;
      const group = context.groups[event.group];
      if (!group) return;
      const drawdown = observe(group.drawdown, event.observation);
      const known = new Set(context.stopouts.map(stopoutKey));
      const raised: Stopout[] = [];
      for (const { stopout } of evaluateRiskLimits(group.limits, drawdown, event.observation)) {
        if (known.has(stopoutKey(stopout))) continue;
        known.add(stopoutKey(stopout));
        raised.push(stopout);
      }
      enqueue.assign({
        groups: { ...context.groups, [event.group]: { ...group, drawdown } },
        stopouts: [...context.stopouts, ...raised],
        outbox: { ...noOutbox, persist: raised },
      });
      for (const stopout of raised) {
        for (const accountId of coveredAccounts(context, stopout.scope, stopout.id))
          enqueue.sendTo(accountId, { type: 'STOPOUT_SET', stopout });
      }
    }),
    applyStopout: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'STOPOUT_SEEN') return;
      const key = stopoutKey(event.stopout);
      const existing = context.stopouts.find((s) => stopoutKey(s) === key);
      const upgrade = existing !== undefined && !existing.closePositions && event.stopout.closePositions;
      if (existing && !upgrade) return;
      enqueue.assign({ stopouts: [...context.stopouts.filter((s) => stopoutKey(s) !== key), event.stopout] });
      for (const accountId of coveredAccounts(context, event.stopout.scope, event.stopout.id)) {
        enqueue.sendTo(accountId, { type: 'STOPOUT_SET', stopout: event.stopout });
      }
    }),
    clearStopout: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'STOPOUT_GONE') return;
      const key = stopoutKey(event);
      enqueue.assign({ stopouts: context.stopouts.filter((s) => stopoutKey(s) !== key) });
      for (const accountId of coveredAccounts(context, event.scope, event.id)) {
        enqueue.sendTo(accountId, { type: 'STOPOUT_RESET', scope: event.scope, id: event.id, reason: event.reason });
      }
    }),
    acceptReset: assign(({ event }) => {
      if (event.type !== 'RESET_REQUEST') return {};
      return {
        outbox: {
          ...noOutbox,
          resetResult: {
            scope: event.scope,
            id: event.id,
            reason: event.reason,
            result: 'ok' as const,
            ...(event.by ? { by: event.by } : {}),
          },
        },
      };
    }),
    refuseReset: assign(({ context, event }) => {
      if (event.type !== 'RESET_REQUEST') return {};
      const why = groupResetRefusal(groupOf(context, event.scope, event.id), event) ?? 'accepted';
      return {
        outbox: {
          ...noOutbox,
          resetResult: {
            scope: event.scope,
            id: event.id,
            reason: event.reason,
            result: 'refused' as const,
            why,
            ...(event.by ? { by: event.by } : {}),
          },
        },
      };
    }),
    setGroups: assign(({ context, event }) => {
      if (event.type !== 'SET_GROUPS') return {};
      const groups: Record<string, LimitGroup> = {};
      for (const g of event.groups) {
        const key = scopeKey(g.scope, g.id);
        groups[key] = { ...g, drawdown: context.groups[key]?.drawdown ?? createDrawdownHistory() };
      }
      return { groups };
    }),
    moveStartTime: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'MOVE_START_TIME') return;
      const key = scopeKey(event.scope, event.id);
      const group = context.groups[key];
      if (group) {
        const limits = group.limits.map((l) =>
          LEVEL_STOPOUT_SCOPE[l.level] === event.scope && l.sourceId === event.id ? { ...l, startTime: toIso(event.at) } : l,
        );
        enqueue.assign({ groups: { ...context.groups, [key]: { ...group, limits, drawdown: pinAnchor(group.drawdown, event.at) } } });
      }
      for (const accountId of coveredAccounts(context, event.scope, event.id)) {
        enqueue.sendTo(accountId, { type: 'MOVE_START_TIME', scope: event.scope, id: event.id, at: event.at });
      }
    }),
  },
}).createMachine({
  id: 'supervisor',
  context: ({ input }) => ({
    accounts: [],
    roster: new Map(),
    scopes: new Map(),
    groups: Object.fromEntries(input.groups.map((g) => [scopeKey(g.scope, g.id), { ...g, drawdown: createDrawdownHistory() }])),
    stopouts: [],
    outbox: noOutbox,
  }),
  initial: 'supervising',
  states: {
    supervising: {
      on: {
        SPAWN: { actions: 'spawnAccount' },
        SPAWN_MANY: { actions: 'spawnAccounts' },
        DESPAWN: { actions: 'despawnAccount' },
        ROUTE: { actions: 'route' },
        BROADCAST: { actions: 'broadcast' },
        GROUP_OBSERVE: { actions: ['observeGroup', 'persistStopouts'] },
        STOPOUT_SEEN: { actions: 'applyStopout' },
        STOPOUT_GONE: { actions: 'clearStopout' },
        RESET_REQUEST: [
          { guard: 'groupResetAccepted', actions: ['acceptReset', 'reportReset'] },
          { actions: ['refuseReset', 'reportReset'] },
        ],
        MOVE_START_TIME: { actions: 'moveStartTime' },
        CHILD_FAILED: { actions: ['restartAccount', 'reportFailure'] },
        SET_GROUPS: { actions: 'setGroups' },
      },
    },
  },
});

export type SupervisorMachine = typeof supervisorMachine;
