import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/**
 * Per-account ownership: at most one supervisor process runs an account at a time. The owner renews its
 * leases well before they expire; a process that dies stops renewing, its leases expire, and another
 * process acquires them (with a new fencing epoch, see fencing.ts).
 */
export interface LeaseManager {
  /** This process's owner id, as stored in the lease keys. */
  readonly ownerId: string;
  /** How long a lease lives without renewal. */
  readonly ttlMs: number;
  /** Takes the account's lease if nobody (else) holds it. True when this process now owns it. */
  acquire(accountId: string): Promise<boolean>;
  /**
   * Renews every owned lease. Returns the accounts whose lease was lost (another owner, expired, or not
   * renewable before its local deadline): they are no longer owned and must be stopped locally at once.
   */
  renewAll(): Promise<string[]>;
  /** Gives the lease up (only if still ours) so another process can acquire it at once. */
  release(accountId: string): Promise<void>;
  /** Accounts this process owns. */
  owned(): string[];
  /** The owner id holding the account's lease, if any. */
  owner(accountId: string): Promise<string | null>;
  /** Fencing token of an owned lease (increases with every acquire), undefined when not owned. */
  epoch(accountId: string): number | undefined;
  /**
   * After a failed `acquire`: ms until the other owner's lease expires unless renewed, if known — lets a
   * keeper retry right at expiry instead of on its next round.
   */
  retryAfterMs(accountId: string): number | undefined;
}

/** `${hostname}:${pid}:${random}`: unique per process start, readable in `redis-cli GET`. */
export function defaultOwnerId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
}
