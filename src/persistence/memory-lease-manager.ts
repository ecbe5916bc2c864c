import { defaultOwnerId, emptyRenewOutcome, type LeaseManager, type RenewOutcome, type TenureStart } from './lease-manager.ts';

export interface MemoryLeaseManagerOptions {
  ownerId?: string;
  /** Only paces a LeaseKeeper; memory leases never expire. */
  ttlMs?: number;
}

/** Leases for a single process (the embedded default): every acquire succeeds, nothing is ever lost. */
export class MemoryLeaseManager implements LeaseManager {
  readonly ownerId: string;
  readonly ttlMs: number;
  readonly #owned = new Map<string, number>();
  readonly #epochs = new Map<string, number>();
  readonly #starts = new Map<string, TenureStart>();

  constructor(options: MemoryLeaseManagerOptions = {}) {
    this.ownerId = options.ownerId ?? defaultOwnerId();
    this.ttlMs = options.ttlMs ?? 10_000;
  }

  async acquire(accountId: string): Promise<boolean> {
    if (this.#owned.has(accountId)) return true;
    const previous = this.#epochs.get(accountId);
    const epoch = (previous ?? 0) + 1;
    this.#epochs.set(accountId, epoch);
    // One process, and memory leases never expire: a later tenure always follows a release.
    this.#starts.set(accountId, previous === undefined ? 'fresh' : 'after-release');
    this.#owned.set(accountId, epoch);
    return true;
  }

  async renewAll(): Promise<RenewOutcome> {
    return emptyRenewOutcome();
  }

  uncertain(): boolean {
    return false;
  }

  async release(accountId: string): Promise<void> {
    this.#owned.delete(accountId);
  }

  owned(): string[] {
    return [...this.#owned.keys()];
  }

  async owner(accountId: string): Promise<string | null> {
    return this.#owned.has(accountId) ? this.ownerId : null;
  }

  epoch(accountId: string): number | undefined {
    return this.#owned.get(accountId);
  }

  tenureStart(accountId: string): TenureStart | undefined {
    return this.#owned.has(accountId) ? this.#starts.get(accountId) : undefined;
  }

  retryAfterMs(): undefined {
    return undefined;
  }
}
