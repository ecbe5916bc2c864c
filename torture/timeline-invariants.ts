import type { ScenarioConfig } from '../src/config/scenario-schema.ts';
import { ACCOUNT_MODES, type AccountMode } from '../src/domain/assessment.ts';
import { dec, str, ZERO, type Decimal } from '../src/domain/decimal.ts';
import { priceBand } from '../src/domain/rounding.ts';
import { scenarioProducts } from '../src/scenario/scenario-runner.ts';
import type { TimelineRecord } from '../src/timeline/timeline-record.ts';
import { TERMINAL, type RecordOf } from '../test/scenarios/timeline-query.ts';

/**
 * The timeline invariants of docs/contracts.md#invariants, as a list of violations instead of test
 * assertions, so a campaign can count them outside vitest. The same rules as
 * test/scenarios/timeline-invariants.ts (which asserts with `expect` and so only runs inside vitest),
 * adapted to generated scenarios, plus one the library's checker leaves to the statechart tests:
 *
 * - `stopped-out` is left only after a stopout that covers the account was reset (by an operator, the
 *   CLI, the API or its expiry: the store reports each as a `stopout` record with `action: "reset"`);
 * - a liquidation is a violation unless the mark of its symbol gapped (`jump`) before it: a gap past the
 *   liquidation price is the one loss the risk layer cannot prevent. Each one is counted.
 */
export interface TimelineCheck {
  violations: string[];
  liquidations: number;
  /** State records by `to` state, for the figures (which states the generated runs reached). */
  reached: Partial<Record<AccountMode, number>>;
  orders: number;
}

const KINDS = new Set([
  'mark',
  'state',
  'decision',
  'order',
  'cancel',
  'order-update',
  'risk',
  'stopout',
  'liquidation',
  'operator',
  'summary',
]);
const REQUIRED: Record<string, readonly string[]> = {
  mark: ['symbol', 'price'],
  state: ['account', 'from', 'to', 'reason'],
  decision: ['account', 'allowed', 'rules', 'order'],
  order: ['account', 'orderId', 'symbol', 'side', 'amount', 'price', 'type', 'purpose'],
  cancel: ['account', 'orderId', 'reason'],
  'order-update': ['account', 'orderId', 'status', 'filled'],
  risk: ['account', 'position', 'grossNotional', 'equity', 'marginFraction', 'maintenance', 'marginBuffer', 'sessionPnl'],
  stopout: ['scope', 'id', 'reason', 'closePositions', 'action'],
  liquidation: ['account', 'symbol'],
  operator: ['action', 'scope', 'id', 'result'],
  summary: ['liquidated', 'finalStates', 'orders', 'maxReductionsInFlight', 'blockedEntries'],
};
const RULES = new Set([
  'max-position-size',
  'max-gross-notional',
  'min-margin-buffer',
  'session-loss-limit',
  'risk-limit',
  'stopout',
  'state',
  'order-invalid',
]);
const STATUSES = new Set(['sequenced', 'posted', 'partially-filled', 'filled', 'cancelled', 'rejected', 'liquidated']);
const PURPOSES = new Set(['entry', 'close', 'reduce', 'exit']);

/** The stopout (scope, id) pairs that stop `account` in this scenario's structure. */
export function coveringScopes(scenario: ScenarioConfig, account: string): Set<string> {
  const out = new Set<string>(['fleet/*', `account/${account}`, `strategy/${account}`]);
  const portfolios = scenario.portfolios.filter((p) => p.members.some((m) => m.account === account)).map((p) => p.id);
  for (const p of portfolios) out.add(`portfolio/${p}`).add(`member/${p}/${account}`);
  for (const s of scenario.subscribers) {
    for (const sub of s.subscriptions) {
      if (sub.target !== account && !portfolios.includes(sub.target)) continue;
      out.add(`subscriber/${s.id}`).add(`subscription/${s.id}/${sub.target}`);
    }
  }
  return out;
}

interface Tracked {
  order: RecordOf<'order'>;
  filled: Decimal;
  done: boolean;
  checked: boolean;
  /** The position when the order left, and whether a liquidation of its symbol came before its first answer. */
  sentAgainst: Decimal;
  liquidatedSince: boolean;
}

