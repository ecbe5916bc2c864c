import { describe, expect, it } from 'vitest';
import { backoffDelay, seededRandom } from '../../src/venue/backoff.ts';

describe('backoffDelay', () => {
  const policy = { baseMs: 100, maxMs: 1_000, jitter: 0.5 };

  it('doubles from the base up to the cap without jitter', () => {
    const none = { ...policy, jitter: 0 };
    // 100 · 2^n, capped at 1000
    expect([0, 1, 2, 3, 4, 5].map((n) => backoffDelay(n, none, () => 0.99))).toEqual([100, 200, 400, 800, 1_000, 1_000]);
  });

  it('jitter only shortens, by at most the jitter fraction', () => {
    expect(backoffDelay(2, policy, () => 0)).toBe(400); // 400 × (1 − 0.5·0)
    expect(backoffDelay(2, policy, () => 0.5)).toBe(300); // 400 × (1 − 0.5·0.5)
    expect(backoffDelay(9, policy, () => 0.999999)).toBe(500); // 1000 × (1 − 0.5·0.999999) = 500.0005 → 500
  });

  it('gives the same schedule for the same seed, and another for another seed', () => {
    const schedule = (seed: number): number[] => {
      const random = seededRandom(seed);
      return Array.from({ length: 8 }, (_, n) => backoffDelay(n, policy, random));
    };
    expect(schedule(7)).toEqual(schedule(7));
    expect(schedule(7)).not.toEqual(schedule(8));
    for (const [n, delay] of schedule(7).entries()) {
      const raw = Math.min(1_000, 100 * 2 ** n);
      expect(delay).toBeLessThanOrEqual(raw);
      expect(delay).toBeGreaterThanOrEqual(raw / 2);
    }
  });

  it('seededRandom stays in [0, 1)', () => {
    const random = seededRandom(123);
    for (let i = 0; i < 10_000; i += 1) {
      const r = random();
      expect(r >= 0 && r < 1).toBe(true);
    }
  });
});
