import { z } from 'zod';
import { INPUT_LIMITS } from './input-limits.ts';
import { fractionDecimal, integerBetween, positiveDecimal, symbolRecord } from './primitives.ts';

/** Symbols the domain knows without configuration (DerivaDEX-like defaults). */
export const DEFAULT_PRODUCT_SYMBOLS = ['ETHP', 'BTCP'] as const;

const MAX_LEVERAGE_MESSAGE = 'expected a positive number';

/** A product as configured; `symbol` is the record key and `mmr` defaults (in the domain) to 0.15 / maxLeverage. */
export const productSchema = z
  .strictObject({
    tickSize: positiveDecimal.meta({ description: 'Prices are whole multiples of this.' }),
    minOrderSize: positiveDecimal.meta({ description: 'Minimum order size, and the size increment.' }),
    maxOrderNotional: positiveDecimal.meta({ description: 'Largest notional one order may have.' }),
    maxTakerPriceDeviation: fractionDecimal.meta({ description: 'Price band half-width as a fraction of mark, e.g. "0.02".' }),
    maxLeverage: z
      .number({ error: (iss) => (iss.input === undefined ? 'required' : MAX_LEVERAGE_MESSAGE) })
      .positive({ error: MAX_LEVERAGE_MESSAGE })
      .max(1000, { error: 'expected a leverage of at most 1000' })
      .meta({ description: 'Maximum leverage (a number); the initial margin fraction is 1 / maxLeverage.' }),
    mmr: fractionDecimal.optional().meta({ description: 'Maintenance margin fraction; defaults to 0.15 / maxLeverage.' }),
  })
  .meta({ description: 'A perpetual-futures product.' });

export const productsSchema = symbolRecord(productSchema).meta({
  description: 'Products by symbol; ETHP and BTCP are known without being listed here.',
});

export type ProductConfig = z.output<typeof productSchema>;

/** The synthetic order book the simulator keeps around the mark. */
export const liquiditySchema = z
  .strictObject({
    depth: positiveDecimal.prefault('50').meta({ description: 'Size on each level.' }),
    levels: integerBetween(1, INPUT_LIMITS.bookLevels).default(20).meta({ description: 'Levels on each side.' }),
    spreadTicks: integerBetween(1, INPUT_LIMITS.spreadTicks)
      .default(2)
      .meta({ description: 'Distance of the best bid and the best ask from the mark, in ticks.' }),
  })
  .meta({ description: 'The simulated order book around the mark.' });

export type LiquidityConfig = z.output<typeof liquiditySchema>;
