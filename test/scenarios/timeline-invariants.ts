import { expect } from 'vitest';
import type { ScenarioConfig } from '../../src/config/scenario-schema.ts';
import { ACCOUNT_MODES, type AccountMode } from '../../src/domain/assessment.ts';
import { dec, str, ZERO, type Decimal } from '../../src/domain/decimal.ts';
import { priceBand } from '../../src/domain/rounding.ts';
import { scenarioProducts } from '../../src/scenario/scenario-runner.ts';
import type { TimelineRecord } from '../../src/timeline/timeline-record.ts';
import { TERMINAL, Timeline, type RecordOf } from './timeline-query.ts';

/**
 * The checks every library scenario passes, read from the timeline records alone (docs/contracts.md#invariants):
 *
 * - shape: every record has `t` and a known `kind` with its required fields; times never go back; the
 *   last line, and only it, is the summary;
 * - states: `from`/`to` are the five top-level states, each account's chain is continuous from
 *   `trading`, and the summary's final states are where the chains end;
 * - no liquidation, unless the scenario names the accounts it expects to be liquidated;
 * - orders: an entry leaves only while its account is trading and right after an allowed decision for
 *   it; every order-update belongs to a known order, `filled` never goes back nor beyond the amount, and
 *   nothing follows a terminal update; prices are on the tick grid, sizes on the size grid, limit prices
 *   inside the band around the latest mark;
 * - reductions: at most one `reduce`/`exit` order per account between its `order` record and its
 *   terminal `order-update`; each is on the opposite side of the position and not larger than it, and no
 *   fill of it grows |position| or flips it (positions tracked from the fills);
 * - decisions: a refused entry lists rule codes, an allowed one none;
 * - summary: `maxReductionsInFlight` ≤ 1, order counts by purpose and blocked entries as recorded,
 *   final positions as the fills add up.
 */
export interface InvariantOptions {
  /** Accounts the scenario is about liquidating (none by default). */
  liquidated?: readonly string[];
}

const KINDS = [
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
] as const;

