/**
 * Counts work in flight across the simulator, the venue client and the supervisor, so a simulation can
 * advance its clock only at quiescence: every frame sent has been handled, every request answered and
 * its consequences emitted. Nothing here sleeps or polls wall time.
 *
 * Protocol: whoever starts work calls `begin()` (e.g. the simulator before it writes a frame, the client
 * before it sends a request); whoever finishes it calls `end()` (the client after it handled that frame,
 * after it processed the response). Work that causes more work begins the new work before ending its own,
 * so the count never touches zero in between.
 */
export class WorkTracker {
  #inFlight = 0;
  #parked = 0;
  #waiters: Array<() => void> = [];

  get inFlight(): number {
    return this.#inFlight;
  }

  /**
   * Work units that wait for the clock itself (a venue holding an answer until simulated time passes):
   * they must not keep the clock from moving, so idleness ignores that many units.
   */
  get parked(): number {
    return this.#parked;
  }

  park(): void {
    this.#parked += 1;
    if (this.#idle()) this.#settle();
  }

  unpark(): void {
    if (this.#parked === 0) throw new Error('WorkTracker.unpark() without a matching park()');
    this.#parked -= 1;
  }

  begin(): void {
    this.#inFlight += 1;
  }

  end(): void {
    if (this.#inFlight === 0) throw new Error('WorkTracker.end() without a matching begin()');
    this.#inFlight -= 1;
    if (this.#idle()) this.#settle();
  }

  /** Runs `work`, counting it in flight until it settles. */
  async track<T>(work: () => Promise<T>): Promise<T> {
    this.begin();
    try {
      return await work();
    } finally {
      this.end();
    }
  }

  /** Resolves when nothing is in flight (checked again after pending I/O callbacks have run). */
  whenIdle(): Promise<void> {
    return new Promise((resolve) => {
      const check = (): void => {
        if (this.#idle()) setImmediate(() => (this.#idle() ? resolve() : this.#waiters.push(check)));
        else this.#waiters.push(check);
      };
      check();
    });
  }

  #idle(): boolean {
    return this.#inFlight <= this.#parked;
  }

  #settle(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) waiter();
  }
}

/** A tracker that counts nothing, for live runs. */
export const noWork = {
  begin(): void {},
  end(): void {},
  park(): void {},
  unpark(): void {},
} satisfies Pick<WorkTracker, 'begin' | 'end' | 'park' | 'unpark'>;
