import type { Budget } from '../domain/budget.ts';
import { dec } from '../domain/decimal.ts';
import type { FleetConfig } from './fleet-schema.ts';
import { INPUT_LIMITS } from './input-limits.ts';
import { formatPath, type Problem } from './problems.ts';
import { knownSymbols, mergeBudgets } from './resolve.ts';
import type { ScenarioConfig } from './scenario-schema.ts';

/**
 * Checks that need more than one field, run after the schema accepted the document (they rely on its
 * shapes). Each problem names the place to fix.
 */

type Path = PropertyKey[];

/** The parts fleets and scenarios share. */
type Structure = Pick<FleetConfig, 'products' | 'defaults' | 'portfolios' | 'subscribers'> & {
  accounts: readonly Pick<FleetConfig['accounts'][number], 'id' | 'trader' | 'strategy' | 'budget'>[];
};

class Problems {
  readonly list: Problem[] = [];
  add(path: Path, message: string): void {
    this.list.push({ path: formatPath(path), message });
  }
}

/** "60s" for whole seconds, "250ms" otherwise. */
export function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

function checkUniqueIds(items: readonly { id: string }[], what: string, base: string, out: Problems): void {
  const first = new Map<string, number>();
  items.forEach((item, i) => {
    const earlier = first.get(item.id);
    if (earlier === undefined) first.set(item.id, i);
    else out.add([base, i, 'id'], `duplicate ${what} id ${JSON.stringify(item.id)} (also ${base}[${earlier}].id)`);
  });
}

function checkSymbol(symbol: string, known: readonly string[], path: Path, out: Problems): boolean {
  if (known.includes(symbol)) return true;
  out.add(path, `unknown product ${JSON.stringify(symbol)} (known: ${known.join(', ')}; add it under products)`);
  return false;
}

function checkBudgetSymbols(budget: Budget | undefined, known: readonly string[], path: Path, out: Problems): void {
  for (const s of Object.keys(budget?.maxPositionSize ?? {})) checkSymbol(s, known, [...path, 'maxPositionSize', s], out);
}

/** panicMarginBuffer must be below minMarginBuffer, for the defaults and for every account's merged budget. */
function checkMarginBuffers(config: Structure, out: Problems): void {
  const defaults = config.defaults.budget;
  const message = (panic: string, min: string) => `panicMarginBuffer (${panic}) must be below minMarginBuffer (${min})`;
  const broken = (b: Budget | undefined) =>
    b?.panicMarginBuffer !== undefined && b.minMarginBuffer !== undefined && dec(b.panicMarginBuffer).gte(b.minMarginBuffer);
  if (broken(defaults))
    out.add(['defaults', 'budget', 'panicMarginBuffer'], message(defaults!.panicMarginBuffer!, defaults!.minMarginBuffer!));
  config.accounts.forEach((account, i) => {
    const own = account.budget;
    const merged = mergeBudgets(defaults, own);
    if (!broken(merged)) return;
    // Both from the defaults: already reported there.
    if (own.panicMarginBuffer === undefined && own.minMarginBuffer === undefined) return;
    const field = own.panicMarginBuffer !== undefined ? 'panicMarginBuffer' : 'minMarginBuffer';
    const note = own.panicMarginBuffer === undefined || own.minMarginBuffer === undefined ? ' (one of them from defaults.budget)' : '';
    out.add(['accounts', i, 'budget', field], message(merged.panicMarginBuffer!, merged.minMarginBuffer!) + note);
  });
}

