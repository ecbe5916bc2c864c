import { assign, setup } from 'xstate';
import type { AccountMode } from '../src/domain/assessment.ts';
import { dec, str } from '../src/domain/decimal.ts';
import { pinAnchor } from '../src/domain/drawdown.ts';
import { applyLedgerEvent, projectFill, type LedgerBook } from '../src/domain/ledger.ts';
import type { OrderIntent, OrderPurpose } from '../src/domain/order.ts';
import { preTradeGate, type GateDecision } from '../src/domain/pre-trade-gate.ts';
import { planReduction, type ReductionPlan } from '../src/domain/reduction-plan.ts';
import { afterReductionOutcome, bandMargin, retryDue } from '../src/domain/reduction-retry.ts';
import { evaluateRiskLimits, LEVEL_STOPOUT_SCOPE } from '../src/domain/risk-limits.ts';
import { isTerminal } from '../src/domain/order-status.ts';
import type { Stopout } from '../src/domain/stopout.ts';
import { stopoutKey } from '../src/domain/stopout-identity.ts';
import { toIso } from '../src/domain/periods.ts';
import { accountObservation, assess, refreshed, type AccountContext, type AccountEvent, type WorkingOrder } from './account-context.ts';
import { accountResetRefusal } from './reset-check.ts';

type ReducingMode = 'de-risking' | 'panic-exit' | 'stopped-out';

// ── pure helpers the guards and actions share ───────────────────────────────────────────────

/** The ledger as if every working entry/close order filled: what the gate must judge against. */
function committedBook(context: AccountContext): LedgerBook {
  let book: LedgerBook = context.ledger;
  for (const order of Object.values(context.orders)) {
    if (order.purpose !== 'entry' && order.purpose !== 'close') continue;
    const remaining = dec(order.intent.amount).minus(order.filled);
    if (!remaining.isPos()) continue;
    const price = order.intent.price && !dec(order.intent.price).isZero() ? order.intent.price : context.marks[order.intent.symbol];
    if (price === undefined) continue;
    book = projectFill(book, { symbol: order.intent.symbol, side: order.intent.side, amount: str(remaining), price });
  }
  return book;
}

/**
 * Signed remaining amount per symbol of the working orders `which` lets through that REDUCE the position as
 * it is now (the opposite side): an order on the position's own side may never fill, so it frees nothing.
 */
function workingReductions(context: AccountContext, which: (order: WorkingOrder) => boolean): Record<string, string> {
  const sizes: Record<string, string> = {};
  for (const order of Object.values(context.orders)) {
    if (!which(order)) continue;
    const remaining = dec(order.intent.amount).minus(order.filled);
    const held = dec(context.ledger.positions[order.intent.symbol]?.size ?? '0');
    if (!remaining.isPos() || held.isZero() || held.isPos() === (order.intent.side === 'buy')) continue;
    const signed = order.intent.side === 'buy' ? remaining : remaining.neg();
    sizes[order.intent.symbol] = str(dec(sizes[order.intent.symbol] ?? '0').plus(signed));
  }
  return sizes;
}

/**
 * Position per symbol minus every working order that reduces it — the strategy's closes and the risk
 * layer's own reduce/exit order: what a new close may still reduce without the fills together flipping it.
 * Never past flat: a fill reaches the ledger before its order's update, so the working orders may count
 * twice what already closed; nothing is left to close then.
 */
function closableSizes(context: AccountContext): Record<string, string> {
  const sizes: Record<string, string> = {};
  const reducing = workingReductions(context, (o) => o.purpose === 'close' || o.purpose === 'reduce' || o.purpose === 'exit');
  for (const [symbol, p] of Object.entries(context.ledger.positions)) {
    const held = dec(p.size);
    const left = held.plus(reducing[symbol] ?? '0');
    sizes[symbol] = held.isZero() || left.isZero() || left.isPos() !== held.isPos() ? '0' : str(left);
  }
  return sizes;
}

