import { createActor, type Actor } from 'xstate';
import { statePath, topState } from '../../machines/snapshot-state.ts';
import { createAccountContext, type AccountContext, type AccountEvent, type WorkingOrder } from '../../machines/account-context.ts';
import { accountMachine, entryDecision } from '../../machines/account.ts';
import type { GateDecision } from '../domain/pre-trade-gate.ts';
import { coveredAccounts, supervisorMachine } from '../../machines/supervisor.ts';
import type { Clock } from '../clock/clock.ts';
import type { WorkTracker } from '../clock/work-tracker.ts';
import type { AccountMode } from '../domain/assessment.ts';
import { dec, str, ZERO, type DecimalString } from '../domain/decimal.ts';
import { isTerminal, type OrderStatus } from '../domain/order-status.ts';
import type { LedgerState } from '../domain/ledger.ts';
import type { OrderIntent, OrderPurpose } from '../domain/order.ts';
import { toIso } from '../domain/periods.ts';
import { evaluateRiskLimits } from '../domain/risk-limits.ts';
import type { Stopout, StopoutScope } from '../domain/stopout.ts';
import type { StopoutStore, StoreChange } from '../store/stopout-store.ts';
import type { TimelineRecord, TimelineSink } from '../timeline/timeline-record.ts';
import type { TrackedOrder } from '../venue/order-lifecycle.ts';
import type { ForeignOrderNotice, VenueClient } from '../venue/venue-client.ts';
import { provideAccountEffects, type AccountEffects } from './account-effects.ts';
import type { FleetPlan } from './fleet-plan.ts';
import { CANCEL_PRIORITY, OrderDispatcher, orderPriority } from './order-dispatcher.ts';
import { persistedSnapshot, restorableAccount, type AccountRef, type AccountSnapshot } from '../../machines/restorable-account.ts';
import { accountResetRefusal, groupResetRefusal } from '../../machines/reset-check.ts';
import { scopeKey, stopoutKey } from '../domain/stopout-identity.ts';

export interface FleetRuntimeOptions {
  plan: FleetPlan;
  clock: Clock;
  /** The venue client; a takeover (resumeAccount) reconciles through the optional methods (see there). */
  venue: Pick<VenueClient, 'placeOrder' | 'cancelOrder' | 'on'> &
    Partial<Pick<VenueClient, 'reclaimOrder' | 'liveOrders' | 'order' | 'ledger' | 'repair'>>;
  /**
   * How long a takeover waits for the venue to confirm the cancel of an open order it found and does not
   * know (default 5 s, on `clock`, checked on every tick). After that the resume fails and is tried again.
   */
  reconcileTimeoutMs?: number;
  store: StopoutStore;
  timeline: TimelineSink;
  /** Epoch ms of t = 0 in timeline records. */
  origin: number;
  work?: Pick<WorkTracker, 'begin' | 'end'>;
  /** How often each account writes a `risk` record besides state changes (default 10 s). */
  riskEveryMs?: number;
  /** Called with every account snapshot worth saving (a state, reduction, order or stopout change). */
  persist?: (accountId: string, persisted: PersistedAccount) => void;
  /**
   * Send venue requests one at a time, in the order the accounts asked (simulation: answers then come
   * back in a fixed order, so the timeline cannot depend on which request won a race). Live: concurrent.
   */
  serializeRequests?: boolean;
  /** Problems that must be seen but must not stop the fleet (a failed request, a store write refused). */
  report?: (message: string) => void;
  /**
   * Several processes: a group member another process runs, with the values its owner last published
   * (undefined while unknown). Without it a group is measured only when this process runs all its members.
   */
  remoteMember?: (accountId: string) => MemberValues | undefined;
}

/** What a group limit sums over its members. */
export interface MemberValues {
  balance: string;
  equity: string;
  netTransfers: string;
}

export interface AccountStart {
  collateral: string;
  ledger?: LedgerState;
  marks?: Record<string, string>;
}

/**
 * What survives a restart or a takeover: the account actor's persisted snapshot, and the venue hash of
 * each order it is still waiting for, so the next owner can follow those orders instead of sending again.
 */
export interface PersistedAccount {
  snapshot: unknown;
  orderHashes: Record<string, string>;
}

export interface OperatorAction {
  action: 'set-stopout' | 'reset-stopout' | 'move-start-time';
  scope: StopoutScope;
  id: string;
  reason?: string;
  closePositions?: boolean;
  by?: string;
}

/** Reason of the synthetic stopout that keeps entries closed while the shared store cannot be read. */
export const STORE_UNREACHABLE = 'store-unreachable';

const noWork = { begin(): void {}, end(): void {} };

/**
 * Runs a fleet: the supervisor actor and its account actors, fed by the venue client, the clock and the
 * stopout store, with the accounts' effects carried out against the venue and the store, and every
 * decision, transition, order and stopout written to the timeline. Used by `riskwarden run` (live) and
 * `riskwarden simulate` (simulated clock) alike.
 */
