import type { AccountContext } from '../../machines/account-context.ts';
import { isSpawned, type SupervisorContext, type SupervisorEvent } from '../../machines/supervisor.ts';
import { str, ZERO } from '../domain/decimal.ts';

/** What a group limit sums over its members. */
export interface MemberValues {
  balance: string;
  equity: string;
  netTransfers: string;
}

/** What group observation reads and where it sends its `GROUP_OBSERVE` events. */
export interface GroupObservationPorts {
  supervisorContext(): SupervisorContext;
  accountContext(accountId: string): AccountContext | undefined;
  /** A member another process runs, with the values its owner last published (undefined while unknown). */
  remoteMember?: (accountId: string) => MemberValues | undefined;
  now(): number;
  send(event: Extract<SupervisorEvent, { type: 'GROUP_OBSERVE' }>): void;
}

/**
 * Sums each group's members (balance, equity, transfers) and lets the supervisor measure its limits.
 * Members run by other processes count with the values their owners published; a group none of whose
 * members runs here is left to the processes that run them, and a group with a member not known yet is
 * not measured at all. Each group is sent as soon as it is summed: a group's observation may move the
 * accounts before the next group is read, exactly as the supervisor sees it.
 */
export function observeGroups(ports: GroupObservationPorts): void {
  const sup = ports.supervisorContext();
  const at = ports.now();
  for (const [key, group] of Object.entries(sup.groups)) {
    if (!group.accounts.some((accountId) => isSpawned(sup, accountId))) continue;
    let balance = ZERO;
    let equity = ZERO;
    let transfers = ZERO;
    let complete = true;
    for (const accountId of group.accounts) {
      const ctx = isSpawned(sup, accountId) ? ports.accountContext(accountId) : undefined;
      const values: MemberValues | undefined = ctx
        ? ctx.metrics
          ? { balance: ctx.metrics.collateral, equity: ctx.metrics.equity, netTransfers: ctx.ledger.netTransfers }
          : undefined
        : ports.remoteMember?.(accountId);
      if (!values) {
        complete = false;
        break;
      }
      balance = balance.plus(values.balance);
      equity = equity.plus(values.equity);
      transfers = transfers.plus(values.netTransfers);
    }
    if (!complete) continue;
    ports.send({
      type: 'GROUP_OBSERVE',
      group: key,
      observation: { at, balance: str(balance), equity: str(equity), netTransfers: str(transfers) },
    });
  }
}
