import { describe, expect, it } from 'vitest';
import { dec, str } from '../../src/domain/decimal.ts';
import { DEFAULT_PRODUCTS, ProductError, productFromSpec, type ProductSpec } from '../../src/domain/products.ts';

const ETHP_SPEC: ProductSpec = {
  symbol: 'ETHP',
  tickSize: '0.1',
  minOrderSize: '0.0001',
  maxOrderNotional: '1000000',
  maxTakerPriceDeviation: '0.02',
  maxLeverage: 3,
};

function errorOf(spec: ProductSpec): ProductError {
  try {
    productFromSpec(spec);
  } catch (error) {
    if (error instanceof ProductError) return error;
    throw error;
  }
  throw new Error(`expected a ProductError for ${JSON.stringify(spec)}`);
}

describe('productFromSpec', () => {
  it('defaults mmr to 0.15 / maxLeverage', () => {
    expect(productFromSpec(ETHP_SPEC).mmr).toBe('0.05'); // 0.15 / 3 = 0.05
    expect(productFromSpec({ ...ETHP_SPEC, maxLeverage: 20 }).mmr).toBe('0.0075'); // 0.15 / 20
    expect(productFromSpec({ ...ETHP_SPEC, maxLeverage: 2.5 }).mmr).toBe('0.06'); // 0.15 / 2.5
    // 0.15 / 7 is not a finite decimal: the 40-digit quotient, as Decimal gives it.
    expect(productFromSpec({ ...ETHP_SPEC, maxLeverage: 7 }).mmr).toBe(str(dec('0.15').div(7)));
  });

  it('keeps a given mmr, canonicalising every decimal', () => {
    const p = productFromSpec({ ...ETHP_SPEC, tickSize: '0.10', maxOrderNotional: '1000000.00', mmr: '0.030' });
    expect(p).toEqual({
      symbol: 'ETHP',
      tickSize: '0.1',
      minOrderSize: '0.0001',
      maxOrderNotional: '1000000',
      maxTakerPriceDeviation: '0.02',
      maxLeverage: 3,
      mmr: '0.03',
    });
  });

  it('accepts a zero price deviation (no taker band slack)', () => {
    expect(productFromSpec({ ...ETHP_SPEC, maxTakerPriceDeviation: '0' }).maxTakerPriceDeviation).toBe('0');
  });

  it.each([
    ['tickSize', { tickSize: '0' }, 'ETHP.tickSize: must be > 0, got "0"'],
    ['tickSize', { tickSize: '1e-3' }, 'ETHP.tickSize: expected a decimal string, got "1e-3"'],
    ['minOrderSize', { minOrderSize: '-0.0001' }, 'ETHP.minOrderSize: must be > 0, got "-0.0001"'],
    ['maxOrderNotional', { maxOrderNotional: 'lots' }, 'ETHP.maxOrderNotional: expected a decimal string, got "lots"'],
    ['maxTakerPriceDeviation', { maxTakerPriceDeviation: '1' }, 'ETHP.maxTakerPriceDeviation: must be >= 0 and < 1, got "1"'],
    ['maxTakerPriceDeviation', { maxTakerPriceDeviation: '-0.01' }, 'ETHP.maxTakerPriceDeviation: must be >= 0 and < 1, got "-0.01"'],
    ['maxLeverage', { maxLeverage: 0 }, 'ETHP.maxLeverage: must be a finite number > 0, got 0'],
    ['maxLeverage', { maxLeverage: Number.NaN }, 'ETHP.maxLeverage: must be a finite number > 0, got NaN'],
    ['maxLeverage', { maxLeverage: Number.POSITIVE_INFINITY }, 'ETHP.maxLeverage: must be a finite number > 0, got Infinity'],
    ['mmr', { mmr: '0' }, 'ETHP.mmr: must be > 0, got "0"'],
    ['mmr', { mmr: '1' }, 'ETHP.mmr: must be < 1, got "1"'],
    // 1 / 3 = 0.333…: a maintenance requirement above the initial one is liquidatable on entry.
    ['mmr', { mmr: '0.4' }, `ETHP.mmr: must be < 1 / maxLeverage = ${str(dec(1).div(3))}, got "0.4"`],
    // maxLeverage 0.1: default mmr 0.15 / 0.1 = 1.5, not < 1.
    ['mmr', { maxLeverage: 0.1 }, 'ETHP.mmr: must be < 1, got "1.5"'],
    ['symbol', { symbol: '' }, 'symbol: expected a non-empty string, got ""'],
  ] as const)('refuses a bad %s: %j', (field, patch, message) => {
    const error = errorOf({ ...ETHP_SPEC, ...patch });
    expect(error.field).toBe(field);
    expect(error.message).toBe(message);
  });
});

describe('DEFAULT_PRODUCTS', () => {
  it('are the DerivaDEX ETHP and BTCP at 3x', () => {
    expect(DEFAULT_PRODUCTS.ETHP).toEqual({
      symbol: 'ETHP',
      tickSize: '0.1',
      minOrderSize: '0.0001',
      maxOrderNotional: '1000000',
      maxTakerPriceDeviation: '0.02',
      maxLeverage: 3,
      mmr: '0.05',
    });
    expect(DEFAULT_PRODUCTS.BTCP).toEqual({
      symbol: 'BTCP',
      tickSize: '1',
      minOrderSize: '0.00001',
      maxOrderNotional: '1000000',
      maxTakerPriceDeviation: '0.02',
      maxLeverage: 3,
      mmr: '0.05',
    });
    expect(Object.keys(DEFAULT_PRODUCTS).sort()).toEqual(['BTCP', 'ETHP']);
  });

  it('cannot be changed by a caller', () => {
    expect(Object.isFrozen(DEFAULT_PRODUCTS)).toBe(true);
    expect(Object.isFrozen(DEFAULT_PRODUCTS.ETHP)).toBe(true);
  });
});
