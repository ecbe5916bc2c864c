import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dec, str } from '../../src/domain/decimal.ts';
import { exposureEffect, positionAfter } from '../../src/domain/exposure.ts';
import type { Side } from '../../src/domain/order.ts';

const order = (side: Side, amount: string) => ({ side, amount });

describe('exposureEffect', () => {
  it('an opposite-side order no larger than a long reduces it; a larger one flips it', () => {
    expect(exposureEffect('5', order('sell', '3'))).toBe('reduce'); // 5 → 2
    expect(exposureEffect('5', order('sell', '5'))).toBe('reduce'); // 5 → 0: closing is reducing
    expect(exposureEffect('5', order('sell', '5.0001'))).toBe('flip'); // 5 → −0.0001
    expect(exposureEffect('5', order('sell', '12'))).toBe('flip'); // 5 → −7
  });

  it('an opposite-side order no larger than a short reduces it; a larger one flips it', () => {
    expect(exposureEffect('-2', order('buy', '0.5'))).toBe('reduce'); // −2 → −1.5
    expect(exposureEffect('-2', order('buy', '2'))).toBe('reduce'); // −2 → 0
    expect(exposureEffect('-2', order('buy', '2.00001'))).toBe('flip'); // −2 → 0.00001
  });

  it('a same-side order, or any order from flat, increases exposure', () => {
    expect(exposureEffect('5', order('buy', '1'))).toBe('increase'); // 5 → 6
    expect(exposureEffect('-2', order('sell', '1'))).toBe('increase'); // −2 → −3
    expect(exposureEffect('0', order('buy', '1'))).toBe('increase'); // 0 → 1
    expect(exposureEffect('0', order('sell', '1'))).toBe('increase'); // 0 → −1
    expect(exposureEffect('-0', order('sell', '1'))).toBe('increase'); // "-0" is flat too
  });

  it('compares exactly, with no binary floating point', () => {
    // 0.1 + 0.2 is not 0.3 in doubles; as decimals selling 0.3 closes exactly.
    const held = dec('0.1').plus('0.2');
    expect(exposureEffect(held, order('sell', '0.3'))).toBe('reduce');
    expect(exposureEffect(held, order('sell', '0.30000000000000000001'))).toBe('flip');
  });

  it('accepts a Decimal, a decimal string or a number as the position', () => {
    expect(exposureEffect(dec('-1.5'), order('buy', '1.5'))).toBe('reduce');
    expect(exposureEffect('-1.5', order('buy', '1.5'))).toBe('reduce');
    expect(exposureEffect(-1.5, order('buy', '1.5'))).toBe('reduce');
  });
});

describe('positionAfter', () => {
  it('adds a buy and subtracts a sell, exactly', () => {
    expect(str(positionAfter('5', order('sell', '3')))).toBe('2'); // 5 − 3
    expect(str(positionAfter('5', order('sell', '5')))).toBe('0'); // 5 − 5
    expect(str(positionAfter('-2', order('buy', '3')))).toBe('1'); // −2 + 3
    expect(str(positionAfter('0', order('sell', '0.5')))).toBe('-0.5'); // 0 − 0.5
    expect(str(positionAfter('0.1', order('buy', '0.2')))).toBe('0.3'); // exact, not 0.30000000000000004
  });

  it('does not mutate a Decimal position', () => {
    const held = dec('4');
    positionAfter(held, order('buy', '1'));
    expect(str(held)).toBe('4');
  });
});

describe('exposure properties', () => {
  const options = { seed: 42, numRuns: 500 };
  /** A decimal n / scale as a canonical string. */
  const decimal = (min: number, max: number, scale: number) => fc.integer({ min, max }).map((n) => str(dec(n).div(scale)));
  const position = decimal(-1_000_000, 1_000_000, 10_000); // −100 … 100, step 0.0001, 0 included
  const amount = decimal(1, 2_000_000, 10_000); // 0.0001 … 200
  const side = fc.constantFrom<Side>('buy', 'sell');

  it('the effect is what the position after says: reduce shrinks it without crossing zero, flip crosses, increase grows', () => {
    fc.assert(
      fc.property(position, side, amount, (held, s, a) => {
        const before = dec(held);
        const after = positionAfter(held, order(s, a));
        const effect = exposureEffect(held, order(s, a));
        const crosses = after.times(before).isNeg() && !after.isZero() && !before.isZero();
        if (effect === 'reduce') {
          expect(after.abs().lt(before.abs())).toBe(true);
          expect(crosses).toBe(false);
        } else if (effect === 'flip') {
          expect(crosses).toBe(true);
        } else {
          expect(after.abs().gt(before.abs())).toBe(true);
          expect(crosses).toBe(false);
          // The new exposure is on the order's side.
          expect(after.isPos()).toBe(s === 'buy');
        }
      }),
      options,
    );
  });

  it('reduce exactly when the order is on the other side and no larger than |position|', () => {
    fc.assert(
      fc.property(position, side, amount, (held, s, a) => {
        const size = dec(held);
        const opposite = size.isZero() ? false : (s === 'sell') === size.isPos();
        expect(exposureEffect(held, order(s, a)) === 'reduce').toBe(opposite && dec(a).lte(size.abs()));
        expect(exposureEffect(held, order(s, a)) === 'flip').toBe(opposite && dec(a).gt(size.abs()));
      }),
      options,
    );
  });

  it('an order and its opposite cancel out', () => {
    fc.assert(
      fc.property(position, side, amount, (held, s, a) => {
        const back: Side = s === 'buy' ? 'sell' : 'buy';
        expect(str(positionAfter(positionAfter(held, order(s, a)), order(back, a)))).toBe(str(held));
      }),
      options,
    );
  });
});
