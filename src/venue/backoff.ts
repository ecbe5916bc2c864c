/*
 * Retry and reconnect delays: exponential, capped, with jitter drawn from an injectable random source,
 * so a simulation with a seed retries on the same schedule every run.
 */

/** A source of numbers in [0, 1). */
export type Random = () => number;

export interface BackoffPolicy {
  /** Delay before the first retry, before jitter. */
  baseMs: number;
  /** Cap of the exponential delay, before jitter. */
  maxMs: number;
  /** Fraction of the delay that is random: the delay is d × (1 − jitter × r), r in [0, 1). 0 = none. */
  jitter: number;
}

export const DEFAULT_RECONNECT_BACKOFF: Readonly<BackoffPolicy> = Object.freeze({ baseMs: 100, maxMs: 10_000, jitter: 0.5 });
export const DEFAULT_RETRY_BACKOFF: Readonly<BackoffPolicy> = Object.freeze({ baseMs: 50, maxMs: 2_000, jitter: 0.5 });

/**
 * Delay in whole ms before retry number `attempt` (0 for the first retry): min(maxMs, baseMs × 2^attempt),
 * reduced by up to `jitter` of itself. Jitter only shortens, so the cap is a true upper bound.
 */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: Random): number {
  const exponent = Math.min(Math.max(0, Math.floor(attempt)), 30);
  const raw = Math.min(policy.maxMs, policy.baseMs * 2 ** exponent);
  const r = random();
  const jitter = Math.min(1, Math.max(0, policy.jitter));
  return Math.max(0, Math.round(raw * (1 - jitter * r)));
}

/**
 * A small seeded generator (mulberry32): fast, 32-bit state, good enough for jitter. Not for anything
 * secret. The same seed gives the same sequence.
 */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
