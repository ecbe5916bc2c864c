import { VersionCounter } from '../persistence/fencing.ts';
import { LeaseKeeper } from '../persistence/lease-keeper.ts';
import type { LeaseManager } from '../persistence/lease-manager.ts';
import type { SnapshotStore } from '../persistence/snapshot-store.ts';
import type { LedgerState } from '../domain/ledger.ts';
import type { FleetRuntime, PersistedAccount } from './fleet-runtime.ts';

export interface FleetOwnershipOptions {
  runtime: FleetRuntime;
  leases: LeaseManager;
  snapshots: SnapshotStore;
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

  constructor(options: FleetOwnershipOptions) {
    this.#o = options;
    this.keeper = new LeaseKeeper({ leases: options.leases, accounts: options.accounts });
    this.keeper.on('acquired', (accountId) => this.#acquired(accountId));
    this.keeper.on('lost', (accountId) => this.#lost(accountId));
    this.keeper.on('error', (error) => options.report(`lease: ${error instanceof Error ? error.message : String(error)}`));
  }

  start(): void {
    this.keeper.start();
  }

  /** Saves an account's snapshot (the runtime's `persist` callback). */
  persist(accountId: string, persisted: PersistedAccount): void {
    const versions = this.#versions.get(accountId);
    if (!versions) return; // not (or no longer) ours: an old owner must not write
    this.#o.snapshots
      .save(accountId, persisted, { owner: this.#o.leases.ownerId, at: this.#o.now(), version: versions.next() })
      .catch((error: Error) => this.#o.report(`saving the snapshot of ${accountId} failed: ${error.message}`));
  }

  /** Graceful stop: last snapshots written, leases released so others take over at once. */
  async stop(): Promise<void> {
    await Promise.allSettled(this.#starting.values());
    await this.keeper.stop();
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
      this.#o.runtime.addAccount(accountId, { collateral: this.#o.collateralOf(accountId), marks: this.#o.marks(), ...(ledger ? { ledger } : {}) });
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
