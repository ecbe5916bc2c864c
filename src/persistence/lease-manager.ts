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
   * Renews (re-validates) every owned lease. `lost`: another process holds it, or held it since (the epoch
   * moved on): no longer owned, stop it locally at once. A lease Redis cannot be asked about past its local
   * deadline is not lost but `uncertain`: still owned (nobody else is known to run it; one other process may
   * believe it does), until a renewal answers — `confirmed`, or `lost`. `reasserted`: the lease and its epoch
   * were gone (Redis came back empty): written back with the same epoch, the tenure goes on (data loss).
   */
  renewAll(): Promise<RenewOutcome>;
  /** True while an owned lease could not be confirmed since its local deadline passed (see renewAll). */
  uncertain(accountId: string): boolean;
  /** Gives the lease up (only if still ours) so another process can acquire it at once. */
  release(accountId: string): Promise<void>;
  /** Accounts this process owns. */
  owned(): string[];
  /** The owner id holding the account's lease, if any. */
  owner(accountId: string): Promise<string | null>;
  /** Fencing token of an owned lease (increases with every acquire), undefined when not owned. */
  epoch(accountId: string): number | undefined;
  /** How the tenure of an owned lease began (see TenureStart), undefined when not owned. */
  tenureStart(accountId: string): TenureStart | undefined;
  /**
   * After a failed `acquire`: ms until the other owner's lease expires unless renewed, if known — lets a
   * keeper retry right at expiry instead of on its next round.
   */
  retryAfterMs(accountId: string): number | undefined;
}

/**
 * How a tenure began. `fresh`: no earlier tenure is known. `after-release`: the previous holder gave the lease
 * up cleanly (stopped, handed over), or it was this owner's own. `after-expiry`: the previous holder's lease ran
 * out unrenewed — it died, or it is cut off from Redis and may still be running the account (ownership is then
 * uncertain until the venue has been quiet for a while, see FleetOwnership).
 */
export type TenureStart = 'fresh' | 'after-release' | 'after-expiry';

/** What one renewal round found; each list sorted. */
export interface RenewOutcome {
  lost: string[];
  /** Became uncertain in this round. */
  uncertain: string[];
  /** Were uncertain, confirmed ours again in this round. */
  confirmed: string[];
  /** Found gone with their epoch (data loss) and written back under the same epoch. */
  reasserted: string[];
}

export function emptyRenewOutcome(): RenewOutcome {
  return { lost: [], uncertain: [], confirmed: [], reasserted: [] };
}

/** `${hostname}:${pid}:${random}`: unique per process start, readable in `redis-cli GET`. */
export function defaultOwnerId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
}
