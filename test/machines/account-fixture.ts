import { createActor, type InspectionEvent, type SnapshotFrom } from 'xstate';
import type { accountMachine } from '../../machines/account.ts';
import { provideAccountEffects } from '../../src/runtime/account-effects.ts';
import { createAccountContext, type AccountContext, type AccountEvent } from '../../machines/account-context.ts';
import { dec, str } from '../../src/domain/decimal.ts';
import type { OrderIntent, OrderPurpose } from '../../src/domain/order.ts';
import { DEFAULT_PRODUCTS } from '../../src/domain/products.ts';
import type { ResolvedRiskLimit } from '../../src/domain/risk-limit.ts';

export const T0 = Date.UTC(2026, 0, 5, 13, 0, 0);

/**
 * A thinly capitalised account so small moves cross every threshold. Long 6 ETHP @ 2000 on 2500 collateral:
 * buffer = (E − 0.05·6p) / 6p with E = 2500 + 6(p − 2000):
 *   p 2000 → 0.158 · 1950 → 0.138 · 1850 → 0.094 (< min 0.10) · 1720 → 0.0295 (< panic 0.03).
 */
export const DAY_LIMIT: ResolvedRiskLimit = {
  type: 'day',
  applyTo: 'equity-difference',
  maxAbsoluteRisk: '1500',
  closePositions: false,
  level: 'strategy',
  sourceId: 'alpha',
};

export function accountContext(overrides: { riskLimits?: ResolvedRiskLimit[]; collateral?: string } = {}): AccountContext {
  return createAccountContext(
    {
      accountId: 'alpha',
      budget: {
        maxPositionSize: { ETHP: '6' },
        maxGrossNotional: '15000',
        minMarginBuffer: '0.10',
        panicMarginBuffer: '0.03',
        sessionLossLimit: '2000',
      },
      products: { ETHP: DEFAULT_PRODUCTS.ETHP! },
      riskLimits: overrides.riskLimits ?? [DAY_LIMIT],
      hysteresis: '0.2',
      reductionFraction: '0.25',
      reductionTimeoutMs: 15_000,
    },
    { collateral: overrides.collateral ?? '2500', at: T0, marks: { ETHP: '2000' } },
  );
}

export interface SentOrder {
  clientOrderId: string;
  intent: OrderIntent;
  purpose: OrderPurpose;
  /** Top-level state when the order was sent, and the position then. */
  state: string;
  position: string;
}

/** The machine with the effects `src/` provides, wired to a recording venue. */
export function recordingMachine(log: { sent: SentOrder[]; cancels: string[]; decisions: number; raised: number; resets: string[] }) {
  return provideAccountEffects({
    sendOrder: (placed, context) => {
      log.sent.push({ ...placed, state: context.mode, position: context.ledger.positions[placed.intent.symbol]?.size ?? '0' });
    },
    cancelOrder: (cancel) => void log.cancels.push(cancel.clientOrderId),
    decision: () => void (log.decisions += 1),
    raiseStopout: () => void (log.raised += 1),
    reset: (outcome) => void log.resets.push(outcome.result),
  });
}

export { topState } from '../../machines/snapshot-state.ts';

export type AccountSnapshot = SnapshotFrom<typeof accountMachine>;

