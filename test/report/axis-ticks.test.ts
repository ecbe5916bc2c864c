import { describe, expect, it } from 'vitest';
import * as dashboard from '../../src/dashboard/static/axis-ticks.js';
import { formatTick, niceDomain, niceTicks } from '../../src/report/axis-ticks.ts';

describe('niceTicks', () => {
  it('steps by 1, 2, 2.5 or 5 × 10^k inside the domain', () => {
    // span 180 / 6 = 30 → 50
    expect(niceTicks(0, 180, 6)).toEqual({ values: [0, 50, 100, 150], decimals: 0 });
    // span 900 / 5 = 180 → 200
    expect(niceTicks(1160, 2060, 5)).toEqual({ values: [1200, 1400, 1600, 1800, 2000], decimals: 0 });
    // span 1100 / 5 = 220 → 250
    expect(niceTicks(1000, 2100, 5)).toEqual({ values: [1000, 1250, 1500, 1750, 2000], decimals: 0 });
    // span 0.33 / 5 = 0.066 → 0.1; float noise removed (0.30000000000000004)
    expect(niceTicks(-0.02, 0.31, 5)).toEqual({ values: [0, 0.1, 0.2, 0.3], decimals: 1 });
    // 0.025 needs three decimals
    expect(niceTicks(0, 0.1, 4).decimals).toBe(3);
  });

  it('survives an empty or inverted domain', () => {
    expect(niceTicks(5, 5).values).toEqual([5]);
  });
});

describe('niceDomain', () => {
  it('pads the span and includes zero when asked', () => {
    // [0, 3] padded by 10 % of 3 on each side
    const [zlo, zhi] = niceDomain([1, 3], { includeZero: true, pad: 0.1 });
    expect(zlo).toBeCloseTo(-0.3, 12);
    expect(zhi).toBeCloseTo(3.3, 12);
    const [lo, hi] = niceDomain([2000]);
    expect(lo).toBeLessThan(2000);
    expect(hi).toBeGreaterThan(2000);
    expect(niceDomain([])).toEqual([0, 1]);
  });
});

describe('formatTick', () => {
  it('prints no negative zero', () => {
    expect(formatTick(-0.0000001, 2)).toBe('0.00');
    expect(formatTick(1.5, 1)).toBe('1.5');
  });
});

describe('one implementation', () => {
  it('is the module the dashboard loads in the browser', () => {
    expect(niceTicks).toBe(dashboard.niceTicks);
    expect(niceDomain).toBe(dashboard.niceDomain);
    expect(formatTick).toBe(dashboard.formatTick);
  });
});