export function checkTimeline(scenario: ScenarioConfig, records: readonly TimelineRecord[]): TimelineCheck {
  const violations: string[] = [];
  const fail = (message: string): void => void (violations.length < 50 && violations.push(message));
  const products = scenarioProducts(scenario);
  const accounts = scenario.accounts.map((a) => a.id);
  const known = new Set(accounts);
  const reached: Partial<Record<AccountMode, number>> = {};
  let liquidations = 0;

  // ── shape ──
  if (records.length < 2) fail('an empty timeline');
  let lastT = 0;
  records.forEach((r, i) => {
    const where = `record ${i} ${JSON.stringify(r).slice(0, 160)}`;
    if (!KINDS.has(r.kind)) fail(`${where}: unknown kind`);
    if (!Number.isSafeInteger(r.t) || r.t < 0) fail(`${where}: t must be whole ms >= 0`);
    if (r.t < lastT) fail(`${where}: time went back from ${lastT}`);
    lastT = r.t;
    for (const field of REQUIRED[r.kind] ?? []) if (!(field in r)) fail(`${where}: missing ${field}`);
    if ('account' in r && !known.has(r.account)) fail(`${where}: unknown account`);
    if (r.kind === 'summary' && i !== records.length - 1) fail(`${where}: the summary must be the last line`);
  });
  const summary = records[records.length - 1];
  if (summary?.kind !== 'summary') {
    fail('the timeline does not end with a summary');
    return { violations, liquidations, reached, orders: 0 };
  }

  const orders = new Map<string, Tracked>();
  const positions = new Map<string, Map<string, Decimal>>(accounts.map((a) => [a, new Map()]));
  const reducing = new Map<string, string>();
  const state = new Map<string, AccountMode>(accounts.map((a) => [a, 'trading']));
  const lastDecision = new Map<string, RecordOf<'decision'>>();
  const lastMark = new Map<string, string>();
  const counts = new Map<string, Record<string, number>>(accounts.map((a) => [a, {}]));
  const blocked = new Map<string, number>(accounts.map((a) => [a, 0]));
  const covering = new Map(accounts.map((a) => [a, coveringScopes(scenario, a)]));
  /** Per account: a covering stopout was reset since it entered stopped-out. */
  const released = new Map<string, boolean>();
  const gapped = new Set<string>();
  const jumps = new Map<string, number[]>(
    Object.entries(scenario.marks).map(([symbol, points]) => [symbol, points.filter((p) => p.jump).map((p) => p.at)]),
  );
  const position = (account: string, symbol: string): Decimal => positions.get(account)!.get(symbol) ?? ZERO;

  for (const r of records) {
    switch (r.kind) {
      case 'mark':
        lastMark.set(r.symbol, r.price);
        if ((jumps.get(r.symbol) ?? []).some((at) => at <= r.t)) gapped.add(r.symbol);
        break;
      case 'state': {
        const where = `${r.account} state at ${r.t}`;
        if (!ACCOUNT_MODES.includes(r.to)) fail(`${where}: unknown state ${r.to}`);
        if (r.from !== state.get(r.account)) fail(`${where}: from ${r.from} but it was ${state.get(r.account)}`);
        if (typeof r.reason !== 'string' || r.reason === '') fail(`${where}: no reason`);
        if (r.from === 'stopped-out' && r.to !== 'stopped-out' && !released.get(r.account))
          fail(`${where}: left stopped-out for ${r.to} without a reset or expiry of a stopout covering it`);
        if (r.to === 'stopped-out') released.set(r.account, false);
        reached[r.to] = (reached[r.to] ?? 0) + 1;
        state.set(r.account, r.to);
        break;
      }
      case 'stopout':
        if (r.action === 'reset') for (const a of accounts) if (covering.get(a)!.has(`${r.scope}/${r.id}`)) released.set(a, true);
        break;
      case 'decision': {
        const where = `${r.account} decision at ${r.t}`;
        if (r.allowed && r.rules.length > 0) fail(`${where}: an allowed entry lists rules`);
        if (!r.allowed) {
          if (r.rules.length === 0) fail(`${where}: a refused entry lists no rules`);
          for (const rule of r.rules) if (!RULES.has(rule)) fail(`${where}: unknown rule ${rule}`);
          blocked.set(r.account, blocked.get(r.account)! + 1);
        }
        lastDecision.set(r.account, r);
        break;
      }
      case 'order': {
        const where = `${r.account} order ${r.orderId} at ${r.t}`;
        if (orders.has(r.orderId)) fail(`${where}: order id used twice`);
        if (!PURPOSES.has(r.purpose)) fail(`${where}: purpose ${r.purpose}`);
        productRules(r, products, lastMark.get(r.symbol), where, fail);
        const c = counts.get(r.account)!;
        c[r.purpose] = (c[r.purpose] ?? 0) + 1;
        if (r.purpose === 'entry' || r.purpose === 'close') {
          const d = lastDecision.get(r.account);
          if (d?.allowed !== true) fail(`${where}: a strategy order without an allowed decision before it`);
          else if (d.order.symbol !== r.symbol || d.order.side !== r.side || d.order.amount !== r.amount)
            fail(`${where}: the decision before it was about another order`);
          lastDecision.delete(r.account);
        }
        if (r.purpose === 'entry' && state.get(r.account) !== 'trading') fail(`${where}: an entry while ${state.get(r.account)}`);
        if (r.purpose === 'reduce' || r.purpose === 'exit') {
          const other = reducing.get(r.account);
          if (other !== undefined) fail(`${where}: ${r.account} already has reducing order ${other} in flight`);
          reducing.set(r.account, r.orderId);
        }
        orders.set(r.orderId, {
          order: r,
          filled: ZERO,
          done: false,
          checked: false,
          sentAgainst: position(r.account, r.symbol),
          liquidatedSince: false,
        });
        break;
      }
      case 'order-update': {
        const where = `${r.account} order-update ${r.orderId} ${r.status} at ${r.t}`;
        const tracked = orders.get(r.orderId);
        if (!tracked) {
          fail(`${where}: no order record before it`);
          break;
        }
        const o = tracked.order;
        if (o.account !== r.account) fail(`${where}: the order is ${o.account}'s`);
        if (!STATUSES.has(r.status)) fail(`${where}: status`);
        if (tracked.done) fail(`${where}: after the terminal update`);
        const filled = dec(r.filled);
        if (filled.lt(tracked.filled) || filled.gt(o.amount))
          fail(`${where}: filled ${r.filled} after ${str(tracked.filled)}, amount ${o.amount}`);
        if (r.status === 'rejected' && (typeof r.reason !== 'string' || r.reason === '')) fail(`${where}: a rejection without a reason`);
        const held = position(r.account, o.symbol);
        const reducingOrder = o.purpose === 'reduce' || o.purpose === 'exit';
        // Judged when the venue first answers it (see test/scenarios/timeline-invariants.ts) — unless the
        // venue liquidated the position in between (a gap): then against the position it was sent for.
        if (reducingOrder && !tracked.checked) {
          tracked.checked = true;
          const against = tracked.liquidatedSince ? tracked.sentAgainst : held;
          const opposite = o.side === 'sell' ? against.gt(0) : against.lt(0);
          if (!opposite) fail(`${where}: ${o.side} ${o.amount} against position ${str(against)}`);
          if (dec(o.amount).gt(against.abs())) fail(`${where}: ${o.amount} larger than position ${str(against)}`);
        }
        const delta = filled.minus(tracked.filled);
        if (delta.gt(0)) {
          const after = o.side === 'buy' ? held.plus(delta) : held.minus(delta);
          if (reducingOrder && !(after.abs().lte(held.abs()) && (after.isZero() || after.isPos() === held.isPos())))
            fail(`${where}: fill ${str(delta)} takes ${str(held)} to ${str(after)} (a flip or a growth)`);
          positions.get(r.account)!.set(o.symbol, after);
        }
        tracked.filled = filled.gt(tracked.filled) ? filled : tracked.filled;
        if (TERMINAL.has(r.status)) {
          tracked.done = true;
          if (reducing.get(r.account) === r.orderId) reducing.delete(r.account);
        }
        break;
      }
      case 'liquidation':
        liquidations += 1;
        if (!gapped.has(r.symbol)) fail(`${r.account} liquidated on ${r.symbol} at ${r.t} without a gap in its marks`);
        for (const t of orders.values())
          if (t.order.account === r.account && t.order.symbol === r.symbol && !t.checked) t.liquidatedSince = true;
        positions.get(r.account)!.set(r.symbol, ZERO);
        break;
      default:
        break;
    }
  }

  // ── summary ──
  const finalStates = Object.fromEntries(state);
  if (JSON.stringify(sorted(summary.finalStates)) !== JSON.stringify(sorted(finalStates)))
    fail(`summary.finalStates ${JSON.stringify(summary.finalStates)} but the state records end at ${JSON.stringify(finalStates)}`);
  const liquidated = [...new Set(records.filter((r) => r.kind === 'liquidation').map((r) => r.account))].sort();
  if (JSON.stringify(summary.liquidated) !== JSON.stringify(liquidated)) fail(`summary.liquidated ${JSON.stringify(summary.liquidated)}`);
  for (const account of accounts) {
    if ((summary.maxReductionsInFlight[account] ?? 0) > 1)
      fail(`${account}: maxReductionsInFlight ${summary.maxReductionsInFlight[account]}`);
    if (JSON.stringify(sorted(summary.orders[account] ?? {})) !== JSON.stringify(sorted(counts.get(account)!)))
      fail(`${account}: summary.orders ${JSON.stringify(summary.orders[account])} but ${JSON.stringify(counts.get(account))} recorded`);
    if ((summary.blockedEntries[account] ?? 0) !== blocked.get(account)) fail(`${account}: summary.blockedEntries`);
    const fromFills = nonZero(Object.fromEntries([...positions.get(account)!].map(([s, size]) => [s, str(size)])));
    const risks = records.filter((r): r is RecordOf<'risk'> => r.kind === 'risk' && r.account === account);
    const last = risks[risks.length - 1];
    if (!last) fail(`${account}: no risk record`);
    else if (JSON.stringify(nonZero(last.position)) !== JSON.stringify(fromFills))
      fail(
        `${account}: final position ${JSON.stringify(last.position)} (last risk record) but the fills add up to ${JSON.stringify(fromFills)}`,
      );
  }
  return { violations, liquidations, reached, orders: orders.size };
}

