import { dec, isDecimalString, ONE, str, type Decimal, type DecimalString } from './decimal.ts';
import type { Product } from './product.ts';

/** A product as config or `exchange_info` describes it; `mmr` defaults to 0.15 / maxLeverage. */
export interface ProductSpec {
  symbol: string;
  tickSize: DecimalString;
  minOrderSize: DecimalString;
  maxOrderNotional: DecimalString;
  maxTakerPriceDeviation: DecimalString;
  maxLeverage: number;
  mmr?: DecimalString;
}

/** A product spec that cannot describe a tradable product. `field` is the offending spec field. */
export class ProductError extends Error {
  readonly field: string;
  constructor(field: string, message: string) {
    super(message);
    this.name = 'ProductError';
    this.field = field;
  }
}

/** DerivaDEX: maintenance requirement = 0.15 / maxLeverage (5% at 3x). */
const MMR_NUMERATOR = dec('0.15');

/**
 * Validates a spec and returns the Product with canonical decimal strings and the mmr filled in.
 * Throws ProductError naming the field, e.g. `ETHP.tickSize: must be > 0, got "0"`.
 */
export function productFromSpec(spec: ProductSpec): Product {
  const symbol: unknown = spec.symbol;
  if (typeof symbol !== 'string' || symbol.length === 0) {
    throw new ProductError('symbol', `symbol: expected a non-empty string, got ${JSON.stringify(symbol)}`);
  }
  const field = (name: keyof ProductSpec, value: unknown): Decimal => {
    if (!isDecimalString(value)) {
      throw new ProductError(name, `${symbol}.${name}: expected a decimal string, got ${show(value)}`);
    }
    return dec(value);
  };
  const fail = (name: keyof ProductSpec, rule: string, value: unknown): never => {
    throw new ProductError(name, `${symbol}.${name}: ${rule}, got ${show(value)}`);
  };

  const tickSize = field('tickSize', spec.tickSize);
  if (!tickSize.gt(0)) fail('tickSize', 'must be > 0', spec.tickSize);
  const minOrderSize = field('minOrderSize', spec.minOrderSize);
  if (!minOrderSize.gt(0)) fail('minOrderSize', 'must be > 0', spec.minOrderSize);
  const maxOrderNotional = field('maxOrderNotional', spec.maxOrderNotional);
  if (!maxOrderNotional.gt(0)) fail('maxOrderNotional', 'must be > 0', spec.maxOrderNotional);
  const deviation = field('maxTakerPriceDeviation', spec.maxTakerPriceDeviation);
  if (deviation.lt(0) || deviation.gte(1)) fail('maxTakerPriceDeviation', 'must be >= 0 and < 1', spec.maxTakerPriceDeviation);

  const maxLeverage: unknown = spec.maxLeverage;
  if (typeof maxLeverage !== 'number' || !Number.isFinite(maxLeverage) || maxLeverage <= 0) {
    fail('maxLeverage', 'must be a finite number > 0', maxLeverage);
  }
  const leverage = dec(maxLeverage as number);
  // Initial requirement 1 / maxLeverage; a maintenance requirement at or above it (or at or above 1)
  // would make a position opened at full leverage liquidatable at once.
  const imf = ONE.div(leverage);
  const mmr = spec.mmr === undefined ? MMR_NUMERATOR.div(leverage) : field('mmr', spec.mmr);
  const mmrShown = spec.mmr ?? str(mmr);
  if (!mmr.gt(0)) fail('mmr', 'must be > 0', mmrShown);
  if (!mmr.lt(1)) fail('mmr', 'must be < 1', mmrShown);
  if (!mmr.lt(imf)) fail('mmr', `must be < 1 / maxLeverage = ${str(imf)}`, mmrShown);

  return {
    symbol,
    tickSize: str(tickSize),
    minOrderSize: str(minOrderSize),
    maxOrderNotional: str(maxOrderNotional),
    maxTakerPriceDeviation: str(deviation),
    maxLeverage: maxLeverage as number,
    mmr: str(mmr),
  };
}

function show(value: unknown): string {
  return typeof value === 'number' || value === undefined ? String(value) : JSON.stringify(value);
}

/** DerivaDEX-like defaults (docs/contracts.md#scenario-products): 3x, so mmr = 0.05. */
export const DEFAULT_PRODUCTS: Readonly<Record<string, Product>> = Object.freeze({
  ETHP: Object.freeze(
    productFromSpec({
      symbol: 'ETHP',
      tickSize: '0.1',
      minOrderSize: '0.0001',
      maxOrderNotional: '1000000',
      maxTakerPriceDeviation: '0.02',
      maxLeverage: 3,
    }),
  ),
  BTCP: Object.freeze(
    productFromSpec({
      symbol: 'BTCP',
      tickSize: '1',
      minOrderSize: '0.00001',
      maxOrderNotional: '1000000',
      maxTakerPriceDeviation: '0.02',
      maxLeverage: 3,
    }),
  ),
});
