import { defaultOwnerId, type LeaseManager } from './lease-manager.ts';

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

  constructor(options: MemoryLeaseManagerOptions = {}) {
    this.ownerId = options.ownerId ?? defaultOwnerId();
    this.ttlMs = options.ttlMs ?? 10_000;
  }

  async acquire(accountId: string): Promise<boolean> {
    if (this.#owned.has(accountId)) return true;
    const epoch = (this.#epochs.get(accountId) ?? 0) + 1;
    this.#epochs.set(accountId, epoch);
    this.#owned.set(accountId, epoch);
    return true;
  }

  async renewAll(): Promise<string[]> {
    return [];
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

  retryAfterMs(): undefined {
    return undefined;
  }
}
