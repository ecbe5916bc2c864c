import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dec, str, type Decimal } from '../../src/domain/decimal.ts';
import type { OrderIntent, Side } from '../../src/domain/order.ts';
import type { Product } from '../../src/domain/product.ts';
import { DEFAULT_PRODUCTS, productFromSpec } from '../../src/domain/products.ts';
import {
  bandedLimitPrice,
  orderViolations,
  priceBand,
  RoundingError,
  roundAmountDown,
  roundPriceToTick,
  tryRoundAmountDown,
  type ViolationCode,
} from '../../src/domain/rounding.ts';

const ETHP = DEFAULT_PRODUCTS.ETHP!;
const BTCP = DEFAULT_PRODUCTS.BTCP!;

function codes(product: Product, order: OrderIntent, mark: string): ViolationCode[] {
  return orderViolations(product, order, mark).map((v) => v.code);
}

describe('roundPriceToTick', () => {
  it('rounds a buy down and a sell up to the tick', () => {
    expect(str(roundPriceToTick(ETHP, '2000.07', 'buy'))).toBe('2000'); // 2000.07 → 20000 ticks of 0.1
    expect(str(roundPriceToTick(ETHP, '2000.07', 'sell'))).toBe('2000.1'); // → 20001 ticks
    expect(str(roundPriceToTick(BTCP, '30000.5', 'buy'))).toBe('30000');
    expect(str(roundPriceToTick(BTCP, '30000.5', 'sell'))).toBe('30001');
    expect(str(roundPriceToTick(ETHP, dec('0.05'), 'sell'))).toBe('0.1'); // one tick
  });

  it('leaves a price on the grid alone on both sides', () => {
    expect(str(roundPriceToTick(ETHP, '2000.1', 'buy'))).toBe('2000.1');
    expect(str(roundPriceToTick(ETHP, '2000.1', 'sell'))).toBe('2000.1');
  });

  it('refuses what has no valid rounding', () => {
    expect(() => roundPriceToTick(ETHP, '0', 'buy')).toThrow(RoundingError);
    expect(() => roundPriceToTick(ETHP, '-5', 'sell')).toThrow('ETHP price: must be > 0, got -5');
    expect(() => roundPriceToTick(ETHP, 'abc', 'sell')).toThrow('ETHP price: expected a decimal, got "abc"');
    // 0.05 rounds down to 0 for a buy: no positive price on the safe side.
    expect(() => roundPriceToTick(ETHP, '0.05', 'buy')).toThrow('buy price 0.05 rounds down to 0, below one tick 0.1');
  });
});

describe('roundAmountDown', () => {
  it('rounds down to a whole multiple of minOrderSize', () => {
    expect(str(roundAmountDown(ETHP, '1.23456'))).toBe('1.2345'); // 12345 × 0.0001
    expect(str(roundAmountDown(ETHP, '0.0001'))).toBe('0.0001');
    expect(str(roundAmountDown(BTCP, '0.123456789'))).toBe('0.12345'); // 12345 × 0.00001
  });

  it('refuses a result below minOrderSize (tryRoundAmountDown: null)', () => {
    expect(() => roundAmountDown(ETHP, '0.00009')).toThrow('ETHP amount: 0.00009 rounds down to 0, below minOrderSize 0.0001');
    expect(() => roundAmountDown(ETHP, '-1')).toThrow(RoundingError);
    expect(tryRoundAmountDown(ETHP, '0.00009')).toBeNull();
    expect(tryRoundAmountDown(ETHP, 'x')).toBeNull();
    expect(str(tryRoundAmountDown(ETHP, '2.00019')!)).toBe('2.0001');
  });
});

describe('priceBand and bandedLimitPrice', () => {
  it('is mark × (1 ± deviation), exact', () => {
    const band = priceBand(ETHP, '2000');
    expect([str(band.low), str(band.high)]).toEqual(['1960', '2040']); // 2000 × 0.98, 2000 × 1.02
    const odd = priceBand(ETHP, '2000.05');
    expect([str(odd.low), str(odd.high)]).toEqual(['1960.049', '2040.051']); // 2000.05 × 0.98, × 1.02
  });

  it('gives the most aggressive tick inside the band, rounded inward', () => {
    expect(str(bandedLimitPrice(ETHP, '2000.05', 'buy'))).toBe('2040'); // 2040.051 down to the tick
    expect(str(bandedLimitPrice(ETHP, '2000.05', 'sell'))).toBe('1960.1'); // 1960.049 up to the tick
    expect(str(bandedLimitPrice(ETHP, '2000', 'buy'))).toBe('2040'); // already on the grid: the edge itself
    expect(str(bandedLimitPrice(BTCP, '61234', 'sell'))).toBe('60010'); // 61234 × 0.98 = 60009.32 → up to 60010
  });

  it('refuses when no tick lies inside the band', () => {
    const tight = productFromSpec({ ...ETHP, maxTakerPriceDeviation: '0' });
    // band [2000.05, 2000.05]: the grid has 2000 and 2000.1, both outside.
    expect(() => bandedLimitPrice(tight, '2000.05', 'buy')).toThrow(
      'no buy price on the tick grid (0.1) inside the band [2000.05, 2000.05]',
    );
    expect(() => bandedLimitPrice(tight, '2000.05', 'sell')).toThrow(RoundingError);
    expect(() => priceBand(ETHP, '0')).toThrow('ETHP mark: must be > 0, got 0');
  });
});

