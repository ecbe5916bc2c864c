import { dec, ZERO, type Decimal, type DecimalValue } from '../../domain/decimal.ts';

/** A simple moving average over the last `window` values, exact. */
export class MovingAverage {
  readonly #window: number;
  readonly #values: Decimal[] = [];
  #sum: Decimal = ZERO;

  constructor(window: number) {
    this.#window = window;
  }

  push(value: DecimalValue): void {
    const v = dec(value);
    this.#values.push(v);
    this.#sum = this.#sum.plus(v);
    if (this.#values.length > this.#window) this.#sum = this.#sum.minus(this.#values.shift()!);
  }

  /** Null until the window is full. */
  get value(): Decimal | null {
    return this.#values.length < this.#window ? null : this.#sum.div(this.#window);
  }
}