export class FleetRuntime {
  readonly supervisor: Actor<typeof supervisorMachine>;
  readonly #o: FleetRuntimeOptions;
  readonly #work: Pick<WorkTracker, 'begin' | 'end'>;
  readonly #lastState = new Map<string, AccountMode>();
  readonly #lastRiskAt = new Map<string, number>();
  readonly #lastPersisted = new Map<string, unknown>();
  readonly #orderHashes = new Map<string, Map<string, string>>();
  readonly #persistKey = new Map<string, unknown[]>();
  readonly #orderCounts = new Map<string, Partial<Record<OrderPurpose, number>>>();
  readonly #blocked = new Map<string, number>();
  readonly #reductionsInFlight = new Map<string, Set<string>>();
  readonly #maxReductions = new Map<string, number>();
  readonly #purposes = new Map<string, OrderPurpose>();
  readonly #liquidated = new Set<string>();
  readonly #staleFeeds = new Set<string>();
  readonly #subscriptions = new Map<string, { unsubscribe(): void }>();
  readonly #unwatch: Array<() => void> = [];
  /** Accounts whose takeover is reconciling with the venue: not spawned yet, each with the token of its attempt. */
  readonly #reconciling = new Map<string, symbol>();
  /** Reconciliations waiting for the venue (a lifecycle event or a tick wakes them). */
  readonly #wakeups = new Set<() => void>();
  /** What each account is told about its ownership right after its next spawn (see spawnOwnership). */
  readonly #spawnOwnership = new Map<string, boolean>();
  readonly #foreignListeners = new Set<(notice: ForeignOrderNotice) => void>();
  #storeDown = false;
  #fleetPlan: FleetPlan;
  /** Stopouts this fleet raised that the store could not take (unreachable): written again once it is back. */
  readonly #unsaved = new Map<string, Stopout>();
  #requests: Promise<void> = Promise.resolve();
  /** Live: requests are sent after the burst of events that caused them, most urgent first. */
  readonly #dispatcher = new OrderDispatcher();
  #breaches = new Map<string, { scope: StopoutScope; id: string; reason: string }>();

