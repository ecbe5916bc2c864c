import type { TimelineRecord } from '../timeline/timeline-record.ts';

type Mark = Extract<TimelineRecord, { kind: 'mark' }>;

/**
 * At most one mark per symbol per interval for the live socket: a mark inside the interval is held, a
 * newer one replaces it, and the held one goes out when the interval has passed — so a burst is thinned
 * but its last price always arrives.
 */
export class MarkThrottle {
  readonly #intervalMs: number;
  readonly #emit: (mark: Mark) => void;
  readonly #now: () => number;
  readonly #lastSent = new Map<string, number>();
  readonly #held = new Map<string, Mark>();
  readonly #timers = new Map<string, NodeJS.Timeout>();

  constructor(intervalMs: number, emit: (mark: Mark) => void, now: () => number = () => performance.now()) {
    this.#intervalMs = intervalMs;
    this.#emit = emit;
    this.#now = now;
  }

  offer(mark: Mark): void {
    const now = this.#now();
    const last = this.#lastSent.get(mark.symbol);
    if (last === undefined || now - last >= this.#intervalMs) {
      if (!this.#timers.has(mark.symbol)) {
        this.#send(mark, now);
        return;
      }
    }
    this.#held.set(mark.symbol, mark);
    if (!this.#timers.has(mark.symbol)) {
      const wait = Math.max(0, (last ?? now) + this.#intervalMs - now);
      const timer = setTimeout(() => {
        this.#timers.delete(mark.symbol);
        const held = this.#held.get(mark.symbol);
        this.#held.delete(mark.symbol);
        if (held) this.#send(held, this.#now());
      }, wait);
      timer.unref();
      this.#timers.set(mark.symbol, timer);
    }
  }

  close(): void {
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    this.#held.clear();
  }

  #send(mark: Mark, at: number): void {
    this.#lastSent.set(mark.symbol, at);
    this.#emit(mark);
  }
}