function checkStructure(config: Structure, out: Problems): void {
  const known = knownSymbols(config);
  checkUniqueIds(config.accounts, 'account', 'accounts', out);
  checkUniqueIds(config.portfolios, 'portfolio', 'portfolios', out);
  checkUniqueIds(config.subscribers, 'subscriber', 'subscribers', out);

  const accountIds = new Set(config.accounts.map((a) => a.id));
  const portfolioIds = new Set(config.portfolios.map((p) => p.id));

  // Two accounts on the same venue strategy would fight over one position.
  const venueStrategies = new Map<string, number>();
  config.accounts.forEach((a, i) => {
    const key = `${(a.trader ?? '').toLowerCase()}/${a.strategy}`;
    const earlier = venueStrategies.get(key);
    if (earlier === undefined) venueStrategies.set(key, i);
    else
      out.add(
        ['accounts', i, 'strategy'],
        `strategy ${JSON.stringify(a.strategy)} of the same trader is already used by accounts[${earlier}]`,
      );
  });

  config.portfolios.forEach((p, i) => {
    if (accountIds.has(p.id)) {
      out.add(['portfolios', i, 'id'], `${JSON.stringify(p.id)} is also an account id; subscription targets would be ambiguous`);
    }
    const seen = new Set<string>();
    p.members.forEach((m, j) => {
      if (!accountIds.has(m.account)) out.add(['portfolios', i, 'members', j, 'account'], `unknown account ${JSON.stringify(m.account)}`);
      else if (seen.has(m.account))
        out.add(['portfolios', i, 'members', j, 'account'], `account ${JSON.stringify(m.account)} is listed twice`);
      seen.add(m.account);
    });
  });

  config.subscribers.forEach((s, i) => {
    const seen = new Set<string>();
    s.subscriptions.forEach((sub, j) => {
      const path = ['subscribers', i, 'subscriptions', j, 'target'];
      if (!accountIds.has(sub.target) && !portfolioIds.has(sub.target))
        out.add(path, `unknown account or portfolio ${JSON.stringify(sub.target)}`);
      else if (seen.has(sub.target)) out.add(path, `${JSON.stringify(sub.target)} is subscribed twice`);
      seen.add(sub.target);
    });
  });

  checkBudgetSymbols(config.defaults.budget, known, ['defaults', 'budget'], out);
  config.accounts.forEach((a, i) => checkBudgetSymbols(a.budget, known, ['accounts', i, 'budget'], out));
  checkMarginBuffers(config, out);
}

/** Cross-field checks of a fleet that passed the schema. */
export function validateFleet(config: FleetConfig): Problem[] {
  const out = new Problems();
  checkStructure(config, out);
  const { venue, redis } = config;
  if (venue.kind === 'derivadex' && venue.url === undefined) out.add(['venue', 'url'], 'required when kind is derivadex');
  // The EIP-712 domain is one pair: half an override would sign for a contract on the wrong chain.
  if ((venue.chainId === undefined) !== (venue.verifyingContract === undefined)) {
    const missing = venue.chainId === undefined ? 'chainId' : 'verifyingContract';
    out.add(['venue', missing], 'required when the other half of the EIP-712 domain (chainId, verifyingContract) is set');
  }
  if (venue.keystorePasswordEnv !== undefined && venue.keystore === undefined)
    out.add(['venue', 'keystorePasswordEnv'], 'only meaningful with keystore');
  if (redis.sentinels !== undefined && redis.sentinelName === undefined) out.add(['redis', 'sentinelName'], 'required with sentinels');
  if (redis.sentinelName !== undefined && redis.sentinels === undefined) out.add(['redis', 'sentinels'], 'required with sentinelName');
  if (redis.sentinels !== undefined && redis.cluster !== undefined)
    out.add(['redis', 'cluster'], 'use either cluster or sentinels, not both');
  if (redis.url !== undefined && redis.cluster !== undefined) out.add(['redis', 'url'], 'use either url or cluster, not both');
  return out.list;
}

