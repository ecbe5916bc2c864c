import { dec } from '../../domain/decimal.ts';
import type { OrderIntent } from '../../domain/order.ts';
import { MovingAverage } from './moving-average.ts';
import { ordersToward, type Signal, type SignalInput } from './signal.ts';

export interface MaCrossoverParams {
  symbol: string;
  fast: number;
  slow: number;
  amount: string;
  every: number;
}

/**
 * Trend following: long `amount` while the fast average is above the slow one, short while below. It acts
 * on a crossover only (a change of trend), with a market order from its position to the new target.
 */
export class MaCrossoverSignal implements Signal {
  readonly #p: MaCrossoverParams;
  readonly #fast: MovingAverage;
  readonly #slow: MovingAverage;
  #trend: 1 | -1 | 0 = 0;
  #lastAt = -Infinity;

  constructor(params: MaCrossoverParams) {
    this.#p = params;
    this.#fast = new MovingAverage(params.fast);
    this.#slow = new MovingAverage(params.slow);
  }

  decide(input: SignalInput): OrderIntent[] {
    const mark = input.marks[this.#p.symbol];
    if (mark === undefined || input.t - this.#lastAt < this.#p.every) return [];
    this.#lastAt = input.t;
    this.#fast.push(mark);
    this.#slow.push(mark);
    const fast = this.#fast.value;
    const slow = this.#slow.value;
    if (fast === null || slow === null || fast.eq(slow)) return [];
    const trend = fast.gt(slow) ? 1 : -1;
    if (trend === this.#trend) return [];
    this.#trend = trend;
    return ordersToward(this.#p.symbol, dec(this.#p.amount).times(trend), input);
  }
}
