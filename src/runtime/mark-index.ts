/**
 * For each symbol, the accounts' bands (src/domain/assessment-band.ts) ordered by their edges, so that a mark
 * finds the accounts whose band it left in O(k log n) for k of them, and the rest of the fleet costs nothing.
 *
 * Floats only pre-screen: an edge is kept as the nearest double and a mark is said to leave a band already
 * when it comes within 1e-12 (relative) of an edge, far more than the error of two roundings to double, so
 * every mark that leaves a band exactly is found (a few that do not are found too; visiting them is harmless).
 *
 * Accounts are small integers (slots). An account visited by a mark leaves the index on every symbol until
 * its band is set again (after the visit has updated it): stale heap entries are skipped by version and
 * compacted away when they outnumber the live ones.
 */
const SLACK = 1e-12;
/** Entries a visit pops one by one before it splits the rest of the heap in one pass. */
const BULK_AFTER = 64;

class EdgeHeap {
  readonly #keys: number[] = [];
  readonly #slots: number[] = [];
  readonly #versions: number[] = [];
  /** +1: the smallest key on top (upper edges); −1: the largest (lower edges). */
  readonly #sign: number;

  constructor(order: 'min' | 'max') {
    this.#sign = order === 'min' ? 1 : -1;
  }

  get size(): number {
    return this.#keys.length;
  }

  push(key: number, slot: number, version: number): void {
    const keys = this.#keys;
    let i = keys.length;
    keys.push(key);
    this.#slots.push(slot);
    this.#versions.push(version);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.#sign * (keys[parent]! - key) <= 0) break;
      this.#move(parent, i);
      i = parent;
    }
    this.#place(i, key, slot, version);
  }

  /** Removes the top entry; returns its slot and version. */
  pop(): [slot: number, version: number] {
    const top: [number, number] = [this.#slots[0]!, this.#versions[0]!];
    const key = this.#keys.pop()!;
    const slot = this.#slots.pop()!;
    const version = this.#versions.pop()!;
    if (this.#keys.length > 0) {
      this.#place(0, key, slot, version);
      this.#siftDown(0);
    }
    return top;
  }

  /**
   * Removes every entry whose key `reached` accepts (keys on the top side of a threshold: a monotone test) and
   * calls `take` with each. A few are popped one by one; when many are (a crash reaches most of the fleet),
   * one linear pass splits the rest and the heap is rebuilt in O(n) instead of O(k log n).
   */
  drain(reached: (key: number) => boolean, take: (slot: number, version: number) => void): void {
    for (let popped = 0; this.#keys.length > 0 && reached(this.#keys[0]!); popped += 1) {
      if (popped === BULK_AFTER) {
        this.#keep((key) => !reached(key), take);
        return;
      }
      const [slot, version] = this.pop();
      take(slot, version);
    }
  }

  /** Keeps only the entries `live` accepts, in O(n). */
  rebuild(live: (slot: number, version: number) => boolean): void {
    this.#keep((_, slot, version) => live(slot, version));
  }

  /** Keeps the entries `keep` accepts (passing the others to `dropped`), then restores the heap order in O(n). */
  #keep(keep: (key: number, slot: number, version: number) => boolean, dropped?: (slot: number, version: number) => void): void {
    const keys = this.#keys;
    const slots = this.#slots;
    const versions = this.#versions;
    let n = 0;
    for (let i = 0; i < keys.length; i += 1) {
      const key = keys[i]!;
      const slot = slots[i]!;
      const version = versions[i]!;
      if (keep(key, slot, version)) {
        keys[n] = key;
        slots[n] = slot;
        versions[n] = version;
        n += 1;
      } else dropped?.(slot, version);
    }
    keys.length = n;
    slots.length = n;
    versions.length = n;
    for (let i = (n >> 1) - 1; i >= 0; i -= 1) this.#siftDown(i);
  }

  #siftDown(start: number): void {
    const keys = this.#keys;
    const n = keys.length;
    const key = keys[start]!;
    const slot = this.#slots[start]!;
    const version = this.#versions[start]!;
    let i = start;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && this.#sign * (keys[right]! - keys[left]!) < 0 ? right : left;
      if (this.#sign * (keys[child]! - key) >= 0) break;
      this.#move(child, i);
      i = child;
    }
    this.#place(i, key, slot, version);
  }

  #move(from: number, to: number): void {
    this.#keys[to] = this.#keys[from]!;
    this.#slots[to] = this.#slots[from]!;
    this.#versions[to] = this.#versions[from]!;
  }

  #place(i: number, key: number, slot: number, version: number): void {
    this.#keys[i] = key;
    this.#slots[i] = slot;
    this.#versions[i] = version;
  }
}

