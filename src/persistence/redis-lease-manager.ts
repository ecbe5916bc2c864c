import type { RedisConnection } from '../redis/connection.ts';
import { LuaScript } from '../redis/lua-script.ts';
import { defaultOwnerId, emptyRenewOutcome, type LeaseManager, type RenewOutcome, type TenureStart } from './lease-manager.ts';
import { accountKey, DEFAULT_PREFIX, groupByAccount, type GroupOf } from './persistence-keys.ts';

/**
 * KEYS[1] lease, KEYS[2] lease-epoch, KEYS[3] lease-released (same hash tag, same slot); ARGV[1] owner, ARGV[2] ttl ms.
 * Free (or already ours — we lost track of it locally): take it for ttl and start a new tenure with the
 * next epoch → {epoch, 0, start}; `start` says how the previous tenure ended: 0 there was none, 1 released
 * (lease-released holds its epoch) or our own, 2 it expired unreleased — its holder may still be running the
 * account, cut off from Redis. Held by another owner → {0, its remaining ms, 0} (-1: no expiry, -2: just went).
 */
const ACQUIRE = new LuaScript(`
local current = redis.call('GET', KEYS[1])
if current == false or current == ARGV[1] then
  local previous = redis.call('GET', KEYS[2])
  local start = 0
  if previous ~= false then
    start = 1
    if current == false and redis.call('GET', KEYS[3]) ~= previous then start = 2 end
  end
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return {redis.call('INCR', KEYS[2]), 0, start}
end
return {0, redis.call('PTTL', KEYS[1]), 0}
`);

/**
 * Re-validates a lease: KEYS[1] lease, KEYS[2] lease-epoch; ARGV[1] owner, ARGV[2] ttl ms, ARGV[3] our epoch.
 * Ours → extended, 1. Held by another → 0 (lost). Expired but the epoch is still ours: nobody acquired it
 * since (every acquire INCRs the epoch), so it is taken back in the same tenure → 1. The epoch gone (or
 * below ours): Redis lost its data; the lease and our epoch are written back → 2. A higher epoch: another
 * process held it meanwhile → 0.
 */
const RENEW = new LuaScript(`
local current = redis.call('GET', KEYS[1])
if current == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if current ~= false then return 0 end
local epoch = redis.call('GET', KEYS[2])
if epoch == ARGV[3] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
if epoch == false or tonumber(epoch) == nil or tonumber(epoch) < tonumber(ARGV[3]) then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  redis.call('SET', KEYS[2], ARGV[3])
  return 2
end
return 0
`);

/**
 * Deletes the lease only while it is still ours, and records its epoch in KEYS[3] (lease-released): the next
 * acquirer knows this tenure ended cleanly, not by expiry. KEYS[2] lease-epoch.
 */
const RELEASE = new LuaScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  local epoch = redis.call('GET', KEYS[2])
  if epoch ~= false then redis.call('SET', KEYS[3], epoch) end
  return redis.call('DEL', KEYS[1])
end
return 0
`);

const TENURE_STARTS: readonly TenureStart[] = ['fresh', 'after-release', 'after-expiry'];

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
  /** Past the deadline without an answer from Redis: still ours as far as anyone here knows, not confirmed. */
  uncertain: boolean;
  /** How this tenure began. */
  start: TenureStart;
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

  /** `<prefix>:lease-released:{<group>}:<accountId>`: the epoch of the last tenure that was released cleanly. */
  releasedKey(accountId: string): string {
    return accountKey(this.#prefix, 'lease-released', this.#groupOf, accountId);
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

  async renewAll(): Promise<RenewOutcome> {
    const outcome = emptyRenewOutcome();
    await Promise.all(
      [...this.#held].map(async ([accountId, held]) => {
        const sentAt = this.#now();
        let answer: unknown;
        try {
          answer = await RENEW.run(
            this.#client,
            [this.leaseKey(accountId), this.epochKey(accountId)],
            [this.ownerId, this.ttlMs, held.epoch],
          );
        } catch (error) {
          this.#onError(error, accountId);
          // No answer: ours until the local deadline; after it uncertain, never lost on silence alone —
          // stopping the account would stop its de-risking while nobody else is known to run it.
          if (this.#now() >= held.validUntil && !held.uncertain && this.#held.get(accountId) === held) {
            held.uncertain = true;
            outcome.uncertain.push(accountId);
          }
          return;
        }
        // Released or re-acquired meanwhile: that newer state wins.
        if (this.#held.get(accountId) !== held) return;
        if (answer === 1 || answer === 2) {
          held.validUntil = sentAt + this.ttlMs;
          if (held.uncertain) outcome.confirmed.push(accountId);
          held.uncertain = false;
          if (answer === 2) outcome.reasserted.push(accountId);
        } else {
          this.#held.delete(accountId);
          outcome.lost.push(accountId);
        }
      }),
    );
    for (const list of Object.values(outcome)) list.sort();
    return outcome;
  }

  uncertain(accountId: string): boolean {
    return this.#held.get(accountId)?.uncertain ?? false;
  }

  async release(accountId: string): Promise<void> {
    this.#held.delete(accountId);
    await RELEASE.run(this.#client, [this.leaseKey(accountId), this.epochKey(accountId), this.releasedKey(accountId)], [this.ownerId]);
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

  tenureStart(accountId: string): TenureStart | undefined {
    return this.#held.get(accountId)?.start;
  }

  retryAfterMs(accountId: string): number | undefined {
    return this.#retryAfter.get(accountId);
  }

  async #acquire(accountId: string): Promise<boolean> {
    const keys = [this.leaseKey(accountId), this.epochKey(accountId), this.releasedKey(accountId)];
    const sentAt = this.#now();
    const reply = await ACQUIRE.run(this.#client, keys, [this.ownerId, this.ttlMs]);
    const [epoch, leftMs, start] = parseAcquireReply(keys[0] ?? '', reply);
    if (epoch > 0) {
      this.#retryAfter.delete(accountId);
      this.#held.set(accountId, { epoch, validUntil: sentAt + this.ttlMs, uncertain: false, start });
      return true;
    }
    if (leftMs >= 0) this.#retryAfter.set(accountId, leftMs);
    else if (leftMs === -2) this.#retryAfter.set(accountId, 0);
    else this.#retryAfter.delete(accountId);
    return false;
  }
}

function parseAcquireReply(key: string, reply: unknown): [epoch: number, leftMs: number, start: TenureStart] {
  if (Array.isArray(reply) && reply.length === 3 && reply.every((n) => Number.isSafeInteger(n))) {
    const start = TENURE_STARTS[reply[2] as number];
    if (start !== undefined) return [reply[0] as number, reply[1] as number, start];
  }
  throw new Error(`lease acquire script for ${key}: expected [epoch, pttl, start 0..2], got ${JSON.stringify(reply)}`);
}
