import type { Budget } from '../domain/budget.ts';
import { resolveRiskLimits } from '../domain/risk-limits.ts';
import type { ResolvedRiskLimit } from '../domain/risk-limit.ts';
import { effectiveBudget, portfoliosOf, riskLimitChain, type SupervisedStructure } from '../config/resolve.ts';

/** One account as the supervisor will run it: its budget after defaults and its resolved CopyFactory limits. */
export interface AccountSummary {
  id: string;
  portfolios: string[];
  budget: Budget;
  riskLimits: ResolvedRiskLimit[];
}

export function summarizeFleet(config: SupervisedStructure): AccountSummary[] {
  return config.accounts.map((account) => ({
    id: account.id,
    portfolios: portfoliosOf(config, account.id),
    budget: effectiveBudget(config, account.id),
    riskLimits: resolveRiskLimits(riskLimitChain(config, account.id)),
  }));
}

/** Human-readable lines for one account. */
export function formatAccountSummary(summary: AccountSummary): string[] {
  const lines = [`account ${summary.id}${summary.portfolios.length ? ` (portfolio ${summary.portfolios.join(', ')})` : ''}`];
  const b = summary.budget;
  const sizes = Object.entries(b.maxPositionSize ?? {})
    .map(([symbol, size]) => `${symbol} ${size}`)
    .join(', ');
  lines.push(
    `  budget: maxPositionSize ${sizes || '—'} · maxGrossNotional ${b.maxGrossNotional ?? '—'} · minMarginBuffer ${b.minMarginBuffer ?? '—'} · panicMarginBuffer ${b.panicMarginBuffer ?? '—'} · sessionLossLimit ${b.sessionLossLimit ?? '—'}`,
  );
  if (summary.riskLimits.length === 0) lines.push('  risk limits: none');
  for (const l of summary.riskLimits) {
    const caps = [
      l.maxAbsoluteRisk && `max ${l.maxAbsoluteRisk}`,
      l.maxRelativeRisk && `max ${l.maxRelativeRisk} of the period-start value`,
    ]
      .filter(Boolean)
      .join(' or ');
    lines.push(
      `  risk limit [${l.level} ${l.sourceId}] ${l.type} ${l.applyTo}: ${caps}${l.closePositions ? ', closes positions' : ''}${l.startTime ? `, from ${l.startTime}` : ''}`,
    );
  }
  return lines;
}
