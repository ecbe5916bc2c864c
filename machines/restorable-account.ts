import type { ActorLogic, ActorRefFrom, EmittedFrom, Snapshot, SnapshotFrom } from 'xstate';
import type { AccountContext, AccountEvent } from './account-context.ts';
import type { accountMachine } from './account.ts';

export type AccountLogic = typeof accountMachine;
export type AccountSnapshot = SnapshotFrom<AccountLogic>;
type AccountScope = Parameters<AccountLogic['getInitialSnapshot']>[0];

/** How a child starts: fresh from a context, or resumed from its persisted snapshot. */
export type AccountSpawnInput = { context: AccountContext } | { persisted: Snapshot<unknown> };

/** The account logic the supervisor spawns: the account machine, started from an `AccountSpawnInput`. */
export type RestorableAccountLogic = ActorLogic<
  AccountSnapshot,
  AccountEvent,
  AccountSpawnInput,
  AccountScope['system'],
  EmittedFrom<AccountLogic>
>;

export type AccountRef = ActorRefFrom<RestorableAccountLogic>;

/**
 * The account logic as the supervisor spawns it: a fresh actor from a context, or a resumed one from its
 * persisted snapshot. XState restores snapshots only for root actors, and whole-tree snapshots with
 * children are fragile, so each account is persisted alone and restored here, child by child. A restored
 * account does not re-run entry actions: nothing is sent twice. Everything else is the given logic's own
 * (the prototype), so `provide`d effects stay in place.
 */
export function restorableAccount(logic: AccountLogic): RestorableAccountLogic {
  const getInitialSnapshot = (scope: AccountScope, input: AccountSpawnInput): AccountSnapshot =>
    'persisted' in input ? logic.restoreSnapshot(input.persisted, scope) : logic.getInitialSnapshot(scope, input.context);
  return Object.assign(Object.create(logic) as AccountLogic, { getInitialSnapshot });
}

/**
 * A value read back from a snapshot store, checked to have the outer shape of a persisted actor snapshot
 * (an object with a `status` of XState's); throws naming what is wrong. The state and context inside are
 * the machine's to judge when it restores.
 */
export function persistedSnapshot(where: string, value: unknown): Snapshot<unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new Error(`${where}: expected a persisted actor snapshot (an object)`);
  const status = (value as { status?: unknown }).status;
  if (status !== 'active' && status !== 'done' && status !== 'error' && status !== 'stopped') {
    throw new Error(`${where}.status: expected "active", "done", "error" or "stopped", got ${JSON.stringify(status)}`);
  }
  return value as Snapshot<unknown>;
}
