import { assessAccount, type AccountMode, type Assessment, type ModeReason } from '../src/domain/assessment.ts';
import type { Budget } from '../src/domain/budget.ts';
import type { DecimalString } from '../src/domain/decimal.ts';
import { createDrawdownHistory, observe, type DrawdownHistory, type ObservationInput } from '../src/domain/drawdown.ts';
import { createLedger, type LedgerEvent, type LedgerState } from '../src/domain/ledger.ts';
import { MetricsError, riskMetrics, type RiskMetrics } from '../src/domain/metrics.ts';
import type { OrderIntent, OrderPurpose } from '../src/domain/order.ts';
import type { OrderStatus } from '../src/domain/order-status.ts';
import type { GateDecision } from '../src/domain/pre-trade-gate.ts';
import type { Product } from '../src/domain/product.ts';
import type { ReductionRetry } from '../src/domain/reduction-retry.ts';
import type { ResolvedRiskLimit } from '../src/domain/risk-limit.ts';
import type { Stopout, StopoutScope } from '../src/domain/stopout.ts';

/** What an account is configured with. Plain data: it travels inside persisted snapshots. */
export interface AccountSettings {
  accountId: string;
  budget: Budget;
  products: Record<string, Product>;
  /** Limits measured on this account's own values (strategy and member levels). */
  riskLimits: ResolvedRiskLimit[];
  /** Fraction of a limit an account must regain before it relaxes to a less strict state. */
  hysteresis: DecimalString;
  /** Largest share of the position one de-risking step may reduce. */
  reductionFraction: DecimalString;
  /** A reducing order without a terminal result after this long is cancelled. */
  reductionTimeoutMs: number;
}

/** An order of this account that has not reached a terminal status. */
export interface WorkingOrder {
  clientOrderId: string;
  intent: OrderIntent;
  purpose: OrderPurpose;
  status: OrderStatus;
  filled: DecimalString;
  sentAt: number;
  /** Set once a cancel was sent; the order stays working until the venue says otherwise. */
  cancelSentAt?: number;
}

/**
 * What the last transition asked the outside world to do. The pure actions write it; the effect actions
 * that `src/` provides (sendOrder, cancelOrders, raiseStopouts, reportReset) read it, in the same step.
 */
export interface AccountOutbox {
  placed: { clientOrderId: string; intent: OrderIntent; purpose: OrderPurpose } | null;
  cancels: { clientOrderId: string; reason: string }[];
  raised: Stopout[];
  reset: { scope: StopoutScope; id: string; reason: string; result: 'ok' | 'refused'; why?: string } | null;
}

/** The account's balance and equity now, as its drawdown limits observe them. */
export function accountObservation(context: AccountContext): ObservationInput {
  const m = context.metrics;
  return {
    at: context.now,
    balance: m?.collateral ?? context.ledger.collateral,
    equity: m?.equity ?? context.ledger.collateral,
    netTransfers: context.ledger.netTransfers,
  };
}

export interface AccountContext {
  settings: AccountSettings;
  /** Epoch ms of the latest event. */
  now: number;
  ledger: LedgerState;
  marks: Record<string, DecimalString>;
  sessionStart: { equity: DecimalString; netTransfers: DecimalString } | null;
  drawdown: DrawdownHistory;
  /** Null until every held symbol has a mark. */
  metrics: RiskMetrics | null;
  /** Stopouts that apply to this account, whatever raised them. */
  stopouts: Stopout[];
  feedStale: boolean;
  orders: Record<string, WorkingOrder>;
  /** The one reducing/exit order in flight, if any. */
  reduction: string | null;
  /**
   * Rejections in a row of reducing orders for price or book, and the backoff before the next one
   * (src/domain/reduction-retry.ts). Absent in snapshots of older versions: no streak.
   */
  reductionRetry?: ReductionRetry | null;
  /**
   * The lease of this account could not be confirmed (Redis unreachable): one other process may believe it
   * runs the account and send the same reducing order, so every reduction is at most half the position
   * (two of them cannot flip it). Absent in older snapshots: certain.
   */
  ownershipUncertain?: boolean;
  orderSeq: number;
  /** The top-level state, kept so assessments can apply hysteresis. */
  mode: AccountMode;
  assessment: Assessment;
  /** Why the account entered its current top-level state. */
  reason: ModeReason;
  lastDecision: GateDecision | null;
  /** The latest refused reset, with its reason. */
  lastRefusal: { scope: StopoutScope; id: string; reason: string; why: string } | null;
  outbox: AccountOutbox;
}

