import type { ActorLogic, ActorRefFrom, EmittedFrom, Snapshot, SnapshotFrom, StateValue } from 'xstate';
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
    'persisted' in input ? restoreAccount(logic, input.persisted, scope) : logic.getInitialSnapshot(scope, input.context);
  return Object.assign(Object.create(logic) as AccountLogic, { getInitialSnapshot });
}

/**
 * `logic.restoreSnapshot`, without XState's walk of the context for actor references to revive when there
 * is none (always, for what this machine writes: it spawns no actors). That walk is recursive and keeps a
 * set of every object it saw, the larger part of a restore; ours (`holdsActorReference`) is iterative, so a
 * deeply nested context cannot overflow the stack either. The result is the same snapshot: XState's restore
 * puts the given context object in it unchanged.
 */
function restoreAccount(logic: AccountLogic, persisted: Snapshot<unknown>, scope: AccountScope): AccountSnapshot {
  const context = (persisted as { context?: unknown }).context;
  if (typeof context !== 'object' || context === null) return logic.restoreSnapshot(persisted, scope);
  if (!plainContexts.has(context) && holdsActorReference(context)) return logic.restoreSnapshot(persisted, scope);
  const restored = logic.restoreSnapshot({ ...persisted, context: {} } as unknown as Snapshot<unknown>, scope);
  (restored as { context: unknown }).context = context;
  return restored;
}

/**
 * Contexts a check found to hold no actor reference (`accountSnapshotProblems`), so that the restore of a
 * checked snapshot does not walk its context again. Weak: it keeps nothing alive. A snapshot is not changed
 * after it is handed over for a restore (SnapshotStore's contract).
 */
const plainContexts = new WeakSet<object>();

/**
 * The persisted form of an account snapshot, as the actor's `getPersistedSnapshot()` makes it (same fields,
 * same order) without its walk of the context for live actors to replace by references: the account
 * machine spawns and invokes none, so its context holds none and its children are empty.
 */
export function persistedAccountSnapshot(snapshot: AccountSnapshot): Snapshot<unknown> {
  return {
    status: snapshot.status,
    output: snapshot.output,
    error: snapshot.error,
    value: snapshot.value,
    historyValue: {},
    context: snapshot.context,
    children: {},
  } as Snapshot<unknown>;
}

/**
 * Why `value` (an account snapshot read back from a snapshot store) must not be restored, each problem
 * with its path under `where` (`snapshot.value: unknown state "no-such-state"`); empty when it may. Checked
 * before XState sees it, because XState checks almost nothing: an unknown state throws from inside the
 * supervisor that spawns the account (taking every account of the process down with it), and a context of
 * the wrong shape throws later, from a guard or an action. The outer shape is XState's persisted snapshot
 * of an active account (no children: the machine invokes none); the state value must be a complete state
 * of `logic`; the context must have the account context's shape and agree with the state on its mode.
 * Last, the snapshot is restored once as an actor created from it would restore it (without the actor),
 * so whatever XState would still refuse is refused here, as a problem.
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
  // (always, for what this machine writes: it spawns no actors) the restore reads it only. What the
  // restore throws is what an actor created from the snapshot would hold as its error (status "error"),
  // and so is a value too deeply nested to copy.
  let error: unknown;
  try {
    const walked = walkContext(snapshot);
    if (walked === 'too-deep') return [`${where}: nested deeper than ${MAX_CONTEXT_DEPTH} levels`];
    const holds = walked === 'holds';
    const restorable = holds ? structuredClone(snapshot) : snapshot;
    if (!holds) plainContexts.add(snapshot.context as object);
    // What an actor does with a snapshot it is created from (its `_initState`), without building the actor
    // and its system: the account machine invokes nothing, so the restore needs no scope but `self` (read
    // only for children, of which there are none).
    restoreAccount(logic, restorable as Snapshot<unknown>, trialScope);
  } catch (thrown) {
    error = thrown;
  }
  if (error !== undefined) return [`${where}: XState cannot restore it: ${error instanceof Error ? error.message : String(error)}`];
  return [];
}

/** The actor scope of a trial restore: no actor stands behind it. */
const trialScope = { self: undefined } as unknown as AccountScope;

/** More objects than any account snapshot holds: a value past it is treated as one that may hold anything. */
const WALK_LIMIT = 1_000_000;

/**
 * Deeper than any account context nests (about six levels: orders → order → intent): a value past it is
 * refused, since persisting it again (JSON.stringify) or XState's own walk would overflow the call stack.
 */
export const MAX_CONTEXT_DEPTH = 256;

/**
 * What restoring `value` needs: `holds` when it may hold, at any depth, an object XState would revive as an
 * actor reference (also for a value too large to walk, or a cycle: those are restored from a copy, which is
 * safe), `too-deep` when it nests past MAX_CONTEXT_DEPTH, else `plain`.
 */
function walkContext(value: object): 'plain' | 'holds' | 'too-deep' {
  // Iterative, without a visited set: a value read from outside may be nested deeper than the call stack
  // allows, and one read from JSON is a tree (a cycle only runs into the limit).
  const stack: object[] = [value];
  const depths: number[] = [0];
  let visited = 0;
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    const depth = depths.pop()!;
    if (depth > MAX_CONTEXT_DEPTH) return 'too-deep';
    if (++visited > WALK_LIMIT || 'xstate$$type' in next) return 'holds';
    for (const key in next) {
      const item = (next as Record<string, unknown>)[key];
      if (typeof item === 'object' && item !== null) {
        stack.push(item);
        depths.push(depth + 1);
      }
    }
  }
  return 'plain';
}

function holdsActorReference(value: object): boolean {
  return walkContext(value) !== 'plain';
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
