import type { DecimalString } from '../../domain/decimal.ts';
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
