import type { AccountMode } from '../domain/assessment.ts';
import type { Budget } from '../domain/budget.ts';
import type { DecimalString } from '../domain/decimal.ts';
import type { ResolvedRiskLimit } from '../domain/risk-limit.ts';
import type { StopoutScope } from '../domain/stopout.ts';
import type { StoredStopout } from '../store/stopout-store.ts';
import type { TimelineRecord } from '../timeline/timeline-record.ts';

/**
 * The JSON shapes of the HTTP API (`/api/v1/...`). The dashboard, the OpenAPI document and the tests all
 * use these; change them only by adding fields.
 */

/** GET /api/v1/fleet — one row per supervised account. */
export interface FleetRow {
  id: string;
  state: AccountMode;
  /** Full nested state path, e.g. "de-risking.awaiting". */
  detail: string;
  portfolios: string[];
  position: Record<string, DecimalString>;
  grossNotional: DecimalString;
  equity: DecimalString;
  marginBuffer: DecimalString | null;
  minMarginBuffer: DecimalString | null;
  panicMarginBuffer: DecimalString | null;
  sessionPnl: DecimalString;
  /** `scope:id:reason` of every stopout in force on the account. */
  stopouts: string[];
}

export interface FleetResponse {
  /** ISO 8601 of the clock the fleet runs on (simulated in a scenario). */
  at: string;
  accounts: FleetRow[];
  portfolios: string[];
}

/** GET /api/v1/accounts/{id} */
export interface AccountResponse extends FleetRow {
  budget: Budget;
  limits: ResolvedRiskLimit[];
  marginFraction: DecimalString | null;
  maintenance: DecimalString;
  workingOrders: Array<{
    orderId: string;
    purpose: string;
    side: string;
    amount: DecimalString;
    price: DecimalString;
    status: string;
    filled: DecimalString;
  }>;
  /**
   * Present while reducing orders are being rejected for price or book (src/domain/reduction-retry.ts): how
   * many in a row, the latest reason, when it came and when the next one may go (ISO 8601).
   */
  reductionRetry?: { rejections: number; reason: string; since: string; retryAt: string };
  /** The most recent decisions (newest last). */
  decisions: Array<Extract<TimelineRecord, { kind: 'decision' }>>;
  /** Recent records about this account and the marks of its symbols, for charts (newest last). */
  timeline: TimelineRecord[];
}

/** GET /api/v1/stopouts */
export interface StopoutsResponse {
  stopouts: StoredStopout[];
}

/** POST /api/v1/stopouts — a manual stopout at any scope (fleet `*` is the kill switch). */
export interface SetStopoutRequest {
  scope: StopoutScope;
  id: string;
  reason?: string;
  closePositions?: boolean;
}

/** POST /api/v1/stopouts/reset */
export interface ResetStopoutRequest {
  scope: StopoutScope;
  id: string;
  reason: string;
}

/** POST /api/v1/start-time — CopyFactory: move startTime on that level to now. */
export interface MoveStartTimeRequest {
  scope: StopoutScope;
  id: string;
}

/** POST /api/v1/accounts/{id}/entry-check — an order a strategy might send; nothing is sent. */
export interface EntryCheckRequest {
  symbol: string;
  side: 'buy' | 'sell';
  amount: DecimalString;
  type: 'market' | 'limit';
  price?: DecimalString;
}

/** What the account's pre-trade gate answers to the order now (the `decision` it would write). */
export interface EntryCheckResponse {
  allowed: boolean;
  /** `close` when the order only reduces the position. */
  purpose: 'entry' | 'close';
  rules: string[];
  blocks: Array<{ rule: string; message: string; numbers: Record<string, string> }>;
  order: EntryCheckRequest;
}

/** Answer of every acting call: 200 with result ok, or 409 with result refused and the reason. */
export interface ActionResponse {
  result: 'ok' | 'refused';
  reason?: string;
}

/** Errors: 400 (every problem by path), 401 (no/unknown token), 403 (read token on an admin call), 404. */
export interface ErrorResponse {
  error: string;
  problems?: string[];
}

/** WebSocket /api/v1/live — pushed within 100 ms of the event. */
export type LiveMessage = { type: 'record'; record: TimelineRecord } | { type: 'hello'; at: string };
