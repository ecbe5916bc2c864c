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

export interface SupervisorContext {
  /** Account ids currently spawned, in config order. */
  accounts: string[];
  /** `scope:id` → account ids it covers (fleet is all accounts). */
  scopes: Record<string, string[]>;
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

/** Accounts a stopout at (scope, id) covers. */
export function coveredAccounts(context: SupervisorContext, scope: StopoutScope, id: string): string[] {
  if (scope === 'fleet') return context.accounts;
  return (context.scopes[scopeKey(scope, id)] ?? []).filter((a) => context.accounts.includes(a));
}

function groupOf(context: SupervisorContext, scope: StopoutScope, id: string): LimitGroup | undefined {
  return context.groups[scopeKey(scope, id)];
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
      if (event.type !== 'SPAWN' || context.accounts.includes(event.accountId)) return;
      enqueue.spawnChild('account', { id: event.accountId, systemId: event.accountId, input: event.input });
      const scopes = { ...context.scopes };
      for (const { scope, id } of event.scopes) {
        const key = scopeKey(scope, id);
        scopes[key] = [...new Set([...(scopes[key] ?? []), event.accountId])];
      }
      enqueue.assign({ accounts: [...context.accounts, event.accountId], scopes });
      // A new account starts under every stopout already in force over it.
      for (const stopout of context.stopouts) {
        if (stopout.scope === 'fleet' || event.scopes.some((s) => s.scope === stopout.scope && s.id === stopout.id)) {
          enqueue.sendTo(event.accountId, { type: 'STOPOUT_SET', stopout });
        }
      }
    }),
    despawnAccount: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'DESPAWN' || !context.accounts.includes(event.accountId)) return;
      enqueue(stopChild(event.accountId));
      enqueue.assign({ accounts: context.accounts.filter((a) => a !== event.accountId) });
    }),
    restartAccount: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'CHILD_FAILED') return;
      enqueue.assign({ outbox: { ...noOutbox, failure: { accountId: event.accountId, error: event.error } } });
      if (!context.accounts.includes(event.accountId)) return;
      enqueue(stopChild(event.accountId));
      enqueue.spawnChild('account', { id: event.accountId, systemId: event.accountId, input: event.input });
    }),
    route: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'ROUTE' || !context.accounts.includes(event.accountId)) return;
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
    scopes: {},
    groups: Object.fromEntries(input.groups.map((g) => [scopeKey(g.scope, g.id), { ...g, drawdown: createDrawdownHistory() }])),
    stopouts: [],
    outbox: noOutbox,
  }),
  initial: 'supervising',
  states: {
    supervising: {
      on: {
        SPAWN: { actions: 'spawnAccount' },
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