  constructor(options: FleetRuntimeOptions) {
    this.#o = options;
    this.#fleetPlan = options.plan;
    this.#work = options.work ?? noWork;
    const accountLogic = restorableAccount(provideAccountEffects(this.#effects()));
    const machine = supervisorMachine.provide({
      actors: { account: accountLogic },
      actions: {
        persistStopouts: ({ context }) => {
          for (const stopout of context.outbox.persist) this.#raiseStopout(stopout);
        },
        reportReset: () => {},
        reportFailure: ({ context }) => {
          const failure = context.outbox.failure;
          if (failure) this.#report(`account ${failure.accountId} failed and was restarted from its last snapshot: ${failure.error}`);
        },
      },
    });
    this.supervisor = createActor(machine, { input: { groups: options.plan.groups } });
  }

  /** Starts the supervisor, spawns the accounts and connects the venue and the store. */
  start(starts: Record<string, AccountStart>): void {
    this.supervisor.start();
    for (const plan of this.#fleetPlan.accounts) {
      const start = starts[plan.settings.accountId];
      if (start) this.addAccount(plan.settings.accountId, start);
    }
    this.#attachVenue();
    this.#unwatch.push(this.#o.store.watch((change) => this.#onStoreChange(change)));
    void this.#o.store.list().then(
      (stopouts) => stopouts.forEach((stopout) => this.supervisor.send({ type: 'STOPOUT_SEEN', stopout })),
      (error: Error) => this.#report(`reading stopouts failed: ${error.message}`),
    );
  }

  stop(): void {
    this.#reconciling.clear();
    this.#wake();
    for (const unwatch of this.#unwatch) unwatch();
    for (const s of this.#subscriptions.values()) s.unsubscribe();
    this.supervisor.stop();
  }

  accountIds(): string[] {
    return [...this.supervisor.getSnapshot().context.accounts];
  }

  account(accountId: string): AccountRef | undefined {
    // Every actor the supervisor registers under an account id is an account (spawned with it as systemId).
    return this.supervisor.system.get(accountId) as AccountRef | undefined;
  }

  accountContext(accountId: string): AccountContext | undefined {
    return this.account(accountId)?.getSnapshot().context;
  }

  /** A strategy asks to send an order: it goes through the account's gate. */
  requestEntry(accountId: string, order: OrderIntent): void {
    this.#route(accountId, { type: 'ENTRY_REQUEST', order, at: this.#o.clock.now() });
  }

  /** What the account's gate would answer to `order` now; nothing is sent (undefined: not supervised here). */
  checkEntry(accountId: string, order: OrderIntent): GateDecision | undefined {
    const context = this.accountContext(accountId);
    return context ? entryDecision(context, order) : undefined;
  }

  /** The clock moved: timers of every account, group drawdowns, periodic risk records. */
  tick(): void {
    const at = this.#o.clock.now();
    this.#wake();
    this.supervisor.send({ type: 'BROADCAST', event: { type: 'TICK', at } });
    this.#observeGroups();
    for (const accountId of this.accountIds()) {
      if (at - (this.#lastRiskAt.get(accountId) ?? -Infinity) >= (this.#o.riskEveryMs ?? 10_000)) this.#writeRisk(accountId);
    }
    if (this.#o.store.kind === 'redis') this.#publishBreaches();
    if (this.#unsaved.size > 0 && this.#o.store.healthy()) {
      const again = [...this.#unsaved.values()];
      this.#unsaved.clear();
      for (const stopout of again) this.#raiseStopout(stopout);
    }
  }

  /**
   * An operator action (CLI, API or scenario): the same path for all. A reset is refused while the limit
   * that raised it still measures a breach: CopyFactory asks for startTime to be moved first.
   */
  async operate(action: OperatorAction): Promise<{ result: 'ok' | 'refused'; reason?: string }> {
    const at = this.#o.clock.now();
    const write = (outcome: { result: 'ok' | 'refused'; reason?: string }) => {
      this.#write({
        t: at - this.#o.origin,
        kind: 'operator',
        action: action.action,
        scope: action.scope,
        id: action.id,
        ...outcome,
        ...(action.by ? { by: action.by } : {}),
      });
      return outcome;
    };
    try {
      if (action.action === 'set-stopout') {
        await this.#o.store.set({
          scope: action.scope,
          id: action.id,
          reason: action.reason ?? 'manual',
          closePositions: action.closePositions ?? false,
          stoppedAt: toIso(at),
          ...(action.by ? { by: action.by } : {}),
        });
        return write({ result: 'ok' });
      }
      if (action.action === 'move-start-time') {
        await this.#o.store.setStartTime(action.scope, action.id, toIso(at));
        return write({ result: 'ok' });
      }
      const reason = action.reason ?? 'manual';
      const refusal = this.resetRefusal(action.scope, action.id, reason);
      if (refusal) return write({ result: 'refused', reason: refusal });
      const existed = await this.#o.store.reset(action.scope, action.id, reason);
      return write(existed ? { result: 'ok' } : { result: 'refused', reason: `no stopout ${reason} on ${action.scope} ${action.id}` });
    } catch (error) {
      return write({ result: 'refused', reason: (error as Error).message });
    }
  }

  /** Why a reset of this stopout must be refused now, or null when it may go. */
  resetRefusal(scope: StopoutScope, id: string, reason: string): string | null {
    const sup = this.supervisor.getSnapshot().context;
    const stopout = { scope, id, reason };
    const refusal = groupResetRefusal(sup.groups[scopeKey(scope, id)], stopout);
    if (refusal !== null) return refusal;
    for (const accountId of coveredAccounts(sup, scope, id)) {
      const ctx = this.accountContext(accountId);
      const accountRefusal = ctx ? accountResetRefusal(ctx, stopout) : null;
      if (accountRefusal !== null) return accountRefusal;
    }
    return null;
  }

  /** The last line of a timeline. */
  summary(): Extract<TimelineRecord, { kind: 'summary' }> {
    const finalStates: Record<string, AccountMode> = {};
    const orders: Record<string, Partial<Record<OrderPurpose, number>>> = {};
    const maxReductionsInFlight: Record<string, number> = {};
    const blockedEntries: Record<string, number> = {};
    for (const accountId of this.accountIds()) {
      finalStates[accountId] = topState(this.account(accountId)!.getSnapshot().value);
      orders[accountId] = { ...(this.#orderCounts.get(accountId) ?? {}) };
      maxReductionsInFlight[accountId] = this.#maxReductions.get(accountId) ?? 0;
      blockedEntries[accountId] = this.#blocked.get(accountId) ?? 0;
    }
    return {
      t: this.#o.clock.now() - this.#o.origin,
      kind: 'summary',
      liquidated: [...this.#liquidated].sort(),
      finalStates,
      orders,
      maxReductionsInFlight,
      blockedEntries,
    };
  }

  /** Writes a `risk` record for every account now. */
  writeRiskRecords(): void {
    for (const accountId of this.accountIds()) this.#writeRisk(accountId);
  }

  // ── accounts ────────────────────────────────────────────────────────────────────────────────

  /**
   * A reloaded config: accounts added later start with their new settings; running accounts keep theirs
   * (nothing restarts); limit groups are replaced, each kept group with its drawdown history.
   */
  replacePlan(plan: FleetPlan): void {
    this.#fleetPlan = plan;
    this.supervisor.send({ type: 'SET_GROUPS', groups: plan.groups });
  }

  get plan(): FleetPlan {
    return this.#fleetPlan;
  }

  /** Starts supervising an account afresh (its session starts now). */
  addAccount(accountId: string, start: AccountStart): void {
    const plan = this.#plan(accountId);
    this.supervisor.send({ type: 'SPAWN', accountId, input: { context: this.#freshContext(plan.settings, start) }, scopes: plan.scopes });
    this.#watchAccount(accountId);
  }

  /**
   * Starts supervising an account afresh as a takeover that found no snapshot (its owner died before the
   * first was saved, or the store lost it): like `addAccount`, but only once every open order of the
   * account on the venue has been cancelled and its end confirmed — the account knows none of them, and
   * a reduction of its own must not overlap one of them. The ledger is the venue's at that moment.
   */
  async startAccount(accountId: string, start: AccountStart): Promise<void> {
    this.#plan(accountId);
    const token = Symbol(accountId);
    this.#reconciling.set(accountId, token);
    try {
      await this.#reconcile(accountId, [], {}, token);
      if (this.#reconciling.get(accountId) !== token) return;
      const ledger = this.#o.venue.ledger?.(accountId) ?? start.ledger;
      this.addAccount(accountId, { ...start, ...(ledger ? { ledger } : {}) });
    } finally {
      if (this.#reconciling.get(accountId) === token) this.#reconciling.delete(accountId);
    }
  }

  /**
   * Resumes an account from what its previous owner persisted: same state, same stopouts, same order
   * awaited. The statechart acts only once the venue has been reconciled (see `#reconcile`): every order
   * the snapshot awaits is reclaimed from the venue by its hash (or, when the owner died before its hash
   * was saved, matched with the open order it became), every other open order of the account on the venue
   * is cancelled and its end awaited, and the venue's ledger then replaces the saved one. Only the orders
   * of the snapshot, read before the account can act, are ever reclaimed: an order the resumed account
   * sends is never mistaken for a lost one. Nothing is sent twice.
   */
  async resumeAccount(accountId: string, persisted: PersistedAccount, ledger?: LedgerState): Promise<void> {
    const plan = this.#plan(accountId);
    const token = Symbol(accountId);
    this.#reconciling.set(accountId, token);
    try {
      const saved = savedOrders(accountId, persisted);
      const reconciled = await this.#reconcile(accountId, saved, persisted.orderHashes ?? {}, token);
      if (this.#reconciling.get(accountId) !== token) return; // removed (its lease lost) while reconciling
      this.#orderHashes.set(accountId, reconciled.hashes);
      this.supervisor.send({
        type: 'SPAWN',
        accountId,
        input: { persisted: persistedSnapshot(`snapshot of ${accountId}`, persisted.snapshot) },
        scopes: plan.scopes,
      });
      this.#watchAccount(accountId);
      const at = this.#o.clock.now();
      // Position first (the venue's ledger now, fills of the reclaimed orders included), then the orders'
      // outcomes: an order that ended lets the account plan its next step on the real position.
      const venueLedger = this.#o.venue.ledger?.(accountId) ?? ledger;
      if (venueLedger) this.#route(accountId, { type: 'RESYNC', ledger: venueLedger, at });
      for (const order of saved) {
        const reclaimed = reconciled.found.get(order.clientOrderId) ?? null;
        // Read again now (an update that arrived while we reconciled found no account to go to), if the
        // client follows that very order under the id: an order that had ended is not followed at all.
        const followed = reclaimed ? this.#o.venue.order?.(accountId, order.clientOrderId) : undefined;
        const found = followed && followed.orderHash.toLowerCase() === reclaimed?.orderHash.toLowerCase() ? followed : reclaimed;
        if (found === null) {
          this.#onLifecycle({
            strategyId: accountId,
            clientOrderId: order.clientOrderId,
            status: 'rejected',
            filled: order.filled,
            reason: 'NotSequenced',
            at,
          });
        } else if (found.status !== order.status || found.filled !== order.filled) {
          this.#onLifecycle({
            strategyId: accountId,
            clientOrderId: order.clientOrderId,
            status: found.status,
            filled: found.filled,
            ...(found.reason ? { reason: found.reason } : {}),
            at,
          });
        }
      }
    } finally {
      if (this.#reconciling.get(accountId) === token) this.#reconciling.delete(accountId);
    }
  }

  /**
   * The account's next start (`startAccount`, `resumeAccount`, `addAccount`) is told `OWNERSHIP uncertain` right
   * after its spawn, before the venue's ledger reaches it: a takeover after an expiry caps its very first
   * reduction, and a saved snapshot's stale flag is replaced by what the new owner knows.
   */
  spawnOwnership(accountId: string, uncertain: boolean): void {
    this.#spawnOwnership.set(accountId, uncertain);
  }

  /** Listens to the venue's `foreign-order` notices (orders of our strategies this process did not send). */
  onForeignOrder(listener: (notice: ForeignOrderNotice) => void): () => void {
    this.#foreignListeners.add(listener);
    return () => this.#foreignListeners.delete(listener);
  }

  /** Accounts being reconciled with the venue before a takeover lets them act. */
  reconciling(): string[] {
    return [...this.#reconciling.keys()];
  }

  /**
   * The venue as it is now, for an account about to be resumed: each saved order is found by hash, a saved
   * order without a hash is matched with an open order of the same symbol, side and amount that no saved
   * order claims, and every other open order of the account is cancelled — the account is not spawned before the venue
   * confirms those ends, so no reducing order of its can overlap one its previous owner left behind.
   */
  async #reconcile(
    accountId: string,
    saved: readonly WorkingOrder[],
    savedHashes: Readonly<Record<string, string>>,
    token: symbol,
  ): Promise<{ found: Map<string, TrackedOrder | null>; hashes: Map<string, string> }> {
    const venue = this.#o.venue;
    const found = new Map<string, TrackedOrder | null>();
    const hashes = new Map<string, string>();
    const current = () => this.#reconciling.get(accountId) === token;
    // The client follows every strategy's feed, so its open orders and ledger are the venue's as of a few
    // milliseconds ago. A saved order without a hash must be looked for among the open orders: then make sure
    // of them with a repair (bracketed snapshot, fills since, open orders from REST), in case a frame was lost.
    if (venue.repair && saved.some((o) => !savedHashes[o.clientOrderId])) {
      try {
        await venue.repair(`takeover of ${accountId}`);
      } catch (error) {
        this.#report(
          `takeover of ${accountId}: refreshing the venue's view failed (${(error as Error).message}); reconciling with the feed's`,
        );
      }
    }
    const reclaim = async (clientOrderId: string, hash: string): Promise<TrackedOrder | null> => {
      if (!venue.reclaimOrder) return null;
      try {
        return await venue.reclaimOrder(accountId, clientOrderId, hash);
      } catch (error) {
        // This client already follows the order under that id (this process sent it before): the same order.
        const own = venue.order?.(accountId, clientOrderId);
        if (own && own.orderHash.toLowerCase() === hash.toLowerCase()) return own;
        throw error;
      }
    };
    for (const order of saved) {
      const hash = savedHashes[order.clientOrderId];
      if (!hash) continue;
      const tracked = await reclaim(order.clientOrderId, hash);
      found.set(order.clientOrderId, tracked);
      if (tracked) hashes.set(order.clientOrderId, tracked.orderHash);
      if (!current()) return { found, hashes };
    }
    const claimed = () => new Set([...found.values()].flatMap((t) => (t ? [t.orderHash.toLowerCase()] : [])));
    const unclaimed = () => (venue.liveOrders?.(accountId) ?? []).filter((o) => !claimed().has(o.orderHash.toLowerCase()));
    // Saved orders whose hash was never saved: the owner died between sending and saving.
    for (const order of saved) {
      if (found.has(order.clientOrderId)) continue;
      const match = unclaimed().find((o) => sameOrder(o, order));
      if (!match) continue;
      const tracked = await reclaim(order.clientOrderId, match.orderHash);
      found.set(order.clientOrderId, tracked);
      if (tracked) hashes.set(order.clientOrderId, tracked.orderHash);
      if (!current()) return { found, hashes };
    }
    const foreign = unclaimed();
    if (foreign.length === 0) return { found, hashes };
    this.#report(
      `takeover of ${accountId}: cancelling ${foreign.length} open order(s) on the venue that its snapshot does not await (${foreign
        .map((o) => `${o.side} ${o.amount} ${o.symbol} ${o.orderHash}`)
        .join(', ')}) before it may act`,
    );
    for (const o of foreign) {
      this.#write({
        t: this.#o.clock.now() - this.#o.origin,
        kind: 'cancel',
        account: accountId,
        orderId: o.clientOrderId,
        reason: 'takeover: open on the venue, not in the snapshot',
      });
      await venue
        .cancelOrder(accountId, o.clientOrderId)
        .catch((error: Error) => this.#report(`takeover of ${accountId}: cancel of ${o.orderHash} failed: ${error.message}`));
    }
    const ended = () =>
      foreign.every((o) => {
        const now = venue.order?.(accountId, o.clientOrderId);
        return now === undefined || isTerminal(now.status);
      });
    const deadline = this.#o.clock.now() + (this.#o.reconcileTimeoutMs ?? 5_000);
    while (!ended()) {
      if (!current()) return { found, hashes };
      if (this.#o.clock.now() >= deadline) {
        throw new Error(
          `takeover of ${accountId}: the venue has not confirmed the cancel of ${foreign.map((o) => o.orderHash).join(', ')} within ${this.#o.reconcileTimeoutMs ?? 5_000} ms; the account is not resumed while an order it does not know may still fill`,
        );
      }
      // Woken by a lifecycle event or a tick: the deadline is on the runtime's clock.
      await new Promise<void>((resolve) => this.#wakeups.add(resolve));
    }
    return { found, hashes };
  }

  /** Stops supervising an account (config reload, or its lease went to another process). */
  removeAccount(accountId: string): void {
    this.#spawnOwnership.delete(accountId);
    // A takeover still reconciling is abandoned: it sees its token gone and spawns nothing.
    if (this.#reconciling.delete(accountId)) this.#wake();
    this.#subscriptions.get(accountId)?.unsubscribe();
    this.#subscriptions.delete(accountId);
    this.#lastState.delete(accountId);
    this.supervisor.send({ type: 'DESPAWN', accountId });
  }

  #plan(accountId: string) {
    const plan = this.#fleetPlan.accounts.find((a) => a.settings.accountId === accountId);
    if (!plan) throw new Error(`account ${accountId} is not in the fleet`);
    return plan;
  }

  #freshContext(settings: FleetPlan['accounts'][number]['settings'], start: AccountStart): AccountContext {
    return createAccountContext(settings, {
      collateral: start.collateral,
      at: this.#o.clock.now(),
      ...(start.marks ? { marks: start.marks } : {}),
      ...(start.ledger ? { ledger: start.ledger } : {}),
    });
  }

  #watchAccount(accountId: string): void {
    // Right after a SPAWN, before anything else is routed to the account.
    const uncertain = this.#spawnOwnership.get(accountId);
    if (uncertain !== undefined && this.#spawnOwnership.delete(accountId)) this.#route(accountId, { type: 'OWNERSHIP', uncertain });
    this.#subscriptions.get(accountId)?.unsubscribe();
    const ref = this.account(accountId);
    if (!ref) return;
    const onSnapshot = (snapshot: AccountSnapshot): void => {
      this.#noteState(accountId, topState(snapshot.value), snapshot.context, statePath(snapshot.value));
      this.#maybePersist(accountId, snapshot, ref);
    };
    const subscription = ref.subscribe({
      next: onSnapshot,
      error: (error: unknown) => this.#restart(accountId, error),
    });
    this.#subscriptions.set(accountId, subscription);
    onSnapshot(ref.getSnapshot());
  }

  /**
   * Writes a `state` record (and a `risk` record) when the account's top-level state changed. Called from
   * the snapshot subscription, and first thing in every effect: an order sent on entering de-risking then
   * comes after the state change that caused it, not before.
   */
  #noteState(accountId: string, to: AccountMode, context: AccountContext, detail?: string): void {
    const from = this.#lastState.get(accountId);
    if (from === to) return;
    this.#lastState.set(accountId, to);
    if (from === undefined) return;
    this.#write({
      t: this.#o.clock.now() - this.#o.origin,
      kind: 'state',
      account: accountId,
      from,
      to,
      reason: context.reason.rule,
      ...(detail ? { detail } : {}),
      numbers: context.reason.numbers,
    });
    this.#writeRisk(accountId, context, to);
  }

  /** Saves the persisted snapshot when something that must survive a restart changed. */
  #maybePersist(accountId: string, snapshot: AccountSnapshot, ref: AccountRef): void {
    const c = snapshot.context;
    // Context updates are immutable, so identity tells what changed; the state value is compared as text.
    const key = [JSON.stringify(snapshot.value), c.reduction, c.stopouts, c.orderSeq, c.orders, c.settings.riskLimits];
    const last = this.#persistKey.get(accountId);
    if (last?.every((v, i) => v === key[i])) return;
    this.#persistKey.set(accountId, key);
    const persisted = ref.getPersistedSnapshot();
    this.#lastPersisted.set(accountId, persisted);
    const hashes = this.#orderHashes.get(accountId);
    const orderHashes = Object.fromEntries(Object.keys(c.orders).flatMap((id) => (hashes?.get(id) ? [[id, hashes.get(id)!]] : [])));
    this.#o.persist?.(accountId, { snapshot: persisted, orderHashes });
  }

  #restart(accountId: string, error: unknown): void {
    const persisted = this.#lastPersisted.get(accountId);
    if (persisted === undefined) {
      this.#report(`account ${accountId} failed before any snapshot was saved: ${String(error)}`);
      return;
    }
    this.supervisor.send({
      type: 'CHILD_FAILED',
      accountId,
      error: String(error),
      input: { persisted: JSON.parse(JSON.stringify(persisted)) },
    });
    this.#watchAccount(accountId);
  }

  #route(accountId: string, event: AccountEvent): void {
    this.supervisor.send({ type: 'ROUTE', accountId, event });
  }

