import { dec, str, type Decimal, type DecimalString } from '../../domain/decimal.ts';
import type { OrderIntent } from '../../domain/order.ts';

/** What a strategy sees when it decides: the time, the latest marks and its own position. */
export interface SignalInput {
  /** Milliseconds since the scenario start. */
  t: number;
  marks: Readonly<Record<string, DecimalString>>;
  position(symbol: string): DecimalString;
}

/**
 * A trading strategy in a scenario. It only ever *asks*: every order it returns goes to the risk layer's
 * pre-trade gate like any user strategy's entry.
 */
export interface Signal {
  /** Called once per simulated second; returns the orders the strategy wants now. */
  decide(input: SignalInput): OrderIntent[];
}

/** The market order that takes the position in `symbol` to `target` (none when it is there). */
export function ordersToward(symbol: string, target: Decimal, input: SignalInput): OrderIntent[] {
  const delta = target.minus(dec(input.position(symbol)));
  if (delta.isZero()) return [];
  return [{ symbol, side: delta.isPos() ? 'buy' : 'sell', amount: str(delta.abs()), type: 'market' }];
}
