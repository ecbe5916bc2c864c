type Outcome = { ok: true } | { ok: false; error: unknown };

interface Write<T> {
  value: T;
  /** Settles when this write has been carried out; never rejects. */
  done: Promise<Outcome>;
  settle(outcome: Outcome): void;
}

/** Per key: the write on its way to the backend, and at most one waiting behind it. */
interface Lane<T> {
  inFlight: Write<T>;
  pending: Write<T> | null;
}

/**
 * Coalesces writes per key: the first write starts at once; writes submitted while it is in flight replace
 * one another (see `merge`) in a single pending slot, which starts when the first finishes. A burst of N saves thus costs
 * at most two backend writes, and the last value always lands last.
 */
export class SaveCoalescer<T> {
  readonly #lanes = new Map<string, Lane<T>>();
  readonly #write: (key: string, value: T) => Promise<void>;
  readonly #merge: (pending: T, next: T) => T;

  /**
   * `merge` picks what stays pending when `next` arrives behind `pending` (default: `next`). A snapshot
   * store keeps the higher version, so an out-of-order save cannot push a newer one out of the slot.
   */
  constructor(write: (key: string, value: T) => Promise<void>, merge: (pending: T, next: T) => T = (_, next) => next) {
    this.#write = write;
    this.#merge = merge;
  }

  /** Resolves when `value` (or a later value for `key` that replaced it) has been written. */
  submit(key: string, value: T): Promise<void> {
    const lane = this.#lanes.get(key);
    let write: Write<T>;
    if (!lane) {
      write = newWrite(value);
      this.#lanes.set(key, { inFlight: write, pending: null });
      this.#run(key, write);
    } else if (lane.pending) {
      write = lane.pending;
      write.value = this.#merge(write.value, value);
    } else {
      write = newWrite(value);
      lane.pending = write;
    }
    return write.done.then((outcome) => {
      if (!outcome.ok) throw outcome.error;
    });
  }

  /** Forgets the pending (not yet started) write of `key`; its callers resolve as if it had been written. */
  drop(key: string): void {
    const lane = this.#lanes.get(key);
    if (!lane?.pending) return;
    lane.pending.settle({ ok: true });
    lane.pending = null;
  }

  /** Resolves (never rejects) once every write of `key` submitted so far has settled. */
  async settled(key: string): Promise<void> {
    const lane = this.#lanes.get(key);
    if (lane) await (lane.pending ?? lane.inFlight).done;
  }

  /** Waits for every write submitted so far; rejects with an AggregateError naming the keys that failed. */
  async flush(): Promise<void> {
    const waits = [...this.#lanes].map(async ([key, lane]) => ({ key, outcome: await (lane.pending ?? lane.inFlight).done }));
    const failed = (await Promise.all(waits)).filter((w) => !w.outcome.ok);
    if (failed.length > 0) {
      throw new AggregateError(
        failed.map((f) => (f.outcome.ok ? undefined : f.outcome.error)),
        `snapshot writes failed for ${failed.map((f) => f.key).join(', ')}`,
      );
    }
  }

  #run(key: string, write: Write<T>): void {
    let writing: Promise<void>;
    try {
      writing = this.#write(key, write.value);
    } catch (error) {
      writing = Promise.reject(error);
    }
    void writing
      .then(
        () => write.settle({ ok: true }),
        (error: unknown) => write.settle({ ok: false, error }),
      )
      .then(() => {
        const lane = this.#lanes.get(key);
        if (!lane) return;
        if (lane.pending) {
          const next = lane.pending;
          lane.inFlight = next;
          lane.pending = null;
          this.#run(key, next);
        } else {
          this.#lanes.delete(key);
        }
      });
  }
}

function newWrite<T>(value: T): Write<T> {
  let settle!: (outcome: Outcome) => void;
  const done = new Promise<Outcome>((resolve) => (settle = resolve));
  return { value, done, settle };
}
