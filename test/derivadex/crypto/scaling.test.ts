import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_AMOUNT_DECIMALS, ScalingError, scaleToInteger, unscale } from '../../../src/derivadex/crypto/scaling.ts';

function codeOf(run: () => unknown): string {
  try {
    run();
    return 'no-error';
  } catch (error) {
    return error instanceof ScalingError ? error.code : 'untyped';
  }
}

describe('scaleToInteger', () => {
  it('defaults to 6 decimals', () => {
    expect(DEFAULT_AMOUNT_DECIMALS).toBe(6);
  });

  it('scales exactly', () => {
    expect(scaleToInteger('10.6', 6)).toBe(10_600_000n); // 10.6 × 10^6
    expect(scaleToInteger('2472.1', 6)).toBe(2_472_100_000n); // 2472.1 × 10^6
    expect(scaleToInteger('2472.1', 18)).toBe(2_472_100_000_000_000_000_000n); // 2472.1 × 10^18
    expect(scaleToInteger('0.0001', 6)).toBe(100n); // ETHP min size
    expect(scaleToInteger('0.00001', 6)).toBe(10n); // BTCP min size
    expect(scaleToInteger('0', 6)).toBe(0n);
    expect(scaleToInteger('10.600000000', 6)).toBe(10_600_000n); // trailing zeros are not precision
    expect(scaleToInteger('007', 0)).toBe(7n);
    // 0.1 + 0.2 in floating point is 0.30000000000000004; here it's exact.
    expect(scaleToInteger('0.3', 18)).toBe(300_000_000_000_000_000n);
  });

  it('refuses values it cannot send exactly', () => {
    expect(codeOf(() => scaleToInteger('0.0000001', 6))).toBe('too-precise');
    expect(codeOf(() => scaleToInteger('-1', 6))).toBe('negative');
    expect(codeOf(() => scaleToInteger('-0.5', 6))).toBe('negative');
    expect(codeOf(() => scaleToInteger('1e3', 6))).toBe('not-a-decimal');
    expect(codeOf(() => scaleToInteger('+1', 6))).toBe('not-a-decimal');
    expect(codeOf(() => scaleToInteger('1.', 6))).toBe('not-a-decimal');
    expect(codeOf(() => scaleToInteger('.5', 6))).toBe('not-a-decimal');
    expect(codeOf(() => scaleToInteger(' 1', 6))).toBe('not-a-decimal');
    expect(codeOf(() => scaleToInteger('9'.repeat(60), 18))).toBe('too-large'); // 10^78 > 2^256 ≈ 1.16 × 10^77;
    expect(codeOf(() => scaleToInteger('1', 1.5))).toBe('bad-decimals');
    expect(codeOf(() => scaleToInteger('1', -1))).toBe('bad-decimals');
  });
});

describe('unscale', () => {
  it('writes canonical decimals', () => {
    expect(unscale(10_600_000n, 6)).toBe('10.6');
    expect(unscale(100n, 6)).toBe('0.0001');
    expect(unscale(0n, 6)).toBe('0');
    expect(unscale(5_000_000n, 6)).toBe('5');
    expect(unscale(7n, 0)).toBe('7');
    expect(unscale(-1_500_000n, 6)).toBe('-1.5');
  });

  it('inverts scaleToInteger for every decimal within precision (property)', () => {
    const canonicalDecimal = (decimals: number) =>
      fc
        .tuple(fc.bigInt({ min: 0n, max: 10n ** 30n }), fc.bigInt({ min: 0n, max: 10n ** BigInt(decimals) - 1n }))
        .map(([whole, fraction]) => {
          const digits = fraction.toString().padStart(decimals, '0').replace(/0+$/, '');
          return digits === '' ? whole.toString() : `${whole}.${digits}`;
        });
    for (const decimals of [0, 6, 18]) {
      fc.assert(
        fc.property(canonicalDecimal(decimals), (x) => unscale(scaleToInteger(x, decimals), decimals) === x),
        { seed: 600 + decimals, numRuns: 2000 },
      );
    }
  });

  it('scales back what it wrote (property)', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 1n << 200n }),
        fc.constantFrom(6, 18),
        (n, decimals) => scaleToInteger(unscale(n, decimals), decimals) === n,
      ),
      { seed: 601, numRuns: 2000 },
    );
  });
});
