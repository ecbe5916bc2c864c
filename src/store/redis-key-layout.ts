import type { StopoutScope } from '../domain/stopout.ts';

export const DEFAULT_REDIS_PREFIX = 'riskwarden';

/** A key of one of the layout's families, split into its scope (unchecked) and id. */
export interface ParsedScopeKey {
  scope: string;
  id: string;
}

/** Escapes the glob characters of SCAN MATCH. */
function globLiteral(s: string): string {
  return s.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

/**
 * Every key the stopout store reads or writes (docs/redis.md). docs/contracts.md#redis fixes the stopout hash and the
 * events channel; the sequence counter, breach records and start times are this store's. No key carries a
 * hash tag: the contract's stopout key has none, and every operation touches one key only, so a Cluster
 * never needs two of them in one slot.
 */
export class RedisKeyLayout {
  readonly prefix: string;

  constructor(prefix: string = DEFAULT_REDIS_PREFIX) {
    if (prefix === '' || prefix.includes(':'))
      throw new RangeError(`prefix: expected a non-empty prefix without ":", got ${JSON.stringify(prefix)}`);
    this.prefix = prefix;
  }

  /** The pub/sub channel (docs/contracts.md#redis). */
  get events(): string {
    return `${this.prefix}:events`;
  }

  /** INCR counter of stopout sequence numbers; deliberately not under `:stopout:`. */
  get sequence(): string {
    return `${this.prefix}:seq:stopout`;
  }

  /**
   * String: the store's epoch marker, written once when a store is first used and never changed. A process
   * that finds it gone (or different) knows the data was lost (a restart without persistence, FLUSHALL, a
   * failover to an empty replica), not reset: it re-asserts what it holds (docs/contracts.md#redis).
   */
  get epoch(): string {
    return `${this.prefix}:epoch`;
  }

  /** docs/contracts.md#redis: hash, field = reason, value = JSON (stopout-value.ts). */
  stopout(scope: StopoutScope, id: string): string {
    return `${this.prefix}:stopout:${scope}:${id}`;
  }

  /** Hash, field = reason, value = JSON `{message}`; the whole key expires (PEXPIRE) unless refreshed. */
  breach(scope: StopoutScope, id: string): string {
    return `${this.prefix}:breach:${scope}:${id}`;
  }

  /** String: the ISO 8601 startTime moved on that level. */
  startTime(scope: StopoutScope, id: string): string {
    return `${this.prefix}:start-time:${scope}:${id}`;
  }

  stopoutPattern(): string {
    return `${globLiteral(this.prefix)}:stopout:*`;
  }

  breachPattern(): string {
    return `${globLiteral(this.prefix)}:breach:*`;
  }

  startTimePattern(): string {
    return `${globLiteral(this.prefix)}:start-time:*`;
  }

  parseStopoutKey(key: string): ParsedScopeKey | null {
    return this.#parse(key, 'stopout');
  }

  parseBreachKey(key: string): ParsedScopeKey | null {
    return this.#parse(key, 'breach');
  }

  parseStartTimeKey(key: string): ParsedScopeKey | null {
    return this.#parse(key, 'start-time');
  }

  /** `<prefix>:<family>:<scope>:<id>`; the id is everything after the scope (it may hold "/" or "*"). */
  #parse(key: string, family: string): ParsedScopeKey | null {
    const head = `${this.prefix}:${family}:`;
    if (!key.startsWith(head)) return null;
    const rest = key.slice(head.length);
    const colon = rest.indexOf(':');
    if (colon <= 0) return null;
    return { scope: rest.slice(0, colon), id: rest.slice(colon + 1) };
  }
}
