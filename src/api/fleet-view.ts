import type { StateValue } from 'xstate';
import type { AccountContext } from '../../machines/account-context.ts';
import { entryDecision } from '../../machines/account.ts';
import { statePath, topState } from '../../machines/snapshot-state.ts';
import type { Clock } from '../clock/clock.ts';
import type { DecimalString } from '../domain/decimal.ts';
import type { OrderIntent } from '../domain/order.ts';
import type { GateDecision } from '../domain/pre-trade-gate.ts';
import { toIso } from '../domain/periods.ts';
import { validRetry } from '../domain/reduction-retry.ts';
import type { FleetPlan } from '../runtime/fleet-plan.ts';
import type { FleetRuntime, OperatorAction } from '../runtime/fleet-runtime.ts';
import type { StopoutStore, StoredStopout } from '../store/stopout-store.ts';
import type { TimelineRecord } from '../timeline/timeline-record.ts';
import type { AccountResponse, ActionResponse, EntryCheckResponse, FleetResponse, FleetRow, StopoutsResponse } from './api-types.ts';
import { RingBuffer } from './ring-buffer.ts';

/** The gate's decision as the API answers it (the same fields as a `decision` record, with the blocks). */
function entryCheckResponse(decision: GateDecision): EntryCheckResponse {
  return {
    allowed: decision.allowed,
    purpose: decision.purpose,
    rules: [...decision.rules],
    blocks: decision.blocks.map((b) => ({ rule: b.rule, message: b.message, numbers: { ...b.numbers } })),
    order: { ...decision.order },
  };
}

/** What the view reads: a running fleet, its shared store, its plan and the clock it runs on. */
export interface FleetSource {
  runtime: Pick<FleetRuntime, 'accountIds' | 'account' | 'accountContext' | 'operate' | 'supervisor' | 'checkEntry'>;
  store: Pick<StopoutStore, 'list'>;
  plan: FleetPlan;
  /** The fleet's clock: simulated in a scenario, the wall clock live. */
  clock: Clock;
}

export interface FleetViewOptions {
  /** The fleet, when it exists already; otherwise `attach` it later (the API may start first). */
  source?: FleetSource;
  /** Recent records kept overall (default 5000). */
  capacity?: number;
  /** Recent records kept per account, and marks per symbol (default 500). */
  perAccount?: number;
  /** Recent decisions kept per account (default 50). */
  decisions?: number;
}

export type RecordListener = (record: TimelineRecord) => void;

type Decision = Extract<TimelineRecord, { kind: 'decision' }>;

interface Sequenced {
  seq: number;
  record: TimelineRecord;
}

interface AccountSnapshot {
  value: StateValue;
  context: AccountContext;
}

/** What is left to read once a scenario has ended and its actors and store are gone. */
interface Frozen {
  reason: string;
  accounts: Map<string, AccountSnapshot>;
  supervisor: StateValue | undefined;
  stopouts: Promise<StoredStopout[]>;
}

/** Thrown by `stopouts()` when the shared store cannot be read. */
export class StoreReadError extends Error {}

/**
 * What the HTTP API reads and does: rows and details of the supervised accounts (from the account actors'
 * snapshots and the plan), the shared stopouts, operator actions (through FleetRuntime.operate, the path
 * the CLI and scenarios take), and recent timeline records fed by `record()` — kept in bounded buffers
 * overall, per account, per symbol (marks) and per account's decisions — with live listeners.
 *
 * No I/O of its own besides the store read. A scenario's fleet stops when it ends: on its `summary`
 * record the view keeps the last snapshots, so the API can still answer, and refuses acting calls.
 */
export class FleetView {
  #source: FleetSource | undefined;
  #plans = new Map<string, FleetPlan['accounts'][number]>();
  #frozen: Frozen | undefined;
  #seq = 0;
  readonly #perAccount: number;
  readonly #decisionCount: number;
  readonly #all: RingBuffer<Sequenced>;
  readonly #byAccount = new Map<string, RingBuffer<Sequenced>>();
  readonly #marks = new Map<string, RingBuffer<Sequenced>>();
  readonly #decisions = new Map<string, RingBuffer<Decision>>();
  readonly #symbolsOf = new Map<string, Set<string>>();
  readonly #listeners = new Set<RecordListener>();

