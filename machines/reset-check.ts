import { canResetStopout } from '../src/domain/risk-limits.ts';
import type { StopoutIdentity } from '../src/domain/stopout-identity.ts';
import { accountObservation, type AccountContext } from './account-context.ts';
import type { LimitGroup } from './supervisor.ts';

/**
 * Why an account must refuse the reset of `stopout` now (one of its own limits still measures the breach
 * that raised it, judged on its figures now), or null. The account machine's guard and the runtime's
 * early answer to an operator both ask this.
 */
export function accountResetRefusal(context: AccountContext, stopout: StopoutIdentity): string | null {
  const check = canResetStopout(stopout, context.settings.riskLimits, context.drawdown, accountObservation(context));
  return check.ok ? null : check.reason;
}

/**
 * Why a limit group (portfolio, subscription, subscriber) must refuse the reset of `stopout` now, judged on
 * its latest aggregate observation; null when it may go, or when the group has not been observed yet.
 */
export function groupResetRefusal(group: LimitGroup | undefined, stopout: StopoutIdentity): string | null {
  const latest = group?.drawdown.latest;
  if (!group || !latest) return null;
  const check = canResetStopout(stopout, group.limits, group.drawdown, latest);
  return check.ok ? null : check.reason;
}
