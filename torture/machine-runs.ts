import { createHash } from 'node:crypto';
import { createActor, type SnapshotFrom } from 'xstate';
import { createAccountContext, type AccountContext, type AccountEvent } from '../machines/account-context.ts';
import type { accountMachine } from '../machines/account.ts';
import { restorableAccount } from '../machines/restorable-account.ts';
import { topState } from '../machines/snapshot-state.ts';
import { supervisorMachine, type LimitGroup, type SupervisorEvent } from '../machines/supervisor.ts';
import { dec, str } from '../src/domain/decimal.ts';
import type { OrderIntent, OrderPurpose } from '../src/domain/order.ts';
import { DEFAULT_PRODUCTS } from '../src/domain/products.ts';
import type { ResolvedRiskLimit } from '../src/domain/risk-limit.ts';
import { orderViolations } from '../src/domain/rounding.ts';
import type { Stopout, StopoutScope } from '../src/domain/stopout.ts';
import { provideAccountEffects } from '../src/runtime/account-effects.ts';
import { Random } from './random.ts';

/**
 * The fast tier of the seeded runs: the supervisor statechart with two real account actors (the machines
 * of machines/, their effects recording what they send), driven by a generated event stream — marks that
 * drift, gap and whipsaw; entries; the venue filling, partly filling, rejecting, cancelling and posting
 * orders; reduction timeouts; stale and recovered feeds (a disconnect, a dropped feed); stopouts set,
 * reset, expired and refused; CopyFactory group observations; config reloads (SET_GROUPS, an account
 * removed and added back); takeovers (RESYNC). Around every event the statechart invariants of
 * docs/contracts.md#invariants are checked on each account, and the venue side is checked from the
 * driver's own order book: never two reducing orders open at once, no fill of a reducing order flips the
 * position.
 */

const T0 = Date.UTC(2026, 0, 5, 13);
const ETHP = DEFAULT_PRODUCTS.ETHP!;
const ACCOUNTS = ['alpha', 'beta'] as const;
const SCOPES: { scope: StopoutScope; id: string }[] = [
  { scope: 'fleet', id: '*' },
  { scope: 'portfolio', id: 'core' },
];

type AccountSnapshot = SnapshotFrom<typeof accountMachine>;

interface Sent {
  account: string;
  clientOrderId: string;
  intent: OrderIntent;
  purpose: OrderPurpose;
  position: string;
}

interface VenueOrder {
  account: string;
  side: 'buy' | 'sell';
  amount: string;
  filled: string;
  price: string;
  purpose: OrderPurpose;
}

export interface MachineRun {
  seed: number;
  index: number;
  steps: number;
  events: number;
  orders: number;
  violations: string[];
  /** Top-level states the accounts reached (for the figures). */
  reached: string[];
  /** sha256 of the run's log (every event and every order sent): a replay must give the same. */
  hash: string;
  log: string;
}

function settings(rng: Random, accountId: string): AccountContext['settings'] {
  const min = 0.05 + rng.next() * 0.15;
  return {
    accountId,
    budget: {
      maxPositionSize: { ETHP: String(rng.int(3, 10)) },
      ...(rng.chance(0.5) ? { maxGrossNotional: String(rng.int(6000, 25_000)) } : {}),
      minMarginBuffer: min.toFixed(3),
      panicMarginBuffer: (min * (0.2 + rng.next() * 0.6)).toFixed(3),
      ...(rng.chance(0.5) ? { sessionLossLimit: String(rng.int(100, 3000)) } : {}),
    },
    products: { ETHP },
    riskLimits: rng.chance(0.5)
      ? [
          {
            type: 'day',
            applyTo: 'equity-difference',
            maxAbsoluteRisk: String(rng.int(300, 3000)),
            closePositions: rng.chance(0.5),
            level: 'strategy',
            sourceId: accountId,
          },
        ]
      : [],
    hysteresis: (0.05 + rng.next() * 0.25).toFixed(2),
    reductionFraction: (0.1 + rng.next() * 0.9).toFixed(2),
    reductionTimeoutMs: rng.int(3, 20) * 1000,
  };
}

