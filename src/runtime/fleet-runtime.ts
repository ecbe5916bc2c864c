import { createActor, type Actor } from 'xstate';
import type { AccountContext } from '../../machines/account-context.ts';
import type { AccountRef } from '../../machines/restorable-account.ts';
import { restorableAccount } from '../../machines/restorable-account.ts';
import { topState } from '../../machines/snapshot-state.ts';
import { supervisorMachine } from '../../machines/supervisor.ts';
import type { Clock } from '../clock/clock.ts';
import type { WorkTracker } from '../clock/work-tracker.ts';
import type { AccountMode } from '../domain/assessment.ts';
import type { LedgerState } from '../domain/ledger.ts';
import type { OrderIntent } from '../domain/order.ts';
import type { GateDecision } from '../domain/pre-trade-gate.ts';
import type { StopoutScope } from '../domain/stopout.ts';
import type { StopoutStore } from '../store/stopout-store.ts';
import type { TimelineSink } from '../timeline/timeline-record.ts';
import type { ForeignOrderNotice, VenueClient } from '../venue/venue-client.ts';
import { provideAccountEffects, type AccountEffects } from './account-effects.ts';
import { AccountLifecycle, type AccountStart, type PersistedAccount } from './account-lifecycle.ts';
import { AccountRecords } from './account-records.ts';
import type { FleetPlan } from './fleet-plan.ts';
import { observeGroups, type MemberValues } from './group-observation.ts';
import { OperatorActions, type OperatorAction } from './operator-actions.ts';
import { OrderRequests } from './order-requests.ts';
import { RunCounters, type SummaryRecord } from './run-counters.ts';
import type { RuntimeOutlet } from './runtime-outlet.ts';
import { StopoutSync } from './stopout-sync.ts';
import { VenueInputs, type MarkUpdate } from './venue-inputs.ts';
import { flagMessage, MarkDelivery, type MarkDeliveryMode } from './mark-delivery.ts';
import { coveredAccounts, type SupervisorEvent } from '../../machines/supervisor.ts';
import type { AccountEvent } from '../../machines/account-context.ts';
import { nextPeriodBoundary, parseIsoTime } from '../domain/periods.ts';

export type { AccountStart, PersistedAccount } from './account-lifecycle.ts';
export type { MemberValues } from './group-observation.ts';
export type { OperatorAction } from './operator-actions.ts';
export { STORE_UNREACHABLE } from './stopout-sync.ts';

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
  /**
   * How marks reach the accounts (src/runtime/mark-delivery.ts): `indexed` (default) only the accounts whose
   * band a mark left; `every-account` the reference the indexed path is proven against.
   */
  markDelivery?: MarkDeliveryMode;
}

const noWork = { begin(): void {}, end(): void {} };

/**
 * Runs a fleet: the supervisor actor and its account actors, fed by the venue client, the clock and the
 * stopout store, with the accounts' effects carried out against the venue and the store, and every
 * decision, transition, order and stopout written to the timeline. Used by `riskwarden run` (live) and
 * `riskwarden simulate` (simulated clock) alike.
 *
 * The facade over the runtime's parts, each behind the few calls it needs of the others: venue inputs
 * (the one place marks reach the accounts), stopout sync, group observation, order requests, run counters,
 * operator actions, the accounts' lifecycle and their state and risk records.
 */
export class FleetRuntime {
  readonly supervisor: Actor<typeof supervisorMachine>;
  readonly #o: FleetRuntimeOptions;
  #fleetPlan: FleetPlan;
  readonly #counters = new RunCounters();
  readonly #records: AccountRecords;
  readonly #stopouts: StopoutSync;
  readonly #requests: OrderRequests;
  readonly #inputs: VenueInputs;
  readonly #accounts: AccountLifecycle;
  readonly #operator: OperatorActions;
  readonly #unwatch: Array<() => void> = [];
  readonly #delivery: MarkDelivery;
  /** The next instant a risk limit's window can move by time alone (a UTC midnight or a startTime). */
  #boundary = Number.NEGATIVE_INFINITY;
  #knownStartTimes: number[] | null = null;