/** One account's band on one symbol, as doubles; null: unbounded on that side. */
export interface FloatBand {
  lo: number | null;
  hi: number | null;
}

interface SymbolIndex {
  lows: EdgeHeap;
  highs: EdgeHeap;
}

export class MarkIndex {
  readonly #symbols = new Map<string, SymbolIndex>();
  /** Per slot: the version its current entries carry (entries of an older version are stale). */
  readonly #version: number[] = [];
  /** Per slot: how many live entries it has (0: in no index). */
  readonly #entries: number[] = [];
  #live = 0;

  /** Replaces the slot's bands (an empty record: the slot is in no symbol's index, no mark visits it). */
  set(slot: number, bands: Readonly<Record<string, FloatBand>>): void {
    this.remove(slot);
    const version = this.#version[slot]!;
    let entries = 0;
    for (const [symbol, band] of Object.entries(bands)) {
      const index = this.#symbol(symbol);
      if (band.lo !== null) {
        index.lows.push(band.lo, slot, version);
        entries += 1;
      }
      if (band.hi !== null) {
        index.highs.push(band.hi, slot, version);
        entries += 1;
      }
    }
    this.#entries[slot] = entries;
    this.#live += entries;
  }

  /** Takes the slot out of every symbol's index. */
  remove(slot: number): void {
    // Dense arrays of small integers: bands are first indexed in no particular slot order, and a first
    // write far past the end would turn an array into a dictionary (a hash lookup on every read after).
    while (this.#entries.length <= slot) {
      this.#entries.push(0);
      this.#version.push(0);
    }
    this.#live -= this.#entries[slot]!;
    this.#entries[slot] = 0;
    this.#version[slot] = this.#version[slot]! + 1;
  }

  /** Whether the slot has entries in the index now. */
  has(slot: number): boolean {
    return slot < this.#entries.length && this.#entries[slot]! > 0;
  }

  /**
   * The slots whose band on `symbol` the mark `price` left (or came within the slack of), each once; they are
   * removed from the index on every symbol.
   */
  visit(symbol: string, price: number): number[] {
    const index = this.#symbols.get(symbol);
    if (!index) return [];
    const out: number[] = [];
    const belowOrAt = price * (1 + SLACK);
    const take = (slot: number, version: number): void => {
      if (this.#take(slot, version)) out.push(slot);
    };
    index.lows.drain((low) => low * (1 + SLACK) >= price, take);
    index.highs.drain((high) => high <= belowOrAt, take);
    this.#compact(index);
    return out;
  }

  #take(slot: number, version: number): boolean {
    if (this.#version[slot] !== version || !this.has(slot)) return false;
    this.remove(slot);
    return true;
  }

  #symbol(symbol: string): SymbolIndex {
    let index = this.#symbols.get(symbol);
    if (!index) {
      index = { lows: new EdgeHeap('max'), highs: new EdgeHeap('min') };
      this.#symbols.set(symbol, index);
    }
    return index;
  }

  #compact(index: SymbolIndex): void {
    const live = (slot: number, version: number) => this.has(slot) && this.#version[slot] === version;
    for (const heap of [index.lows, index.highs]) if (heap.size > 1024 && heap.size > 4 * this.#live) heap.rebuild(live);
  }
}