function groupLimit(rng: Random): ResolvedRiskLimit {
  return {
    type: 'day',
    applyTo: 'equity-difference',
    maxAbsoluteRisk: String(rng.int(500, 5000)),
    closePositions: rng.chance(0.5),
    level: 'portfolio',
    sourceId: 'core',
  };
}

/** Runs machine stream (seed, index). Deterministic: the same pair gives the same log, byte for byte. */
export function runMachineStream(seed: number, index: number): MachineRun {
  const rng = Random.derive(seed ^ 0x5eed, index);
  const violations: string[] = [];
  const fail = (message: string): void => void (violations.length < 20 && violations.push(message));
  const log: string[] = [];
  const sent: Sent[] = [];
  const cancels: { account: string; clientOrderId: string }[] = [];
  const accountLogic = restorableAccount(
    provideAccountEffects({
      sendOrder: (placed, context) =>
        void sent.push({
          account: context.settings.accountId,
          clientOrderId: placed.clientOrderId,
          intent: placed.intent,
          purpose: placed.purpose,
          position: context.ledger.positions[placed.intent.symbol]?.size ?? '0',
        }),
      cancelOrder: (cancel, context) => void cancels.push({ account: context.settings.accountId, clientOrderId: cancel.clientOrderId }),
      decision: () => {},
      raiseStopout: () => {},
      reset: () => {},
    }),
  );
  const groups = (): Omit<LimitGroup, 'drawdown'>[] =>
    rng.chance(0.8) ? [{ scope: 'portfolio', id: 'core', accounts: [...ACCOUNTS], limits: [groupLimit(rng)] }] : [];
  const supervisor = createActor(supervisorMachine.provide({ actors: { account: accountLogic } }), { input: { groups: groups() } });
  let failure: unknown;
  supervisor.subscribe({ error: (error) => void (failure = error) });
  supervisor.start();

  let now = T0;
  let mark = 2000;
  let seq = 0;
  const contexts = new Map<string, AccountContext['settings']>();
  const spawn = (accountId: string): void => {
    const s = contexts.get(accountId) ?? settings(rng, accountId);
    contexts.set(accountId, s);
    const context = createAccountContext(s, { collateral: String(rng.int(1500, 8000)), at: now, marks: { ETHP: str(dec(mark)) } });
    supervisor.send({ type: 'SPAWN', accountId, input: { context }, scopes: [...SCOPES, { scope: 'account', id: accountId }] });
  };
  for (const a of ACCOUNTS) spawn(a);

  const venue = new Map<string, VenueOrder>();
  const stopouts: Stopout[] = [];
  const reached = new Set<string>();
  const child = (accountId: string): AccountSnapshot | undefined =>
    (supervisor.system.get(accountId) as { getSnapshot(): AccountSnapshot } | undefined)?.getSnapshot();
  const alive = (): string[] => supervisor.getSnapshot().context.accounts;
  const openReductions = (account: string): number =>
    [...venue.values()].filter((o) => o.account === account && (o.purpose === 'reduce' || o.purpose === 'exit')).length;
  let events = 0;

  const send = (event: SupervisorEvent): void => {
    events += 1;
    const before = new Map(alive().map((a) => [a, child(a)]));
    const sentBefore = sent.length;
    log.push(JSON.stringify(event));
    supervisor.send(event);
    if (failure !== undefined) {
      fail(`the supervisor failed on ${event.type}: ${failure instanceof Error ? failure.message : String(failure)}`);
      return;
    }
    for (const order of sent.slice(sentBefore)) {
      log.push(`sent ${JSON.stringify(order)}`);
      const where = `${order.account} ${order.purpose} ${order.clientOrderId} after ${event.type} (event ${events})`;
      const b = before.get(order.account);
      if (order.purpose === 'entry' && (b === undefined || topState(b.value) !== 'trading' || b.context.mode !== 'trading'))
        fail(`${where}: an entry left while ${b ? topState(b.value) : 'not spawned'}`);
      const m = child(order.account)?.context.marks.ETHP;
      if (m === undefined) fail(`${where}: no mark`);
      else {
        const v = orderViolations(ETHP, order.intent, m);
        if (v.length > 0) fail(`${where}: ${v.map((x) => x.message).join('; ')}`);
      }
      if (order.purpose === 'reduce' || order.purpose === 'exit' || order.purpose === 'close') {
        const size = dec(order.position);
        if (size.isZero()) fail(`${where}: a reducing order on a flat position`);
        else if (order.intent.side !== (size.isPos() ? 'sell' : 'buy') || dec(order.intent.amount).gt(size.abs()))
          fail(`${where}: ${order.intent.side} ${order.intent.amount} against position ${order.position}`);
      }
      if ((order.purpose === 'reduce' || order.purpose === 'exit') && openReductions(order.account) > 0)
        fail(`${where}: a second reducing order while one is open at the venue`);
      venue.set(order.clientOrderId, {
        account: order.account,
        side: order.intent.side,
        amount: order.intent.amount,
        filled: '0',
        price: order.intent.price && order.intent.price !== '0' ? order.intent.price : (m ?? '2000'),
        purpose: order.purpose,
      });
    }
    for (const a of alive()) {
      const after = child(a);
      if (!after) continue;
      const top = topState(after.value);
      reached.add(top);
      const inFlight = Object.values(after.context.orders).filter((o) => o.purpose === 'reduce' || o.purpose === 'exit').length;
      if (inFlight > 1) fail(`${a}: ${inFlight} reducing orders in flight after ${event.type} (event ${events})`);
      const b = before.get(a);
      const released = event.type === 'RESET_REQUEST' || event.type === 'STOPOUT_GONE' || event.type === 'SPAWN';
      if (b && topState(b.value) === 'stopped-out' && top !== 'stopped-out' && !released)
        fail(`${a}: left stopped-out for ${top} on ${event.type} (event ${events}), not a reset or an expiry`);
      log.push(`${a} ${JSON.stringify(after.value)} ${after.context.ledger.positions.ETHP?.size ?? '0'}`);
    }
  };

  const route = (accountId: string, event: AccountEvent): void => send({ type: 'ROUTE', accountId, event });
  const finish = (id: string, status: 'filled' | 'cancelled' | 'rejected', reason?: string): void => {
    const o = venue.get(id);
    if (!o) return;
    venue.delete(id);
    route(o.account, { type: 'ORDER_UPDATE', clientOrderId: id, status, filled: o.filled, at: now, ...(reason ? { reason } : {}) });
  };
  const fill = (id: string, amount: ReturnType<typeof dec>): void => {
    const o = venue.get(id)!;
    if (!amount.gt(0)) return;
    const held = dec(child(o.account)?.context.ledger.positions.ETHP?.size ?? '0');
    const after = o.side === 'buy' ? held.plus(amount) : held.minus(amount);
    if (
      (o.purpose === 'reduce' || o.purpose === 'exit') &&
      !(after.abs().lte(held.abs()) && (after.isZero() || after.isPos() === held.isPos()))
    )
      fail(
        `${o.account} ${o.purpose} ${id}: a fill of ${str(amount)} takes the position ${str(held)} to ${str(after)} (a flip or a growth)`,
      );
    seq += 1;
    route(o.account, {
      type: 'LEDGER',
      at: now,
      event: { kind: 'fill', id: `fill-${seq}`, seq, symbol: 'ETHP', side: o.side, amount: str(amount), price: o.price },
    });
    o.filled = str(dec(o.filled).plus(amount));
  };
  const setMark = (price: number): void => {
    mark = Math.max(200, Math.round(price * 10) / 10);
    send({ type: 'BROADCAST', event: { type: 'MARK', symbol: 'ETHP', price: str(dec(mark)), at: now } });
  };

  const steps = rng.int(5, 70);
  for (let step = 0; step < steps && violations.length === 0; step += 1) {
    now += rng.int(200, 3000);
    const kind = rng.weighted<string>([
      [5, 'drift'],
      [2, 'gap'],
      [1, 'whipsaw'],
      [4, 'entry'],
      [6, 'venue'],
      [2, 'timeout'],
      [1, 'feed'],
      [1, 'stopout'],
      [1, 'reset'],
      [1, 'expiry'],
      [1, 'observe'],
      [1, 'reload'],
      [1, 'respawn'],
      [1, 'resync'],
      [1, 'move-start'],
    ]);
    const accounts = alive();
    const someone = accounts.length > 0 ? rng.pick(accounts) : undefined;
    switch (kind) {
      case 'drift':
        setMark(mark * (1 + (rng.next() - 0.5) * 0.04));
        break;
      case 'gap':
        setMark(mark * (rng.chance(0.75) ? 1 - 0.05 - rng.next() * 0.2 : 1 + 0.05 + rng.next() * 0.1));
        break;
      case 'whipsaw': {
        const swing = 0.03 + rng.next() * 0.08;
        setMark(mark * (1 - swing));
        now += 500;
        setMark(mark * (1 + swing) * (1 + swing));
        break;
      }
      case 'entry': {
        if (!someone) break;
        const market = rng.chance(0.5);
        const price = market
          ? undefined
          : str(
              dec(mark)
                .plus(dec(rng.int(-300, 300)).times('0.1'))
                .toDecimalPlaces(1),
            );
        route(someone, {
          type: 'ENTRY_REQUEST',
          order: {
            symbol: 'ETHP',
            side: rng.chance(0.7) ? 'buy' : 'sell',
            amount: str(dec(rng.int(1, 40)).div(4)),
            type: market ? 'market' : 'limit',
            ...(price ? { price } : {}),
          },
        });
        break;
      }
      case 'venue': {
        const ids = [...venue.keys()];
        if (ids.length === 0) break;
        const id = rng.pick(ids);
        const o = venue.get(id)!;
        const remaining = dec(o.amount).minus(o.filled);
        const outcome = rng.weighted<string>([
          [4, 'fill'],
          [3, 'partial'],
          [2, 'reject'],
          [1, 'cancel'],
          [1, 'post'],
        ]);
        if (outcome === 'fill') fill(id, remaining);
        if (outcome === 'partial') fill(id, remaining.div(rng.int(2, 5)).toDecimalPlaces(4, 1));
        const done = dec(o.filled).gte(o.amount);
        if (outcome === 'fill' || done) finish(id, 'filled');
        else if (outcome === 'partial')
          route(o.account, { type: 'ORDER_UPDATE', clientOrderId: id, status: 'partially-filled', filled: o.filled, at: now });
        else if (outcome === 'reject')
          finish(id, 'rejected', rng.pick(['NoLiquidity', 'MaxTakerPriceDeviation', 'SolvencyGuard', 'NotSequenced']));
        else if (outcome === 'cancel') finish(id, 'cancelled');
        else route(o.account, { type: 'ORDER_UPDATE', clientOrderId: id, status: 'posted', filled: o.filled, at: now });
        break;
      }
      case 'timeout':
        now += rng.int(5, 30) * 1000;
        send({ type: 'BROADCAST', event: { type: 'TICK', at: now } });
        break;
      case 'feed':
        // A disconnect or a dropped feed: stale, then (usually) back.
        send({ type: 'BROADCAST', event: { type: 'FEED_STATUS', stale: true, at: now } });
        if (rng.chance(0.7)) {
          now += rng.int(1, 10) * 1000;
          send({ type: 'BROADCAST', event: { type: 'FEED_STATUS', stale: false, at: now } });
        }
        break;
      case 'stopout': {
        const [scope, id] = rng.pick<[StopoutScope, string]>([
          ['fleet', '*'],
          ['portfolio', 'core'],
          ['account', someone ?? 'alpha'],
        ]);
        const stopout: Stopout = {
          scope,
          id,
          reason: rng.pick(['manual', 'day-equity-difference']),
          closePositions: rng.chance(0.4),
          ...(rng.chance(0.3) ? { stoppedTill: new Date(now + rng.int(5, 60) * 1000).toISOString() } : {}),
        };
        stopouts.push(stopout);
        send({ type: 'STOPOUT_SEEN', stopout });
        break;
      }
      case 'reset': {
        const s = stopouts.length > 0 ? rng.pick(stopouts) : { scope: 'fleet' as const, id: '*', reason: 'manual' };
        send({ type: 'RESET_REQUEST', scope: s.scope, id: s.id, reason: s.reason, by: 'torture', at: now });
        break;
      }
      case 'expiry': {
        // The store's expiry of a timed stopout (or another process's reset): it goes away.
        const i = stopouts.findIndex((s) => s.stoppedTill !== undefined);
        const s = i >= 0 ? stopouts.splice(i, 1)[0]! : stopouts.shift();
        if (s) send({ type: 'STOPOUT_GONE', scope: s.scope, id: s.id, reason: s.reason });
        break;
      }
      case 'observe': {
        const equity = accounts.reduce((sum, a) => sum + Number(child(a)?.context.metrics?.equity ?? 0), 0);
        send({
          type: 'GROUP_OBSERVE',
          group: 'portfolio:core',
          observation: {
            at: now,
            balance: String(Math.round(equity)),
            equity: String(Math.round(equity * (0.7 + rng.next() * 0.4))),
            netTransfers: '0',
          },
        });
        break;
      }
      case 'reload':
        send({ type: 'SET_GROUPS', groups: groups() });
        break;
      case 'respawn': {
        // A reload that removes an account and one that adds it back (its orders at the venue go with it).
        const gone = ACCOUNTS.find((a) => !accounts.includes(a));
        if (gone) spawn(gone);
        else if (someone) {
          send({ type: 'DESPAWN', accountId: someone });
          for (const [id, o] of venue) if (o.account === someone) venue.delete(id);
        }
        break;
      }
      case 'resync': {
        if (!someone) break;
        const ctx = child(someone)?.context;
        if (ctx) route(someone, { type: 'RESYNC', ledger: ctx.ledger, at: now });
        break;
      }
      case 'move-start':
        if (someone) route(someone, { type: 'MOVE_START_TIME', scope: 'strategy', id: someone, at: now });
        break;
    }
    // The venue answers the cancels the accounts asked for.
    for (const c of cancels.splice(0)) if (venue.has(c.clientOrderId)) finish(c.clientOrderId, 'cancelled');
  }
  supervisor.stop();
  const text = log.join('\n');
  return {
    seed,
    index,
    steps,
    events,
    orders: sent.length,
    violations,
    reached: [...reached].sort(),
    hash: createHash('sha256').update(text).digest('hex'),
    log: text,
  };
}

/** What a batch of machine runs found, summed (a worker runs it: torture/worker.ts). */
export interface MachineBatch {
  runs: number;
  events: number;
  orders: number;
  reached: Record<string, number>;
  failed: { index: number; violations: string[]; hash: string }[];
}

/** Runs machine streams `from` … `to − 1` of `seed`, stopping early at `deadline`. */
export function runMachineBatch(seed: number, from: number, to: number, deadline: number): MachineBatch {
  const batch: MachineBatch = { runs: 0, events: 0, orders: 0, reached: {}, failed: [] };
  for (let index = from; index < to && (index % 50 !== 0 || Date.now() < deadline); index += 1) {
    const run = runMachineStream(seed, index);
    batch.runs += 1;
    batch.events += run.events;
    batch.orders += run.orders;
    for (const state of run.reached) batch.reached[state] = (batch.reached[state] ?? 0) + 1;
    if (run.violations.length > 0) batch.failed.push({ index, violations: run.violations, hash: run.hash });
  }
  return batch;
}
