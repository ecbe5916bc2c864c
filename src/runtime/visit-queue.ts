/**
 * The accounts a mark reached, most urgent first: a binary min-heap of slots by a key (the estimated margin
 * buffer), ties by slot, so the order is the same whatever order the slots came in. Keys change when marks
 * move, so `rekey` reads every key again and rebuilds the heap in O(n); taking the next visit is O(log n), so
 * the first hundred of a crash are on their way before the rest of the fleet is ordered.
 */
export class VisitQueue {
  readonly #key: (slot: number) => number;
  #slots: number[] = [];
  #keys: number[] = [];

  constructor(key: (slot: number) => number) {
    this.#key = key;
  }

  get size(): number {
    return this.#slots.length;
  }

  /** Adds a slot; it takes its place at the next `rekey`. */
  push(slot: number): void {
    this.#slots.push(slot);
    this.#keys.push(Number.NEGATIVE_INFINITY);
  }

  /** Reads every key again and restores the heap order (after pushes, or when the marks moved). */
  rekey(): void {
    for (let i = 0; i < this.#slots.length; i += 1) this.#keys[i] = this.#key(this.#slots[i]!);
    for (let i = (this.#slots.length >> 1) - 1; i >= 0; i -= 1) this.#siftDown(i, this.#slots[i]!, this.#keys[i]!);
  }

  /** The most urgent slot, removed; undefined when empty. */
  pop(): number | undefined {
    if (this.#slots.length === 0) return undefined;
    const top = this.#slots[0]!;
    const slot = this.#slots.pop()!;
    const key = this.#keys.pop()!;
    if (this.#slots.length > 0) this.#siftDown(0, slot, key);
    return top;
  }

  #siftDown(start: number, slot: number, key: number): void {
    const slots = this.#slots;
    const keys = this.#keys;
    const n = slots.length;
    let i = start;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && before(keys[r]!, slots[r]!, keys[l]!, slots[l]!) ? r : l;
      if (!before(keys[c]!, slots[c]!, key, slot)) break;
      slots[i] = slots[c]!;
      keys[i] = keys[c]!;
      i = c;
    }
    slots[i] = slot;
    keys[i] = key;
  }
}

function before(ka: number, sa: number, kb: number, sb: number): boolean {
  return ka < kb || (ka === kb && sa < sb);
}
