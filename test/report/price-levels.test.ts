import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dec } from '../../src/domain/decimal.ts';
import { bufferAtPrice, priceAtBuffer, type LevelInput } from '../../src/report/price-levels.ts';

const long: LevelInput = { size: '2.5', mark: '1520', equity: '806', maintenance: '0.05', otherGross: '0' };
const short: LevelInput = { size: '-2', mark: '2000', equity: '10000', maintenance: '0.05', otherGross: '0' };

describe('priceAtBuffer', () => {
  it('gives the liquidation price of a single long position', () => {
    // p = (s·m − E) / (s − r·|s|) = (2.5·1520 − 806) / (2.5 − 0.125) = 2994 / 2.375 = 1260.631578947…
    expect(priceAtBuffer(long, '0')).toBe('1260.63157895');
  });

  it('gives the prices where the buffer reaches the min and panic buffers', () => {
    // min 0.15: k = 0.2, p = 2994 / (2.5 − 0.2·2.5) = 2994 / 2 = 1497
    expect(priceAtBuffer(long, '0.15')).toBe('1497');
    // panic 0.05: k = 0.1, p = 2994 / (2.5 − 0.25) = 2994 / 2.25 = 1330.666…
    expect(priceAtBuffer(long, '0.05')).toBe('1330.66666667');
  });

  it('puts a short position’s levels above the mark', () => {
    // p = (−2·2000 − 10000) / (−2 − 0.05·2) = −14000 / −2.1 = 6666.666…
    // check: equity at p = 10000 − 2·4666.67 = 666.67; gross 13333.33; 666.67 / 13333.33 = 0.05 = maintenance
    expect(priceAtBuffer(short, '0')).toBe('6666.66666667');
    // buffer 0.2: k = 0.25, p = −14000 / (−2 − 0.5) = 5600; equity 10000 − 2·3600 = 2800, gross 11200, 0.25 − 0.05 = 0.2
    expect(priceAtBuffer(short, '0.2')).toBe('5600');
  });

  it('holds the other symbols at their marks', () => {
    // 1 ETHP at 2000 with 30000 of BTCP, equity 2000: p = (2000 − 2000 + 0.05·30000) / (1 − 0.05) = 1500 / 0.95
    // check: equity at p = 2000 + (p − 2000) = p; gross = 30000 + p; p / (30000 + p) = 0.05 ⇔ 0.95·p = 1500
    expect(priceAtBuffer({ size: '1', mark: '2000', equity: '2000', maintenance: '0.05', otherGross: '30000' }, '0')).toBe('1578.94736842');
  });

  it('is null when no fall of the mark brings a long there, and for no position', () => {
    // (1·2000 − 5000) / 0.95 < 0: equity exceeds the notional, the long cannot be liquidated
    expect(priceAtBuffer({ size: '1', mark: '2000', equity: '5000', maintenance: '0.05', otherGross: '0' }, '0')).toBeNull();
    expect(priceAtBuffer({ ...long, size: '0' }, '0')).toBeNull();
  });

  it('is the inverse of the buffer at a price', () => {
    const cases = fc.record({
      size: fc
        .integer({ min: -5000, max: 5000 })
        .filter((n) => n !== 0)
        .map((n) => String(n / 100)),
      mark: fc.integer({ min: 100, max: 1_000_000 }).map((n) => String(n / 10)),
      equity: fc.integer({ min: 1, max: 10_000_000 }).map((n) => String(n / 10)),
      maintenance: fc.integer({ min: 1, max: 300 }).map((n) => String(n / 1000)),
      otherGross: fc.oneof(fc.constant('0'), fc.integer({ min: 1, max: 1_000_000 }).map(String)),
      buffer: fc.integer({ min: 0, max: 500 }).map((n) => String(n / 1000)),
    });
    fc.assert(
      fc.property(cases, ({ buffer, ...input }) => {
        const price = priceAtBuffer(input, buffer);
        if (price === null) return;
        // The price is rounded to 8 decimals, so the buffer there is within a small tolerance of the target.
        expect(dec(bufferAtPrice(input, price)).minus(buffer).abs().lt('1e-6')).toBe(true);
      }),
      { seed: 20260105, numRuns: 300 },
    );
  });
});
