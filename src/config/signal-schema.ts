import { z } from 'zod';
import { dec, isDecimalString } from '../domain/decimal.ts';
import { atMost, INPUT_LIMITS } from './input-limits.ts';
import { decimalString, duration, integerBetween, isRecord, positiveDecimal, symbol } from './primitives.ts';

const side = z.enum(['buy', 'sell']);

const orderFields = {
  at: duration.meta({ description: 'When the strategy asks for the order (offset from the scenario start).' }),
  symbol,
  side,
  amount: positiveDecimal.meta({ description: 'Order size.' }),
};

const MARKET_PRICE_MESSAGE = 'a market order has no price: omit it or use "0"';

/** One order a scripted strategy asks for; a limit order needs a price, a market order has none. */
export const scriptedOrderSchema = z.discriminatedUnion('type', [
  z.strictObject({
    ...orderFields,
    type: z.literal('market'),
    // isDecimalString first: the refinement must be total even if it ever sees what the transform refused.
    price: decimalString.refine((p) => isDecimalString(p) && dec(p).isZero(), { error: MARKET_PRICE_MESSAGE }).optional(),
  }),
  z.strictObject({
    ...orderFields,
    type: z.literal('limit'),
    price: positiveDecimal.meta({ description: 'Limit price.' }),
  }),
]);

export type ScriptedOrder = z.output<typeof scriptedOrderSchema>;

const every = duration.prefault('1s').meta({ description: 'How often the strategy re-evaluates.' });

/** The strategy that tries to trade in a scenario. */
export const signalSchema = z
  .discriminatedUnion('kind', [
    z.strictObject({
      kind: z.literal('scripted'),
      orders: z
        .array(scriptedOrderSchema)
        .max(INPUT_LIMITS.events, { error: atMost(INPUT_LIMITS.events, 'scripted orders') })
        .meta({ description: 'Orders at fixed times.' }),
    }),
    z
      .strictObject({
        kind: z.literal('ma-crossover'),
        symbol,
        fast: integerBetween(1, INPUT_LIMITS.window).meta({ description: 'Fast moving-average window, in marks.' }),
        slow: integerBetween(2, INPUT_LIMITS.window).meta({ description: 'Slow moving-average window, in marks; greater than fast.' }),
        amount: positiveDecimal.meta({ description: 'Target position size when in a trend.' }),
        every,
      })
      .superRefine(
        (s, ctx) => {
          if (s.slow <= s.fast)
            ctx.addIssue({ code: 'custom', path: ['slow'], message: 'expected slow to be greater than fast', input: s.slow });
        },
        { when: (p) => isRecord(p.value) && Number.isInteger(p.value.fast) && Number.isInteger(p.value.slow) },
      ),
    z.strictObject({
      kind: z.literal('mean-reversion'),
      symbol,
      window: integerBetween(2, INPUT_LIMITS.window).meta({ description: 'Moving-average window, in marks.' }),
      threshold: positiveDecimal.meta({ description: 'Fractional deviation from the moving average that triggers a trade, e.g. "0.01".' }),
      amount: positiveDecimal.meta({ description: 'Position size taken against the deviation.' }),
      every,
    }),
    z.strictObject({ kind: z.literal('none') }),
  ])
  .prefault({ kind: 'none' })
  .meta({ description: 'The strategy: scripted orders, ma-crossover, mean-reversion or none (default).' });

export type SignalConfig = z.output<typeof signalSchema>;

/** Symbols a signal trades. */
export function signalSymbols(signal: SignalConfig): string[] {
  switch (signal.kind) {
    case 'scripted':
      return [...new Set(signal.orders.map((o) => o.symbol))];
    case 'ma-crossover':
    case 'mean-reversion':
      return [signal.symbol];
    case 'none':
      return [];
  }
}
