import { VersionCounter } from '../persistence/fencing.ts';
import { LeaseKeeper } from '../persistence/lease-keeper.ts';
import type { LeaseManager } from '../persistence/lease-manager.ts';
import type { SnapshotStore } from '../persistence/snapshot-store.ts';
import { preferredOwner, type ProcessRegistry } from '../persistence/process-registry.ts';
import type { LedgerState } from '../domain/ledger.ts';
import type { FleetRuntime, PersistedAccount } from './fleet-runtime.ts';

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
    this.keeper.on('error', (error) => options.report(`lease: ${error instanceof Error ? error.message : String(error)}`));
  }

  /** Joins the live processes, then keeps leases and the balance of accounts until `stop`. */
  async start(): Promise<void> {
    await this.#refreshLive();
    this.keeper.start();
    const every = Math.max(100, Math.floor(this.#o.leases.ttlMs / 3));
    this.#timer = setInterval(() => void this.#refreshLive().then(() => this.#rebalance()), every);
  }

  async #refreshLive(): Promise<void> {
    try {
      await this.#o.registry.heartbeat();
      this.#live = await this.#o.registry.live();
    } catch (error) {
      this.#o.report(`process registry: ${(error as Error).message}`);
    }
  }

  /** Hands an account to its preferred process when that process is alive (a process joined). */
  async #rebalance(): Promise<void> {
    for (const accountId of this.#o.leases.owned()) {
      const preferred = preferredOwner(accountId, this.#live);
      if (preferred === undefined || preferred === this.#o.leases.ownerId || this.#handingOver.has(accountId)) continue;
      this.#handingOver.add(accountId);
      try {
        this.#versions.delete(accountId);
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
    this.#o.snapshots
      .save(accountId, persisted, { owner: this.#o.leases.ownerId, at: this.#o.now(), version: versions.next() })
      .catch((error: Error) => this.#o.report(`saving the snapshot of ${accountId} failed: ${error.message}`));
  }

  /** Stops running an account that left the fleet: actor stopped, last snapshot written, lease released. */
  async drop(accountId: string): Promise<void> {
    await this.#starting.get(accountId);
    if (!this.#o.leases.owned().includes(accountId)) return;
    this.#versions.delete(accountId);
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
        return this.#o.leases.release(accountId).catch(() => {});
      })
      .finally(() => this.#starting.delete(accountId));
    this.#starting.set(accountId, starting);
  }

  async #start(accountId: string): Promise<void> {
    const epoch = this.#o.leases.epoch(accountId);
    if (epoch === undefined) throw new Error(`no lease epoch for ${accountId}`);
    const stored = await this.#o.snapshots.load(accountId);
    this.#versions.set(accountId, new VersionCounter(accountId, epoch, stored?.meta.version));
    if (stored) {
      await this.#o.runtime.resumeAccount(accountId, stored.snapshot as PersistedAccount, this.#o.ledgerOf(accountId));
    } else {
      const ledger = this.#o.ledgerOf(accountId);
      this.#o.runtime.addAccount(accountId, {
        collateral: this.#o.collateralOf(accountId),
        marks: this.#o.marks(),
        ...(ledger ? { ledger } : {}),
      });
    }
    this.#o.onChange?.(accountId, true);
  }

  #lost(accountId: string): void {
    this.#versions.delete(accountId);
    this.#o.runtime.removeAccount(accountId);
    this.#o.report(`lost the lease of ${accountId}: another process runs it now`);
    this.#o.onChange?.(accountId, false);
  }
}