describe('orderViolations', () => {
  const buy = (amount: string, price: string): OrderIntent => ({ symbol: 'ETHP', side: 'buy', amount, type: 'limit', price });
  const sell = (amount: string, price: string): OrderIntent => ({ symbol: 'ETHP', side: 'sell', amount, type: 'limit', price });
  const market = (side: Side, amount: string, price?: string): OrderIntent =>
    price === undefined ? { symbol: 'ETHP', side, amount, type: 'market' } : { symbol: 'ETHP', side, amount, type: 'market', price };

  it('passes orders that respect every rule', () => {
    expect(orderViolations(ETHP, buy('3', '1995'), '2000')).toEqual([]);
    expect(orderViolations(ETHP, market('sell', '0.0001'), '2000')).toEqual([]);
    expect(orderViolations(ETHP, market('buy', '3', '0'), '2000')).toEqual([]);
    // The band's own edges are inside: 2000 × 1.02 = 2040, 2000 × 0.98 = 1960.
    expect(orderViolations(ETHP, buy('1', '2040'), '2000')).toEqual([]);
    expect(orderViolations(ETHP, sell('1', '1960'), '2000')).toEqual([]);
    // Passive limits far from the mark are fine.
    expect(orderViolations(ETHP, buy('1', '1500'), '2000')).toEqual([]);
    expect(orderViolations(ETHP, sell('1', '2600'), '2000')).toEqual([]);
  });

  it('tick-size', () => {
    expect(orderViolations(ETHP, buy('1', '2000.05'), '2000')).toEqual([
      { code: 'tick-size', message: 'ETHP price 2000.05 is not a multiple of tickSize 0.1' },
    ]);
  });

  it('min-order-size (and size-increment when also off the grid)', () => {
    // 0.00005 < 0.0001 and is not a whole multiple of it.
    expect(codes(ETHP, buy('0.00005', '2000'), '2000')).toEqual(['min-order-size', 'size-increment']);
    const coarse = productFromSpec({ ...ETHP, minOrderSize: '0.5' });
    expect(orderViolations(coarse, buy('0.25', '2000'), '2000')[0]).toEqual({
      code: 'min-order-size',
      message: 'ETHP amount 0.25 is below minOrderSize 0.5',
    });
  });

  it('size-increment', () => {
    expect(orderViolations(ETHP, buy('1.00005', '2000'), '2000')).toEqual([
      { code: 'size-increment', message: 'ETHP amount 1.00005 is not a multiple of the size increment 0.0001' },
    ]);
  });

  it('max-order-notional: at the limit price, or at mark for a market order', () => {
    // 500 × 2000 = 1,000,000: at the cap, allowed; 600 × 2000 = 1,200,000 is over.
    expect(orderViolations(ETHP, buy('500', '2000'), '2000')).toEqual([]);
    expect(orderViolations(ETHP, buy('600', '2000'), '2000')).toEqual([
      { code: 'max-order-notional', message: 'ETHP notional 1200000 (600 × price 2000) exceeds maxOrderNotional 1000000' },
    ]);
    // 501 × mark 2000 = 1,002,000.
    expect(orderViolations(ETHP, market('buy', '501'), '2000')).toEqual([
      { code: 'max-order-notional', message: 'ETHP notional 1002000 (501 × mark 2000) exceeds maxOrderNotional 1000000' },
    ]);
  });

  it('price-band: only the aggressive side', () => {
    // high = 2000 × 1.02 = 2040; low = 2000 × 0.98 = 1960.
    expect(orderViolations(ETHP, buy('1', '2040.1'), '2000')).toEqual([
      { code: 'price-band', message: 'ETHP buy price 2040.1 is above the band high 2040 (mark 2000 × (1 + 0.02))' },
    ]);
    expect(orderViolations(ETHP, sell('1', '1959.9'), '2000')).toEqual([
      { code: 'price-band', message: 'ETHP sell price 1959.9 is below the band low 1960 (mark 2000 × (1 − 0.02))' },
    ]);
  });

  it('invalid-amount', () => {
    for (const amount of ['abc', '0', '-1', '1e3', '']) {
      expect(codes(ETHP, buy(amount, '2000'), '2000')).toEqual(['invalid-amount']);
    }
    expect(orderViolations(ETHP, buy('-1', '2000'), '2000')[0]!.message).toBe('ETHP amount "-1" is not a decimal > 0');
  });

  it('invalid-price', () => {
    for (const price of ['abc', '0', '-2000']) {
      expect(codes(ETHP, buy('1', price), '2000')).toEqual(['invalid-price']);
    }
    expect(codes(ETHP, { symbol: 'ETHP', side: 'buy', amount: '1', type: 'limit' }, '2000')).toEqual(['invalid-price']);
    // A market order carries no price.
    expect(orderViolations(ETHP, market('buy', '1', '2000'), '2000')).toEqual([
      { code: 'invalid-price', message: 'ETHP market order carries price "2000"; expected "0" or none' },
    ]);
  });

  it('reports every rule an order breaks', () => {
    // 600.00005: off the size grid; 2040.15: off the tick and above the band; notional 600.00005 × 2040.15 > 1e6.
    expect(codes(ETHP, buy('600.00005', '2040.15'), '2000')).toEqual(['size-increment', 'tick-size', 'price-band', 'max-order-notional']);
  });

  it('refuses wiring errors: a bad mark, another symbol', () => {
    expect(() => orderViolations(ETHP, buy('1', '2000'), '0')).toThrow(RoundingError);
    expect(() => orderViolations(BTCP, buy('1', '2000'), '2000')).toThrow('order for "ETHP" checked against product BTCP');
  });
});

