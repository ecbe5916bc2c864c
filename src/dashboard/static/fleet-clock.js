// @ts-check
// The clock in the top bar: the fleet's (simulated in a scenario), not the browser's. A fleet read gives
// the time; records carry t (ms since the start) and so move it between reads.

import { $ } from './dom.js';

/** @type {number | null} the `t` of the newest record seen */
let lastT = null;
/** performance.now() when that record came */
let lastRecordAt = 0;
/** @type {number | null} epoch ms of t = 0, while records and fleet reads agree on it */
let origin = null;

/**
 * An ISO 8601 time as "2025-01-02 03:04:05 UTC".
 * @param {string | undefined} iso
 * @returns {string}
 */
export function clockText(iso) {
  const ms = iso === undefined ? NaN : Date.parse(iso);
  if (Number.isNaN(ms)) return String(iso ?? '—');
  return `${new Date(ms)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, ' UTC')}`;
}

/**
 * A fleet read: the clock shows its time; with a fresh record it also gives the start, so the clock can
 * move with the records between reads (to the second: records lag the clock by at most a step).
 * @param {string} at ISO 8601
 */
export function clockFromFleet(at) {
  const ms = Date.parse(at);
  origin = lastT !== null && performance.now() - lastRecordAt < 1500 && !Number.isNaN(ms) ? Math.round((ms - lastT) / 1000) * 1000 : null;
  $('clock').textContent = clockText(at);
}

/**
 * A record came: a newer `t` moves the clock, if the start is known.
 * @param {unknown} t
 */
export function clockFromRecord(t) {
  if (typeof t !== 'number' || t <= (lastT ?? -1)) return;
  lastT = t;
  lastRecordAt = performance.now();
  if (origin !== null) $('clock').textContent = clockText(new Date(origin + t).toISOString());
}