function gateDecision(context: AccountContext, order: OrderIntent): GateDecision {
  const risk = {
    ledger: context.ledger,
    marks: context.marks,
    products: context.settings.products,
    ...(context.sessionStart ? { sessionStart: context.sessionStart } : {}),
  };
  const breaches = evaluateRiskLimits(context.settings.riskLimits, context.drawdown, accountObservation(context)).map((b) => ({
    reason: b.stopout.reason,
    scope: b.stopout.scope,
    id: b.stopout.id,
    drawdown: b.measure.drawdown,
  }));
  try {
    return preTradeGate({
      risk,
      committed: committedBook(context),
      closable: closableSizes(context),
      ...(context.metrics ? { current: context.metrics } : {}),
      budget: context.settings.budget,
      breaches,
      stopouts: context.stopouts,
      order,
    });
  } catch (error) {
    // No mark or product for the symbol: an entry that cannot be judged is refused.
    return {
      allowed: false,
      purpose: 'entry',
      rules: ['state'],
      blocks: [{ rule: 'state', message: (error as Error).message, numbers: { symbol: order.symbol } }],
      order,
    };
  }
}

/** The gate's decision plus the `state` rule when the account is not trading. */
function refusal(context: AccountContext, order: OrderIntent): GateDecision {
  const decision = gateDecision(context, order);
  const stateBlock = { rule: 'state' as const, message: `account is ${context.mode}`, numbers: { state: context.mode } };
  const blocks = decision.blocks.some((b) => b.rule === 'state') ? decision.blocks : [...decision.blocks, stateBlock];
  return { ...decision, allowed: false, purpose: decision.purpose, rules: blocks.map((b) => b.rule), blocks };
}

/**
 * What the gate would answer to `order` now, without sending anything: the decision a strategy's entry
 * request gets in the account's current state (the state rule added when it is not trading).
 */
export function entryDecision(context: AccountContext, order: OrderIntent): GateDecision {
  if (context.mode === 'trading') return gateDecision(context, order);
  // As the machine's states answer: a close passes while blocked or stopped out, nothing while reducing.
  if (context.mode === 'entries-blocked' || context.mode === 'stopped-out') {
    const decision = gateDecision(context, order);
    if (decision.allowed && decision.purpose === 'close') return decision;
  }
  return refusal(context, order);
}

/** The largest share of the position one reducing order may take while ownership is uncertain. */
export const UNCERTAIN_OWNERSHIP_SHARE = '0.5';

type PlannedReduction = ReductionPlan & { purpose?: 'reduce' | 'exit' };

/**
 * Plans already made, by mode, for the context parts a plan reads (planFor): the guard that decides a
 * reduction is due and the action that places it see the same parts, and so does a context that changed
 * only elsewhere (a mark of a symbol the account neither holds nor trades), so the decimal work is done once.
 * Context parts are replaced, never mutated, so identity says they are the same.
 */
interface KnownPlans {
  parts: unknown[];
  byMode: Partial<Record<ReducingMode, PlannedReduction>>;
}
const plans = new WeakMap<object, KnownPlans>();

function planParts(c: AccountContext): unknown[] {
  return [
    c.settings,
    c.assessment,
    c.stopouts,
    c.reductionRetry,
    c.ownershipUncertain,
    c.orders,
    c.reduction,
    c.ledger,
    c.mode,
    c.feedStale,
  ];
}

/** Whether `mode`'s reducing loop should send another order now, and which one. */
function reductionPlan(context: AccountContext, mode: ReducingMode): PlannedReduction {
  if (!context.metrics) return planFor(context, mode);
  const parts = planParts(context);
  let known = plans.get(context.metrics);
  if (!known || known.parts.some((part, i) => part !== parts[i])) plans.set(context.metrics, (known = { parts, byMode: {} }));
  const hit = known.byMode[mode];
  if (hit) return hit;
  const plan = planFor(context, mode);
  known.byMode[mode] = plan;
  return plan;
}

