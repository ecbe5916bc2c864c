import { VersionCounter } from '../persistence/fencing.ts';
import { LeaseKeeper } from '../persistence/lease-keeper.ts';
import type { LeaseManager } from '../persistence/lease-manager.ts';
import type { SnapshotStore } from '../persistence/snapshot-store.ts';
import { preferredOwner, type ProcessRegistry } from '../persistence/process-registry.ts';
import type { LedgerState } from '../domain/ledger.ts';
import type { FleetRuntime, PersistedAccount } from './fleet-runtime.ts';
import { loadForTakeover } from './account-takeover.ts';

export interface FleetOwnershipOptions {
  runtime: FleetRuntime;
  leases: LeaseManager;
  snapshots: SnapshotStore;
  /** The live supervisor processes: accounts are spread over them by rendezvous hashing. */
  registry: ProcessRegistry;
  /** Every account of the fleet: this process runs those whose lease it holds. */
  accounts: () => string[];
  /** The venue's view of an account now (bootstrapped ledger), and its deposit for a fresh start. */
  ledgerOf: (accountId: string) => LedgerState | undefined;
  collateralOf: (accountId: string) => string;
  marks: () => Record<string, string>;
  now: () => number;
  report: (message: string) => void;
  /** Told when this process takes or gives up an account. */
  onChange?: (accountId: string, owned: boolean) => void;
  /**
   * Told when an owned account's ownership turns uncertain (Redis cannot confirm its lease: the account keeps
   * running here, one other process may believe it runs it too) and when it is certain again.
   */
  onUncertain?: (accountId: string, uncertain: boolean) => void;
  /** Told when Redis came back without an account's lease and epoch (data loss): an alert, with its message. */
  onDataLoss?: (accountId: string, message: string) => void;
}

/**
 * One owner per account across processes: this process runs an account while it holds its lease, saves
 * the account's snapshot on every transition under a fenced version, and when it takes an account over
 * (a process died, its lease expired) resumes it from the last snapshot — same state, same stopouts, the
 * awaited order reclaimed from the venue rather than sent again.
 */
export class FleetOwnership {
  readonly keeper: LeaseKeeper;
  readonly #o: FleetOwnershipOptions;
  readonly #versions = new Map<string, VersionCounter>();
  readonly #starting = new Map<string, Promise<void>>();
  #live: string[];
  #timer: NodeJS.Timeout | undefined;
  #handingOver = new Set<string>();
  /** The last snapshot saved per owned account: written again when Redis lost it. */
  readonly #lastSaved = new Map<string, PersistedAccount>();
  /** Owned accounts whose lease Redis cannot confirm now. */
  readonly #uncertain = new Set<string>();
  /**
   * Owned accounts taken over after the previous holder's lease EXPIRED (it may still run them, cut off from
   * Redis), with when their quiet window began: ownership stays uncertain until the venue has shown no order of
   * theirs that this process did not send for one lease ttl.
   */
  readonly #unsettled = new Map<string, number>();
  /** When the venue last showed an order of the account that this process did not send (any account). */
  readonly #lastForeign = new Map<string, number>();
  /** Accounts last told `OWNERSHIP uncertain: true`. */
  readonly #told = new Set<string>();
  /** Processes live before a registry outage and not listed since it ended, with when that was first seen. */
  readonly #missingSince = new Map<string, number>();
  #registryDown = false;
  #lastLeaseError: string | undefined;

