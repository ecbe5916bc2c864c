import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MarkIndex, type FloatBand } from '../../src/runtime/mark-index.ts';

describe('MarkIndex', () => {
  it('visits exactly the slots whose band a mark left (brute force over random bands and marks; fleets large enough for the bulk split)', () => {
    const band = fc.record({
      lo: fc.option(fc.integer({ min: 900, max: 1000 }), { nil: null }),
      hi: fc.option(fc.integer({ min: 1000, max: 1100 }), { nil: null }),
    });
    fc.assert(
      fc.property(
        fc.array(fc.record({ ETHP: band, BTCP: band }), { minLength: 1, maxLength: 300 }),
        fc.array(fc.record({ symbol: fc.constantFrom('ETHP', 'BTCP'), price: fc.integer({ min: 850, max: 1150 }) }), { maxLength: 40 }),
        (bands, marks) => {
          const index = new MarkIndex();
          const live = new Map<number, Record<string, FloatBand>>();
          bands.forEach((b, slot) => {
            index.set(slot, b);
            live.set(slot, b);
          });
          for (const { symbol, price } of marks) {
            const expected = [...live.entries()]
              .filter(([, b]) => {
                const s = b[symbol]!;
                return (s.lo !== null && price <= s.lo) || (s.hi !== null && price >= s.hi);
              })
              .map(([slot]) => slot)
              .sort((a, b) => a - b);
            const got = index.visit(symbol, price).sort((a, b) => a - b);
            expect(got).toEqual(expected);
            // Visited slots are out until set again; put half of them back around the new mark.
            for (const slot of got) {
              live.delete(slot);
              if (slot % 2 === 0) {
                const b = { ETHP: { lo: price - 10, hi: price + 10 }, BTCP: { lo: null, hi: null } };
                index.set(slot, b);
                live.set(slot, b);
              }
            }
          }
        },
      ),
      { seed: 21, numRuns: 300 },
    );
  });

  it('a removed or replaced slot is never visited by its old entries, and stale entries are compacted', () => {
    const index = new MarkIndex();
    for (let i = 0; i < 5000; i += 1) index.set(i, { ETHP: { lo: 100, hi: 200 } });
    for (let i = 0; i < 5000; i += 1) index.set(i, { ETHP: { lo: 50, hi: 300 } });
    index.remove(7);
    expect(index.visit('ETHP', 100)).toEqual([]);
    const crash = index.visit('ETHP', 40);
    expect(crash.length).toBe(4999);
    expect(crash).not.toContain(7);
    expect(index.visit('ETHP', 10)).toEqual([]);
    expect(index.has(1)).toBe(false);
  });

  it('an edge within 1e-12 of the mark counts as left: floats never hide a crossing', () => {
    const index = new MarkIndex();
    index.set(0, { ETHP: { lo: 0.1 + 0.2, hi: null } });
    expect(index.visit('ETHP', 0.3)).toEqual([0]);
  });
});
