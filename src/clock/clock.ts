/**
 * Time as the rest of the system sees it. Live runs use the wall clock; simulations use a SimClock that
 * only the scenario runner moves, so that the same scenario and seed give the same timeline.
 */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
}

export const wallClock: Clock = { now: () => Date.now() };

export class SimClock implements Clock {
  #now: number;

  constructor(start: number) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  /** Moves time forward to `to` (never backwards). */
  advanceTo(to: number): void {
    if (to < this.#now) throw new Error(`SimClock cannot go back from ${this.#now} to ${to}`);
    this.#now = to;
  }
}
