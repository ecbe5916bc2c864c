import { Decimal, dec, isDecimalString, str, type DecimalString } from '../domain/decimal.ts';
import type { Rng } from './rng.ts';

/**
 * Mark price paths. A scripted path (scenario `marks`, docs/contracts.md#scenario-marks) is a list of points; between two points the
 * mark moves linearly with one mark per whole second (t = 1000·k ms since the scenario start), each
 * rounded to the nearest tick (ties to even). A point with `jump: true` is a gap: no intermediate marks
 * between the previous point and it. Every point itself is a mark. Nothing is produced after the last
 * point (the mark simply stays where it is).
 */

export interface MarkScriptPoint {
  /** Milliseconds since the scenario start. */
  at: number;
  price: DecimalString;
  jump?: boolean;
}

export interface ScheduledMark {
  at: number;
  price: DecimalString;
}

export const MARK_INTERVAL_MS = 1000;

/** price rounded to the nearest multiple of `tick` (ties to even), never below one tick. */
export function roundToTick(price: Decimal, tick: Decimal): Decimal {
  const rounded = price.div(tick).toDecimalPlaces(0, Decimal.ROUND_HALF_EVEN).times(tick);
  return rounded.gt(0) ? rounded : tick;
}

/** The marks of a scripted path. Throws naming the point for times that do not increase or bad prices. */
export function markSchedule(points: readonly MarkScriptPoint[], tickSize: Decimal | DecimalString): ScheduledMark[] {
  const tick = dec(tickSize);
  if (!tick.gt(0)) throw new Error(`tickSize: must be > 0, got ${str(tick)}`);
  const marks: ScheduledMark[] = [];
  let previous: { at: number; price: Decimal } | null = null;
  points.forEach((point, i) => {
    if (!Number.isSafeInteger(point.at) || point.at < 0)
      throw new Error(`marks[${i}].at: expected whole milliseconds >= 0, got ${String(point.at)}`);
    if (!isDecimalString(point.price) || !dec(point.price).gt(0)) {
      throw new Error(`marks[${i}].price: expected a positive decimal string, got ${JSON.stringify(point.price)}`);
    }
    if (previous !== null && point.at <= previous.at) {
      throw new Error(`marks[${i}].at: ${point.at} ms is not after the previous point (${previous.at} ms)`);
    }
    const price = dec(point.price);
    if (previous !== null && point.jump !== true) {
      const span = point.at - previous.at;
      const first = Math.floor(previous.at / MARK_INTERVAL_MS + 1) * MARK_INTERVAL_MS;
      for (let t = first; t < point.at; t += MARK_INTERVAL_MS) {
        // p(t) = pA + (pB − pA)·(t − tA)/(tB − tA); the numerator is exact, one division, then the tick.
        const p = previous.price.plus(
          price
            .minus(previous.price)
            .times(t - previous.at)
            .div(span),
        );
        marks.push({ at: t, price: str(roundToTick(p, tick)) });
      }
    }
    marks.push({ at: point.at, price: str(roundToTick(price, tick)) });
    previous = { at: point.at, price };
  });
  return marks;
}

export interface RandomWalkOptions {
  start: DecimalString;
  tickSize: DecimalString;
  /** Largest move per step, in ticks (each step moves a uniform whole number of ticks in [−max, max]). */
  maxStepTicks: number;
}

/** A seeded random walk on the tick grid; never goes below one tick. */
export class RandomWalk {
  readonly #rng: Rng;
  readonly #tick: Decimal;
  readonly #maxStep: number;
  #price: Decimal;

  constructor(rng: Rng, options: RandomWalkOptions) {
    if (!Number.isSafeInteger(options.maxStepTicks) || options.maxStepTicks < 0) {
      throw new Error(`maxStepTicks: expected a whole number >= 0, got ${String(options.maxStepTicks)}`);
    }
    this.#rng = rng;
    this.#tick = dec(options.tickSize);
    this.#maxStep = options.maxStepTicks;
    this.#price = roundToTick(dec(options.start), this.#tick);
  }

  get price(): DecimalString {
    return str(this.#price);
  }

  next(): DecimalString {
    const step = this.#rng.between(-this.#maxStep, this.#maxStep);
    const moved = this.#price.plus(this.#tick.times(step));
    this.#price = moved.gt(0) ? moved : this.#tick;
    return str(this.#price);
  }
}

/** `steps` marks of a random walk, one every `intervalMs` from `from` (the first is the start price). */
export function randomWalkSchedule(
  rng: Rng,
  options: RandomWalkOptions & { steps: number; from?: number; intervalMs?: number },
): ScheduledMark[] {
  const walk = new RandomWalk(rng, options);
  const from = options.from ?? 0;
  const interval = options.intervalMs ?? MARK_INTERVAL_MS;
  const marks: ScheduledMark[] = [];
  for (let i = 0; i < options.steps; i++) marks.push({ at: from + i * interval, price: i === 0 ? walk.price : walk.next() });
  return marks;
}
