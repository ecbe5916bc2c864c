import type { Budget } from '../domain/budget.ts';
import type { RiskLimit, RiskLimitSource } from '../domain/risk-limit.ts';
import type { StopoutScope } from '../domain/stopout.ts';
import { DEFAULT_PRODUCT_SYMBOLS } from './product-schema.ts';

/** What resolution needs of a fleet or a scenario (both satisfy it). */
export interface SupervisedStructure {
  accounts: readonly { id: string; budget?: Budget; riskLimits?: readonly RiskLimit[] | undefined }[];
  portfolios?: readonly {
    id: string;
    members: readonly { account: string; riskLimits?: readonly RiskLimit[] | undefined }[];
    riskLimits?: readonly RiskLimit[] | undefined;
  }[];
  subscribers?: readonly {
    id: string;
    riskLimits?: readonly RiskLimit[] | undefined;
    subscriptions: readonly { target: string; riskLimits?: readonly RiskLimit[] | undefined }[];
  }[];
  defaults?: { budget?: Budget | undefined };
  products?: Readonly<Record<string, unknown>> | undefined;
}

function limits(list: readonly RiskLimit[] | undefined): RiskLimit[] {
  return (list ?? []).map((l) => ({ ...l }));
}

type Portfolio = NonNullable<SupervisedStructure['portfolios']>[number];
type Member = Portfolio['members'][number];

/**
 * Accounts by id and memberships by account, built once per (immutable, validated) structure: resolving
 * every account of a 10,000-account fleet would otherwise scan the fleet for each one.
 */
interface StructureIndex {
  accounts: Map<string, SupervisedStructure['accounts'][number]>;
  memberships: Map<string, Array<{ portfolio: Portfolio; member: Member }>>;
}

const indexes = new WeakMap<SupervisedStructure, StructureIndex>();

function indexOf(config: SupervisedStructure): StructureIndex {
  let index = indexes.get(config);
  if (index) return index;
  index = { accounts: new Map(), memberships: new Map() };
  for (const a of config.accounts) if (!index.accounts.has(a.id)) index.accounts.set(a.id, a);
  for (const portfolio of config.portfolios ?? []) {
    const seen = new Set<string>();
    for (const member of portfolio.members) {
      // The first listing of an account in a portfolio counts, as members.find would.
      if (seen.has(member.account)) continue;
      seen.add(member.account);
      const list = index.memberships.get(member.account) ?? [];
      list.push({ portfolio, member });
      index.memberships.set(member.account, list);
    }
  }
  indexes.set(config, index);
  return index;
}

function requireAccount(config: SupervisedStructure, accountId: string) {
  const account = indexOf(config).accounts.get(accountId);
  if (account === undefined) throw new Error(`unknown account ${JSON.stringify(accountId)}`);
  return account;
}

/** Ids of the portfolios that list the account as a member, in file order. */
export function portfoliosOf(config: SupervisedStructure, accountId: string): string[] {
  return (indexOf(config).memberships.get(accountId) ?? []).map((m) => m.portfolio.id);
}

/**
 * The CopyFactory chain of limit sources for one account, as the domain's resolveRiskLimits takes it:
 * - `strategy` (id = account id): the account's own limits;
 * - for every portfolio listing it: `member` (id `<portfolio>/<account>`) and `portfolio` (id = portfolio id);
 * - for every subscription whose target is the account or one of those portfolios: `subscription`
 *   (id `<subscriber>/<target>`) and `subscriber` (id = subscriber id, once per subscriber).
 * Every level that applies is listed, even with no limits, because its stopouts still apply to the
 * account. Sources are in level order (strategy first), and in file order within a level.
 * Throws for an unknown account (a programming error: ids come from the validated config).
 */
export function riskLimitChain(config: SupervisedStructure, accountId: string): RiskLimitSource[] {
  const account = requireAccount(config, accountId);
  const strategy: RiskLimitSource[] = [{ level: 'strategy', id: account.id, limits: limits(account.riskLimits) }];
  const members: RiskLimitSource[] = [];
  const portfolios: RiskLimitSource[] = [];
  for (const { portfolio: p, member } of indexOf(config).memberships.get(accountId) ?? []) {
    members.push({ level: 'member', id: `${p.id}/${accountId}`, limits: limits(member.riskLimits) });
    portfolios.push({ level: 'portfolio', id: p.id, limits: limits(p.riskLimits) });
  }
  const targets = new Set([accountId, ...portfolios.map((p) => p.id)]);
  const subscriptions: RiskLimitSource[] = [];
  const subscribers: RiskLimitSource[] = [];
  for (const s of config.subscribers ?? []) {
    const matching = s.subscriptions.filter((sub) => targets.has(sub.target));
    if (matching.length === 0) continue;
    for (const sub of matching) subscriptions.push({ level: 'subscription', id: `${s.id}/${sub.target}`, limits: limits(sub.riskLimits) });
    subscribers.push({ level: 'subscriber', id: s.id, limits: limits(s.riskLimits) });
  }
  return [...strategy, ...members, ...portfolios, ...subscriptions, ...subscribers];
}

/** Every stopout scope that stops the account: the fleet, the account itself and each level of its chain. */
export function stopoutScopesOf(config: SupervisedStructure, accountId: string): { scope: StopoutScope; id: string }[] {
  return [
    { scope: 'fleet', id: '*' },
    { scope: 'account', id: accountId },
    ...riskLimitChain(config, accountId).map((source) => ({ scope: source.level, id: source.id })),
  ];
}

/**
 * The account's budget over `defaults.budget`: each rule the account sets replaces the default rule;
 * `maxPositionSize` merges per symbol.
 */
export function effectiveBudget(config: SupervisedStructure, accountId: string): Budget {
  return mergeBudgets(config.defaults?.budget, requireAccount(config, accountId).budget);
}

export function mergeBudgets(defaults: Budget | undefined, own: Budget | undefined): Budget {
  const merged: Budget = { ...stripUndefined(defaults ?? {}), ...stripUndefined(own ?? {}) };
  if (defaults?.maxPositionSize !== undefined || own?.maxPositionSize !== undefined) {
    merged.maxPositionSize = { ...(defaults?.maxPositionSize ?? {}), ...(own?.maxPositionSize ?? {}) };
  }
  return merged;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Symbols that may be traded: the domain's defaults (ETHP, BTCP) plus the configured products. */
export function knownSymbols(config: Pick<SupervisedStructure, 'products'>): string[] {
  const symbols: string[] = [...DEFAULT_PRODUCT_SYMBOLS];
  for (const s of Object.keys(config.products ?? {})) if (!symbols.includes(s)) symbols.push(s);
  return symbols;
}
