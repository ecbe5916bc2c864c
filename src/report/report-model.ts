import type { ScenarioConfig } from '../config/scenario-schema.ts';
import { effectiveBudget, stopoutScopesOf } from '../config/resolve.ts';
import { ACCOUNT_MODES, type AccountMode } from '../domain/assessment.ts';
import type { Budget } from '../domain/budget.ts';
import { dec, str, ZERO, type DecimalString } from '../domain/decimal.ts';
import type { OrderIntent, OrderPurpose } from '../domain/order.ts';
import type { StopoutScope } from '../domain/stopout.ts';
import type { TimelineRecord } from '../timeline/timeline-record.ts';
import { priceAtBuffer, type LevelInput } from './price-levels.ts';

type RecordOf<K extends TimelineRecord['kind']> = Extract<TimelineRecord, { kind: K }>;
export type SummaryRecord = RecordOf<'summary'>;

/** One value of a series at time t (ms); null where the value is undefined (a flat account's buffer). */
export interface TimePoint {
  t: number;
  value: DecimalString | null;
}

/** The price levels of one symbol as of one risk record; they hold until the next one. */
export interface LevelPoint {
  t: number;
  liquidation: DecimalString | null;
  minBuffer: DecimalString | null;
  panicBuffer: DecimalString | null;
}

/** A stretch of time in one top-level state. `to` is the start of the next band or the end of the run. */
export interface StateBand {
  from: number;
  to: number;
  state: AccountMode;
  reason: string;
  detail?: string;
}

export interface OrderRow {
  t: number;
  orderId: string;
  symbol: string;
  purpose: OrderPurpose;
  side: 'buy' | 'sell';
  amount: DecimalString;
  /** "0" for a market order. */
  price: DecimalString;
  type: 'market' | 'limit';
  /** The last status the venue reported; null when no update arrived. */
  status: string | null;
  filled: DecimalString;
  /** The reason the venue gave with the last update that had one (a rejection). */
  reason: string | null;
  /** The supervisor's cancel request, if any: it may arrive after the order already filled. */
  cancel: { t: number; reason: string } | null;
  /** The mark of the symbol when the order was sent (where a market order is drawn). */
  markAtOrder: DecimalString | null;
}

export type LogEntry =
  | { t: number; kind: 'blocked'; order: OrderIntent; rules: string[]; reasons: string[] }
  | { t: number; kind: 'state'; from: AccountMode; to: AccountMode; reason: string; detail?: string; numbers?: Record<string, string> }
  | {
      t: number;
      kind: 'stopout';
      action: 'set' | 'reset';
      scope: StopoutScope;
      id: string;
      reason: string;
      closePositions: boolean;
      stoppedTill?: string;
    }
  | { t: number; kind: 'operator'; action: string; scope: StopoutScope; id: string; result: 'ok' | 'refused'; reason?: string }
  | { t: number; kind: 'liquidation'; symbol: string; price?: DecimalString };

export interface AccountReport {
  id: string;
  /** The account's budget over defaults.budget. */
  budget: Budget;
  /** Symbols the account held or traded, sorted. */
  symbols: string[];
  /** Per symbol: the price levels from each risk record. */
  levels: Record<string, LevelPoint[]>;
  /** Per symbol: the signed position from each risk record. */
  position: Record<string, TimePoint[]>;
  marginBuffer: TimePoint[];
  bands: StateBand[];
  orders: OrderRow[];
  log: LogEntry[];
  finalState: AccountMode;
}

export interface ReportModel {
  name: string;
  seed: number;
  start: string;
  /** End of the run in ms: the scenario's `until` or the last record, whichever is later. */
  end: number;
  /** Per symbol: every mark of the run. */
  marks: Record<string, TimePoint[]>;
  accounts: AccountReport[];
  summary: SummaryRecord | null;
  /** Every stopout and operator action of the run, whoever it concerns. */
  fleetLog: LogEntry[];
}

export interface ReportModelOptions {
  /** The seed the run used when it was overridden (`simulate --seed`). */
  seed?: number;
}