export type AccountEvent =
  | { type: 'MARK'; symbol: string; price: DecimalString; at: number }
  | { type: 'LEDGER'; event: LedgerEvent; at: number }
  | { type: 'ORDER_UPDATE'; clientOrderId: string; status: OrderStatus; filled: DecimalString; reason?: string; at: number }
  | { type: 'ENTRY_REQUEST'; order: OrderIntent; at?: number }
  | { type: 'STOPOUT_SET'; stopout: Stopout }
  | { type: 'STOPOUT_RESET'; scope: StopoutScope; id: string; reason: string; by?: string; at?: number }
  | { type: 'MOVE_START_TIME'; scope: StopoutScope; id: string; at: number }
  | { type: 'TICK'; at: number }
  | { type: 'FEED_STATUS'; stale: boolean; at?: number }
  /** Whether this process's ownership of the account is uncertain now (src/runtime/fleet-ownership.ts). */
  | { type: 'OWNERSHIP'; uncertain: boolean }
  /** The venue's ledger replaces ours (a takeover or a restart resumed from an older snapshot). */
  | { type: 'RESYNC'; ledger: LedgerState; at: number };

export interface AccountStart {
  collateral: DecimalString;
  /** Epoch ms: the session start (drawdown windows and session PnL count from here). */
  at: number;
  marks?: Record<string, DecimalString>;
  ledger?: LedgerState;
}

/** The context of a new account: flat ledger (or the bootstrapped one), session starting now. */
export function createAccountContext(settings: AccountSettings, start: AccountStart): AccountContext {
  const ledger = start.ledger ?? createLedger(start.collateral);
  const context: AccountContext = {
    settings,
    now: start.at,
    ledger,
    marks: { ...(start.marks ?? {}) },
    sessionStart: null,
    drawdown: createDrawdownHistory(),
    metrics: null,
    stopouts: [],
    feedStale: false,
    orders: {},
    reduction: null,
    orderSeq: 0,
    mode: 'trading',
    assessment: { mode: 'trading', flatten: false, reason: { rule: 'start', message: 'session start', numbers: {} } },
    reason: { rule: 'start', message: 'session start', numbers: {} },
    lastDecision: null,
    lastRefusal: null,
    outbox: { placed: null, cancels: [], raised: [], reset: null },
  };
  return refreshed(context);
}

/**
 * Recomputes metrics, the drawdown observation and the assessment after any change of inputs. The
 * session baseline is taken at the first moment the account has complete metrics.
 */
export function refreshed(context: AccountContext): AccountContext {
  let metrics: RiskMetrics | null;
  try {
    metrics = riskMetrics({
      ledger: context.ledger,
      marks: context.marks,
      products: context.settings.products,
      ...(context.sessionStart ? { sessionStart: context.sessionStart } : {}),
    });
  } catch (error) {
    if (!(error instanceof MetricsError)) throw error;
    metrics = null;
  }
  let { sessionStart, drawdown } = context;
  if (metrics) {
    if (!sessionStart) {
      sessionStart = { equity: metrics.equity, netTransfers: context.ledger.netTransfers };
      metrics = { ...metrics, sessionPnl: '0' };
    }
    drawdown = observe(drawdown, {
      at: context.now,
      balance: metrics.collateral,
      equity: metrics.equity,
      netTransfers: context.ledger.netTransfers,
    });
  }
  const next = { ...context, metrics, sessionStart, drawdown };
  return { ...next, assessment: assess(next) };
}

/** The assessment for the account's current mode; without complete metrics, entries wait for marks. */
export function assess(context: AccountContext, stopouts: readonly Stopout[] = context.stopouts): Assessment {
  if (!context.metrics) {
    const anyStop = stopouts[0];
    if (anyStop) {
      return {
        mode: 'stopped-out',
        flatten: false,
        reason: { rule: 'stopout', message: `stopout ${anyStop.reason} on ${anyStop.scope} ${anyStop.id}`, numbers: {} },
      };
    }
    return {
      mode: 'entries-blocked',
      flatten: false,
      reason: { rule: 'no-marks', message: 'no mark yet for every held symbol', numbers: {} },
    };
  }
  return assessAccount({
    metrics: context.metrics,
    budget: context.settings.budget,
    hysteresis: context.settings.hysteresis,
    current: context.mode,
    stopouts,
    feedStale: context.feedStale,
  });
}
