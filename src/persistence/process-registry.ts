import { createHash } from 'node:crypto';
import type { RedisConnection } from '../redis/connection.ts';
import { scanKeys } from '../redis/scan-keys.ts';

/**
 * Which supervisor processes are alive: each refreshes a heartbeat key `<prefix>:process:<owner>` that
 * expires after the lease TTL, so a dead process drops out of the list as soon as its leases would.
 */
export interface ProcessRegistry {
  heartbeat(): Promise<void>;
  /** Owner ids of the live processes, sorted (this one included). */
  live(): Promise<string[]>;
  leave(): Promise<void>;
}

export class MemoryProcessRegistry implements ProcessRegistry {
  readonly #owner: string;

  constructor(owner: string) {
    this.#owner = owner;
  }

  async heartbeat(): Promise<void> {}

  async live(): Promise<string[]> {
    return [this.#owner];
  }

  async leave(): Promise<void> {}
}

export class RedisProcessRegistry implements ProcessRegistry {
  readonly #client: RedisConnection;
  readonly #prefix: string;
  readonly #owner: string;
  readonly #ttlMs: number;

  constructor(options: { client: RedisConnection; prefix: string; owner: string; ttlMs: number }) {
    this.#client = options.client;
    this.#prefix = options.prefix;
    this.#owner = options.owner;
    this.#ttlMs = options.ttlMs;
  }

  async heartbeat(): Promise<void> {
    await this.#client.set(`${this.#prefix}:process:${this.#owner}`, String(Date.now()), 'PX', this.#ttlMs);
  }

  async live(): Promise<string[]> {
    const keys = await scanKeys(this.#client, `${this.#prefix}:process:*`);
    const owners = keys.map((key) => key.slice(`${this.#prefix}:process:`.length));
    if (!owners.includes(this.#owner)) owners.push(this.#owner);
    return owners.sort();
  }

  async leave(): Promise<void> {
    await this.#client.del(`${this.#prefix}:process:${this.#owner}`);
  }
}

/**
 * Rendezvous (highest random weight) hashing: every process computes the same preferred owner of each
 * account from the same list of live processes, and when one dies only its accounts move.
 */
export function preferredOwner(accountId: string, owners: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestWeight = '';
  for (const owner of owners) {
    const weight = createHash('sha256').update(`${owner}\u0000${accountId}`).digest('hex');
    if (best === undefined || weight > bestWeight) {
      best = owner;
      bestWeight = weight;
    }
  }
  return best;
}