/** Turns a run's timeline into what the report draws: series, bands, orders and logs per account. */
export function buildReportModel(
  scenario: ScenarioConfig,
  records: readonly TimelineRecord[],
  options: ReportModelOptions = {},
): ReportModel {
  const lastT = records.reduce((max, r) => Math.max(max, r.t), 0);
  const end = Math.max(scenario.until, lastT);
  const marks: Record<string, TimePoint[]> = {};
  for (const r of records) if (r.kind === 'mark') (marks[r.symbol] ??= []).push({ t: r.t, value: r.price });

  const ids = scenario.accounts.map((a) => a.id);
  for (const r of records) if ('account' in r && !ids.includes(r.account)) ids.push(r.account);
  const builders = new Map(ids.map((id) => [id, new AccountBuilder(id, scenario)]));

  // Marks in record order: a risk record uses the marks written before it.
  const latestMark: Record<string, DecimalString> = {};
  const fleetLog: LogEntry[] = [];
  for (const r of records) {
    switch (r.kind) {
      case 'mark':
        latestMark[r.symbol] = r.price;
        break;
      case 'stopout':
      case 'operator': {
        const entry = logEntryOf(r);
        fleetLog.push(entry);
        for (const b of builders.values()) if (b.concerns(r.scope, r.id)) b.log.push(entry);
        break;
      }
      case 'summary':
        break;
      default:
        builders.get(r.account)!.add(r, latestMark);
    }
  }

  let summary: SummaryRecord | null = null;
  for (const r of records) if (r.kind === 'summary') summary = r;
  return {
    name: scenario.name,
    seed: options.seed ?? scenario.seed,
    start: scenario.start,
    end,
    marks,
    accounts: [...builders.values()].map((b) => b.build(end, summary)),
    summary,
    fleetLog,
  };
}

function logEntryOf(r: RecordOf<'stopout'> | RecordOf<'operator'>): LogEntry {
  if (r.kind === 'stopout') {
    return {
      t: r.t,
      kind: 'stopout',
      action: r.action,
      scope: r.scope,
      id: r.id,
      reason: r.reason,
      closePositions: r.closePositions,
      ...(r.stoppedTill !== undefined ? { stoppedTill: r.stoppedTill } : {}),
    };
  }
  return {
    t: r.t,
    kind: 'operator',
    action: r.action,
    scope: r.scope,
    id: r.id,
    result: r.result,
    ...(r.reason !== undefined ? { reason: r.reason } : {}),
  };
}

type AccountRecord = Exclude<TimelineRecord, RecordOf<'mark'> | RecordOf<'stopout'> | RecordOf<'operator'> | RecordOf<'summary'>>;

class AccountBuilder {
  readonly log: LogEntry[] = [];
  private readonly budget: Budget;
  private readonly scopes: { scope: StopoutScope; id: string }[];
  private readonly symbols = new Set<string>();
  private readonly levels: Record<string, LevelPoint[]> = {};
  private readonly risk: RecordOf<'risk'>[] = [];
  private readonly marginBuffer: TimePoint[] = [];
  private readonly orders = new Map<string, OrderRow>();
  private readonly changes: RecordOf<'state'>[] = [];
  private initialState: AccountMode | undefined;

  constructor(
    readonly id: string,
    scenario: ScenarioConfig,
  ) {
    const known = scenario.accounts.some((a) => a.id === id);
    this.budget = known ? effectiveBudget(scenario, id) : {};
    this.scopes = known
      ? stopoutScopesOf(scenario, id)
      : [
          { scope: 'fleet', id: '*' },
          { scope: 'account', id },
        ];
  }

  concerns(scope: StopoutScope, id: string): boolean {
    return this.scopes.some((s) => s.scope === scope && s.id === id);
  }

  add(r: AccountRecord, marks: Record<string, DecimalString>): void {
    switch (r.kind) {
      case 'risk':
        this.addRisk(r, marks);
        break;
      case 'state':
        // Nested changes (from = to) do not move the top-level band.
        if (r.from !== r.to) {
          this.initialState ??= r.from;
          this.changes.push(r);
        }
        this.log.push({
          t: r.t,
          kind: 'state',
          from: r.from,
          to: r.to,
          reason: r.reason,
          ...(r.detail !== undefined ? { detail: r.detail } : {}),
          ...(r.numbers !== undefined ? { numbers: r.numbers } : {}),
        });
        break;
      case 'decision':
        this.symbols.add(r.order.symbol);
        if (!r.allowed) this.log.push({ t: r.t, kind: 'blocked', order: r.order, rules: r.rules, reasons: r.reasons ?? [] });
        break;
      case 'order':
        this.symbols.add(r.symbol);
        this.orders.set(r.orderId, {
          t: r.t,
          orderId: r.orderId,
          symbol: r.symbol,
          purpose: r.purpose,
          side: r.side,
          amount: r.amount,
          price: r.price,
          type: r.type,
          status: null,
          filled: '0',
          reason: null,
          cancel: null,
          markAtOrder: marks[r.symbol] ?? null,
        });
        break;
      case 'order-update': {
        const row = this.orderRow(r.orderId, r.t);
        row.status = r.status;
        row.filled = r.filled;
        if (r.reason !== undefined) row.reason = r.reason;
        break;
      }
      case 'cancel': {
        const row = this.orderRow(r.orderId, r.t);
        row.cancel ??= { t: r.t, reason: r.reason };
        break;
      }
      case 'liquidation':
        this.symbols.add(r.symbol);
        this.log.push({ t: r.t, kind: 'liquidation', symbol: r.symbol, ...(r.price !== undefined ? { price: r.price } : {}) });
        break;
    }
  }

