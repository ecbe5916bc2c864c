import type { Snapshot } from 'xstate';
import { createAccountContext, type AccountContext, type AccountEvent, type WorkingOrder } from '../../machines/account-context.ts';
import { persistedAccountSnapshot, persistedSnapshot, type AccountRef, type AccountSnapshot } from '../../machines/restorable-account.ts';
import { statePath, topState } from '../../machines/snapshot-state.ts';
import type { AccountSpawn, SupervisorEvent } from '../../machines/supervisor.ts';
import { dec } from '../domain/decimal.ts';
import type { Stopout } from '../domain/stopout.ts';
import type { LedgerState } from '../domain/ledger.ts';
import { isTerminal } from '../domain/order-status.ts';
import type { TrackedOrder } from '../venue/order-lifecycle.ts';
import type { VenueClient } from '../venue/venue-client.ts';
import type { AccountRecords } from './account-records.ts';
import type { FleetPlan } from './fleet-plan.ts';
import type { RuntimeOutlet } from './runtime-outlet.ts';
import type { LifecycleUpdate } from './venue-inputs.ts';

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

/** What the account lifecycle needs of the rest of the runtime. */
export interface AccountLifecyclePorts {
  /** A takeover reconciles through the optional methods (see resumeAccount). */
  venue: Pick<VenueClient, 'cancelOrder'> & Partial<Pick<VenueClient, 'reclaimOrder' | 'liveOrders' | 'order' | 'ledger' | 'repair'>>;
  outlet: RuntimeOutlet;
  /** How long a takeover waits for the venue to confirm the cancel of an order it does not know (default 5 s). */
  reconcileTimeoutMs?: number;
  /** Called with every account snapshot worth saving. */
  persist?: (accountId: string, persisted: PersistedAccount) => void;
  plan(): FleetPlan;
  send(event: SupervisorEvent): void;
  account(accountId: string): AccountRef | undefined;
  records: Pick<AccountRecords, 'noteState' | 'forget'>;
  /** Told of an account resumed from a snapshot, once spawned, with the stopouts the snapshot held. */
  resumed?(accountId: string, stopouts: readonly Stopout[]): void;
  /** An order outcome a takeover found on the venue, handled like one the venue reported. */
  onLifecycle(update: LifecycleUpdate): void;
  /** Told of each account actor watched (a spawn or a restart), of its every snapshot, and of its removal. */
  observer?: {
    watched(accountId: string): void;
    snapshot(accountId: string, snapshot: AccountSnapshot): void;
    removed(accountId: string): void;
  };
}

/**
 * The accounts' lives in this process: spawned afresh, started or resumed as a takeover (reconciled with
 * the venue first), watched for state changes and snapshots worth persisting, restarted from their last
 * snapshot when they fail, and removed. Keeps the venue hashes of the orders each account awaits.
 */
export class AccountLifecycle {
  readonly #p: AccountLifecyclePorts;
  /**
   * Each watched account's latest snapshot: the very object its actor holds (so it costs a map entry, not a
   * copy), kept because a failed actor holds an error snapshot instead. A failed account restarts from it. It
   * agrees with the last persisted snapshot on everything persisting is keyed on (state, stopouts, orders,
   * reduction, order sequence, limits; see #maybePersist) and is at least as recent in the rest (marks, metrics).
   */
  readonly #lastGood = new Map<string, AccountSnapshot>();
  readonly #orderHashes = new Map<string, Map<string, string>>();
  readonly #persistKey = new Map<string, unknown[]>();
  readonly #subscriptions = new Map<string, { unsubscribe(): void }>();
  /** Each plan's accounts by id (a plan is replaced, never changed, on reload). */
  readonly #planIndex = new WeakMap<FleetPlan, Map<string, FleetPlan['accounts'][number]>>();
  /** Takeovers waiting for the next batched spawn (see #spawnBatched). */
  readonly #spawnQueue: Array<{ spawn: AccountSpawn; wanted: () => boolean; resolve: (spawned: boolean) => void }> = [];
  /** Accounts whose takeover is reconciling with the venue: not spawned yet, each with the token of its attempt. */
  readonly #reconciling = new Map<string, symbol>();
  /** Reconciliations waiting for the venue (a lifecycle event or a tick wakes them). */
  readonly #wakeups = new Set<() => void>();
  /** What each account is told about its ownership right after its next spawn (see spawnOwnership). */
  readonly #spawnOwnership = new Map<string, boolean>();

  constructor(ports: AccountLifecyclePorts) {
    this.#p = ports;
  }