const REQUIRED: Record<(typeof KINDS)[number], readonly string[]> = {
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

/** Rule codes of docs/contracts.md#rule-codes, including the extension `order-invalid`. */
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

type OrderRecord = RecordOf<'order'>;

interface TrackedOrder {
  order: OrderRecord;
  filled: Decimal;
  done: boolean;
  /** Reducing orders: checked against the position at their first update (see below). */
  checked: boolean;
}

export function checkTimelineInvariants(
  scenario: ScenarioConfig,
  records: readonly TimelineRecord[],
  options: InvariantOptions = {},
): void {
  const timeline = new Timeline(records);
  const products = scenarioProducts(scenario);
  const accounts = scenario.accounts.map((a) => a.id);

  // ── shape ──
  expect(records.length, 'an empty timeline').toBeGreaterThan(1);
  let lastT = 0;
  records.forEach((r, i) => {
    const where = `record ${i} ${JSON.stringify(r).slice(0, 200)}`;
    expect(KINDS as readonly string[], where).toContain(r.kind);
    expect(Number.isSafeInteger(r.t) && r.t >= 0, `${where}: t must be whole ms >= 0`).toBe(true);
    expect(r.t, `${where}: time went back from ${lastT}`).toBeGreaterThanOrEqual(lastT);
    lastT = r.t;
    for (const field of REQUIRED[r.kind]) expect(r, `${where}: missing ${field}`).toHaveProperty(field);
    if ('account' in r) expect(accounts, `${where}: unknown account`).toContain(r.account);
    if (r.kind === 'summary') expect(i, 'the summary must be the last line').toBe(records.length - 1);
  });
  const summary = timeline.summary();

  // ── states ──
  const current = new Map<string, AccountMode>(accounts.map((a) => [a, 'trading']));
  for (const s of timeline.of('state')) {
    expect(ACCOUNT_MODES, `state at ${s.t}: to`).toContain(s.to);
    expect(s.from, `${s.account} state at ${s.t}: from must be where it was`).toBe(current.get(s.account));
    expect(typeof s.reason === 'string' && s.reason.length > 0, `${s.account} state at ${s.t}: a reason`).toBe(true);
    current.set(s.account, s.to);
  }
  expect(summary.finalStates, 'summary.finalStates').toEqual(Object.fromEntries(current));

  // ── liquidations ──
  const liquidated = [...new Set(timeline.of('liquidation').map((l) => l.account))].sort();
  expect(liquidated, 'liquidated accounts').toEqual([...(options.liquidated ?? [])].sort());
  expect(summary.liquidated, 'summary.liquidated').toEqual(liquidated);

  // ── orders, fills, positions, reductions ──
  const orders = new Map<string, TrackedOrder>();
  const positions = new Map<string, Map<string, Decimal>>(accounts.map((a) => [a, new Map()]));
  const reducing = new Map<string, string>();
  const state = new Map<string, AccountMode>(accounts.map((a) => [a, 'trading']));
  const lastDecision = new Map<string, RecordOf<'decision'>>();
  const lastMark = new Map<string, string>();
  const counts = new Map<string, Record<string, number>>(accounts.map((a) => [a, {}]));
  const blocked = new Map<string, number>(accounts.map((a) => [a, 0]));
  const position = (account: string, symbol: string): Decimal => positions.get(account)!.get(symbol) ?? ZERO;

  for (const r of records) {
    switch (r.kind) {
      case 'mark':
        lastMark.set(r.symbol, r.price);
        break;
      case 'state':
        state.set(r.account, r.to);
        break;
      case 'decision': {
        const where = `${r.account} decision at ${r.t}`;
        if (r.allowed) expect(r.rules, `${where}: an allowed entry lists no rules`).toEqual([]);
        else {
          expect(r.rules.length, `${where}: a refused entry lists the rules that blocked it`).toBeGreaterThan(0);
          for (const rule of r.rules) expect(RULES.has(rule), `${where}: unknown rule ${rule}`).toBe(true);
          blocked.set(r.account, blocked.get(r.account)! + 1);
        }
        lastDecision.set(r.account, r);
        break;
      }
      case 'order': {
        const where = `${r.account} order ${r.orderId} at ${r.t}`;
        expect(orders.has(r.orderId), `${where}: order id used twice`).toBe(false);
        expect(PURPOSES.has(r.purpose), `${where}: purpose`).toBe(true);
        checkProductRules(r, products, lastMark.get(r.symbol), where);
        const c = counts.get(r.account)!;
        c[r.purpose] = (c[r.purpose] ?? 0) + 1;
        if (r.purpose === 'entry' || r.purpose === 'close') {
          const decision = lastDecision.get(r.account);
          expect(decision?.allowed, `${where}: a strategy order follows an allowed decision`).toBe(true);
          expect(decision?.order, `${where}: the decision was about this order`).toMatchObject({
            symbol: r.symbol,
            side: r.side,
            amount: r.amount,
          });
          lastDecision.delete(r.account);
        }
        if (r.purpose === 'entry') expect(state.get(r.account), `${where}: an entry leaves only from trading`).toBe('trading');
        if (r.purpose === 'reduce' || r.purpose === 'exit') {
          const other = reducing.get(r.account);
          expect(other, `${where}: ${r.account} already has reducing order ${other} in flight`).toBeUndefined();
          reducing.set(r.account, r.orderId);
        }
        orders.set(r.orderId, { order: r, filled: ZERO, done: false, checked: false });
        break;
      }
      case 'order-update': {
        const where = `${r.account} order-update ${r.orderId} ${r.status} at ${r.t}`;
        const tracked = orders.get(r.orderId);
        expect(tracked, `${where}: no order record before it`).toBeDefined();
        if (!tracked) break;
        const o = tracked.order;
        expect(o.account, `${where}: account`).toBe(r.account);
        expect(STATUSES.has(r.status), `${where}: status`).toBe(true);
        expect(tracked.done, `${where}: after the terminal update`).toBe(false);
        const filled = dec(r.filled);
        expect(
          filled.gte(tracked.filled) && filled.lte(o.amount),
          `${where}: filled ${r.filled} after ${str(tracked.filled)}, amount ${o.amount}`,
        ).toBe(true);
        if (r.status === 'rejected')
          expect(typeof r.reason === 'string' && r.reason.length > 0, `${where}: a rejection has a reason`).toBe(true);
        const held = position(r.account, o.symbol);
        const reducingOrder = o.purpose === 'reduce' || o.purpose === 'exit';
        // A reducing order is judged against the position when the venue first answers it: by then every
        // fill the account knew of when it sent the order is in the timeline (the fill that triggered a
        // reduction can be recorded just after the reduction's `order` record, in the same instant).
        if (reducingOrder && !tracked.checked) {
          tracked.checked = true;
          const opposite = o.side === 'sell' ? held.gt(0) : held.lt(0);
          expect(opposite, `${where}: ${o.side} ${o.amount} against position ${str(held)}`).toBe(true);
          expect(dec(o.amount).lte(held.abs()), `${where}: ${o.amount} larger than position ${str(held)}`).toBe(true);
        }
        const delta = filled.minus(tracked.filled);
        if (delta.gt(0)) {
          const after = o.side === 'buy' ? held.plus(delta) : held.minus(delta);
          if (reducingOrder) {
            expect(
              after.abs().lte(held.abs()) && (after.isZero() || after.isPos() === held.isPos()),
              `${where}: fill ${str(delta)} takes ${str(held)} to ${str(after)}`,
            ).toBe(true);
          }
          positions.get(r.account)!.set(o.symbol, after);
        }
        tracked.filled = filled;
        if (TERMINAL.has(r.status)) {
          tracked.done = true;
          if (reducing.get(r.account) === r.orderId) reducing.delete(r.account);
        }
        break;
      }
      case 'liquidation':
        positions.get(r.account)!.set(r.symbol, ZERO);
        break;
      default:
        break;
    }
  }

  // ── summary ──
  for (const account of accounts) {
    expect(summary.maxReductionsInFlight[account] ?? 0, `${account}: maxReductionsInFlight`).toBeLessThanOrEqual(1);
    expect(summary.orders[account] ?? {}, `${account}: summary.orders`).toEqual(counts.get(account));
    expect(summary.blockedEntries[account] ?? 0, `${account}: summary.blockedEntries`).toBe(blocked.get(account));
    const fromFills = Object.fromEntries(
      [...positions.get(account)!].filter(([, size]) => !size.isZero()).map(([symbol, size]) => [symbol, str(size)]),
    );
    const risk = timeline.lastRisk(account);
    const reported = Object.fromEntries(
      Object.entries(risk.position)
        .filter(([, size]) => !dec(size).isZero())
        .map(([symbol, size]) => [symbol, str(size)]),
    );
    expect(reported, `${account}: final position (last risk record) against the fills`).toEqual(fromFills);
  }
}

/** Tick grid, size grid, max notional, and (limit orders) the band around the mark the account saw. */
function checkProductRules(
  order: OrderRecord,
  products: ReturnType<typeof scenarioProducts>,
  mark: string | undefined,
  where: string,
): void {
  const product = products[order.symbol];
  expect(product, `${where}: unknown product ${order.symbol}`).toBeDefined();
  if (!product) return;
  const amount = dec(order.amount);
  expect(
    amount.gt(0) && amount.mod(product.minOrderSize).isZero(),
    `${where}: amount ${order.amount} off the size grid ${product.minOrderSize}`,
  ).toBe(true);
  if (order.type === 'market') {
    expect(order.price, `${where}: a market order's price is "0"`).toBe('0');
    return;
  }
  const price = dec(order.price);
  expect(price.gt(0) && price.mod(product.tickSize).isZero(), `${where}: price ${order.price} off the tick grid ${product.tickSize}`).toBe(
    true,
  );
  expect(amount.times(price).lte(product.maxOrderNotional), `${where}: notional above ${product.maxOrderNotional}`).toBe(true);
  if (mark === undefined) return;
  const band = priceBand(product, mark);
  expect(
    price.gte(band.low) && price.lte(band.high),
    `${where}: price ${order.price} outside the band [${str(band.low)}, ${str(band.high)}] around mark ${mark}`,
  ).toBe(true);
}