function sorted(record: Readonly<Record<string, unknown>>): [string, unknown][] {
  return Object.entries(record).sort(([a], [b]) => a.localeCompare(b));
}

function nonZero(position: Readonly<Record<string, string>>): [string, string][] {
  return Object.entries(position)
    .filter(([, size]) => !dec(size).isZero())
    .map(([symbol, size]): [string, string] => [symbol, str(dec(size))])
    .sort(([a], [b]) => a.localeCompare(b));
}

function productRules(
  order: RecordOf<'order'>,
  products: ReturnType<typeof scenarioProducts>,
  mark: string | undefined,
  where: string,
  fail: (message: string) => void,
): void {
  const product = products[order.symbol];
  if (!product) return fail(`${where}: unknown product ${order.symbol}`);
  const amount = dec(order.amount);
  if (!(amount.gt(0) && amount.mod(product.minOrderSize).isZero()))
    fail(`${where}: amount ${order.amount} off the size grid ${product.minOrderSize}`);
  if (order.type === 'market') {
    if (order.price !== '0') fail(`${where}: a market order's price is "0", got ${order.price}`);
    return;
  }
  const price = dec(order.price);
  if (!(price.gt(0) && price.mod(product.tickSize).isZero())) fail(`${where}: price ${order.price} off the tick grid ${product.tickSize}`);
  if (amount.times(price).gt(product.maxOrderNotional)) fail(`${where}: notional above ${product.maxOrderNotional}`);
  if (mark === undefined) return;
  // The band binds the aggressive side only (src/domain/rounding.ts orderViolations): a passive limit on
  // the far side rests on the book. (The library checker, test/scenarios/, checks both sides; its
  // scenarios never place a passive order far from the mark.)
  const band = priceBand(product, mark);
  if (order.side === 'buy' ? price.gt(band.high) : price.lt(band.low))
    fail(`${where}: ${order.side} price ${order.price} outside the band [${str(band.low)}, ${str(band.high)}] around mark ${mark}`);
}
