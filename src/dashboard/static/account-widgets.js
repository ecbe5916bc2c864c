// @ts-check
// The small pieces an account is shown with, in the fleet table and in the account view alike: its state
// badge, its stopout chips, its position and its margin buffer gauge.

import { h } from './dom.js';
import { cmpDec, fmtSize, num, pct, signOf } from './decimal-format.js';

/** @typedef {import('./api-types.js').DecimalString} DecimalString */

/**
 * The state badge: its text is exactly the top-level state; the nested path goes into the title and,
 * below the badge, into a small line of its own.
 * @param {HTMLElement} cell
 * @param {string} state
 * @param {string | undefined} detail
 */
export function setBadge(cell, state, detail) {
  let badge = /** @type {HTMLElement | null} */ (cell.querySelector('.badge'));
  if (!badge) {
    badge = h('span', { class: 'badge' });
    cell.replaceChildren(badge);
  }
  if (badge.textContent !== state) badge.textContent = state;
  badge.dataset.state = state;
  badge.title = detail && detail !== state ? detail : state;
  let sub = cell.querySelector('.detail');
  const nested = detail && detail !== state && detail.startsWith(`${state}.`) ? detail.slice(state.length + 1) : '';
  if (nested) {
    if (!sub) cell.append((sub = h('span', { class: 'detail' })));
    sub.textContent = nested;
  } else sub?.remove();
}

/**
 * `scope:id:reason` as a chip: the scope small, the id bold, then the reason.
 * @param {string} text
 * @returns {HTMLSpanElement}
 */
export function stopChip(text) {
  const first = text.indexOf(':');
  const last = text.lastIndexOf(':');
  if (first < 0 || last <= first) return h('span', { class: 'chip stop', text, title: text });
  return h(
    'span',
    { class: 'chip stop', title: text },
    h('span', { class: 'scope-name', text: text.slice(0, first) }),
    h('b', { text: text.slice(first + 1, last) }),
    ` ${text.slice(last + 1)}`,
  );
}

/**
 * Every symbol the account holds, with its signed size; "flat" for none.
 * @param {Readonly<Record<string, DecimalString>> | undefined} position
 * @returns {HTMLSpanElement}
 */
export function positionText(position) {
  const entries = Object.entries(position ?? {})
    .filter(([, size]) => signOf(size) !== 0)
    .sort(([a], [b]) => a.localeCompare(b));
  if (!entries.length) return h('span', { class: 'muted', text: 'flat' });
  return h(
    'span',
    { class: 'positions' },
    ...entries.map(([symbol, size]) =>
      h('span', { class: `pos ${signOf(size) < 0 ? 'short' : 'long'}` }, h('b', { text: fmtSize(size) }), ` ${symbol}`),
    ),
  );
}

/**
 * Margin buffer against its thresholds: red below panicMarginBuffer, amber up to minMarginBuffer, green
 * above; both thresholds are marked. The scale reaches three times the minimum (or the value, if more).
 * @param {DecimalString | null | undefined} value
 * @param {DecimalString | null | undefined} min
 * @param {DecimalString | null | undefined} panic
 * @returns {HTMLDivElement}
 */
export function gauge(value, min, panic) {
  const v = num(value);
  const lo = Math.min(0, Number.isFinite(v) ? v : 0);
  const candidates = [
    Number.isFinite(num(min)) ? num(min) * 3 : 0,
    Number.isFinite(num(panic)) ? num(panic) * 6 : 0,
    Number.isFinite(v) ? v * 1.1 : 0,
    0.05,
  ];
  const hi = Math.max(...candidates);
  /** @param {number} x */
  const at = (x) => `${(((x - lo) / (hi - lo)) * 100).toFixed(2)}%`;
  const box = h('div', { class: 'gauge', role: 'meter' });
  const track = h('div', { class: 'gauge-track' });
  /** @type {Array<[string, number, number]>} */
  const zones = [];
  const p = num(panic);
  const m = num(min);
  const first = Number.isFinite(p) ? p : Number.isFinite(m) ? m : lo;
  if (Number.isFinite(p) || Number.isFinite(m)) zones.push(['panic', lo, first]);
  if (Number.isFinite(p) && Number.isFinite(m)) zones.push(['low', p, m]);
  zones.push(['ok', Number.isFinite(m) ? m : first, hi]);
  for (const [kind, from, to] of zones) {
    const zone = h('span', { class: `zone ${kind}` });
    zone.style.left = at(Math.max(lo, from));
    zone.style.width = `${Math.max(0, ((Math.min(hi, to) - Math.max(lo, from)) / (hi - lo)) * 100).toFixed(2)}%`;
    track.append(zone);
  }
  /** @type {Array<[string, DecimalString | null | undefined, string]>} */
  const thresholds = [
    ['min', min, 'minMarginBuffer'],
    ['panic', panic, 'panicMarginBuffer'],
  ];
  for (const [kind, level, label] of thresholds) {
    if (level === null || level === undefined) continue;
    const tick = h('span', { class: `threshold ${kind}`, title: `${label} ${pct(level)}` });
    tick.style.left = at(num(level));
    track.append(tick);
  }
  let zone = 'ok';
  if (Number.isFinite(v)) {
    if (panic !== null && panic !== undefined && cmpDec(value, panic) < 0) zone = 'panic';
    else if (min !== null && min !== undefined && cmpDec(value, min) < 0) zone = 'low';
    const fill = h('span', { class: `gauge-value ${zone}` });
    fill.style.left = at(Math.min(hi, Math.max(lo, v)));
    track.append(fill);
  }
  box.append(track, h('span', { class: `gauge-text ${Number.isFinite(v) ? zone : ''}`, text: Number.isFinite(v) ? pct(value) : 'flat' }));
  const limits = [
    min !== null && min !== undefined ? `min ${pct(min)}` : null,
    panic !== null && panic !== undefined ? `panic ${pct(panic)}` : null,
  ]
    .filter(Boolean)
    .join(', ');
  box.title = `margin buffer ${Number.isFinite(v) ? pct(value) : 'n/a (flat)'}${limits ? ` — ${limits}` : ''}`;
  box.setAttribute('aria-label', box.title);
  if (Number.isFinite(v)) box.setAttribute('aria-valuenow', String(v));
  box.dataset.zone = Number.isFinite(v) ? zone : 'flat';
  return box;
}
