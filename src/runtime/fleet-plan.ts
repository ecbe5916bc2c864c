import type { AccountSettings } from '../../machines/account-context.ts';
import type { LimitGroup } from '../../machines/supervisor.ts';
import { effectiveBudget, riskLimitChain, stopoutScopesOf, type SupervisedStructure } from '../config/resolve.ts';
import type { Product } from '../domain/product.ts';
import { resolveRiskLimits } from '../domain/risk-limits.ts';
import type { ResolvedRiskLimit } from '../domain/risk-limit.ts';
import type { StopoutScope } from '../domain/stopout.ts';
import { scopeKey } from '../domain/stopout-identity.ts';

/** Limits measured on one account's own values; the other levels are measured on their group's aggregate. */
const ACCOUNT_LEVELS = new Set(['strategy', 'member']);

export interface FleetDefaults {
  hysteresis: string;
  reductionFraction: string;
  reductionTimeoutMs: number;
}

export const DEFAULT_FLEET_DEFAULTS: FleetDefaults = { hysteresis: '0.2', reductionFraction: '0.25', reductionTimeoutMs: 15_000 };

export interface AccountPlan {
  settings: AccountSettings;
  scopes: { scope: StopoutScope; id: string }[];
  /** Every resolved limit of the account's chain, whatever level measures it. */
  allLimits: ResolvedRiskLimit[];
}

/** What the supervisor runs: per-account settings and the limit groups measured on aggregates. */
export interface FleetPlan {
  accounts: AccountPlan[];
  groups: Array<Omit<LimitGroup, 'drawdown'>>;
}

/**
 * Resolves a validated fleet (or scenario) into what the supervisor needs: each account's budget and the
 * CopyFactory limits it measures itself, the stopout scopes that cover it, and one group per portfolio,
 * subscription and subscriber limit source with the accounts whose aggregate it is measured on.
 */
export function planFleet(
  config: SupervisedStructure & { defaults?: { hysteresis?: string; reductionFraction?: string; reductionTimeout?: number } | undefined },
  products: Record<string, Product>,
): FleetPlan {
  const defaults: FleetDefaults = {
    hysteresis: config.defaults?.hysteresis ?? DEFAULT_FLEET_DEFAULTS.hysteresis,
    reductionFraction: config.defaults?.reductionFraction ?? DEFAULT_FLEET_DEFAULTS.reductionFraction,
    reductionTimeoutMs: config.defaults?.reductionTimeout ?? DEFAULT_FLEET_DEFAULTS.reductionTimeoutMs,
  };
  const groups = new Map<string, Omit<LimitGroup, 'drawdown'>>();
  // Membership and limits already listed per group: sets, so a 10,000-member portfolio is planned in linear time.
  const listed = new Map<string, { accounts: Set<string>; limits: Set<string> }>();
  const accounts = config.accounts.map((account): AccountPlan => {
    const allLimits = resolveRiskLimits(riskLimitChain(config, account.id));
    for (const limit of allLimits) {
      if (ACCOUNT_LEVELS.has(limit.level)) continue;
      const scope = limit.level as StopoutScope;
      const key = scopeKey(scope, limit.sourceId);
      const group = groups.get(key) ?? { scope, id: limit.sourceId, accounts: [], limits: [] };
      const seen = listed.get(key) ?? { accounts: new Set<string>(), limits: new Set<string>() };
      if (!seen.accounts.has(account.id)) {
        seen.accounts.add(account.id);
        group.accounts.push(account.id);
      }
      const text = JSON.stringify(limit);
      if (!seen.limits.has(text)) {
        seen.limits.add(text);
        group.limits.push(limit);
      }
      groups.set(key, group);
      listed.set(key, seen);
    }
    return {
      settings: {
        accountId: account.id,
        budget: effectiveBudget(config, account.id),
        products,
        riskLimits: allLimits.filter((l) => ACCOUNT_LEVELS.has(l.level)),
        ...defaults,
      },
      scopes: stopoutScopesOf(config, account.id),
      allLimits,
    };
  });
  return { accounts, groups: [...groups.values()] };
}
