import { dec } from '../../domain/decimal.ts';
import type { OrderIntent } from '../../domain/order.ts';
import { MovingAverage } from './moving-average.ts';
import { ordersToward, type Signal, type SignalInput } from './signal.ts';

export interface MeanReversionParams {
  symbol: string;
  window: number;
  threshold: string;
  amount: string;
  every: number;
}

/**
 * Fades deviations: short `amount` when the mark is more than `threshold` above its moving average, long
 * when below, flat again once it is back within half the threshold. It acts on a change of regime only.
 */
export class MeanReversionSignal implements Signal {
  readonly #p: MeanReversionParams;
  readonly #average: MovingAverage;
  #regime: 1 | -1 | 0 = 0;
  #lastAt = -Infinity;

  constructor(params: MeanReversionParams) {
    this.#p = params;
    this.#average = new MovingAverage(params.window);
  }

  decide(input: SignalInput): OrderIntent[] {
    const mark = input.marks[this.#p.symbol];
    if (mark === undefined || input.t - this.#lastAt < this.#p.every) return [];
    this.#lastAt = input.t;
    this.#average.push(mark);
    const average = this.#average.value;
    if (average === null) return [];
    const deviation = dec(mark).minus(average).div(average);
    const threshold = dec(this.#p.threshold);
    let regime = this.#regime;
    if (deviation.gt(threshold)) regime = -1;
    else if (deviation.lt(threshold.neg())) regime = 1;
    else if (deviation.abs().lt(threshold.div(2))) regime = 0;
    if (regime === this.#regime) return [];
    this.#regime = regime;
    return ordersToward(this.#p.symbol, dec(this.#p.amount).times(regime), input);
  }
}