/** Events that make sense from a snapshot: the model's alphabet, finite for every state. */
export function sampleEvents(snapshot: AccountSnapshot): AccountEvent[] {
  const c = snapshot.context;
  const at = c.now + 1000;
  const events: AccountEvent[] = ['2000', '1950', '1850', '1720', '2300'].map((price) => ({ type: 'MARK', symbol: 'ETHP', price, at }));
  events.push({ type: 'ENTRY_REQUEST', order: { symbol: 'ETHP', side: 'buy', amount: '3', type: 'market' } });
  events.push({ type: 'ENTRY_REQUEST', order: { symbol: 'ETHP', side: 'buy', amount: '4', type: 'limit', price: '1990' } });
  const size = dec(c.ledger.positions.ETHP?.size ?? '0');
  if (!size.isZero()) {
    events.push({ type: 'ENTRY_REQUEST', order: { symbol: 'ETHP', side: size.isPos() ? 'sell' : 'buy', amount: '1', type: 'market' } });
  }
  let seq = c.ledger.lastSeq;
  for (const order of Object.values(c.orders)) {
    const remaining = dec(order.intent.amount).minus(order.filled);
    const price = order.intent.price && order.intent.price !== '0' ? order.intent.price : c.marks.ETHP!;
    seq += 1;
    events.push({
      type: 'LEDGER',
      at,
      event: { kind: 'fill', id: `fill-${seq}`, seq, symbol: 'ETHP', side: order.intent.side, amount: str(remaining), price },
    });
    for (const status of ['posted', 'filled', 'cancelled', 'rejected'] as const) {
      events.push({
        type: 'ORDER_UPDATE',
        clientOrderId: order.clientOrderId,
        status,
        filled: status === 'filled' ? order.intent.amount : order.filled,
        at,
      });
    }
  }
  // Every event type needs a sample in every state (xstate/graph fills gaps with bare `{type}` events).
  events.push({ type: 'LEDGER', at, event: { kind: 'deposit', id: `deposit-${seq + 1}`, seq: seq + 1, amount: '100' } });
  events.push({ type: 'ORDER_UPDATE', clientOrderId: 'unknown-order', status: 'filled', filled: '1', at });
  events.push({ type: 'STOPOUT_RESET', scope: 'account', id: 'alpha', reason: 'manual', at });
  events.push({ type: 'TICK', at: c.now + 16_000 });
  events.push({ type: 'RESYNC', ledger: c.ledger, at });
  events.push({ type: 'FEED_STATUS', stale: !c.feedStale, at });
  events.push({ type: 'OWNERSHIP', uncertain: !c.ownershipUncertain });
  events.push({ type: 'STOPOUT_SET', stopout: { scope: 'fleet', id: '*', reason: 'manual', closePositions: false } });
  events.push({ type: 'STOPOUT_SET', stopout: { scope: 'portfolio', id: 'core', reason: 'manual', closePositions: true } });
  for (const s of c.stopouts) events.push({ type: 'STOPOUT_RESET', scope: s.scope, id: s.id, reason: s.reason, at });
  events.push({ type: 'MOVE_START_TIME', scope: 'strategy', id: 'alpha', at });
  return events;
}

/**
 * A finite abstraction of the context, so traversal terminates: the state, and what decides which
 * transitions are possible next (position bucket, an in-flight reduction, working orders, stopouts, feed).
 */
export function serializeSnapshot(snapshot: AccountSnapshot): string {
  const c = snapshot.context;
  return JSON.stringify([
    snapshot.value,
    sizeBucket(c.ledger.positions.ETHP?.size ?? '0'),
    c.reduction !== null,
    Object.values(c.orders).some((o) => o.purpose === 'entry' || o.purpose === 'close'),
    Object.values(c.orders).some((o) => o.cancelSentAt !== undefined),
    c.stopouts.length > 0,
    c.stopouts.some((s) => s.closePositions),
    c.feedStale,
  ]);
}

function sizeBucket(size: string): string {
  const s = dec(size);
  if (s.isZero()) return 'flat';
  const a = s.abs();
  const side = s.isPos() ? 'long' : 'short';
  return `${side}:${a.lt(3) ? 'small' : a.lt(6) ? 'mid' : a.eq(6) ? 'cap' : 'over'}`;
}

export function startRecordingActor(context: AccountContext = accountContext()) {
  const log = { sent: [] as SentOrder[], cancels: [] as string[], decisions: 0, raised: 0, resets: [] as string[] };
  const actor = createActor(recordingMachine(log), { input: context });
  actor.start();
  return { actor, log };
}

/** An actor resumed from a persisted snapshot (its input is not used when a snapshot is given). */
export function restoreActor(log: Parameters<typeof recordingMachine>[0], snapshot: unknown, inspect?: (event: InspectionEvent) => void) {
  const options = { snapshot, ...(inspect ? { inspect } : {}) } as unknown as Parameters<
    typeof createActor<ReturnType<typeof recordingMachine>>
  >[1];
  return createActor(recordingMachine(log), options);
}
