import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UrgencyTable, type Urgency } from '../../src/runtime/urgency-table.ts';

/** The urgency as the slot objects computed it: the reference. */
function reference(u: Urgency, marks: ReadonlyMap<string, number>): number {
  let value = u.terms[0]!;
  let notional = 0;
  for (let i = 0; i < u.symbols.length; i += 1) {
    const p = marks.get(u.symbols[i]!) ?? 0;
    value += u.terms[1 + 2 * i]! * p;
    notional += u.terms[2 + 2 * i]! * p;
  }
  return notional > 0 ? value / notional : Number.POSITIVE_INFINITY;
}

const SYMBOLS = ['ETHP', 'BTCP', 'SOLP', 'DOGEP', 'XRPP', 'ADAP', 'LINKP'];
const urgency = fc.uniqueArray(fc.constantFrom(...SYMBOLS), { maxLength: SYMBOLS.length }).chain((symbols) =>
  fc.record({
    symbols: fc.constant(symbols),
    terms: fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), {
      minLength: 1 + 2 * symbols.length,
      maxLength: 1 + 2 * symbols.length,
    }),
  }),
);

describe('urgency table', () => {
  it('gives the very double the slot objects gave, inline or wide, with marks missing or moved (seeded)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.option(urgency, { nil: null }), { minLength: 1, maxLength: 40 }),
        fc.array(fc.tuple(fc.constantFrom(...SYMBOLS), fc.double({ min: 0.01, max: 1e5, noNaN: true })), { maxLength: 20 }),
        (slots, marks) => {
          const table = new UrgencyTable();
          const latest = new Map<string, number>();
          slots.forEach((u, slot) => table.set(slot * 97, u)); // sparse slots, past the first allocation
          for (const [symbol, price] of marks) {
            table.mark(symbol, price);
            latest.set(symbol, price);
          }
          slots.forEach((u, slot) => {
            expect(table.key(slot * 97)).toBe(u === null ? Number.NEGATIVE_INFINITY : reference(u, latest));
          });
        },
      ),
      { seed: 0x75726765, numRuns: 300 },
    );
  });

  it('ranks a slot never set, or set to no band, first; a flat account last', () => {
    const table = new UrgencyTable();
    expect(table.key(5_000)).toBe(Number.NEGATIVE_INFINITY);
    table.set(3, { symbols: ['ETHP'], terms: [10, 0, 0] });
    table.mark('ETHP', 2000);
    expect(table.key(3)).toBe(Number.POSITIVE_INFINITY);
    table.set(3, null);
    expect(table.key(3)).toBe(Number.NEGATIVE_INFINITY);
  });
});