describe('rounding properties', () => {
  const options = { seed: 42, numRuns: 1000 };
  const product = fc.constantFrom(
    ETHP,
    BTCP,
    productFromSpec({
      symbol: 'ODD',
      tickSize: '0.25',
      minOrderSize: '0.003',
      maxOrderNotional: '1000000',
      maxTakerPriceDeviation: '0.015',
      maxLeverage: 5,
    }),
  );
  // Prices 0.001 … 200000 with up to 3 decimals (often off the grid); marks likewise but >= 1 so the band
  // is usually wider than a tick (the band property also draws tiny marks, where it is not).
  const price = fc.integer({ min: 1, max: 200_000_000 }).map((n) => str(dec(n).div(1000)));
  const mark = fc.integer({ min: 1000, max: 200_000_000 }).map((n) => str(dec(n).div(1000)));
  const amount = fc.integer({ min: 1, max: 100_000_000 }).map((n) => str(dec(n).div(1_000_000)));
  const side = fc.constantFrom<Side>('buy', 'sell');
  const GRID: ViolationCode[] = ['tick-size', 'min-order-size', 'size-increment', 'invalid-amount', 'invalid-price'];

  it('rounded prices and amounts pass the grid rules, and prices only move to the safe side', () => {
    fc.assert(
      fc.property(product, price, amount, side, mark, (p, px, amt, s, m) => {
        let rp: Decimal;
        try {
          rp = roundPriceToTick(p, px, s);
        } catch (error) {
          // Only a buy below one tick may be refused.
          expect(error).toBeInstanceOf(RoundingError);
          expect(s === 'buy' && dec(px).lt(p.tickSize)).toBe(true);
          return;
        }
        if (s === 'buy') expect(rp.lte(px) && dec(px).minus(rp).lt(p.tickSize)).toBe(true);
        else expect(rp.gte(px) && rp.minus(px).lt(p.tickSize)).toBe(true);

        const ra = tryRoundAmountDown(p, amt);
        if (ra === null) {
          expect(dec(amt).lt(p.minOrderSize)).toBe(true);
          return;
        }
        expect(ra.lte(amt) && dec(amt).minus(ra).lt(p.minOrderSize)).toBe(true);
        const order: OrderIntent = { symbol: p.symbol, side: s, amount: str(ra), type: 'limit', price: str(rp) };
        const grid = orderViolations(p, order, m).filter((v) => GRID.includes(v.code));
        expect(grid).toEqual([]);
      }),
      options,
    );
  });

  it('bandedLimitPrice is on the grid and inside the band, and passes the band rule', () => {
    fc.assert(
      fc.property(product, fc.oneof(mark, price), side, (p, m, s) => {
        const band = priceBand(p, m);
        // The lowest tick at or above the band's low; if it is above the high, no tick is inside.
        const firstTick = roundPriceToTick(p, band.low, 'sell');
        if (firstTick.gt(band.high)) {
          expect(() => bandedLimitPrice(p, m, s)).toThrow(RoundingError);
          return;
        }
        const bp = bandedLimitPrice(p, m, s);
        expect(bp.gte(band.low) && bp.lte(band.high)).toBe(true);
        // The most aggressive such tick: one more tick outward leaves the band.
        if (s === 'buy') expect(bp.plus(p.tickSize).gt(band.high)).toBe(true);
        else expect(bp.minus(p.tickSize).lt(band.low)).toBe(true);
        const order: OrderIntent = { symbol: p.symbol, side: s, amount: p.minOrderSize, type: 'limit', price: str(bp) };
        expect(codes(p, order, m).filter((c) => c === 'tick-size' || c === 'price-band')).toEqual([]);
      }),
      options,
    );
  });
});