function planFor(context: AccountContext, mode: ReducingMode): PlannedReduction {
  if (!context.metrics) return { kind: 'none', why: 'no metrics' };
  const { budget } = context.settings;
  const assessment =
    mode === 'stopped-out'
      ? assess(
          context,
          context.stopouts.filter((s) => s.closePositions),
        )
      : context.assessment;
  // Inside stopped-out, reduce only for what would make a free account reduce: margin or a closing stopout.
  const effective =
    mode === 'stopped-out'
      ? assessment.mode === 'panic-exit' || assessment.mode === 'de-risking'
        ? assessment.mode
        : null
      : assessment.mode;
  if (effective !== (mode === 'stopped-out' ? effective : mode) || effective === null)
    return { kind: 'none', why: `no reduction needed (${assessment.mode})` };
  const purpose = effective === 'panic-exit' ? 'exit' : 'reduce';
  const plan = planReduction({
    metrics: context.metrics,
    products: context.settings.products,
    budget,
    purpose,
    flatten: assessment.flatten,
    fraction: context.settings.reductionFraction,
    targetBuffer:
      purpose === 'exit'
        ? (budget.minMarginBuffer ?? budget.panicMarginBuffer ?? '0')
        : str(dec(budget.minMarginBuffer ?? '0').times(dec(context.settings.hysteresis).plus(1))),
    // After the venue refused the band's edge: inside it, from the latest mark.
    bandMargin: bandMargin(context.reductionRetry),
    // Another process may send the same order: two halves cannot flip the position.
    ...(context.ownershipUncertain ? { maxShare: UNCERTAIN_OWNERSHIP_SHARE } : {}),
    // The strategy's working closes and entries may fill too: together they must not flip the position.
    working: workingReductions(context, (o) => o.clientOrderId !== context.reduction && (o.purpose === 'close' || o.purpose === 'entry')),
  });
  return { ...plan, purpose };
}

function cancellable(context: AccountContext, which: 'entries' | 'all'): WorkingOrder[] {
  return Object.values(context.orders).filter(
    (o) =>
      o.clientOrderId !== context.reduction &&
      o.cancelSentAt === undefined &&
      (which === 'all' ? o.purpose === 'entry' || o.purpose === 'close' : o.purpose === 'entry'),
  );
}

function nextOrderId(context: AccountContext): string {
  return `${context.settings.accountId}-${context.orderSeq + 1}`;
}

function withOrder(context: AccountContext, intent: OrderIntent, purpose: OrderPurpose): Partial<AccountContext> {
  const clientOrderId = nextOrderId(context);
  const order: WorkingOrder = { clientOrderId, intent, purpose, status: 'submitted', filled: '0', sentAt: context.now };
  return {
    orderSeq: context.orderSeq + 1,
    orders: { ...context.orders, [clientOrderId]: order },
    outbox: { ...context.outbox, placed: { clientOrderId, intent, purpose } },
    ...(purpose === 'reduce' || purpose === 'exit' ? { reduction: clientOrderId } : {}),
  };
}

function settledTo(context: AccountContext, mode: 'trading' | 'entries-blocked'): boolean {
  return context.reduction === null && !cancelsPending(context) && context.assessment.mode === mode;
}

function cancelsPending(context: AccountContext): boolean {
  return Object.values(context.orders).some((o) => o.cancelSentAt !== undefined && o.clientOrderId !== context.reduction);
}

// ── the machine ─────────────────────────────────────────────────────────────────────────────

/** The reducing loop shared by de-risking, panic exit and a stopped-out account that must reduce. */
function reducingStates(mode: ReducingMode, cancel: 'entries' | 'all') {
  return {
    initial: 'cancelling' as const,
    states: {
      cancelling: {
        entry: [{ type: 'cancelWorkingOrders' as const, params: { which: cancel } }, 'cancelOrders' as const],
        always: [{ guard: 'noCancelsPending' as const, target: 'deciding' }],
        on: {
          TICK: {
            guard: 'cancelTimedOut' as const,
            actions: [
              'applyTick' as const,
              { type: 'cancelWorkingOrders' as const, params: { which: cancel, again: true } },
              'cancelOrders' as const,
            ],
          },
        },
      },
      deciding: {
        always: [
          { guard: 'reductionInFlight' as const, target: 'awaiting' },
          {
            guard: { type: 'reductionDue' as const, params: { mode } },
            target: 'awaiting',
            actions: [{ type: 'placeReduction' as const, params: { mode } }, 'sendOrder' as const],
          },
        ],
      },
      awaiting: {
        always: [{ guard: 'noReductionInFlight' as const, target: 'deciding' }],
        on: {
          TICK: {
            guard: 'reductionTimedOut' as const,
            target: 'cancelling-reduction',
            actions: ['applyTick' as const, 'cancelReduction' as const, 'cancelOrders' as const],
          },
        },
      },
      'cancelling-reduction': {
        always: [{ guard: 'noReductionInFlight' as const, target: 'deciding' }],
        on: {
          TICK: {
            guard: 'reductionTimedOut' as const,
            actions: ['applyTick' as const, 'cancelReduction' as const, 'cancelOrders' as const],
          },
        },
      },
    },
  };
}