  constructor(options: FleetOwnershipOptions) {
    this.#o = options;
    this.#live = [options.leases.ownerId];
    // Only the accounts that rendezvous hashing gives this process among the live ones; when a process
    // dies its heartbeat expires with its leases, and its accounts fall to the others.
    this.keeper = new LeaseKeeper({
      leases: options.leases,
      accounts: () =>
        options.accounts().filter((id) => preferredOwner(id, this.#live) === options.leases.ownerId && !this.#handingOver.has(id)),
    });
    this.keeper.on('acquired', (accountId) => this.#acquired(accountId));
    this.keeper.on('lost', (accountId) => this.#lost(accountId));
    this.keeper.on('uncertain', (accountId) => this.#setUncertain(accountId, true));
    this.keeper.on('confirmed', (accountId) => this.#setUncertain(accountId, false));
    this.keeper.on('reasserted', (accountId) => this.#reasserted(accountId));
    options.runtime.onForeignOrder((notice) => this.foreignOrder(notice.strategyId));
    this.keeper.on('error', (error) => {
      // Every round repeats the same error while Redis is away: report it once per outage.
      const message = `lease: ${error instanceof Error ? error.message : String(error)}`;
      if (message === this.#lastLeaseError) return;
      this.#lastLeaseError = message;
      options.report(message);
    });
  }

  /**
   * Owned accounts whose ownership is uncertain now (they keep running here, reductions capped): the lease
   * cannot be confirmed, or the account was taken over after an expiry and its quiet window has not passed.
   */
  uncertainAccounts(): string[] {
    return [...this.#told].sort();
  }

  /**
   * The venue showed an order of the account that this process did not send (the VenueClient's `foreign-order`):
   * another process may be running it. A takeover's quiet window starts again.
   */
  foreignOrder(accountId: string): void {
    this.#lastForeign.set(accountId, this.#o.now());
  }

  /** Joins the live processes, then keeps leases and the balance of accounts until `stop`. */
  async start(): Promise<void> {
    await this.#refreshLive();
    this.keeper.start();
    const every = Math.max(100, Math.floor(this.#o.leases.ttlMs / 3));
    this.#timer = setInterval(() => {
      this.#settle();
      void this.#refreshLive().then(() => this.#rebalance());
    }, every);
  }

  async #refreshLive(): Promise<void> {
    let listed: string[];
    try {
      await this.#o.registry.heartbeat();
      listed = await this.#o.registry.live();
    } catch (error) {
      if (!this.#registryDown) this.#o.report(`process registry: ${(error as Error).message}`);
      this.#registryDown = true;
      return;
    }
    const now = this.#o.now();
    if (this.#registryDown) {
      // Back from an outage (maybe an empty Redis): the others have not heartbeated yet. Keep them live for a
      // ttl, or this process would take their accounts while they are re-validating their leases.
      this.#registryDown = false;
      this.#lastLeaseError = undefined;
      for (const owner of this.#live) if (!listed.includes(owner)) this.#missingSince.set(owner, now);
    }
    for (const owner of listed) this.#missingSince.delete(owner);
    for (const [owner, since] of this.#missingSince) if (now - since >= this.#o.leases.ttlMs) this.#missingSince.delete(owner);
    this.#live = [...new Set([...listed, ...this.#missingSince.keys()])].sort();
  }

  /** Hands an account to its preferred process when that process is alive (a process joined). */
  async #rebalance(): Promise<void> {
    for (const accountId of this.#o.leases.owned()) {
      const preferred = preferredOwner(accountId, this.#live);
      if (preferred === undefined || preferred === this.#o.leases.ownerId || this.#handingOver.has(accountId)) continue;
      this.#handingOver.add(accountId);
      try {
        this.#versions.delete(accountId);
        this.#lastSaved.delete(accountId);
        this.#forget(accountId);
        this.#o.runtime.removeAccount(accountId);
        await this.#o.snapshots.flush();
        await this.#o.leases.release(accountId);
        this.#o.onChange?.(accountId, false);
      } catch (error) {
        this.#o.report(`handing ${accountId} over to ${preferred} failed: ${(error as Error).message}`);
      } finally {
        this.#handingOver.delete(accountId);
      }
    }
  }

  /** Saves an account's snapshot (the runtime's `persist` callback). */
  persist(accountId: string, persisted: PersistedAccount): void {
    const versions = this.#versions.get(accountId);
    if (!versions) return; // not (or no longer) ours: an old owner must not write
    this.#lastSaved.set(accountId, persisted);
    this.#o.snapshots
      .save(accountId, persisted, { owner: this.#o.leases.ownerId, at: this.#o.now(), version: versions.next() })
      .catch((error: Error) => this.#o.report(`saving the snapshot of ${accountId} failed: ${error.message}`));
  }

  /** Stops running an account that left the fleet: actor stopped, last snapshot written, lease released. */
  async drop(accountId: string): Promise<void> {
    await this.#starting.get(accountId);
    if (!this.#o.leases.owned().includes(accountId)) return;
    this.#versions.delete(accountId);
    this.#lastSaved.delete(accountId);
    this.#forget(accountId);
    this.#o.runtime.removeAccount(accountId);
    await this.#o.snapshots.flush().catch((error: Error) => this.#o.report(`flushing snapshots failed: ${error.message}`));
    await this.#o.leases.release(accountId).catch(() => {});
    this.#o.onChange?.(accountId, false);
  }

  /** Takes the accounts this process should run now (a reload added some), instead of at the next round. */
  async acquireNow(): Promise<void> {
    await this.keeper.acquireNow();
    await Promise.allSettled([...this.#starting.values()]);
  }

  /** Graceful stop: last snapshots written, leases released so others take over at once. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await Promise.allSettled(this.#starting.values());
    await this.keeper.stop();
    await this.#o.registry.leave().catch(() => {});
    await this.#o.snapshots.flush().catch((error: Error) => this.#o.report(`flushing snapshots failed: ${error.message}`));
    for (const accountId of this.#o.leases.owned()) await this.#o.leases.release(accountId).catch(() => {});
  }

  #acquired(accountId: string): void {
    const starting = this.#start(accountId)
      .catch((error: Error) => {
        this.#o.report(`taking over ${accountId} failed: ${error.message}; releasing it`);
        this.#versions.delete(accountId);
        this.#forget(accountId);
        return this.#o.leases.release(accountId).catch(() => {});
      })
      .finally(() => this.#starting.delete(accountId));
    this.#starting.set(accountId, starting);
  }

  async #start(accountId: string): Promise<void> {
    const epoch = this.#o.leases.epoch(accountId);
    if (epoch === undefined) throw new Error(`no lease epoch for ${accountId}`);
    // A snapshot that cannot be resumed (issue 12, failures 4 and 5) is refused, reported and replaced by a fresh start.
    const stored = await loadForTakeover(this.#o.snapshots, accountId);
    if (stored.kind === 'fresh' && stored.refusal) this.#o.report(stored.refusal);
    this.#versions.set(accountId, new VersionCounter(accountId, epoch, stored.version));
    // Taken over after an expiry: the previous holder may be alive and cut off from Redis, reducing too. This
    // account starts with ownership uncertain (halves only), so that the two together cannot flip it.
    const afterExpiry = this.#o.leases.tenureStart(accountId) === 'after-expiry';
    if (afterExpiry) this.#unsettled.set(accountId, this.#o.now());
    this.#o.runtime.spawnOwnership(accountId, afterExpiry || this.#uncertain.has(accountId));
    if (stored.kind === 'resume') {
      await this.#o.runtime.resumeAccount(accountId, stored.persisted, this.#o.ledgerOf(accountId));
    } else {
      // A first start reconciles with the venue too: orders left open there are cancelled before it acts.
      const ledger = this.#o.ledgerOf(accountId);
      await this.#o.runtime.startAccount(accountId, {
        collateral: this.#o.collateralOf(accountId),
        marks: this.#o.marks(),
        ...(ledger ? { ledger } : {}),
      });
    }
    if (afterExpiry && this.#unsettled.has(accountId)) {
      this.#o.report(
        `took ${accountId} over after the lease of its previous holder expired (epoch ${epoch - 1}): ownership uncertain ` +
          `(reductions at most half the position) until the venue shows no order of it from elsewhere for ${this.#o.leases.ttlMs} ms`,
      );
    }
    this.#publish(accountId);
    // Told while it was still reconciling (its lease turned uncertain), before it was spawned: tell it again.
    if (this.#told.has(accountId))
      this.#o.runtime.supervisor.send({ type: 'ROUTE', accountId, event: { type: 'OWNERSHIP', uncertain: true } });
    this.#o.onChange?.(accountId, true);
  }

  /** Ends the quiet windows that passed (on the ownership's timer, measured on `now`). */
  #settle(): void {
    const now = this.#o.now();
    for (const [accountId, since] of this.#unsettled) {
      const quietSince = Math.max(since, this.#lastForeign.get(accountId) ?? since);
      if (now - quietSince < this.#o.leases.ttlMs) continue;
      this.#unsettled.delete(accountId);
      this.#o.report(`${accountId}: no order from elsewhere on the venue for ${this.#o.leases.ttlMs} ms since the takeover`);
      this.#publish(accountId);
    }
  }

  /** Tells the account (and `onUncertain`) when its ownership changed between certain and uncertain. */
  #publish(accountId: string): void {
    if (this.#versions.get(accountId) === undefined) return; // not (or no longer) ours
    const uncertain = this.#uncertain.has(accountId) || this.#unsettled.has(accountId);
    if (uncertain === this.#told.has(accountId)) return;
    if (uncertain) this.#told.add(accountId);
    else this.#told.delete(accountId);
    // The account sizes its reductions by it: at most half the position while another process may send the same order.
    this.#o.runtime.supervisor.send({ type: 'ROUTE', accountId, event: { type: 'OWNERSHIP', uncertain } });
    this.#o.onUncertain?.(accountId, uncertain);
  }

  /** Drops what is known about an account's ownership; true when it was uncertain. */
  #forget(accountId: string): boolean {
    this.#uncertain.delete(accountId);
    this.#unsettled.delete(accountId);
    return this.#told.delete(accountId);
  }

  #setUncertain(accountId: string, uncertain: boolean): void {
    if (uncertain === this.#uncertain.has(accountId)) return;
    if (uncertain) {
      this.#uncertain.add(accountId);
      this.#o.report(
        `the lease of ${accountId} cannot be confirmed (Redis unreachable): still supervising it here with ownership uncertain ` +
          '(entries refused, de-risking goes on) until Redis answers',
      );
    } else {
      this.#uncertain.delete(accountId);
      this.#o.report(
        this.#unsettled.has(accountId)
          ? `the lease of ${accountId} is confirmed again; ownership stays uncertain until its takeover's quiet window passes`
          : `the lease of ${accountId} is confirmed again: ownership certain`,
      );
    }
    this.#publish(accountId);
  }

  /** Redis lost the lease with its epoch: the tenure goes on; the account's snapshot (its drawdown history) is written back. */
  #reasserted(accountId: string): void {
    const message =
      `DATA LOSS: Redis came back without the lease and epoch of ${accountId}; both written back under epoch ` +
      `${this.#o.leases.epoch(accountId)}, and the account's last snapshot with them`;
    this.#o.report(message);
    this.#o.onDataLoss?.(accountId, message);
    const last = this.#lastSaved.get(accountId);
    if (last) this.persist(accountId, last);
  }

  #lost(accountId: string): void {
    this.#lastSaved.delete(accountId);
    if (this.#forget(accountId)) this.#o.onUncertain?.(accountId, false);
    this.#versions.delete(accountId);
    this.#o.runtime.removeAccount(accountId);
    this.#o.report(`lost the lease of ${accountId}: another process runs it now`);
    this.#o.onChange?.(accountId, false);
  }
}
