import type { ScriptedOrder } from '../../config/signal-schema.ts';
import type { OrderIntent } from '../../domain/order.ts';
import type { Signal, SignalInput } from './signal.ts';

/** Orders at fixed times, each asked for once when its time has come. */
export class ScriptedSignal implements Signal {
  readonly #orders: ScriptedOrder[];
  #next = 0;

  constructor(orders: readonly ScriptedOrder[]) {
    this.#orders = [...orders].sort((a, b) => a.at - b.at);
  }

  decide(input: SignalInput): OrderIntent[] {
    const due: OrderIntent[] = [];
    while (this.#next < this.#orders.length && this.#orders[this.#next]!.at <= input.t) {
      const o = this.#orders[this.#next]!;
      this.#next += 1;
      due.push({ symbol: o.symbol, side: o.side, amount: o.amount, type: o.type, ...(o.type === 'limit' ? { price: o.price } : {}) });
    }
    return due;
  }
}