export const accountMachine = setup({
  types: {
    context: {} as AccountContext,
    events: {} as AccountEvent,
    input: {} as AccountContext,
  },
  guards: {
    mustPanic: ({ context }) => context.assessment.mode === 'panic-exit',
    mustStop: ({ context }) =>
      context.assessment.mode === 'stopped-out' || (context.stopouts.length > 0 && context.assessment.mode !== 'panic-exit'),
    mustDeRisk: ({ context }) => context.assessment.mode === 'de-risking',
    budgetBinding: ({ context }) => context.assessment.mode === 'entries-blocked',
    budgetHasRoom: ({ context }) => context.assessment.mode === 'trading',
    settledTrading: ({ context }) => settledTo(context, 'trading'),
    settledBlocked: ({ context }) => settledTo(context, 'entries-blocked'),
    settledDeRisking: ({ context }) => context.reduction === null && context.assessment.mode === 'de-risking',
    flattened: ({ context }) => context.reduction === null && context.stopouts.length > 0 && context.assessment.mode !== 'panic-exit',
    released: ({ context }) => context.stopouts.length === 0,
    mustReduceWhileStopped: ({ context }) => context.reduction !== null || reductionPlan(context, 'stopped-out').kind === 'order',
    reductionSettled: ({ context }) =>
      context.reduction === null && !cancelsPending(context) && reductionPlan(context, 'stopped-out').kind === 'none',
    entryAllowed: ({ context, event }) => event.type === 'ENTRY_REQUEST' && gateDecision(context, event.order).allowed,
    closeAllowed: ({ context, event }) => {
      if (event.type !== 'ENTRY_REQUEST') return false;
      const decision = gateDecision(context, event.order);
      return decision.allowed && decision.purpose === 'close';
    },
    reductionInFlight: ({ context }) => context.reduction !== null,
    noReductionInFlight: ({ context }) => context.reduction === null,
    noCancelsPending: ({ context }) => !cancelsPending(context),
    reductionDue: ({ context }, params: { mode: ReducingMode }) =>
      context.reduction === null && retryDue(context.reductionRetry, context.now) && reductionPlan(context, params.mode).kind === 'order',
    reductionTimedOut: ({ context, event }) => {
      if (event.type !== 'TICK' || context.reduction === null) return false;
      const order = context.orders[context.reduction];
      const since = order?.cancelSentAt ?? order?.sentAt ?? event.at;
      return event.at - since >= context.settings.reductionTimeoutMs;
    },
    cancelTimedOut: ({ context, event }) =>
      event.type === 'TICK' &&
      Object.values(context.orders).some(
        (o) => o.cancelSentAt !== undefined && event.at - o.cancelSentAt >= context.settings.reductionTimeoutMs,
      ),
    resetAccepted: ({ context, event }) => {
      if (event.type !== 'STOPOUT_RESET') return false;
      return accountResetRefusal(context, event) === null;
    },
  },
  actions: {
    // ── effects: no-ops here; src/ provides them (machine.provide). Each reads what to do from
    // context.outbox / context.lastDecision, which the pure action before it has just written.
    sendOrder: () => {},
    cancelOrders: () => {},
    emitDecision: () => {},
    raiseStopouts: () => {},
    reportReset: () => {},

    // ── pure context updates ──
    enterMode: assign(({ context }, params: { mode: AccountMode }) => {
      const next = { ...context, mode: params.mode };
      const assessment = assess(next);
      const reason = params.mode === 'stopped-out' && assessment.mode !== 'stopped-out' ? stopReason(next) : assessment.reason;
      // Back to trading: a later reduction starts afresh (at the band's edge, without waiting).
      const settled = params.mode === 'trading' || params.mode === 'entries-blocked';
      return { mode: params.mode, assessment, reason, ...(settled && context.reductionRetry ? { reductionRetry: null } : {}) };
    }),
    applyMark: assign(({ context, event }) => {
      if (event.type !== 'MARK') return {};
      const marks = { ...context.marks, [event.symbol]: event.price };
      const now = Math.max(context.now, event.at);
      // A mark of a symbol the account neither holds nor has orders in changes none of its figures:
      // keep it for later entries, skip the recomputation (exact, not an approximation).
      if (
        context.metrics &&
        !context.ledger.positions[event.symbol] &&
        !Object.values(context.orders).some((o) => o.intent.symbol === event.symbol)
      ) {
        return { marks, now };
      }
      return refreshed({ ...context, now, marks });
    }),
    applyLedger: assign(({ context, event }) => {
      if (event.type !== 'LEDGER') return {};
      const result = applyLedgerEvent(context.ledger, event.event);
      if (result.outcome === 'duplicate' || result.outcome === 'rejected') return {};
      return refreshed({ ...context, now: Math.max(context.now, event.at), ledger: result.state });
    }),
    applyResync: assign(({ context, event }) => {
      if (event.type !== 'RESYNC') return {};
      return refreshed({ ...context, now: Math.max(context.now, event.at), ledger: event.ledger });
    }),
    applyTick: assign(({ context, event }) => {
      if (event.type !== 'TICK') return {};
      return refreshed({ ...context, now: Math.max(context.now, event.at) });
    }),
    noteOwnership: assign(({ event }) => {
      if (event.type !== 'OWNERSHIP') return {};
      return { ownershipUncertain: event.uncertain };
    }),
    applyFeedStatus: assign(({ context, event }) => {
      if (event.type !== 'FEED_STATUS') return {};
      return refreshed({ ...context, feedStale: event.stale, now: Math.max(context.now, event.at ?? context.now) });
    }),
    /**
     * The reducing order's outcome, before applyOrderUpdate forgets the order: a rejection for price or book
     * extends the streak and its backoff (the next reducing order waits for a TICK past it), a fill or any
     * other end ends it.
     */
    noteReductionOutcome: assign(({ context, event }) => {
      if (event.type !== 'ORDER_UPDATE' || event.clientOrderId !== context.reduction || !isTerminal(event.status)) return {};
      return { reductionRetry: afterReductionOutcome(context.reductionRetry, event.status, event.reason, Math.max(context.now, event.at)) };
    }),
    applyOrderUpdate: assign(({ context, event }) => {
      if (event.type !== 'ORDER_UPDATE') return {};
      const order = context.orders[event.clientOrderId];
      if (!order) return {};
      const now = Math.max(context.now, event.at);
      if (isTerminal(event.status)) {
        const { [event.clientOrderId]: _done, ...orders } = context.orders;
        return refreshed({ ...context, now, orders, reduction: context.reduction === event.clientOrderId ? null : context.reduction });
      }
      return { now, orders: { ...context.orders, [event.clientOrderId]: { ...order, status: event.status, filled: event.filled } } };
    }),
    /** Adds a stopout and, for limits this account measures, raises the breaches as stopouts (see raiseStopouts). */
    checkRiskLimits: assign(({ context, event }) => {
      const known = new Set(context.stopouts.map(stopoutKey));
      const added: Stopout[] = [];
      if (event.type === 'STOPOUT_SET' && !known.has(stopoutKey(event.stopout))) {
        added.push(event.stopout);
        known.add(stopoutKey(event.stopout));
      }
      const raised: Stopout[] = [];
      if (context.metrics) {
        for (const breach of evaluateRiskLimits(context.settings.riskLimits, context.drawdown, accountObservation(context))) {
          const key = stopoutKey(breach.stopout);
          if (known.has(key)) continue;
          known.add(key);
          raised.push(breach.stopout);
        }
      }
      if (added.length + raised.length === 0)
        return context.outbox.raised.length === 0 ? {} : { outbox: { ...context.outbox, raised: [] } };
      return { ...refreshed({ ...context, stopouts: [...context.stopouts, ...added, ...raised] }), outbox: { ...context.outbox, raised } };
    }),
    removeStopout: assign(({ context, event }) => {
      if (event.type !== 'STOPOUT_RESET') return {};
      const key = stopoutKey(event);
      return {
        ...refreshed({ ...context, lastRefusal: null, stopouts: context.stopouts.filter((s) => stopoutKey(s) !== key) }),
        outbox: { ...context.outbox, reset: { scope: event.scope, id: event.id, reason: event.reason, result: 'ok' as const } },
      };
    }),
    refuseReset: assign(({ context, event }) => {
      if (event.type !== 'STOPOUT_RESET') return {};
      const why = accountResetRefusal(context, event) ?? 'accepted';
      return {
        lastRefusal: { scope: event.scope, id: event.id, reason: event.reason, why },
        outbox: { ...context.outbox, reset: { scope: event.scope, id: event.id, reason: event.reason, result: 'refused' as const, why } },
      };
    }),
    moveStartTime: assign(({ context, event }) => {
      if (event.type !== 'MOVE_START_TIME') return {};
      const riskLimits = context.settings.riskLimits.map((limit) =>
        LEVEL_STOPOUT_SCOPE[limit.level] === event.scope && limit.sourceId === event.id ? { ...limit, startTime: toIso(event.at) } : limit,
      );
      return refreshed({
        ...context,
        now: Math.max(context.now, event.at),
        drawdown: pinAnchor(context.drawdown, event.at),
        settings: { ...context.settings, riskLimits },
      });
    }),
    placeEntry: assign(({ context, event }) => {
      if (event.type !== 'ENTRY_REQUEST') return {};
      const decision = gateDecision(context, event.order);
      const purpose: OrderPurpose = decision.purpose === 'close' ? 'close' : 'entry';
      return { ...withOrder(context, event.order, purpose), lastDecision: decision };
    }),
    refuseEntry: assign(({ context, event }) => {
      if (event.type !== 'ENTRY_REQUEST') return {};
      const decision = context.mode === 'trading' ? gateDecision(context, event.order) : refusal(context, event.order);
      return { lastDecision: decision.allowed ? refusal(context, event.order) : decision };
    }),
    placeReduction: assign(({ context }, params: { mode: ReducingMode }) => {
      const plan = reductionPlan(context, params.mode);
      if (plan.kind !== 'order') return {};
      return withOrder(context, plan.order, plan.purpose ?? 'reduce');
    }),
    cancelWorkingOrders: assign(({ context }, params: { which: 'entries' | 'all'; again?: boolean }) => {
      const targets = params.again
        ? Object.values(context.orders).filter(
            (o) =>
              o.cancelSentAt !== undefined &&
              o.clientOrderId !== context.reduction &&
              context.now - o.cancelSentAt >= context.settings.reductionTimeoutMs,
          )
        : cancellable(context, params.which);
      const orders = { ...context.orders };
      for (const o of targets) orders[o.clientOrderId] = { ...o, cancelSentAt: context.now };
      const reason = `risk-increasing order cancelled: account is ${context.mode}`;
      return { orders, outbox: { ...context.outbox, cancels: targets.map((o) => ({ clientOrderId: o.clientOrderId, reason })) } };
    }),
    /**
     * Leaving the reducing modes another way than by settling (a stopout gone, a reset) can leave the risk
     * layer's reduction working; once the strategy trades again it could fill against a flipped position.
     * Cancelled here, appended to whatever the state's entry already cancels.
     */
    clearCancels: assign(({ context }) => ({ outbox: { ...context.outbox, cancels: [] } })),
    cancelLeftoverReduction: assign(({ context }) => {
      const id = context.reduction;
      const order = id === null ? undefined : context.orders[id];
      const cancels = context.outbox.cancels;
      if (!id || !order || order.cancelSentAt !== undefined) return { outbox: { ...context.outbox, cancels } };
      return {
        orders: { ...context.orders, [id]: { ...order, cancelSentAt: context.now } },
        outbox: {
          ...context.outbox,
          cancels: [...cancels, { clientOrderId: id, reason: `reduction no longer needed: account is ${context.mode}` }],
        },
      };
    }),
    cancelReduction: assign(({ context }) => {
      const id = context.reduction;
      const order = id === null ? undefined : context.orders[id];
      if (!id || !order) return { outbox: { ...context.outbox, cancels: [] } };
      return {
        orders: { ...context.orders, [id]: { ...order, cancelSentAt: context.now } },
        outbox: { ...context.outbox, cancels: [{ clientOrderId: id, reason: 'reduction timed out' }] },
      };
    }),
  },
}).createMachine({
  id: 'account',
  context: ({ input }) => input,
  initial: 'trading',
  on: {
    MARK: { actions: ['applyMark', 'checkRiskLimits', 'raiseStopouts'] },
    LEDGER: { actions: ['applyLedger', 'checkRiskLimits', 'raiseStopouts'] },
    RESYNC: { actions: ['applyResync', 'checkRiskLimits', 'raiseStopouts'] },
    TICK: { actions: ['applyTick', 'checkRiskLimits', 'raiseStopouts'] },
    FEED_STATUS: { actions: ['applyFeedStatus'] },
    OWNERSHIP: { actions: ['noteOwnership'] },
    ORDER_UPDATE: { actions: ['noteReductionOutcome', 'applyOrderUpdate'] },
    STOPOUT_SET: { actions: ['checkRiskLimits', 'raiseStopouts'] },
    STOPOUT_RESET: [{ guard: 'resetAccepted', actions: ['removeStopout', 'reportReset'] }, { actions: ['refuseReset', 'reportReset'] }],
    MOVE_START_TIME: { actions: ['moveStartTime'] },
    ENTRY_REQUEST: { actions: ['refuseEntry', 'emitDecision'] },
  },
  states: {
    trading: {
      entry: [{ type: 'enterMode', params: { mode: 'trading' } }, 'clearCancels', 'cancelLeftoverReduction', 'cancelOrders'],
      always: [
        { guard: 'mustPanic', target: 'panic-exit' },
        { guard: 'mustStop', target: 'stopped-out' },
        { guard: 'mustDeRisk', target: 'de-risking' },
        { guard: 'budgetBinding', target: 'entries-blocked' },
      ],
      on: {
        ENTRY_REQUEST: [
          { guard: 'entryAllowed', actions: ['placeEntry', 'emitDecision', 'sendOrder'] },
          { actions: ['refuseEntry', 'emitDecision'] },
        ],
      },
    },
    'entries-blocked': {
      entry: [
        { type: 'enterMode', params: { mode: 'entries-blocked' } },
        { type: 'cancelWorkingOrders', params: { which: 'entries' } },
        'cancelLeftoverReduction',
        'cancelOrders',
      ],
      always: [
        { guard: 'mustPanic', target: 'panic-exit' },
        { guard: 'mustStop', target: 'stopped-out' },
        { guard: 'mustDeRisk', target: 'de-risking' },
        { guard: 'budgetHasRoom', target: 'trading' },
      ],
      on: {
        ENTRY_REQUEST: [
          { guard: 'closeAllowed', actions: ['placeEntry', 'emitDecision', 'sendOrder'] },
          { actions: ['refuseEntry', 'emitDecision'] },
        ],
      },
    },
    'de-risking': {
      entry: [{ type: 'enterMode', params: { mode: 'de-risking' } }],
      always: [
        { guard: 'mustPanic', target: 'panic-exit' },
        { guard: 'mustStop', target: 'stopped-out' },
        { guard: 'settledBlocked', target: 'entries-blocked' },
        { guard: 'settledTrading', target: 'trading' },
      ],
      ...reducingStates('de-risking', 'all'),
    },
    'panic-exit': {
      entry: [{ type: 'enterMode', params: { mode: 'panic-exit' } }],
      always: [
        { guard: 'flattened', target: 'stopped-out' },
        { guard: 'settledDeRisking', target: 'de-risking' },
        { guard: 'settledBlocked', target: 'entries-blocked' },
        { guard: 'settledTrading', target: 'trading' },
      ],
      ...reducingStates('panic-exit', 'all'),
    },
    'stopped-out': {
      entry: [
        { type: 'enterMode', params: { mode: 'stopped-out' } },
        { type: 'cancelWorkingOrders', params: { which: 'entries' } },
        'cancelOrders',
      ],
      always: [{ guard: 'released', target: 'trading' }],
      initial: 'holding',
      states: {
        holding: {
          always: [{ guard: 'mustReduceWhileStopped', target: 'reducing' }],
        },
        reducing: {
          always: [{ guard: 'reductionSettled', target: 'holding' }],
          ...reducingStates('stopped-out', 'entries'),
        },
      },
      on: {
        ENTRY_REQUEST: [
          { guard: 'closeAllowed', actions: ['placeEntry', 'emitDecision', 'sendOrder'] },
          { actions: ['refuseEntry', 'emitDecision'] },
        ],
      },
    },
  },
});

function stopReason(context: AccountContext) {
  const stop = context.stopouts[0];
  return stop
    ? {
        rule: 'stopout',
        message: `stopout ${stop.reason} on ${stop.scope} ${stop.id}`,
        numbers: { scope: stop.scope, id: stop.id, reason: stop.reason },
      }
    : context.assessment.reason;
}

export type AccountMachine = typeof accountMachine;
