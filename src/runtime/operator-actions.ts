import type { AccountContext } from '../../machines/account-context.ts';
import { entryDecision } from '../../machines/account.ts';
import { accountResetRefusal, groupResetRefusal } from '../../machines/reset-check.ts';
import { coveredAccounts, type SupervisorContext } from '../../machines/supervisor.ts';
import type { OrderIntent } from '../domain/order.ts';
import { toIso } from '../domain/periods.ts';
import type { GateDecision } from '../domain/pre-trade-gate.ts';
import type { StopoutScope } from '../domain/stopout.ts';
import { scopeKey } from '../domain/stopout-identity.ts';
import type { StopoutStore } from '../store/stopout-store.ts';
import type { RuntimeOutlet } from './runtime-outlet.ts';

export interface OperatorAction {
  action: 'set-stopout' | 'reset-stopout' | 'move-start-time';
  scope: StopoutScope;
  id: string;
  reason?: string;
  closePositions?: boolean;
  by?: string;
}

export interface OperatorOutcome {
  result: 'ok' | 'refused';
  reason?: string;
}

/** What operator actions read (the supervisor and its accounts) and change (the shared store). */
export interface OperatorActionPorts {
  store: Pick<StopoutStore, 'set' | 'setStartTime' | 'reset'>;
  outlet: Pick<RuntimeOutlet, 'clock' | 'origin' | 'write'>;
  supervisorContext(): SupervisorContext;
  accountContext(accountId: string): AccountContext | undefined;
}

/**
 * What an operator (CLI, API or scenario) may do and ask: set, reset or move the start time of a stopout
 * through the shared store, each written to the timeline as an `operator` record, and ask what an
 * account's gate would answer. The store change itself reaches the accounts through the store's watch.
 */
export class OperatorActions {
  readonly #p: OperatorActionPorts;

  constructor(ports: OperatorActionPorts) {
    this.#p = ports;
  }

  /**
   * The same path for every operator. A reset is refused while the limit that raised it still measures a
   * breach: CopyFactory asks for startTime to be moved first.
   */
  async operate(action: OperatorAction): Promise<OperatorOutcome> {
    const { store, outlet } = this.#p;
    const at = outlet.clock.now();
    const write = (outcome: OperatorOutcome) => {
      outlet.write({
        t: at - outlet.origin,
        kind: 'operator',
        action: action.action,
        scope: action.scope,
        id: action.id,
        ...outcome,
        ...(action.by ? { by: action.by } : {}),
      });
      return outcome;
    };
    try {
      if (action.action === 'set-stopout') {
        await store.set({
          scope: action.scope,
          id: action.id,
          reason: action.reason ?? 'manual',
          closePositions: action.closePositions ?? false,
          stoppedAt: toIso(at),
          ...(action.by ? { by: action.by } : {}),
        });
        return write({ result: 'ok' });
      }
      if (action.action === 'move-start-time') {
        await store.setStartTime(action.scope, action.id, toIso(at));
        return write({ result: 'ok' });
      }
      const reason = action.reason ?? 'manual';
      const refusal = this.resetRefusal(action.scope, action.id, reason);
      if (refusal) return write({ result: 'refused', reason: refusal });
      const existed = await store.reset(action.scope, action.id, reason);
      return write(existed ? { result: 'ok' } : { result: 'refused', reason: `no stopout ${reason} on ${action.scope} ${action.id}` });
    } catch (error) {
      return write({ result: 'refused', reason: (error as Error).message });
    }
  }

  /** Why a reset of this stopout must be refused now, or null when it may go. */
  resetRefusal(scope: StopoutScope, id: string, reason: string): string | null {
    const sup = this.#p.supervisorContext();
    const stopout = { scope, id, reason };
    const refusal = groupResetRefusal(sup.groups[scopeKey(scope, id)], stopout);
    if (refusal !== null) return refusal;
    for (const accountId of coveredAccounts(sup, scope, id)) {
      const ctx = this.#p.accountContext(accountId);
      const accountRefusal = ctx ? accountResetRefusal(ctx, stopout) : null;
      if (accountRefusal !== null) return accountRefusal;
    }
    return null;
  }

  /** What the account's gate would answer to `order` now; nothing is sent (undefined: not supervised here). */
  checkEntry(accountId: string, order: OrderIntent): GateDecision | undefined {
    const context = this.#p.accountContext(accountId);
    return context ? entryDecision(context, order) : undefined;
  }
}
