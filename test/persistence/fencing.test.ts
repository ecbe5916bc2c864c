import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { EPOCH_FACTOR, epochOfVersion, fencedVersion, FencingError, MAX_EPOCH, VersionCounter } from '../../src/persistence/fencing.ts';

describe('fencing', () => {
  it('version = epoch × 1e9 + counter', () => {
    expect(fencedVersion(1, 1)).toBe(1_000_000_001);
    expect(fencedVersion(42, 7)).toBe(42_000_000_007); // 42 × 1e9 + 7
    expect(epochOfVersion(42_000_000_007)).toBe(42);
    expect(EPOCH_FACTOR).toBe(1e9);
  });

  it('any write of a newer epoch beats every write of an older one, and stays exact', () => {
    const counter = fc.integer({ min: 0, max: EPOCH_FACTOR - 1 });
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: MAX_EPOCH - 1 }),
        fc.integer({ min: 1, max: 1000 }),
        counter,
        counter,
        (epoch, step, c1, c2) => {
          const newer = Math.min(MAX_EPOCH, epoch + step);
          expect(fencedVersion(newer, c2)).toBeGreaterThan(fencedVersion(epoch, c1));
          expect(Number.isSafeInteger(fencedVersion(newer, c2))).toBe(true);
          expect(epochOfVersion(fencedVersion(epoch, c1))).toBe(epoch);
        },
      ),
      { seed: 20260105, numRuns: 500 },
    );
  });

  it('refuses epochs and counters outside the exact range', () => {
    expect(MAX_EPOCH).toBe(9_007_198); // 9 007 198 × 1e9 + 999 999 999 = 9 007 198 999 999 999 < 2^53 − 1
    expect(Number.isSafeInteger(fencedVersion(MAX_EPOCH, EPOCH_FACTOR - 1))).toBe(true);
    expect(() => fencedVersion(MAX_EPOCH + 1, 0)).toThrow('fencing epoch: expected a whole number from 1 to 9007198');
    expect(() => fencedVersion(0, 0)).toThrow('fencing epoch');
    expect(() => fencedVersion(1, EPOCH_FACTOR)).toThrow('fencing counter: expected a whole number from 0 to 999999999');
  });

  it('VersionCounter counts within a tenure, above the loaded snapshot', () => {
    const counter = new VersionCounter('a1', 3, fencedVersion(2, 500));
    expect(counter.next()).toBe(3_000_000_001);
    expect(counter.next()).toBe(3_000_000_002);
    expect(new VersionCounter('a1', 1).next()).toBe(1_000_000_001);
  });

  it('VersionCounter fails loudly when the epoch key was lost (stored epoch not older)', () => {
    expect(() => new VersionCounter('a1', 2, fencedVersion(2, 1))).toThrow(FencingError);
    expect(() => new VersionCounter('a1', 1, fencedVersion(5, 1))).toThrow(
      'account "a1": stored snapshot version 5000000001 is from epoch 5, not older than the lease\'s epoch 1',
    );
  });
});