  constructor(options: FleetRuntimeOptions) {
    this.#o = options;
    this.#fleetPlan = options.plan;
    const work = options.work ?? noWork;
    const outlet: RuntimeOutlet = {
      clock: options.clock,
      origin: options.origin,
      write: (record) => options.timeline.write(record),
      report: (message) => options.report?.(message),
    };
    this.#delivery = new MarkDelivery({
      mode: options.markDelivery ?? 'indexed',
      send: (accountId, event) => {
        const ref = this.account(accountId);
        ref?.send(event);
        return ref !== undefined;
      },
      // Simulation visits every account inside the mark's handling; live spreads the visits over turns.
      ...(options.serializeRequests ? {} : { schedule: (next: () => void) => void setImmediate(next) }),
    });
    const send = (event: SupervisorEvent) => this.#send(event);
    const supervisorContext = () => this.supervisor.getSnapshot().context;
    const accountContext = (accountId: string) => this.accountContext(accountId);
    this.#records = new AccountRecords(outlet);
    this.#stopouts = new StopoutSync({
      store: options.store,
      outlet,
      work,
      send,
      supervisorContext,
      accountIds: () => this.accountIds(),
      accountContext,
    });
    this.#accounts = new AccountLifecycle({
      venue: options.venue,
      outlet,
      ...(options.reconcileTimeoutMs !== undefined ? { reconcileTimeoutMs: options.reconcileTimeoutMs } : {}),
      ...(options.persist ? { persist: options.persist } : {}),
      plan: () => this.#fleetPlan,
      send,
      account: (accountId) => this.account(accountId),
      records: this.#records,
      onLifecycle: (update) => this.#inputs.onLifecycle(update),
      resumed: (accountId, stopouts) => void this.#stopouts.reconcileResumed(accountId, stopouts),
      observer: {
        watched: (accountId) => {
          this.#delivery.remove(accountId);
          this.#delivery.add(accountId);
        },
        snapshot: (accountId, snapshot) => this.#delivery.noteSnapshot(accountId, snapshot),
        removed: (accountId) => this.#delivery.remove(accountId),
      },
    });
    this.#inputs = new VenueInputs({
      venue: options.venue,
      outlet,
      send,
      route: (accountId, event) => this.#route(accountId, event),
      deliverMark: (mark) => this.#deliverMark(mark),
      observeGroups: () => this.#observeGroups(),
      wake: () => this.#accounts.wake(),
      counters: this.#counters,
      orders: this.#accounts,
    });
    this.#requests = new OrderRequests({
      venue: options.venue,
      outlet,
      work,
      serializeRequests: options.serializeRequests ?? false,
      counters: this.#counters,
      noteState: (accountId, to, context) => this.#records.noteState(accountId, to, context),
      onFailure: (update) => this.#inputs.onLifecycle(update),
    });
    this.#operator = new OperatorActions({ store: options.store, outlet, supervisorContext, accountContext });
    const accountLogic = restorableAccount(provideAccountEffects(this.#effects()));
    const machine = supervisorMachine.provide({
      actors: { account: accountLogic },
      actions: {
        persistStopouts: ({ context }) => {
          for (const stopout of context.outbox.persist) this.#stopouts.raise(stopout);
        },
        reportReset: () => {},
        reportFailure: ({ context }) => {
          const failure = context.outbox.failure;
          if (failure) outlet.report(`account ${failure.accountId} failed and was restarted from its last snapshot: ${failure.error}`);
        },
      },
    });
    this.supervisor = createActor(machine, { input: { groups: options.plan.groups } });
  }

  /** Starts the supervisor, spawns the accounts and connects the venue and the store. */
  start(starts: Record<string, AccountStart>): void {
    this.#startTimes(); // read once now, not inside the first mark (in a crash, that is the crash)
    this.supervisor.start();
    this.#accounts.addAccounts(
      this.#fleetPlan.accounts.flatMap((plan) => {
        const start = starts[plan.settings.accountId];
        return start ? [{ accountId: plan.settings.accountId, start }] : [];
      }),
    );
    this.#inputs.attach();
    this.#unwatch.push(this.#stopouts.connect());
  }

  stop(): void {
    this.#accounts.abandonReconciling();
    for (const unwatch of this.#unwatch) unwatch();
    this.#accounts.unwatchAll();
    // XState stops a machine's children with one stopChild action each, and each copies the children map:
    // 10,000 accounts would take tens of seconds to stop. Stopped here the way that action stops a child
    // (`_stop`, XState's own) and taken out of the no longer used map, the supervisor's stop has nothing to copy.
    const children = this.supervisor.getSnapshot().children as Record<string, { _stop?(): void } | undefined>;
    for (const id of Object.keys(children)) {
      children[id]?._stop?.();
      delete children[id];
    }
    this.supervisor.stop();
  }

  accountIds(): string[] {
    return [...this.supervisor.getSnapshot().context.accounts];
  }

  account(accountId: string): AccountRef | undefined {
    // Every actor the supervisor registers under an account id is an account (spawned with it as systemId).
    return this.supervisor.system.get(accountId) as AccountRef | undefined;
  }

  /** The account's context, caught up with every mark (the same as if it had seen each one). */
  accountContext(accountId: string): AccountContext | undefined {
    this.#delivery.catchUp(accountId);
    return this.account(accountId)?.getSnapshot().context;
  }

  /**
   * A strategy asks to send an order: it goes through the account's gate. An account a mark has certainly
   * taken past one of its entry-blocking levels refuses at once, before its statechart has seen the mark
   * (a live crash visits the fleet over several turns); any other entry is judged by the statechart after
   * it has caught up with the marks.
   */
  requestEntry(accountId: string, order: OrderIntent): void {
    const flag = this.#delivery.flag(accountId);
    if (flag && this.account(accountId)) {
      this.#counters.entryBlocked(accountId);
      this.#o.timeline.write({
        t: this.#o.clock.now() - this.#o.origin,
        kind: 'decision',
        account: accountId,
        allowed: false,
        rules: [flag.rule],
        order,
        reasons: [`${flagMessage(flag)} (refused before the account's statechart has seen the mark)`],
      });
      return;
    }
    this.#route(accountId, { type: 'ENTRY_REQUEST', order, at: this.#o.clock.now() });
  }

  /** What the account's gate would answer to `order` now; nothing is sent (undefined: not supervised here). */
  checkEntry(accountId: string, order: OrderIntent): GateDecision | undefined {
    return this.#operator.checkEntry(accountId, order);
  }

  /**
   * The clock moved: timers of the accounts that have one running, every account at a period boundary,
   * group drawdowns, periodic risk records.
   */
  tick(): void {
    const at = this.#o.clock.now();
    this.#accounts.wake();
    if (!this.#crossBoundary(at))
      for (const accountId of this.#delivery.timedAccounts()) this.account(accountId)?.send({ type: 'TICK', at });
    this.#observeGroups();
    for (const accountId of this.accountIds()) {
      if (this.#records.riskDue(accountId, at, this.#o.riskEveryMs ?? 10_000)) this.#writeRisk(accountId);
    }
    this.#stopouts.tick();
  }

  /**
   * An operator action (CLI, API or scenario): the same path for all. A reset is refused while the limit
   * that raised it still measures a breach: CopyFactory asks for startTime to be moved first.
   */
  async operate(action: OperatorAction): Promise<{ result: 'ok' | 'refused'; reason?: string }> {
    return this.#operator.operate(action);
  }

  /** Why a reset of this stopout must be refused now, or null when it may go. */
  resetRefusal(scope: StopoutScope, id: string, reason: string): string | null {
    return this.#operator.resetRefusal(scope, id, reason);
  }

  /** The last line of a timeline. */
  summary(): SummaryRecord {
    const finalStates: Record<string, AccountMode> = {};
    for (const accountId of this.accountIds()) finalStates[accountId] = topState(this.account(accountId)!.getSnapshot().value);
    return this.#counters.summary(this.#o.clock.now() - this.#o.origin, finalStates);
  }

  /**
   * Resolves once every account has its band (live, bands are computed in the background after a start or a
   * takeover; until then those accounts see every mark, which is exact but costs a visit each).
   */
  ready(): Promise<void> {
    return this.#delivery.assessed();
  }

  /** Marks received, the account visits they caused and the MARK events delivered (visits and catch-ups). */
  markCounts(): { marks: number; visits: number; delivered: number } {
    return { ...this.#delivery.counts };
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
    this.#knownStartTimes = null;
    this.supervisor.send({ type: 'SET_GROUPS', groups: plan.groups });
  }

  get plan(): FleetPlan {
    return this.#fleetPlan;
  }

  /** Starts supervising an account afresh (its session starts now). */
  addAccount(accountId: string, start: AccountStart): void {
    this.#accounts.addAccount(accountId, start);
  }

  /** A takeover that found no snapshot: see AccountLifecycle.startAccount. */
  async startAccount(accountId: string, start: AccountStart): Promise<void> {
    return this.#accounts.startAccount(accountId, start);
  }

  /** Resumes an account from what its previous owner persisted: see AccountLifecycle.resumeAccount. */
  async resumeAccount(accountId: string, persisted: PersistedAccount, ledger?: LedgerState): Promise<void> {
    return this.#accounts.resumeAccount(accountId, persisted, ledger);
  }

  /** What the account's next spawn is told about its ownership: see AccountLifecycle.spawnOwnership. */
  spawnOwnership(accountId: string, uncertain: boolean): void {
    this.#accounts.spawnOwnership(accountId, uncertain);
  }

  /** Listens to the venue's `foreign-order` notices (orders of our strategies this process did not send). */
  onForeignOrder(listener: (notice: ForeignOrderNotice) => void): () => void {
    return this.#inputs.onForeignOrder(listener);
  }

  /** Accounts being reconciled with the venue before a takeover lets them act. */
  reconciling(): string[] {
    return this.#accounts.reconciling();
  }

  /** Stops supervising an account (config reload, or its lease went to another process). */
  removeAccount(accountId: string): void {
    this.#accounts.removeAccount(accountId);
  }

  // ── what reaches the accounts ───────────────────────────────────────────────────────────────

  /** A supervisor event, after the accounts it will reach have caught up with the marks. */
  #send(event: SupervisorEvent): void {
    switch (event.type) {
      case 'ROUTE':
        this.#delivery.catchUp(event.accountId);
        break;
      case 'BROADCAST':
        this.#delivery.catchUpAll();
        break;
      case 'STOPOUT_SEEN':
      case 'STOPOUT_GONE':
      case 'MOVE_START_TIME': {
        const { scope, id } = event.type === 'STOPOUT_SEEN' ? event.stopout : event;
        for (const accountId of coveredAccounts(this.supervisor.getSnapshot().context, scope, id)) this.#delivery.catchUp(accountId);
        break;
      }
    }
    this.supervisor.send(event);
  }

  #route(accountId: string, event: AccountEvent): void {
    this.#send({ type: 'ROUTE', accountId, event });
  }

  #deliverMark(mark: MarkUpdate): void {
    this.#crossBoundary(mark.at);
    this.#delivery.mark(mark);
  }

  /**
   * At a period boundary every account catches up and sees the clock (a day's first observation is its
   * baseline); between boundaries only accounts with a timer running need a tick. True when one was crossed.
   */
  #crossBoundary(at: number): boolean {
    if (this.#boundary === Number.NEGATIVE_INFINITY) this.#boundary = nextPeriodBoundary(at, this.#startTimes());
    if (at < this.#boundary) return false;
    this.#boundary = nextPeriodBoundary(at, this.#startTimes());
    this.#delivery.catchUpAll();
    for (const accountId of this.accountIds()) this.account(accountId)?.send({ type: 'TICK', at });
    return true;
  }

  /** The limits' start times, read from the plan once per plan (10,000 accounts' limits take milliseconds). */
  #startTimes(): number[] {
    if (this.#knownStartTimes !== null) return this.#knownStartTimes;
    const limits = [...this.#fleetPlan.accounts.flatMap((a) => a.settings.riskLimits), ...this.#fleetPlan.groups.flatMap((g) => g.limits)];
    this.#knownStartTimes = limits.flatMap((l) => {
      const t = l.startTime === undefined ? null : parseIsoTime(l.startTime);
      return t === null ? [] : [t];
    });
    return this.#knownStartTimes;
  }

  // ── effects of the account machines ─────────────────────────────────────────────────────────

  #effects(): AccountEffects {
    return {
      sendOrder: (placed, context) => this.#requests.sendOrder(placed, context),
      cancelOrder: (cancel, context) => this.#requests.cancelOrder(cancel, context),
      decision: (decision, context) => {
        const account = context.settings.accountId;
        this.#records.noteState(account, context.mode, context);
        if (!decision.allowed) this.#counters.entryBlocked(account);
        this.#o.timeline.write({
          t: this.#o.clock.now() - this.#o.origin,
          kind: 'decision',
          account,
          allowed: decision.allowed,
          rules: decision.rules,
          order: decision.order,
          ...(decision.blocks.length ? { reasons: decision.blocks.map((b) => b.message) } : {}),
        });
      },
      raiseStopout: (stopout) => this.#stopouts.raise(stopout),
      reset: () => {},
    };
  }

  #observeGroups(): void {
    observeGroups({
      supervisorContext: () => this.supervisor.getSnapshot().context,
      accountContext: (accountId) => this.accountContext(accountId),
      remoteMember: (accountId) => this.#o.remoteMember?.(accountId),
      now: () => this.#o.clock.now(),
      send: (event) => this.supervisor.send(event),
    });
  }

  #writeRisk(accountId: string): void {
    this.#records.writeRisk(accountId, this.accountContext(accountId));
  }
}
