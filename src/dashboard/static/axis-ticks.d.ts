// Types of axis-ticks.js for the TypeScript side (the root project does not read JavaScript).
// test/dashboard/dashboard-typecheck.test.ts checks that they match what the JSDoc of axis-ticks.js declares.

/** Round tick values (1, 2, 2.5 or 5 × 10^k apart) and the decimals that print them. */
export interface Ticks {
  values: number[];
  /** Decimals that print every tick distinctly. */
  decimals: number;
}

/** About `target` round ticks covering [min, max]. */
export function niceTicks(min: number, max: number, target?: number): Ticks;

/**
 * A domain around `values` (and zero if asked) with a margin of `pad` of the span on each side, so the
 * extreme points do not sit on the frame. A single value gets a span of its own.
 */
export function niceDomain(values: readonly number[], options?: { includeZero?: boolean; pad?: number }): [number, number];

/** A tick's text with the decimals of its axis, never a negative zero. */
export function formatTick(value: number, decimals: number): string;