  constructor(options: FleetViewOptions = {}) {
    if (options.source) this.attach(options.source);
    this.#all = new RingBuffer(options.capacity ?? 5000);
    this.#perAccount = options.perAccount ?? 500;
    this.#decisionCount = options.decisions ?? 50;
  }

  /** Connects the running fleet (a scenario's runtime exists only once the run has started). */
  attach(source: FleetSource): void {
    this.#source = source;
    this.#plans = new Map(source.plan.accounts.map((a) => [a.settings.accountId, a]));
    this.#frozen = undefined;
  }

  get attached(): boolean {
    return this.#source !== undefined;
  }

  /** Why acting calls are refused now (the fleet is not running), or undefined. */
  get ended(): string | undefined {
    return this.#frozen?.reason;
  }

  /**
   * The fleet stops: keep its last snapshots for reading and refuse acting calls from now on.
   * A scenario's `summary` record does this by itself.
   */
  end(reason: string): void {
    const source = this.#source;
    if (!source || this.#frozen) return;
    const accounts = new Map<string, AccountSnapshot>();
    for (const id of source.runtime.accountIds()) {
      const snapshot = this.#liveSnapshot(id);
      if (snapshot) accounts.set(id, snapshot);
    }
    let stopouts: Promise<StoredStopout[]>;
    try {
      stopouts = source.store.list();
    } catch (error) {
      stopouts = Promise.reject(error as Error);
    }
    stopouts.catch(() => {}); // read (and reported) when asked for
    this.#frozen = { reason, accounts, supervisor: source.runtime.supervisor.getSnapshot().value as StateValue, stopouts };
  }

  // ── records ─────────────────────────────────────────────────────────────────────────────────

  /** A timeline record as it is written: remembered, and passed to every live listener. */
  record(record: TimelineRecord): void {
    const entry: Sequenced = { seq: ++this.#seq, record };
    this.#all.push(entry);
    if (record.kind === 'mark') this.#ring(this.#marks, record.symbol, this.#perAccount).push(entry);
    else if ('account' in record) {
      this.#ring(this.#byAccount, record.account, this.#perAccount).push(entry);
      if (record.kind === 'decision') {
        this.#ring(this.#decisions, record.account, this.#decisionCount).push(record);
        this.#symbols(record.account).add(record.order.symbol);
      }
      if (record.kind === 'order' || record.kind === 'liquidation') this.#symbols(record.account).add(record.symbol);
      if (record.kind === 'risk') for (const symbol of Object.keys(record.position)) this.#symbols(record.account).add(symbol);
    }
    if (record.kind === 'summary') this.end('the scenario has ended');
    for (const listener of this.#listeners) {
      try {
        listener(record);
      } catch {
        // A listener (a socket) failing must not stop the fleet that writes the record.
      }
    }
  }

  /** Calls `listener` with every record from now on; returns the unsubscribe function. */
  subscribe(listener: RecordListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The newest `n` records overall (oldest first). */
  recent(n?: number): TimelineRecord[] {
    return this.#all.last(n).map((e) => e.record);
  }

  // ── reading ─────────────────────────────────────────────────────────────────────────────────

  /** Ids of the supervised accounts (the plan's order first). */
  accountIds(): string[] {
    const source = this.#source;
    if (!source) return [];
    const running = this.#frozen ? [...this.#frozen.accounts.keys()] : source.runtime.accountIds();
    const runningSet = new Set(running);
    const planned = source.plan.accounts.map((a) => a.settings.accountId).filter((id) => runningSet.has(id));
    return [...planned, ...running.filter((id) => !this.#plans.has(id))];
  }

  /** ISO 8601 of the fleet's clock (the wall clock before a fleet is attached). */
  at(): string {
    return toIso(this.#source ? this.#source.clock.now() : Date.now());
  }

  fleet(): FleetResponse {
    const source = this.#source;
    return {
      at: this.at(),
      accounts: this.accountIds().flatMap((id) => {
        // accountIds() lists running accounts only: no need to check each again.
        const snapshot = this.#frozen ? this.#frozen.accounts.get(id) : this.#liveSnapshot(id);
        return snapshot ? [this.#row(id, snapshot)] : [];
      }),
      portfolios: source
        ? [...new Set(source.plan.accounts.flatMap((a) => a.scopes.filter((s) => s.scope === 'portfolio').map((s) => s.id)))]
        : [],
    };
  }

  /** Details of one account, or undefined when the fleet does not supervise it. */
  account(accountId: string): AccountResponse | undefined {
    const snapshot = this.#snapshot(accountId);
    if (!snapshot) return undefined;
    const row = this.#row(accountId, snapshot);
    const ctx = snapshot.context;
    const plan = this.#plans.get(accountId);
    return {
      ...row,
      budget: ctx.settings.budget,
      limits: plan?.allLimits ?? ctx.settings.riskLimits,
      marginFraction: ctx.metrics?.marginFraction ?? null,
      maintenance: ctx.metrics?.maintenance ?? '0',
      workingOrders: Object.values(ctx.orders).map((o) => ({
        orderId: o.clientOrderId,
        purpose: o.purpose,
        side: o.intent.side,
        amount: o.intent.amount,
        price: o.intent.type === 'market' ? '0' : (o.intent.price ?? '0'),
        status: o.status,
        filled: o.filled,
      })),
      ...reductionRetryOf(ctx.reductionRetry),
      decisions: this.#decisions.get(accountId)?.last() ?? [],
      timeline: this.#timelineOf(accountId, ctx),
    };
  }

  /** Every stopout in the shared store; throws StoreReadError when it cannot be read. */
  async stopouts(): Promise<StopoutsResponse> {
    const source = this.#source;
    if (!source) return { stopouts: [] };
    try {
      return { stopouts: await (this.#frozen ? this.#frozen.stopouts : source.store.list()) };
    } catch (error) {
      throw new StoreReadError(`the stopout store cannot be read: ${(error as Error).message}`);
    }
  }

  /** The account actor's state value (for diagrams), or undefined for an unknown account. */
  activeState(accountId: string): StateValue | undefined {
    return this.#snapshot(accountId)?.value;
  }

  /** The supervisor actor's state value, or undefined before the fleet runs. */
  supervisorState(): StateValue | undefined {
    if (this.#frozen) return this.#frozen.supervisor;
    return this.#source?.runtime.supervisor.getSnapshot().value as StateValue | undefined;
  }

  /**
   * The lifecycle status of one of the account's orders (the order statechart's state): `orderId`, else
   * the newest working order, else the last order update seen. Undefined when there is none.
   */
  orderState(accountId: string, orderId?: string): string | undefined {
    const ctx = this.#snapshot(accountId)?.context;
    const updates = (this.#byAccount.get(accountId)?.last() ?? [])
      .map((e) => e.record)
      .filter((r): r is Extract<TimelineRecord, { kind: 'order' | 'order-update' }> => r.kind === 'order' || r.kind === 'order-update');
    if (orderId !== undefined) {
      const working = ctx?.orders[orderId];
      if (working) return working.status;
      const last = updates.filter((r) => r.orderId === orderId).pop();
      return last ? (last.kind === 'order' ? 'submitted' : last.status) : undefined;
    }
    const newest = Object.values(ctx?.orders ?? {})
      .sort((a, b) => a.sentAt - b.sentAt)
      .pop();
    if (newest) return newest.status;
    const last = updates.pop();
    return last ? (last.kind === 'order' ? 'submitted' : last.status) : undefined;
  }

  // ── acting ──────────────────────────────────────────────────────────────────────────────────

  /** An operator action through FleetRuntime.operate (the CLI's and the scenarios' path). */
  /**
   * What the account's gate answers to `order` now (FleetRuntime.checkEntry, the gate a real entry goes
   * through); nothing is sent and nothing is written. Undefined for an account not supervised here. Once
   * the fleet has stopped, the last snapshot's gate answers.
   */
  checkEntry(accountId: string, order: OrderIntent): EntryCheckResponse | undefined {
    const source = this.#source;
    if (!source) return undefined;
    if (this.#frozen) {
      const context = this.#frozen.accounts.get(accountId)?.context;
      return context ? entryCheckResponse(entryDecision(context, order)) : undefined;
    }
    const decision = source.runtime.checkEntry(accountId, order);
    return decision ? entryCheckResponse(decision) : undefined;
  }

  async operate(action: OperatorAction): Promise<ActionResponse> {
    if (!this.#source) return { result: 'refused', reason: 'the fleet is not running yet' };
    if (this.#frozen) return { result: 'refused', reason: `${this.#frozen.reason}: the fleet is no longer running` };
    const outcome = await this.#source.runtime.operate(action);
    return outcome.reason === undefined ? { result: outcome.result } : { result: outcome.result, reason: outcome.reason };
  }

  // ── internals ───────────────────────────────────────────────────────────────────────────────

  #ring<T>(map: Map<string, RingBuffer<T>>, key: string, capacity: number): RingBuffer<T> {
    let ring = map.get(key);
    if (!ring) {
      ring = new RingBuffer<T>(capacity);
      map.set(key, ring);
    }
    return ring;
  }

  #symbols(accountId: string): Set<string> {
    let set = this.#symbolsOf.get(accountId);
    if (!set) {
      set = new Set();
      this.#symbolsOf.set(accountId, set);
    }
    return set;
  }

  #liveSnapshot(accountId: string): AccountSnapshot | undefined {
    const ref = this.#source?.runtime.account(accountId);
    if (!ref) return undefined;
    const snapshot = ref.getSnapshot() as { value: StateValue; context: AccountContext };
    return { value: snapshot.value, context: snapshot.context };
  }

  #snapshot(accountId: string): AccountSnapshot | undefined {
    if (this.#frozen) return this.#frozen.accounts.get(accountId);
    if (!this.#source?.runtime.accountIds().includes(accountId)) return undefined;
    return this.#liveSnapshot(accountId);
  }

  #row(accountId: string, snapshot: AccountSnapshot): FleetRow {
    const ctx = snapshot.context;
    const m = ctx.metrics;
    const plan = this.#plans.get(accountId);
    const position: Record<string, DecimalString> = {};
    for (const [symbol, p] of Object.entries(ctx.ledger.positions)) position[symbol] = p.size;
    return {
      id: accountId,
      state: topState(snapshot.value),
      detail: statePath(snapshot.value),
      portfolios: (plan?.scopes ?? []).filter((s) => s.scope === 'portfolio').map((s) => s.id),
      position,
      grossNotional: m?.grossNotional ?? '0',
      equity: m?.equity ?? ctx.ledger.collateral,
      marginBuffer: m?.marginBuffer ?? null,
      minMarginBuffer: ctx.settings.budget.minMarginBuffer ?? null,
      panicMarginBuffer: ctx.settings.budget.panicMarginBuffer ?? null,
      sessionPnl: m?.sessionPnl ?? '0',
      stopouts: ctx.stopouts.map((s) => `${s.scope}:${s.id}:${s.reason}`),
    };
  }

  /** The account's recent records merged, in writing order, with the recent marks of its symbols. */
  #timelineOf(accountId: string, ctx: AccountContext): TimelineRecord[] {
    const symbols = new Set([
      ...this.#symbols(accountId),
      ...Object.keys(ctx.ledger.positions),
      ...Object.keys(ctx.settings.budget.maxPositionSize ?? {}),
    ]);
    const parts = [this.#byAccount.get(accountId)?.last() ?? [], ...[...symbols].map((s) => this.#marks.get(s)?.last() ?? [])];
    const merged = parts.flat().sort((a, b) => a.seq - b.seq);
    return merged.slice(-2 * this.#perAccount).map((e) => e.record);
  }
}

/** The streak of rejected reducing orders as the API reports it (nothing when there is none). */
function reductionRetryOf(retry: unknown): Pick<AccountResponse, 'reductionRetry'> {
  const valid = validRetry(retry);
  if (!valid) return {};
  const iso = (ms: number) => (Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : String(ms));
  return { reductionRetry: { rejections: valid.rejections, reason: valid.reason, since: iso(valid.at), retryAt: iso(valid.notBefore) } };
}
