import {
  createActor,
  type ActorLogic,
  type ActorRefFrom,
  type EmittedFrom,
  type Snapshot,
  type SnapshotFrom,
  type StateValue,
} from 'xstate';
import type { AccountContext, AccountEvent } from './account-context.ts';
import { accountContextProblems } from './account-context-check.ts';
import { accountMachine } from './account.ts';
import { stateValueProblems, topState } from './snapshot-state.ts';

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
 * Why `value` (an account snapshot read back from a snapshot store) must not be restored, each problem
 * with its path under `where` (`snapshot.value: unknown state "no-such-state"`); empty when it may. Checked
 * before XState sees it, because XState checks almost nothing: an unknown state throws from inside the
 * supervisor that spawns the account (taking every account of the process down with it), and a context of
 * the wrong shape throws later, from a guard or an action. The outer shape is XState's persisted snapshot
 * of an active account (no children: the machine invokes none); the state value must be a complete state
 * of `logic`; the context must have the account context's shape and agree with the state on its mode.
 * Last, the snapshot is restored once into an actor that is never started, so whatever XState would still
 * refuse is refused here, as a problem.
 */
export function accountSnapshotProblems(value: unknown, where: string, logic: AccountLogic = accountMachine): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return [`${where}: expected a persisted actor snapshot (an object)`];
  const snapshot = value as Record<string, unknown>;
  const problems: string[] = [];
  if (snapshot.status !== 'active')
    problems.push(`${where}.status: expected "active" (a running account), got ${JSON.stringify(snapshot.status) ?? 'nothing'}`);
  const children = snapshot.children;
  if (typeof children !== 'object' || children === null || Array.isArray(children) || Object.keys(children).length > 0) {
    problems.push(`${where}.children: expected {} (the account machine invokes no actors)`);
  }
  const history = snapshot.historyValue;
  if (
    history !== undefined &&
    (typeof history !== 'object' || history === null || Array.isArray(history) || Object.keys(history).length > 0)
  ) {
    problems.push(`${where}.historyValue: expected {} (the account machine has no history states)`);
  }
  const stateProblems = stateValueProblems(logic.root, snapshot.value, `${where}.value`);
  problems.push(...stateProblems, ...accountContextProblems(snapshot.context, `${where}.context`));
  if (problems.length > 0) return problems;
  const top = topState(snapshot.value as StateValue);
  const mode = (snapshot.context as { mode: string }).mode;
  if (mode !== top) return [`${where}.context.mode: ${JSON.stringify(mode)} disagrees with the state ${JSON.stringify(top)}`];
  // Restoring revives actor references inside the context in place (`{xstate$$type: 1, id}` objects): a
  // value holding one is restored from a copy, so the check never changes what it checks. Without one
  // (always, for what this machine writes: it spawns no actors) the restore reads it only. The input is
  // required by the types and unused (with a snapshot, XState restores it); a restore that throws leaves
  // the actor in status "error" with what it threw. The try is for what could throw before that (a value
  // too deeply nested to copy).
  let error: unknown;
  try {
    const restorable = holdsActorReference(snapshot) ? structuredClone(snapshot) : snapshot;
    const restored = createActor(logic, {
      snapshot: restorable as Snapshot<unknown>,
      input: restorable.context as AccountContext,
    }).getSnapshot();
    if (restored.status === 'error') error = restored.error ?? 'failed';
  } catch (thrown) {
    error = thrown;
  }
  if (error !== undefined) return [`${where}: XState cannot restore it: ${error instanceof Error ? error.message : String(error)}`];
  return [];
}

/** More objects than any account snapshot holds: a value past it is treated as one that may hold anything. */
const WALK_LIMIT = 1_000_000;

/**
 * Whether `value` may hold, at any depth, an object XState would revive as an actor reference on restore
 * (true also for a value too large to walk, or a cycle: those are restored from a copy, which is safe).
 */
function holdsActorReference(value: object): boolean {
  // Iterative, without a visited set: a value read from outside may be nested deeper than the call stack
  // allows, and one read from JSON is a tree (a cycle only runs into the limit).
  const stack: object[] = [value];
  let visited = 0;
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    if (++visited > WALK_LIMIT || 'xstate$$type' in next) return true;
    for (const key in next) {
      const item = (next as Record<string, unknown>)[key];
      if (typeof item === 'object' && item !== null) stack.push(item);
    }
  }
  return false;
}

/**
 * A value read back from a snapshot store, checked (`accountSnapshotProblems`) to be an account snapshot
 * this machine can resume; throws naming every problem with its path.
 */
export function persistedSnapshot(where: string, value: unknown): Snapshot<unknown> {
  const problems = accountSnapshotProblems(value, where);
  if (problems.length > 0) throw new Error(problems.join('; '));
  return value as Snapshot<unknown>;
}