  /** The venue hash of an order is known: it is persisted with the account's next snapshot. */
  noteHash(accountId: string, clientOrderId: string, orderHash: string): void {
    const hashes = this.#orderHashes.get(accountId) ?? new Map<string, string>();
    hashes.set(clientOrderId, orderHash);
    this.#orderHashes.set(accountId, hashes);
  }

  /** The order ended: no successor needs its hash. */
  forgetHash(accountId: string, clientOrderId: string): void {
    this.#orderHashes.get(accountId)?.delete(clientOrderId);
  }

  /** The order was submitted and its hash is known from now on: persist it, so a successor can follow the order. */
  submitted(accountId: string): void {
    const ref = this.#p.account(accountId);
    if (ref) {
      this.#persistKey.delete(accountId);
      this.#maybePersist(accountId, ref.getSnapshot());
    }
  }

  /** Wakes the reconciliations waiting for the venue (they look again, and at the deadline). */
  wake(): void {
    if (this.#wakeups.size === 0) return;
    const waiting = [...this.#wakeups];
    this.#wakeups.clear();
    for (const resolve of waiting) resolve();
  }

  /** The fleet stops: every takeover still reconciling is abandoned. */
  abandonReconciling(): void {
    this.#reconciling.clear();
    this.wake();
  }

  /** The fleet stops: no account is watched any more. */
  unwatchAll(): void {
    for (const s of this.#subscriptions.values()) s.unsubscribe();
  }

  /** Starts supervising many accounts afresh in one spawn (a fleet's start: one copy of the supervisor's children). */
  addAccounts(starts: Array<{ accountId: string; start: AccountStart }>): void {
    const accounts = starts.map(({ accountId, start }) => {
      const plan = this.#plan(accountId);
      return { accountId, input: { context: this.#freshContext(plan.settings, start) }, scopes: plan.scopes };
    });
    this.#p.send({ type: 'SPAWN_MANY', accounts });
    for (const { accountId } of accounts) this.#watchAccount(accountId);
  }

  /** Starts supervising an account afresh (its session starts now). */
  addAccount(accountId: string, start: AccountStart): void {
    const plan = this.#plan(accountId);
    this.#p.send({ type: 'SPAWN', accountId, input: { context: this.#freshContext(plan.settings, start) }, scopes: plan.scopes });
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
      const ledger = this.#p.venue.ledger?.(accountId) ?? start.ledger;
      const plan = this.#plan(accountId);
      const context = this.#freshContext(plan.settings, { ...start, ...(ledger ? { ledger } : {}) });
      await this.#spawnBatched({ accountId, input: { context }, scopes: plan.scopes }, () => this.#reconciling.get(accountId) === token);
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
      // Checked once (its trial restore included); the orders it awaits are read from the checked context.
      const snapshot = persistedSnapshot(`snapshot of ${accountId}`, persisted.snapshot);
      const saved = savedOrders(snapshot);
      const reconciled = await this.#reconcile(accountId, saved, persisted.orderHashes ?? {}, token);
      if (this.#reconciling.get(accountId) !== token) return; // removed (its lease lost) while reconciling
      this.#orderHashes.set(accountId, reconciled.hashes);
      const spawned = await this.#spawnBatched(
        { accountId, input: { persisted: snapshot }, scopes: plan.scopes },
        () => this.#reconciling.get(accountId) === token,
      );
      if (!spawned) return; // removed while it waited for the batch
      const at = this.#p.outlet.clock.now();
      // Position first (the venue's ledger now, fills of the reclaimed orders included), then the orders'
      // outcomes: an order that ended lets the account plan its next step on the real position.
      const venueLedger = this.#p.venue.ledger?.(accountId) ?? ledger;
      if (venueLedger) this.#route(accountId, { type: 'RESYNC', ledger: venueLedger, at });
      this.#p.resumed?.(accountId, (snapshot as { context?: { stopouts?: Stopout[] } }).context?.stopouts ?? []);
      for (const order of saved) {
        const reclaimed = reconciled.found.get(order.clientOrderId) ?? null;
        // Read again now (an update that arrived while we reconciled found no account to go to), if the
        // client follows that very order under the id: an order that had ended is not followed at all.
        const followed = reclaimed ? this.#p.venue.order?.(accountId, order.clientOrderId) : undefined;
        const found = followed && followed.orderHash.toLowerCase() === reclaimed?.orderHash.toLowerCase() ? followed : reclaimed;
        if (found === null) {
          this.#p.onLifecycle({
            strategyId: accountId,
            clientOrderId: order.clientOrderId,
            status: 'rejected',
            filled: order.filled,
            reason: 'NotSequenced',
            at,
          });
        } else if (found.status !== order.status || found.filled !== order.filled) {
          this.#p.onLifecycle({
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
    const venue = this.#p.venue;
    const found = new Map<string, TrackedOrder | null>();
    const hashes = new Map<string, string>();
    // Nothing awaited, nothing open on the venue (most accounts of a recovery): nothing to reconcile, and
    // none of the closures below made for it.
    if (saved.length === 0 && (venue.liveOrders?.(accountId) ?? []).length === 0) return { found, hashes };
    const current = () => this.#reconciling.get(accountId) === token;
    // The client follows every strategy's feed, so its open orders and ledger are the venue's as of a few
    // milliseconds ago. A saved order without a hash must be looked for among the open orders: then make sure
    // of them with a repair (bracketed snapshot, fills since, open orders from REST), in case a frame was lost.
    if (venue.repair && saved.some((o) => !savedHashes[o.clientOrderId])) {
      try {
        await venue.repair(`takeover of ${accountId}`);
      } catch (error) {
        this.#p.outlet.report(
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
    this.#p.outlet.report(
      `takeover of ${accountId}: cancelling ${foreign.length} open order(s) on the venue that its snapshot does not await (${foreign
        .map((o) => `${o.side} ${o.amount} ${o.symbol} ${o.orderHash}`)
        .join(', ')}) before it may act`,
    );
    for (const o of foreign) {
      this.#p.outlet.write({
        t: this.#p.outlet.clock.now() - this.#p.outlet.origin,
        kind: 'cancel',
        account: accountId,
        orderId: o.clientOrderId,
        reason: 'takeover: open on the venue, not in the snapshot',
      });
      await venue
        .cancelOrder(accountId, o.clientOrderId)
        .catch((error: Error) => this.#p.outlet.report(`takeover of ${accountId}: cancel of ${o.orderHash} failed: ${error.message}`));
    }
    const ended = () =>
      foreign.every((o) => {
        const now = venue.order?.(accountId, o.clientOrderId);
        return now === undefined || isTerminal(now.status);
      });
    const deadline = this.#p.outlet.clock.now() + (this.#p.reconcileTimeoutMs ?? 5_000);
    while (!ended()) {
      if (!current()) return { found, hashes };
      if (this.#p.outlet.clock.now() >= deadline) {
        throw new Error(
          `takeover of ${accountId}: the venue has not confirmed the cancel of ${foreign.map((o) => o.orderHash).join(', ')} within ${this.#p.reconcileTimeoutMs ?? 5_000} ms; the account is not resumed while an order it does not know may still fill`,
        );
      }
      // Woken by a lifecycle event or a tick: the deadline is on the runtime's clock.
      await new Promise<void>((resolve) => this.#wakeups.add(resolve));
    }
    return { found, hashes };
  }

  /**
   * Spawns with the other takeovers that finished reconciling in the same turn: one SPAWN_MANY for all of
   * them (XState copies the supervisor's children once per spawn action, so 10,000 single spawns cost
   * 10,000 copies). Resolves true once the account is spawned and watched, false when `wanted` no longer
   * holds at the batch (its takeover was abandoned meanwhile) and it was not spawned.
   */
  #spawnBatched(spawn: AccountSpawn, wanted: () => boolean): Promise<boolean> {
    return new Promise((resolve) => {
      this.#spawnQueue.push({ spawn, wanted, resolve });
      if (this.#spawnQueue.length > 1) return;
      queueMicrotask(() => {
        const batch = this.#spawnQueue.splice(0);
        const go = batch.filter((b) => b.wanted());
        if (go.length > 0) this.#p.send({ type: 'SPAWN_MANY', accounts: go.map((b) => b.spawn) });
        for (const { spawn: s } of go) this.#watchAccount(s.accountId);
        const spawned = new Set(go);
        for (const b of batch) b.resolve(spawned.has(b));
      });
    });
  }

  /** Stops supervising an account (config reload, or its lease went to another process). */
  removeAccount(accountId: string): void {
    this.#spawnOwnership.delete(accountId);
    // A takeover still reconciling is abandoned: it sees its token gone and spawns nothing.
    if (this.#reconciling.delete(accountId)) this.wake();
    this.#subscriptions.get(accountId)?.unsubscribe();
    this.#subscriptions.delete(accountId);
    this.#lastGood.delete(accountId);
    this.#persistKey.delete(accountId);
    this.#p.records.forget(accountId);
    this.#p.observer?.removed(accountId);
    this.#p.send({ type: 'DESPAWN', accountId });
  }

  #plan(accountId: string) {
    const fleet = this.#p.plan();
    let byId = this.#planIndex.get(fleet);
    if (!byId) this.#planIndex.set(fleet, (byId = new Map(fleet.accounts.map((a) => [a.settings.accountId, a]))));
    const plan = byId.get(accountId);
    if (!plan) throw new Error(`account ${accountId} is not in the fleet`);
    return plan;
  }

  #freshContext(settings: FleetPlan['accounts'][number]['settings'], start: AccountStart): AccountContext {
    return createAccountContext(settings, {
      collateral: start.collateral,
      at: this.#p.outlet.clock.now(),
      ...(start.marks ? { marks: start.marks } : {}),
      ...(start.ledger ? { ledger: start.ledger } : {}),
    });
  }

  #watchAccount(accountId: string): void {
    // Right after a SPAWN, before anything else is routed to the account.
    const uncertain = this.#spawnOwnership.get(accountId);
    if (uncertain !== undefined && this.#spawnOwnership.delete(accountId)) this.#route(accountId, { type: 'OWNERSHIP', uncertain });
    this.#subscriptions.get(accountId)?.unsubscribe();
    const ref = this.#p.account(accountId);
    if (!ref) return;
    this.#p.observer?.watched(accountId);
    // Closures per account are inline arguments, not named constants: tsx keeps names by wrapping each
    // named closure's creation in a defineProperty, a cost per account at a fleet's start or recovery.
    const subscription = ref.subscribe({
      next: (snapshot: AccountSnapshot) => this.#onSnapshot(accountId, snapshot),
      error: (error: unknown) => this.#restart(accountId, error),
    });
    this.#subscriptions.set(accountId, subscription);
    this.#onSnapshot(accountId, ref.getSnapshot());
  }

  #onSnapshot(accountId: string, snapshot: AccountSnapshot): void {
    if (snapshot.status === 'active') this.#lastGood.set(accountId, snapshot);
    this.#p.records.noteState(accountId, topState(snapshot.value), snapshot.context, statePath(snapshot.value));
    this.#maybePersist(accountId, snapshot);
    this.#p.observer?.snapshot(accountId, snapshot);
  }

  /** Saves the persisted snapshot when something that must survive a restart changed. */
  #maybePersist(accountId: string, snapshot: AccountSnapshot): void {
    const c = snapshot.context;
    // Context updates are immutable, so identity tells what changed; the state value is compared as text.
    const key = [JSON.stringify(snapshot.value), c.reduction, c.stopouts, c.orderSeq, c.orders, c.settings.riskLimits];
    const last = this.#persistKey.get(accountId);
    if (last?.every((v, i) => v === key[i])) return;
    this.#persistKey.set(accountId, key);
    const persisted = persistedAccountSnapshot(snapshot);
    const hashes = this.#orderHashes.get(accountId);
    const orderHashes = Object.fromEntries(Object.keys(c.orders).flatMap((id) => (hashes?.get(id) ? [[id, hashes.get(id)!]] : [])));
    this.#p.persist?.(accountId, { snapshot: persisted, orderHashes });
  }

  #restart(accountId: string, error: unknown): void {
    const last = this.#lastGood.get(accountId);
    if (last === undefined) {
      this.#p.outlet.report(`account ${accountId} failed before any snapshot was saved: ${String(error)}`);
      return;
    }
    // A copy through JSON, as a successor would read it from the store: the restored actor shares nothing with the failed one.
    const persisted: unknown = JSON.parse(JSON.stringify(persistedAccountSnapshot(last)));
    this.#p.send({ type: 'CHILD_FAILED', accountId, error: String(error), input: { persisted: persisted as Snapshot<unknown> } });
    this.#watchAccount(accountId);
  }

  #route(accountId: string, event: AccountEvent): void {
    this.#p.send({ type: 'ROUTE', accountId, event });
  }
}

/** The orders a persisted account awaits, read from its checked snapshot before the account is spawned. */
function savedOrders(snapshot: Snapshot<unknown>): WorkingOrder[] {
  const context = (snapshot as unknown as { context: AccountContext }).context;
  return Object.values(context.orders);
}

/** Whether an open order on the venue is the saved order whose hash was never saved. */
function sameOrder(open: TrackedOrder, saved: WorkingOrder): boolean {
  return open.symbol === saved.intent.symbol && open.side === saved.intent.side && dec(open.amount).eq(saved.intent.amount);
}