  /** An update for an order without an `order` record (it should not happen) still gets a row. */
  private orderRow(orderId: string, t: number): OrderRow {
    let row = this.orders.get(orderId);
    if (row === undefined) {
      row = {
        t,
        orderId,
        symbol: '?',
        purpose: 'entry',
        side: 'buy',
        amount: '0',
        price: '0',
        type: 'market',
        status: null,
        filled: '0',
        reason: null,
        cancel: null,
        markAtOrder: null,
      };
      this.orders.set(orderId, row);
    }
    return row;
  }

  private addRisk(r: RecordOf<'risk'>, marks: Record<string, DecimalString>): void {
    if (this.risk.length === 0 && r.state !== undefined) this.initialState ??= r.state;
    this.risk.push(r);
    this.marginBuffer.push({ t: r.t, value: r.marginBuffer });
    const held = Object.entries(r.position).filter(([, size]) => !dec(size).isZero());
    for (const [symbol] of held) this.symbols.add(symbol);
    for (const symbol of new Set([...Object.keys(this.levels), ...held.map(([s]) => s)])) {
      const size = r.position[symbol];
      const input = size === undefined || dec(size).isZero() ? null : levelInput(r, symbol, size, held.length, marks);
      (this.levels[symbol] ??= []).push({
        t: r.t,
        liquidation: input && priceAtBuffer(input, '0'),
        minBuffer: input && this.budget.minMarginBuffer !== undefined ? priceAtBuffer(input, this.budget.minMarginBuffer) : null,
        panicBuffer: input && this.budget.panicMarginBuffer !== undefined ? priceAtBuffer(input, this.budget.panicMarginBuffer) : null,
      });
    }
  }

  build(end: number, summary: SummaryRecord | null): AccountReport {
    const symbols = [...this.symbols].sort();
    const position: Record<string, TimePoint[]> = {};
    for (const symbol of symbols) position[symbol] = this.risk.map((r) => ({ t: r.t, value: r.position[symbol] ?? '0' }));
    const bands = stateBands(this.initialState ?? 'trading', this.changes, end);
    const lastBand = bands[bands.length - 1];
    const summaryState = summary?.finalStates[this.id];
    return {
      id: this.id,
      budget: this.budget,
      symbols,
      levels: this.levels,
      position,
      marginBuffer: this.marginBuffer,
      bands,
      orders: [...this.orders.values()],
      log: this.log.sort((a, b) => a.t - b.t),
      finalState: summaryState !== undefined && isAccountMode(summaryState) ? summaryState : (lastBand?.state ?? 'trading'),
    };
  }
}

/**
 * The inputs of the level formula for one symbol of a risk record. A single-symbol account's mark is
 * exactly grossNotional / |size| (the mark the record was computed at); with several symbols the last
 * mark written before the record is used.
 */
function levelInput(
  r: RecordOf<'risk'>,
  symbol: string,
  size: DecimalString,
  heldCount: number,
  marks: Record<string, DecimalString>,
): LevelInput | null {
  const notional = dec(r.grossNotional);
  let mark: DecimalString | undefined;
  if (heldCount === 1) mark = str(notional.div(dec(size).abs()));
  else mark = marks[symbol];
  if (mark === undefined) return null;
  const otherGross = heldCount === 1 ? ZERO : notional.minus(dec(size).abs().times(mark));
  return { size, mark, equity: r.equity, maintenance: r.maintenance, otherGross: str(otherGross.gt(0) ? otherGross : ZERO) };
}

/** Top-level state over time: one band per stretch between changes; a change at the same t gives a zero-width band. */
export function stateBands(
  initial: AccountMode,
  changes: readonly { t: number; to: AccountMode; reason: string; detail?: string }[],
  end: number,
): StateBand[] {
  const bands: StateBand[] = [];
  let current: StateBand = { from: 0, to: end, state: initial, reason: 'start' };
  for (const c of changes) {
    // A change at t=0 replaces the initial state rather than leaving a zero-width band of it.
    if (!(bands.length === 0 && c.t === 0)) bands.push({ ...current, to: c.t });
    current = { from: c.t, to: end, state: c.to, reason: c.reason, ...(c.detail !== undefined ? { detail: c.detail } : {}) };
  }
  bands.push({ ...current, to: Math.max(end, current.from) });
  return bands;
}

function isAccountMode(value: string): value is AccountMode {
  return (ACCOUNT_MODES as readonly string[]).includes(value);
}
