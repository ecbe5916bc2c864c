/**
 * Every slot's urgency floats (its estimated margin buffer as a function of the marks) in flat typed arrays,
 * so that ranking the accounts a crash reached reads contiguous memory. Read through each slot's objects
 * (slot → reach → urgency → terms), ranking 10,000 accounts cost a cache miss per object: about 1 µs a slot
 * on the 2-core bench machine, 10 ms before the first visit. The value is the same double either way: the
 * same terms, multiplied and added in the same order.
 *
 * A slot holds its terms inline for up to INLINE symbols; an account holding more keeps them in a map.
 */

/** The urgency floats of a band: the held symbols, and [k, slope, gross of each symbol in turn]. */
export interface Urgency {
  symbols: readonly string[];
  terms: readonly number[];
}

const INLINE = 4;
const STRIDE = 1 + 2 * INLINE;
/** `count` of a slot without a band (it needs every mark, or has not been assessed): most urgent. */
const NO_BAND = -1;
const WIDE = INLINE + 1;

export class UrgencyTable {
  #terms = new Float64Array(STRIDE * 1024);
  #symbols = new Int32Array(INLINE * 1024);
  #count = new Int8Array(1024).fill(NO_BAND);
  readonly #wide = new Map<number, { ids: number[]; terms: readonly number[] }>();
  readonly #ids = new Map<string, number>();
  /** The latest mark of each symbol id as a double; 0 before the first (as a missing mark counts). */
  #marks = new Float64Array(16);

  /** The slot's urgency (null: it has no band, and ranks first). */
  set(slot: number, urgency: Urgency | null): void {
    this.#grow(slot);
    this.#wide.delete(slot);
    if (urgency === null) {
      this.#count[slot] = NO_BAND;
      return;
    }
    const n = urgency.symbols.length;
    const ids = urgency.symbols.map((symbol) => this.#id(symbol));
    if (n > INLINE) {
      this.#count[slot] = WIDE;
      this.#wide.set(slot, { ids, terms: urgency.terms });
      return;
    }
    this.#count[slot] = n;
    const at = STRIDE * slot;
    for (let i = 0; i < 1 + 2 * n; i += 1) this.#terms[at + i] = urgency.terms[i]!;
    for (let i = 0; i < n; i += 1) this.#symbols[INLINE * slot + i] = ids[i]!;
  }

  mark(symbol: string, price: number): void {
    this.#marks[this.#id(symbol)] = price;
  }

  /** Estimated margin buffer at the latest marks (ranks the queue only, never a decision); a flat account last. */
  key(slot: number): number {
    const n = slot < this.#count.length ? this.#count[slot]! : NO_BAND;
    if (n === NO_BAND) return Number.NEGATIVE_INFINITY;
    if (n === WIDE) {
      const wide = this.#wide.get(slot)!;
      return urgencyAt(wide.terms, 0, wide.ids, 0, wide.ids.length, this.#marks);
    }
    return urgencyAt(this.#terms, STRIDE * slot, this.#symbols, INLINE * slot, n, this.#marks);
  }

  #id(symbol: string): number {
    let id = this.#ids.get(symbol);
    if (id === undefined) {
      id = this.#ids.size;
      this.#ids.set(symbol, id);
      if (id >= this.#marks.length) {
        const marks = new Float64Array(2 * this.#marks.length);
        marks.set(this.#marks);
        this.#marks = marks;
      }
    }
    return id;
  }

  #grow(slot: number): void {
    if (slot < this.#count.length) return;
    let size = this.#count.length;
    while (size <= slot) size *= 2;
    const terms = new Float64Array(STRIDE * size);
    terms.set(this.#terms);
    const symbols = new Int32Array(INLINE * size);
    symbols.set(this.#symbols);
    const count = new Int8Array(size).fill(NO_BAND);
    count.set(this.#count);
    this.#terms = terms;
    this.#symbols = symbols;
    this.#count = count;
  }
}

function urgencyAt(terms: ArrayLike<number>, at: number, ids: ArrayLike<number>, idAt: number, n: number, marks: Float64Array): number {
  let value = terms[at]!;
  let notional = 0;
  for (let i = 0; i < n; i += 1) {
    const p = marks[ids[idAt + i]!]!;
    value += terms[at + 1 + 2 * i]! * p;
    notional += terms[at + 2 + 2 * i]! * p;
  }
  return notional > 0 ? value / notional : Number.POSITIVE_INFINITY;
}
