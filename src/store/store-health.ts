import type { StoreChange } from './stopout-store.ts';

export interface StoreHealthOptions {
  /** A loss is reported (a `health` change) only once it has lasted this long, so blips do not flap. */
  failClosedAfterMs: number;
  report: (change: Extract<StoreChange, { kind: 'health' }>) => void;
}

/**
 * The store's health as its users see it: `healthy()` turns false the moment the store is lost; a
 * `health: false` change follows after `failClosedAfterMs` if it is still lost, and `health: true` when it
 * is restored after such a report. Starts lost ("connecting"), so a store that never connects is reported.
 */
export class StoreHealth {
  readonly #failClosedAfterMs: number;
  readonly #report: StoreHealthOptions['report'];
  #healthy = false;
  #reason = 'connecting';
  #reportedDown = false;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: StoreHealthOptions) {
    this.#failClosedAfterMs = options.failClosedAfterMs;
    this.#report = options.report;
    this.#arm();
  }

  healthy(): boolean {
    return this.#healthy;
  }

  /** Why it is not healthy (the first cause of the current loss). */
  reason(): string | undefined {
    return this.#healthy ? undefined : this.#reason;
  }

  lost(reason: string): void {
    if (this.#closed || !this.#healthy) return;
    this.#healthy = false;
    this.#reason = reason;
    this.#arm();
  }

  restored(): void {
    if (this.#closed || this.#healthy) return;
    this.#healthy = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#reportedDown) {
      this.#reportedDown = false;
      this.#report({ kind: 'health', healthy: true });
    }
  }

  close(): void {
    this.#closed = true;
    this.#healthy = false;
    this.#reason = 'closed';
    clearTimeout(this.#timer);
  }

  #arm(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#closed || this.#healthy || this.#reportedDown) return;
      this.#reportedDown = true;
      this.#report({ kind: 'health', healthy: false, reason: `${this.#reason} (for ${this.#failClosedAfterMs} ms)` });
    }, this.#failClosedAfterMs);
    // Health timing must not keep a process alive on its own.
    this.#timer.unref();
  }
}