/** Cross-field checks of a scenario that passed the schema. */
export function validateScenario(config: ScenarioConfig): Problem[] {
  const out = new Problems();
  checkStructure(config, out);
  const known = knownSymbols(config);
  const until = config.until;

  // What a run holds grows with (accounts + mark paths) × simulated seconds (input-limits.ts): the mark
  // schedule has an entry per symbol per second, each account figures per second. Refuse what cannot fit.
  const seconds = Math.ceil(until / 1000);
  const series = config.accounts.length + Object.keys(config.marks).length;
  const seriesSeconds = series * seconds;
  if (seriesSeconds > INPUT_LIMITS.seriesSeconds)
    out.add(
      ['until'],
      `(${config.accounts.length} accounts + ${series - config.accounts.length} mark paths) × ${seconds} s is ${seriesSeconds}, more than the ${INPUT_LIMITS.seriesSeconds} a run may simulate: shorten until or use fewer accounts`,
    );
  const scripted = config.accounts.reduce((n, a) => n + (a.signal.kind === 'scripted' ? a.signal.orders.length : 0), 0);
  if (scripted > INPUT_LIMITS.scriptedOrders)
    out.add(['accounts'], `${scripted} scripted orders in all, more than ${INPUT_LIMITS.scriptedOrders}`);
  const within = (at: number, path: Path) => {
    if (at > until) out.add(path, `${formatMs(at)} is after until (${formatMs(until)})`);
  };

  // Marks: known symbols, from 0s, strictly increasing, inside the run.
  for (const [symbol, points] of Object.entries(config.marks)) {
    checkSymbol(symbol, known, ['marks', symbol], out);
    points.forEach((point, k) => {
      const path = ['marks', symbol, k, 'at'];
      if (k === 0 && point.at !== 0) out.add(path, `the first mark must be at "0s", got ${formatMs(point.at)}`);
      const previous = points[k - 1];
      if (previous !== undefined && point.at <= previous.at)
        out.add(path, `expected a time after the previous mark (${formatMs(previous.at)})`);
      within(point.at, path);
    });
  }

  // Signals: every traded symbol is a product and has marks.
  const traded = (symbol: string, path: Path) => {
    if (checkSymbol(symbol, known, path, out) && config.marks[symbol] === undefined)
      out.add(path, `no marks for ${JSON.stringify(symbol)}`);
  };
  config.accounts.forEach((a, i) => {
    const signal = a.signal;
    const base = ['accounts', i, 'signal'];
    if (signal.kind === 'scripted') {
      signal.orders.forEach((o, j) => {
        traded(o.symbol, [...base, 'orders', j, 'symbol']);
        within(o.at, [...base, 'orders', j, 'at']);
      });
    } else if (signal.kind !== 'none') {
      traded(signal.symbol, [...base, 'symbol']);
    }
  });

  const accountIds = new Set(config.accounts.map((a) => a.id));
  config.faults.forEach((f, i) => {
    within(f.at, ['faults', i, 'at']);
    if (f.kind === 'reject-next-order' && !accountIds.has(f.account))
      out.add(['faults', i, 'account'], `unknown account ${JSON.stringify(f.account)}`);
  });

  config.operator.forEach((op, i) => {
    within(op.at, ['operator', i, 'at']);
    const problem = scopeIdProblem(config, op.scope, op.id);
    if (problem !== undefined) out.add(['operator', i, 'id'], problem);
  });
  return out.list;
}

/** Why `id` names nothing at `scope` in this structure, or undefined when it does. */
export function scopeIdProblem(config: Structure, scope: string, id: string): string | undefined {
  const accountIds = new Set(config.accounts.map((a) => a.id));
  const q = JSON.stringify(id);
  switch (scope) {
    case 'fleet':
      return id === '*' ? undefined : 'the fleet scope has id "*"';
    case 'account':
    case 'strategy':
      return accountIds.has(id) ? undefined : `unknown account ${q}`;
    case 'portfolio':
      return config.portfolios.some((p) => p.id === id) ? undefined : `unknown portfolio ${q}`;
    case 'subscriber':
      return config.subscribers.some((s) => s.id === id) ? undefined : `unknown subscriber ${q}`;
    case 'member': {
      const [portfolio, account, ...rest] = id.split('/');
      const p = config.portfolios.find((x) => x.id === portfolio);
      if (rest.length > 0 || account === undefined || p === undefined || !p.members.some((m) => m.account === account)) {
        return `expected "<portfolio>/<account>" naming a member, got ${q}`;
      }
      return undefined;
    }
    case 'subscription': {
      const [subscriber, target, ...rest] = id.split('/');
      const s = config.subscribers.find((x) => x.id === subscriber);
      if (rest.length > 0 || target === undefined || s === undefined || !s.subscriptions.some((x) => x.target === target)) {
        return `expected "<subscriber>/<target>" naming a subscription, got ${q}`;
      }
      return undefined;
    }
    default:
      return `unknown scope ${JSON.stringify(scope)}`;
  }
}
