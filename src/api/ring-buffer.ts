/**
 * A bounded first-in-first-out buffer that keeps the newest `capacity` items: the API remembers recent
 * timeline records without growing with the length of a live run.
 */
export class RingBuffer<T> {
  readonly capacity: number;
  readonly #items: (T | undefined)[];
  #start = 0;
  #size = 0;

  constructor(capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1)
      throw new RangeError(`ring buffer capacity: expected a positive integer, got ${capacity}`);
    this.capacity = capacity;
    this.#items = new Array<T | undefined>(capacity);
  }

  get size(): number {
    return this.#size;
  }

  /** Appends `item`, dropping the oldest one when full. */
  push(item: T): void {
    if (this.#size < this.capacity) {
      this.#items[(this.#start + this.#size) % this.capacity] = item;
      this.#size += 1;
    } else {
      this.#items[this.#start] = item;
      this.#start = (this.#start + 1) % this.capacity;
    }
  }

  /** The newest `n` items (all by default), oldest first. */
  last(n: number = this.#size): T[] {
    const count = Math.max(0, Math.min(n, this.#size));
    const out: T[] = [];
    for (let i = this.#size - count; i < this.#size; i += 1) out.push(this.#items[(this.#start + i) % this.capacity] as T);
    return out;
  }

  /** The newest item, if any. */
  newest(): T | undefined {
    return this.#size === 0 ? undefined : this.#items[(this.#start + this.#size - 1) % this.capacity];
  }
}
