import type { RedisConnection } from '../redis/connection.ts';
import { LuaScript } from '../redis/lua-script.ts';
import { defaultOwnerId, type LeaseManager } from './lease-manager.ts';
import { accountKey, DEFAULT_PREFIX, groupByAccount, type GroupOf } from './persistence-keys.ts';

/**
 * KEYS[1] lease, KEYS[2] lease-epoch (same hash tag, same slot); ARGV[1] owner, ARGV[2] ttl ms.
 * Free (or already ours — we lost track of it locally): take it for ttl and start a new tenure with the
 * next epoch → {epoch, 0}. Held by another owner → {0, its remaining ms} (-1: no expiry, -2: just went).
 */
const ACQUIRE = new LuaScript(`
local current = redis.call('GET', KEYS[1])
if current == false or current == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return {redis.call('INCR', KEYS[2]), 0}
end
return {0, redis.call('PTTL', KEYS[1])}
`);

/** Extends the lease only while it is still ours: 1 renewed, 0 lost (expired or taken over). */
const RENEW = new LuaScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`);

/** Deletes the lease only while it is still ours. */
const RELEASE = new LuaScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`);

export interface RedisLeaseManagerOptions {
  client: RedisConnection;
  ttlMs: number;
  /** Key prefix, `riskwarden` by default. */
  prefix?: string;
  /** The hash tag of an account's keys (its portfolio id); the same function as the snapshot store's. */
  groupOf?: GroupOf;
  /** Defaults to `${hostname}:${pid}:${random}`. */
  ownerId?: string;
  /** Monotonic milliseconds for local lease deadlines (default `performance.now`). */
  now?: () => number;
  /** Told about renewals that failed for a reason other than losing the lease (e.g. Redis unreachable). */
  onError?: (error: unknown, accountId: string) => void;
}

interface Held {
  epoch: number;
  /**
   * Local deadline: when the last successful acquire/renew was *sent*, plus ttl. Redis started the ttl
   * later than that, so while we are before this deadline the lease is certainly still ours.
   */
  validUntil: number;
}

/** Leases at `<prefix>:lease:{<group>}:<accountId>` holding the owner id, with a PX ttl. */
export class RedisLeaseManager implements LeaseManager {
  readonly ownerId: string;
  readonly ttlMs: number;
  readonly #client: RedisConnection;
  readonly #prefix: string;
  readonly #groupOf: GroupOf;
  readonly #now: () => number;
  readonly #onError: (error: unknown, accountId: string) => void;
  readonly #held = new Map<string, Held>();
  readonly #acquiring = new Map<string, Promise<boolean>>();
  readonly #retryAfter = new Map<string, number>();

  constructor(options: RedisLeaseManagerOptions) {
    if (!Number.isSafeInteger(options.ttlMs) || options.ttlMs < 3)
      throw new Error(`ttlMs: expected a whole number of milliseconds ≥ 3, got ${options.ttlMs}`);
    this.#client = options.client;
    this.ttlMs = options.ttlMs;
    this.#prefix = options.prefix ?? DEFAULT_PREFIX;
    this.#groupOf = options.groupOf ?? groupByAccount;
    this.ownerId = options.ownerId ?? defaultOwnerId();
    this.#now = options.now ?? (() => performance.now());
    this.#onError = options.onError ?? (() => {});
  }

  leaseKey(accountId: string): string {
    return accountKey(this.#prefix, 'lease', this.#groupOf, accountId);
  }

  epochKey(accountId: string): string {
    return accountKey(this.#prefix, 'lease-epoch', this.#groupOf, accountId);
  }

  acquire(accountId: string): Promise<boolean> {
    if (this.#held.has(accountId)) return Promise.resolve(true);
    // One attempt at a time per account: a second INCR would silently start another tenure.
    let attempt = this.#acquiring.get(accountId);
    if (!attempt) {
      attempt = this.#acquire(accountId).finally(() => this.#acquiring.delete(accountId));
      this.#acquiring.set(accountId, attempt);
    }
    return attempt;
  }

  async renewAll(): Promise<string[]> {
    const lost: string[] = [];
    await Promise.all(
      [...this.#held].map(async ([accountId, held]) => {
        const sentAt = this.#now();
        let renewed: boolean;
        try {
          renewed = (await RENEW.run(this.#client, [this.leaseKey(accountId)], [this.ownerId, this.ttlMs])) === 1;
        } catch (error) {
          this.#onError(error, accountId);
          // Unknown outcome: ours until the local deadline, lost after it.
          renewed = false;
          if (this.#now() < held.validUntil) return;
        }
        // Released or re-acquired meanwhile: that newer state wins.
        if (this.#held.get(accountId) !== held) return;
        if (renewed) {
          held.validUntil = sentAt + this.ttlMs;
        } else {
          this.#held.delete(accountId);
          lost.push(accountId);
        }
      }),
    );
    return lost.sort();
  }

  async release(accountId: string): Promise<void> {
    this.#held.delete(accountId);
    await RELEASE.run(this.#client, [this.leaseKey(accountId)], [this.ownerId]);
  }

  owned(): string[] {
    return [...this.#held.keys()];
  }

  owner(accountId: string): Promise<string | null> {
    return this.#client.get(this.leaseKey(accountId));
  }

  epoch(accountId: string): number | undefined {
    return this.#held.get(accountId)?.epoch;
  }

  retryAfterMs(accountId: string): number | undefined {
    return this.#retryAfter.get(accountId);
  }

  async #acquire(accountId: string): Promise<boolean> {
    const keys = [this.leaseKey(accountId), this.epochKey(accountId)];
    const sentAt = this.#now();
    const reply = await ACQUIRE.run(this.#client, keys, [this.ownerId, this.ttlMs]);
    const [epoch, leftMs] = parseAcquireReply(keys[0] ?? '', reply);
    if (epoch > 0) {
      this.#retryAfter.delete(accountId);
      this.#held.set(accountId, { epoch, validUntil: sentAt + this.ttlMs });
      return true;
    }
    if (leftMs >= 0) this.#retryAfter.set(accountId, leftMs);
    else if (leftMs === -2) this.#retryAfter.set(accountId, 0);
    else this.#retryAfter.delete(accountId);
    return false;
  }
}

function parseAcquireReply(key: string, reply: unknown): [epoch: number, leftMs: number] {
  if (Array.isArray(reply) && reply.length === 2 && reply.every((n) => Number.isSafeInteger(n)))
    return [reply[0] as number, reply[1] as number];
  throw new Error(`lease acquire script for ${key}: expected [epoch, pttl], got ${JSON.stringify(reply)}`);
}
