/**
 * Sends what the accounts asked for most urgent first — cancels, panic exits, de-risking steps, entries,
 * and among those the thinnest margin buffer first — once the current burst of events has been handled, a
 * slice per turn of the event loop. In a crash the accounts' visits are spread over turns too
 * (src/runtime/mark-delivery.ts), so the most endangered accounts' orders leave first.
 */
export class OrderDispatcher {
  readonly #schedule: (flush: () => void) => void;
  readonly #slice: number;
  #pending: Array<{ priority: readonly number[]; seq: number; run: () => void }> = [];
  #seq = 0;
  #scheduled = false;

  /**
   * `slice`: most requests sent per flush; the rest wait for the next turn, so a crash's most urgent orders
   * reach the socket while the rest are still being prepared (and newly asked ones can overtake them).
   */
  constructor(schedule: (flush: () => void) => void = (flush) => void setImmediate(flush), slice = 100) {
    this.#schedule = schedule;
    this.#slice = slice;
  }

  /** Queues `run`; lower `priority` tuples go first, ties in submission order. */
  submit(priority: readonly number[], run: () => void): void {
    this.#pending.push({ priority, seq: this.#seq++, run });
    if (this.#scheduled) return;
    this.#scheduled = true;
    this.#schedule(() => this.flush());
  }

  flush(): void {
    this.#scheduled = false;
    const sorted = this.#pending.sort((a, b) => compareTuples(a.priority, b.priority) || a.seq - b.seq);
    const batch = sorted.slice(0, this.#slice);
    this.#pending = sorted.slice(this.#slice);
    if (this.#pending.length > 0) {
      this.#scheduled = true;
      this.#schedule(() => this.flush());
    }
    for (const item of batch) item.run();
  }
}

function compareTuples(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i += 1) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** Cancels of risk-increasing orders go before everything. */
export const CANCEL_PRIORITY: readonly number[] = [-1];

/** Urgency of an order: its purpose, then the account's margin buffer (a flat account last). */
export function orderPriority(purpose: string, marginBuffer: string | null): number[] {
  const rank = purpose === 'exit' ? 0 : purpose === 'reduce' ? 1 : purpose === 'close' ? 2 : 3;
  return [rank, marginBuffer === null ? Number.POSITIVE_INFINITY : Number(marginBuffer)];
}