  // ── effects of the account machines ─────────────────────────────────────────────────────────

  #effects(): AccountEffects {
    return {
      sendOrder: (placed, context) => {
        const account = context.settings.accountId;
        this.#noteState(account, context.mode, context);
        const t = this.#o.clock.now() - this.#o.origin;
        this.#purposes.set(`${account}\u0000${placed.clientOrderId}`, placed.purpose);
        const counts = this.#orderCounts.get(account) ?? {};
        counts[placed.purpose] = (counts[placed.purpose] ?? 0) + 1;
        this.#orderCounts.set(account, counts);
        if (placed.purpose === 'reduce' || placed.purpose === 'exit') {
          const inFlight = this.#reductionsInFlight.get(account) ?? new Set<string>();
          inFlight.add(placed.clientOrderId);
          this.#reductionsInFlight.set(account, inFlight);
          this.#maxReductions.set(account, Math.max(this.#maxReductions.get(account) ?? 0, inFlight.size));
        }
        this.#write({
          t,
          kind: 'order',
          account,
          orderId: placed.clientOrderId,
          symbol: placed.intent.symbol,
          side: placed.intent.side,
          amount: placed.intent.amount,
          price: placed.intent.type === 'market' ? '0' : (placed.intent.price ?? '0'),
          type: placed.intent.type,
          purpose: placed.purpose,
        });
        this.#venueCall(
          account,
          placed.clientOrderId,
          () => this.#o.venue.placeOrder(account, placed.clientOrderId, placed.intent),
          orderPriority(placed.purpose, context.metrics?.marginBuffer ?? null),
        );
      },
      cancelOrder: (cancel, context) => {
        const account = context.settings.accountId;
        this.#noteState(account, context.mode, context);
        this.#write({
          t: this.#o.clock.now() - this.#o.origin,
          kind: 'cancel',
          account,
          orderId: cancel.clientOrderId,
          reason: cancel.reason,
        });
        this.#venueCall(account, cancel.clientOrderId, () => this.#o.venue.cancelOrder(account, cancel.clientOrderId));
      },
      decision: (decision, context) => {
        const account = context.settings.accountId;
        this.#noteState(account, context.mode, context);
        if (!decision.allowed) this.#blocked.set(account, (this.#blocked.get(account) ?? 0) + 1);
        this.#write({
          t: this.#o.clock.now() - this.#o.origin,
          kind: 'decision',
          account,
          allowed: decision.allowed,
          rules: decision.rules,
          order: decision.order,
          ...(decision.blocks.length ? { reasons: decision.blocks.map((b) => b.message) } : {}),
        });
      },
      raiseStopout: (stopout) => this.#raiseStopout(stopout),
      reset: () => {},
    };
  }

  /**
   * A venue request. It is counted as work only until the venue client has taken it (the client counts
   * its own requests from then on, and stops counting once the feed shows the venue has one — a receipt
   * the venue holds back must not keep the simulated clock from moving). A request that throws becomes a
   * rejection the account sees.
   */
  #venueCall(account: string, clientOrderId: string, call: () => Promise<unknown>, priority: readonly number[] = CANCEL_PRIORITY): void {
    this.#work.begin();
    const run = (): Promise<void> => {
      let pending: Promise<unknown>;
      try {
        pending = call();
      } catch (error) {
        pending = Promise.reject(error);
      } finally {
        this.#work.end();
      }
      return pending.then(
        () => undefined,
        (error: Error) => {
          this.#report(`venue request for ${account} ${clientOrderId} failed: ${error.message}`);
          this.#onLifecycle({
            strategyId: account,
            clientOrderId,
            status: 'rejected',
            filled: '0',
            reason: error.name || 'RequestFailed',
            at: this.#o.clock.now(),
          });
        },
      );
    };
    if (this.#o.serializeRequests) this.#requests = this.#requests.then(run);
    else this.#dispatcher.submit(priority, () => void run());
  }

  /**
   * Writes a stopout this fleet raised to the shared store. The account keeps it either way; one the store
   * refused is kept and written again on the first tick the store is healthy, so other processes and the
   * CLI learn of it after an outage too.
   */
  #raiseStopout(stopout: Stopout): void {
    this.#work.begin();
    this.#o.store
      .set(stopout)
      .catch((error: Error) => {
        this.#unsaved.set(stopoutKey(stopout), stopout);
        this.#report(
          `stopout store: raise ${stopout.reason} on ${stopout.scope} ${stopout.id} failed: ${error.message}; it will be written when the store is back`,
        );
      })
      .finally(() => this.#work.end());
  }

  #storeWrite(what: string, write: () => Promise<unknown>): void {
    this.#work.begin();
    write()
      .catch((error: Error) => this.#report(`stopout store: ${what} failed: ${error.message}`))
      .finally(() => this.#work.end());
  }

  // ── inputs: venue, store ────────────────────────────────────────────────────────────────────

  #attachVenue(): void {
    const venue = this.#o.venue;
    venue.on('mark', (mark) => {
      this.#write({ t: mark.at - this.#o.origin, kind: 'mark', symbol: mark.symbol, price: mark.price });
      this.supervisor.send({ type: 'BROADCAST', event: { type: 'MARK', symbol: mark.symbol, price: mark.price, at: mark.at } });
      this.#observeGroups();
    });
    venue.on('ledger', (update) => {
      this.#route(update.strategyId, { type: 'LEDGER', event: update.event, at: update.at });
    });
    venue.on('lifecycle', (event) => this.#onLifecycle(event));
    venue.on('foreign-order', (notice) => {
      for (const listener of this.#foreignListeners) listener(notice);
    });
    venue.on('liquidation', (notice) => {
      this.#liquidated.add(notice.strategyId);
      this.#write({
        t: notice.at - this.#o.origin,
        kind: 'liquidation',
        account: notice.strategyId,
        symbol: notice.symbol,
        price: notice.price,
      });
    });
    venue.on('feed-status', (status) => {
      if (status.stale) this.#staleFeeds.add(status.feed);
      else this.#staleFeeds.delete(status.feed);
      this.supervisor.send({ type: 'BROADCAST', event: { type: 'FEED_STATUS', stale: this.#staleFeeds.size > 0, at: status.at } });
    });
  }

  #onLifecycle(event: {
    strategyId: string;
    clientOrderId: string;
    orderHash?: string;
    status: OrderStatus;
    filled: DecimalString;
    reason?: string;
    at: number;
  }): void {
    this.#wake();
    if (event.orderHash) {
      const hashes = this.#orderHashes.get(event.strategyId) ?? new Map<string, string>();
      hashes.set(event.clientOrderId, event.orderHash);
      this.#orderHashes.set(event.strategyId, hashes);
    }
    if (event.status === 'submitted') {
      // The hash is known from now on: persist it, so a successor can follow the order.
      const ref = this.account(event.strategyId);
      if (ref) {
        this.#persistKey.delete(event.strategyId);
        this.#maybePersist(event.strategyId, ref.getSnapshot(), ref);
      }
      return;
    }
    const account = event.strategyId;
    if (isTerminal(event.status)) {
      this.#reductionsInFlight.get(account)?.delete(event.clientOrderId);
      this.#orderHashes.get(account)?.delete(event.clientOrderId);
    }
    this.#write({
      t: event.at - this.#o.origin,
      kind: 'order-update',
      account,
      orderId: event.clientOrderId,
      status: event.status,
      filled: event.filled,
      ...(event.reason ? { reason: event.reason } : {}),
    });
    this.#route(account, {
      type: 'ORDER_UPDATE',
      clientOrderId: event.clientOrderId,
      status: event.status,
      filled: event.filled,
      ...(event.reason ? { reason: event.reason } : {}),
      at: event.at,
    });
  }

  #onStoreChange(change: StoreChange): void {
    const t = this.#o.clock.now() - this.#o.origin;
    switch (change.kind) {
      case 'set':
        this.#write({
          t,
          kind: 'stopout',
          scope: change.stopout.scope,
          id: change.stopout.id,
          reason: change.stopout.reason,
          closePositions: change.stopout.closePositions,
          action: 'set',
          ...(change.stopout.stoppedTill ? { stoppedTill: change.stopout.stoppedTill } : {}),
        });
        this.supervisor.send({ type: 'STOPOUT_SEEN', stopout: change.stopout });
        break;
      case 'reset':
        this.#write({
          t,
          kind: 'stopout',
          scope: change.stopout.scope,
          id: change.stopout.id,
          reason: change.stopout.reason,
          closePositions: change.stopout.closePositions,
          action: 'reset',
        });
        this.supervisor.send({ type: 'STOPOUT_GONE', scope: change.stopout.scope, id: change.stopout.id, reason: change.stopout.reason });
        break;
      case 'start-time':
        this.supervisor.send({ type: 'MOVE_START_TIME', scope: change.scope, id: change.id, at: Date.parse(change.startTime) });
        break;
      case 'health': {
        // Fail closed: while the shared flags cannot be read, no process may assume there is no stopout.
        const stopout: Stopout = { scope: 'fleet', id: '*', reason: STORE_UNREACHABLE, closePositions: false };
        if (!change.healthy && !this.#storeDown) {
          this.#storeDown = true;
          this.#report(`stopout store unreachable${change.reason ? `: ${change.reason}` : ''}: entries refused until it is back`);
          this.supervisor.send({ type: 'STOPOUT_SEEN', stopout });
        } else if (change.healthy && this.#storeDown) {
          this.#storeDown = false;
          this.supervisor.send({ type: 'STOPOUT_GONE', scope: 'fleet', id: '*', reason: STORE_UNREACHABLE });
        }
        break;
      }
    }
  }

  // ── aggregates and records ──────────────────────────────────────────────────────────────────

  /**
   * Sums each group's members (balance, equity, transfers) and lets the supervisor measure its limits.
   * Members run by other processes count with the values their owners published; a group none of whose
   * members runs here is left to the processes that run them.
   */
  #observeGroups(): void {
    const sup = this.supervisor.getSnapshot().context;
    const at = this.#o.clock.now();
    for (const [key, group] of Object.entries(sup.groups)) {
      if (!group.accounts.some((accountId) => sup.accounts.includes(accountId))) continue;
      let balance = ZERO;
      let equity = ZERO;
      let transfers = ZERO;
      let complete = true;
      for (const accountId of group.accounts) {
        const ctx = sup.accounts.includes(accountId) ? this.accountContext(accountId) : undefined;
        const values: MemberValues | undefined = ctx
          ? ctx.metrics
            ? { balance: ctx.metrics.collateral, equity: ctx.metrics.equity, netTransfers: ctx.ledger.netTransfers }
            : undefined
          : this.#o.remoteMember?.(accountId);
        if (!values) {
          complete = false;
          break;
        }
        balance = balance.plus(values.balance);
        equity = equity.plus(values.equity);
        transfers = transfers.plus(values.netTransfers);
      }
      if (!complete) continue;
      this.supervisor.send({
        type: 'GROUP_OBSERVE',
        group: key,
        observation: { at, balance: str(balance), equity: str(equity), netTransfers: str(transfers) },
      });
    }
  }

  #writeRisk(accountId: string, context?: AccountContext, state?: AccountMode): void {
    const ctx = context ?? this.accountContext(accountId);
    const mode = state ?? (ctx ? ctx.mode : undefined);
    if (!ctx?.metrics || !mode) return;
    const at = this.#o.clock.now();
    this.#lastRiskAt.set(accountId, at);
    const m = ctx.metrics;
    this.#write({
      t: at - this.#o.origin,
      kind: 'risk',
      account: accountId,
      position: Object.fromEntries(Object.values(m.positions).map((p) => [p.symbol, p.size])),
      grossNotional: m.grossNotional,
      equity: m.equity,
      marginFraction: m.marginFraction,
      maintenance: m.maintenance,
      marginBuffer: m.marginBuffer,
      sessionPnl: m.sessionPnl,
      state: mode,
    });
  }

  /**
   * Live breach records, so a reset from another process or the CLI can be refused while a cause holds;
   * a record whose breach ended (startTime moved, a new period) is cleared at once rather than left to expire.
   */
  #publishBreaches(): void {
    const ttl = 5_000;
    const now = new Map<string, { scope: StopoutScope; id: string; reason: string; message: string }>();
    const sources = [
      ...this.accountIds().flatMap((accountId) => {
        const ctx = this.accountContext(accountId);
        return ctx?.drawdown.latest ? [{ limits: ctx.settings.riskLimits, drawdown: ctx.drawdown, latest: ctx.drawdown.latest }] : [];
      }),
      ...Object.values(this.supervisor.getSnapshot().context.groups).flatMap((g) =>
        g.drawdown.latest ? [{ limits: g.limits, drawdown: g.drawdown, latest: g.drawdown.latest }] : [],
      ),
    ];
    for (const source of sources) {
      for (const b of evaluateRiskLimits(source.limits, source.drawdown, source.latest)) {
        now.set(stopoutKey(b.stopout), {
          scope: b.stopout.scope,
          id: b.stopout.id,
          reason: b.stopout.reason,
          message: `drawdown ${b.measure.drawdown} since ${toIso(b.measure.periodStart)}`,
        });
      }
    }
    for (const breach of now.values()) this.#storeWrite('breach record', () => this.#o.store.recordBreach(breach, ttl));
    for (const [key, breach] of this.#breaches) {
      if (!now.has(key)) this.#storeWrite('breach record', () => this.#o.store.clearBreach(breach.scope, breach.id, breach.reason));
    }
    this.#breaches = now;
  }

  #wake(): void {
    if (this.#wakeups.size === 0) return;
    const waiting = [...this.#wakeups];
    this.#wakeups.clear();
    for (const resolve of waiting) resolve();
  }

  #write(record: TimelineRecord): void {
    this.#o.timeline.write(record);
  }

  #report(message: string): void {
    this.#o.report?.(message);
  }
}

/**
 * The orders a persisted account awaits, read from the snapshot itself before the account is spawned (a
 * snapshot the machine cannot restore awaits nothing here; spawning it reports why).
 */
function savedOrders(accountId: string, persisted: PersistedAccount): WorkingOrder[] {
  try {
    const probe = createActor(restorableAccount(accountMachine), {
      input: { persisted: persistedSnapshot(`snapshot of ${accountId}`, persisted.snapshot) },
    });
    const snapshot = probe.getSnapshot();
    if (snapshot.status !== 'active') return [];
    return Object.values(snapshot.context.orders);
  } catch {
    return [];
  }
}

/** Whether an open order on the venue is the saved order whose hash was never saved. */
function sameOrder(open: TrackedOrder, saved: WorkingOrder): boolean {
  return open.symbol === saved.intent.symbol && open.side === saved.intent.side && dec(open.amount).eq(saved.intent.amount);
}
