import type { AccountContext } from '../../machines/account-context.ts';
import { accountObservation } from '../../machines/account-context.ts';
import { assessmentBand, BandError, type AssessmentBand } from '../domain/assessment-band.ts';
import type { Decimal } from '../domain/decimal.ts';
import { equityBreachLevels } from '../domain/drawdown.ts';

/**
 * What of the outside world an account needs to see, judged from its context after each event:
 * - `marks`: a band (it needs a mark only once the mark leaves it) or `every` (it is reducing, or waits for a
 *   mark of a held symbol, or a baseline of one of its limits is still to be taken: every mark matters);
 * - `timed`: whether a clock tick can change anything now (a reducing order or a cancel awaiting its timeout,
 *   a retry backoff, a reducing state). An account that is not timed needs the clock only at period boundaries.
 */
export interface AccountReach {
  marks: { kind: 'band'; band: AssessmentBand } | { kind: 'every'; why: string };
  timed: boolean;
}

const QUIET_STATES = new Set(['trading', 'entries-blocked', 'stopped-out.holding']);

export function accountReach(context: AccountContext, statePath: string): AccountReach {
  const timed =
    !QUIET_STATES.has(statePath) ||
    context.reduction !== null ||
    (context.reductionRetry ?? null) !== null ||
    Object.values(context.orders).some((o) => o.cancelSentAt !== undefined);
  const every = (why: string): AccountReach => ({ marks: { kind: 'every', why }, timed });
  if (!QUIET_STATES.has(statePath)) return every(`state ${statePath}`);
  if (context.reduction !== null) return every('a reducing order is working');
  if (!context.metrics) return every('no mark yet for a held symbol');
  if (Object.values(context.drawdown.anchors).some((a) => a === null)) return every('a moved startTime awaits its baseline');
  const equityLevels: Decimal[] = [];
  const observation = accountObservation(context);
  for (const limit of context.settings.riskLimits) {
    const levels = equityBreachLevels(context.drawdown, limit, observation);
    if (levels === 'moving') return every(`no baseline stored yet for a ${limit.type} limit`);
    equityLevels.push(...levels);
  }
  try {
    const band = assessmentBand({
      ledger: context.ledger,
      marks: context.marks,
      products: context.settings.products,
      budget: context.settings.budget,
      hysteresis: context.settings.hysteresis,
      sessionStart: context.sessionStart,
      equityLevels,
      trading: context.mode === 'trading',
    });
    return { marks: { kind: 'band', band }, timed };
  } catch (error) {
    if (error instanceof BandError) return every(error.message);
    throw error;
  }
}
