import type { AnyActorScope } from 'xstate';
import type { AccountSpawnInput } from '../../machines/supervisor.ts';
import type { accountMachine } from '../../machines/account.ts';

type AccountLogic = typeof accountMachine;

/**
 * The account logic as the supervisor spawns it: a fresh actor from a context, or a resumed one from its
 * persisted snapshot. XState restores snapshots only for root actors, and whole-tree snapshots with
 * children are fragile, so each account is persisted alone and restored here, child by child. A restored
 * account does not re-run entry actions: nothing is sent twice.
 */
export function restorableAccount(logic: AccountLogic): AccountLogic {
  const restorable = Object.create(logic) as AccountLogic;
  restorable.getInitialSnapshot = ((scope: AnyActorScope, input: AccountSpawnInput) => {
    if ('persisted' in input) return logic.restoreSnapshot(input.persisted as never, scope as never);
    return logic.getInitialSnapshot(scope as never, input.context);
  }) as unknown as AccountLogic['getInitialSnapshot'];
  return restorable;
}
