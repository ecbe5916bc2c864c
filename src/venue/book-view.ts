import { dec, str, type DecimalString } from '../domain/decimal.ts';
import type { BookLevelRow } from '../derivadex/feed-messages.ts';

/*
 * The aggregated L2 book of one symbol as the ORDER_BOOK_L2 feed draws it: a PARTIAL replaces the
 * book, an UPDATE replaces the levels it names (amount "0" removes a level). An UPDATE before any
 * PARTIAL cannot be applied: the view stays unsynchronised until the next PARTIAL.
 */

export interface BookLevel {
  price: DecimalString;
  amount: DecimalString;
}

export interface BookSnapshot {
  symbol: string;
  /** Best (highest) first. */
  bids: BookLevel[];
  /** Best (lowest) first. */
  asks: BookLevel[];
}

export class BookView {
  readonly symbol: string;
  #bids = new Map<string, string>();
  #asks = new Map<string, string>();
  #synced = false;

  constructor(symbol: string) {
    this.symbol = symbol;
  }

  get synced(): boolean {
    return this.#synced;
  }

  /** Applies a PARTIAL (replace) or UPDATE (merge); false when an UPDATE finds no snapshot to merge into. */
  apply(messageType: 'PARTIAL' | 'UPDATE', rows: readonly BookLevelRow[]): boolean {
    if (messageType === 'PARTIAL') {
      this.#bids.clear();
      this.#asks.clear();
      this.#synced = true;
    } else if (!this.#synced) {
      return false;
    }
    for (const row of rows) {
      if (row.symbol !== this.symbol) continue;
      const side = row.side === 0 ? this.#bids : this.#asks;
      const price = str(row.price);
      if (dec(row.amount).isZero()) side.delete(price);
      else side.set(price, str(row.amount));
    }
    return true;
  }

  /** Forget the book (e.g. after a gap): the next PARTIAL resynchronises it. */
  invalidate(): void {
    this.#synced = false;
  }

  snapshot(): BookSnapshot {
    const levels = (side: Map<string, string>, descending: boolean): BookLevel[] =>
      [...side.entries()]
        .map(([price, amount]) => ({ price, amount }))
        .sort((a, b) => (descending ? dec(b.price).cmp(a.price) : dec(a.price).cmp(b.price)));
    return { symbol: this.symbol, bids: levels(this.#bids, true), asks: levels(this.#asks, false) };
  }
}
