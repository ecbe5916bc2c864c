// @ts-check
// Axis arithmetic for every chart riskwarden draws: the report's (server side, through
// src/report/axis-ticks.ts) and the dashboard's (in the browser, unbundled). Plain JavaScript so both can
// load the same file; axis-ticks.d.ts beside it declares the same for TypeScript, and a test holds the two together.

/**
 * Round tick values (1, 2, 2.5 or 5 × 10^k apart) and the decimals that print them. Pixel geometry
 * only — plotted values are display copies of the exact decimals.
 * @typedef {object} Ticks
 * @property {number[]} values
 * @property {number} decimals Decimals that print every tick distinctly.
 */

/**
 * About `target` round ticks covering [min, max].
 * @param {number} min
 * @param {number} max
 * @param {number} [target]
 * @returns {Ticks}
 */
export function niceTicks(min, max, target = 6) {
  if (!Number.isFinite(min) || !Number.isFinite(max) || max <= min) return { values: [min], decimals: decimalsFor(Math.abs(min) || 1) };
  const step = niceStep((max - min) / Math.max(1, target));
  const first = Math.ceil(min / step - 1e-9) * step;
  /** @type {number[]} */
  const values = [];
  for (let v = first; v <= max + step * 1e-9; v += step) values.push(roundTo(v, step));
  return { values, decimals: decimalsFor(step) };
}

/**
 * A domain around `values` (and zero if asked) with a margin of `pad` of the span on each side, so the
 * extreme points do not sit on the frame. A single value gets a span of its own.
 * @param {readonly number[]} values
 * @param {{ includeZero?: boolean, pad?: number }} [options]
 * @returns {[number, number]}
 */
export function niceDomain(values, options = {}) {
  const finite = values.filter(Number.isFinite);
  if (options.includeZero) finite.push(0);
  if (finite.length === 0) return [0, 1];
  let min = Math.min(...finite);
  let max = Math.max(...finite);
  if (max === min) {
    const half = Math.abs(min) * 0.05 || 0.5;
    min -= half;
    max += half;
  }
  // Unsnapped: the ticks inside are round, and a snapped edge could add a whole empty step.
  const pad = (max - min) * (options.pad ?? 0.05);
  return [min - pad, max + pad];
}

/**
 * A tick's text with the decimals of its axis, never a negative zero.
 * @param {number} value
 * @param {number} decimals
 * @returns {string}
 */
export function formatTick(value, decimals) {
  const s = value.toFixed(decimals);
  return /^-0(\.0*)?$/.test(s) ? s.slice(1) : s;
}

/** @param {number} raw */
function niceStep(raw) {
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const fraction = raw / magnitude;
  const nice = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 2.5 ? 2.5 : fraction <= 5 ? 5 : 10;
  return nice * magnitude;
}

/** @param {number} step */
function decimalsFor(step) {
  // 2.5 × 10^k needs one digit more than 10^k.
  const extra = Math.abs(step / 10 ** Math.floor(Math.log10(step) + 1e-9) - 2.5) < 1e-9 ? 1 : 0;
  return Math.max(0, Math.min(12, -Math.floor(Math.log10(step) + 1e-9) + extra));
}

/**
 * Removes the float noise of repeated addition (0.30000000000000004).
 * @param {number} value
 * @param {number} step
 */
function roundTo(value, step) {
  const d = decimalsFor(step) + 2;
  return Number(value.toFixed(d));
}
