import type { Clock } from '../clock/clock.ts';

/**
 * Token-bucket rate limiting per key (the simulator keys it by trader address), on the injected clock so
 * a simulation decides the same way every run. A bucket holds at most `capacity` tokens, refills at
 * `refillPerSecond`, and each request takes one; an empty bucket means 429 RateLimit.
 */
export interface RateLimitConfig {
  capacity: number;
  refillPerSecond: number;
}

export const DEFAULT_RATE_LIMIT: Readonly<RateLimitConfig> = Object.freeze({ capacity: 100, refillPerSecond: 50 });

export class RateLimiter {
  readonly #config: RateLimitConfig;
  readonly #clock: Clock;
  // Token counts are request counts, not money: plain numbers are fine here.
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(config: RateLimitConfig, clock: Clock) {
    if (!(config.capacity >= 1) || !Number.isFinite(config.capacity))
      throw new Error(`rateLimit.capacity: expected a number >= 1, got ${config.capacity}`);
    if (!(config.refillPerSecond >= 0) || !Number.isFinite(config.refillPerSecond)) {
      throw new Error(`rateLimit.refillPerSecond: expected a number >= 0, got ${config.refillPerSecond}`);
    }
    this.#config = config;
    this.#clock = clock;
  }

  /** Takes a token for `key`: true when the request may go ahead. */
  take(key: string): boolean {
    const now = this.#clock.now();
    const bucket = this.#buckets.get(key) ?? { tokens: this.#config.capacity, at: now };
    const refilled = Math.min(this.#config.capacity, bucket.tokens + (Math.max(0, now - bucket.at) * this.#config.refillPerSecond) / 1000);
    const allowed = refilled >= 1;
    this.#buckets.set(key, { tokens: allowed ? refilled - 1 : refilled, at: now });
    return allowed;
  }
}
