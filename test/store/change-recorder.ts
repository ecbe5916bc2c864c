import type { StopoutStore, StoreChange } from '../../src/store/stopout-store.ts';

export interface RecordedChange {
  change: StoreChange;
  /** performance.now() when the listener heard it. */
  at: number;
}

/** Records every change a store reports, with the time it was heard, and waits for the ones a test expects. */
export class ChangeRecorder {
  readonly changes: RecordedChange[] = [];
  readonly #waiters: Array<{ match: (c: StoreChange) => boolean; resolve: (r: RecordedChange) => void }> = [];
  readonly stop: () => void;

  constructor(store: StopoutStore) {
    this.stop = store.watch((change) => {
      const recorded = { change, at: performance.now() };
      this.changes.push(recorded);
      for (const waiter of [...this.#waiters]) {
        if (waiter.match(change)) {
          this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
          waiter.resolve(recorded);
        }
      }
    });
  }

  kinds(): string[] {
    return this.changes.map(({ change }) => describeChange(change));
  }

  /** The next change (from now on) that matches, or a rejection naming what was heard instead. */
  next(match: (c: StoreChange) => boolean, withinMs = 5_000): Promise<RecordedChange> {
    const waiting = new Promise<RecordedChange>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no matching change within ${withinMs} ms; heard: ${this.kinds().join(', ') || 'nothing'}`)),
        withinMs,
      );
      this.#waiters.push({
        match,
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
      });
    });
    // Tests start waiting before they act and await afterwards: a timeout in between is not "unhandled".
    waiting.catch(() => {});
    return waiting;
  }
}

export function describeChange(change: StoreChange): string {
  switch (change.kind) {
    case 'set':
    case 'reset':
      return `${change.kind} ${change.stopout.scope} ${change.stopout.id} ${change.stopout.reason}`;
    case 'start-time':
      return `start-time ${change.scope} ${change.id} ${change.startTime}`;
    case 'health':
      return `health ${change.healthy}`;
    case 'data-loss':
      return `data-loss ${change.reasserted}`;
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `condition` every 2 ms until it holds; rejects after `withinMs`. */
export async function until(condition: () => boolean, withinMs: number, what: string): Promise<number> {
  const began = performance.now();
  while (!condition()) {
    if (performance.now() - began > withinMs) throw new Error(`${what}: not within ${withinMs} ms`);
    await sleep(2);
  }
  return performance.now();
}
