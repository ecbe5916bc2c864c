// @ts-check
// The open account's timeline chart: mark price with the account's orders, its margin buffer against its
// thresholds, its position — over state bands, from the account read and the live records since. Drawn
// as SVG at the width it is shown at, so its text keeps its size.

import { $, h, s, svgTitle } from './dom.js';
import { fmtDec, fmtSize, num, pct, secs } from './decimal-format.js';
import { formatTick, niceDomain, niceTicks } from './axis-ticks.js';
import { ACCOUNT_MODES as MODES, TERMINAL_STATUSES } from './vocabulary.js';
import { fleetRow } from './fleet-table.js';
import { selectedAccount, selectedAccountId } from './selection.js';

/** @typedef {import('./api-types.js').TimelineRecord} TimelineRecord */
/** @typedef {import('./api-types.js').OrderRecord} OrderRecord */
/** @typedef {import('./api-types.js').StateRecord} StateRecord */
/** @typedef {import('./api-types.js').DecisionRecord} DecisionRecord */
/** @typedef {import('./api-types.js').LiquidationRecord} LiquidationRecord */
/** @typedef {import('./api-types.js').OrderPurpose} OrderPurpose */
/** @typedef {import('./api-types.js').DecimalString} DecimalString */
/** @typedef {Array<[number, number]>} Series (t in ms, value) */
/** @typedef {{ title: string, height: number, top: number, bottom: number }} Panel */
/** @typedef {{ lo: number, hi: number, map: (v: number) => number }} Scale */
/**
 * An order as the chart draws it: as sent, with the latest update and cancel request it had.
 * @typedef {object} ChartOrder
 * @property {number} t
 * @property {string} orderId
 * @property {string} purpose
 * @property {string} side
 * @property {DecimalString} amount
 * @property {string} symbol
 * @property {string} type
 * @property {DecimalString} [price]
 * @property {string} status
 * @property {DecimalString} [filled]
 * @property {string} [reason]
 * @property {string} [cancelReason]
 */
/** @typedef {{ t: number, marginBuffer: DecimalString | null | undefined, position: Readonly<Record<string, DecimalString>> }} RiskPoint */

const MAX_TIMELINE = 6000;

/** @type {Record<OrderPurpose, { shape: 'circle' | 'square' | 'diamond' | 'triangle', colour: string, label: string }>} */
const PURPOSES = {
  entry: { shape: 'circle', colour: '#1f6fd1', label: 'entry' },
  close: { shape: 'square', colour: '#0f8f7e', label: 'close' },
  reduce: { shape: 'diamond', colour: '#7b3fb5', label: 'reduce' },
  exit: { shape: 'triangle', colour: '#d62828', label: 'exit' },
};
/** @type {Record<string, string>} */
const STATE_COLOURS = {
  trading: '#2e9d4a',
  'entries-blocked': '#e0a000',
  'de-risking': '#7b3fb5',
  'panic-exit': '#d62828',
  'stopped-out': '#7a0c0c',
};
const SYMBOL_COLOURS = ['#1b1b1b', '#e07000', '#0f8f7e', '#b0357a', '#5a5a5a'];
const POSITION_COLOURS = ['#1f6fd1', '#e07000', '#0f8f7e', '#b0357a'];
const TERMINAL = new Set(TERMINAL_STATUSES);

/** @type {TimelineRecord[]} what the chart draws, oldest first */
let timeline = [];
let queued = false;
/** the width the chart was last drawn at */
let drawnWidth = 0;

/** Forgets the records (another account is opened, or none). */
export function clearTimeline() {
  timeline = [];
}

/**
 * The timeline of an account read: the server's records are the history; records that arrived meanwhile
 * are kept if they are newer.
 * @param {readonly TimelineRecord[]} history newest last
 */
export function mergeTimeline(history) {
  const lastT = history.at(-1)?.t ?? -Infinity;
  timeline = [...history, ...timeline.filter((r) => r.t > lastT)];
}

/**
 * Whether the open account's chart draws `record`: the account's own, and the marks of its symbols.
 * @param {TimelineRecord} record
 */
export function chartWants(record) {
  if ('account' in record && record.account === selectedAccountId()) return true;
  if (record.kind !== 'mark') return false;
  const symbols = chartSymbols();
  return symbols.length === 0 || symbols.includes(record.symbol);
}

/**
 * A live record for the chart; it is redrawn shortly (records come in bursts).
 * @param {TimelineRecord} record
 */
export function addChartRecord(record) {
  timeline.push(record);
  if (timeline.length > MAX_TIMELINE) timeline.splice(0, timeline.length - MAX_TIMELINE);
  queueChart();
}

/** Redraws the chart soon, once for everything that asked meanwhile. */
export function queueChart() {
  if (queued) return;
  queued = true;
  setTimeout(() => {
    queued = false;
    renderChart();
  }, 200);
}

/**
 * A line of text instead of the chart (loading, or why it cannot be drawn).
 * @param {'muted' | 'error'} kind
 * @param {string} text
 */
export function showChartMessage(kind, text) {
  $('timeline-chart').replaceChildren(h('p', { class: kind, text }));
}

/** Redraws the chart when its width changes, so its text keeps its size. */
export function watchChartWidth() {
  const box = $('timeline-chart');
  new ResizeObserver(() => {
    if (selectedAccountId() && box.clientWidth !== drawnWidth) queueChart();
  }).observe(box);
}

/** The symbols the account holds, ordered or lost; the marks' symbols if it has none of those. */
function chartSymbols() {
  const id = selectedAccountId();
  const symbols = new Set(Object.keys(selectedAccount()?.position ?? {}));
  for (const r of timeline) if ((r.kind === 'order' || r.kind === 'liquidation') && r.account === id) symbols.add(r.symbol);
  if (symbols.size === 0) for (const r of timeline) if (r.kind === 'mark') symbols.add(r.symbol);
  return [...symbols].sort();
}

function renderChart() {
  const box = $('timeline-chart');
  const id = selectedAccountId();
  if (!id) return;
  const account = selectedAccount();
  const symbols = chartSymbols();
  /** @type {Map<string, Series>} */
  const marks = new Map(symbols.map((sym) => [sym, []]));
  /** @type {RiskPoint[]} */
  const risk = [];
  /** @type {StateRecord[]} */
  const states = [];
  /** @type {Map<string, ChartOrder>} */
  const orders = new Map();
  /** @type {DecisionRecord[]} */
  const blocked = [];
  /** @type {LiquidationRecord[]} */
  const liquidations = [];
  let t0 = Infinity;
  let t1 = -Infinity;
  for (const r of timeline) {
    if (typeof r.t !== 'number') continue;
    t0 = Math.min(t0, r.t);
    t1 = Math.max(t1, r.t);
    if (r.kind === 'mark') {
      marks.get(r.symbol)?.push([r.t, num(r.price)]);
      continue;
    }
    if (!('account' in r) || r.account !== id) continue;
    if (r.kind === 'risk') risk.push(r);
    else if (r.kind === 'state') states.push(r);
    else if (r.kind === 'order') orders.set(r.orderId, { ...r, status: 'sent', filled: '0' });
    else if (r.kind === 'order-update') {
      const order = orders.get(r.orderId);
      if (order) Object.assign(order, { status: r.status, filled: r.filled, reason: r.reason });
    } else if (r.kind === 'cancel') {
      const order = orders.get(r.orderId);
      if (order && !TERMINAL.has(order.status)) order.cancelReason = r.reason;
    } else if (r.kind === 'decision' && !r.allowed) blocked.push(r);
    else if (r.kind === 'liquidation') liquidations.push(r);
  }
  if (!Number.isFinite(t0)) {
    box.replaceChildren(h('p', { class: 'muted', text: 'no timeline records yet' }));
    return;
  }
  // Risk records come every 10 s and on state changes; the account's current figures extend them to now.
  if (account && (risk.at(-1)?.t ?? -Infinity) < t1) {
    risk.push({ t: t1, marginBuffer: account.marginBuffer, position: account.position ?? {} });
  }
  if (t1 - t0 < 10_000) t1 = t0 + 10_000;

  const W = Math.max(520, Math.round(box.clientWidth || 900));
  drawnWidth = box.clientWidth;
  const left = 64;
  const right = 86;
  const gap = 26;
  const price = panel('mark price', 170, 18);
  const buf = panel('margin buffer', 110, price.bottom + gap);
  const pos = panel('position', 84, buf.bottom + gap);
  const panels = [price, buf, pos];
  const H = pos.bottom + gap + 4;
  const start = t0;
  const end = t1;
  /** @param {number} t */
  const x = (t) => left + ((t - start) / (end - start)) * (W - left - right);
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'timeline-svg', role: 'img', 'aria-label': `timeline of ${id}` });

  // State bands behind every panel.
  const firstState = states[0]?.from ?? fleetRow(id)?.state ?? 'trading';
  /** @type {Array<{ state: string, from: number, to: number }>} */
  const bands = [];
  let current = { state: /** @type {string} */ (firstState), from: t0 };
  for (const st of states) {
    if (st.to === current.state) continue;
    bands.push({ ...current, to: st.t });
    current = { state: st.to, from: st.t };
  }
  bands.push({ ...current, to: t1 });
  for (const p of panels) {
    for (const b of bands) {
      const bx = x(b.from);
      const bw = Math.max(1.5, x(b.to) - bx);
      svg.append(
        s(
          'rect',
          { x: bx, y: p.top, width: bw, height: p.height, fill: STATE_COLOURS[b.state] ?? '#999', opacity: 0.1 },
          svgTitle(`${b.state} ${secs(b.from)}–${secs(b.to)} s`),
        ),
      );
    }
    svg.append(s('rect', { x: left, y: p.top, width: W - left - right, height: p.height, fill: 'none', stroke: '#d5d9e0' }));
    svg.append(s('text', { x: left + 6, y: p.top + 13, class: 'panel-title' }, p.title));
  }
  // State transitions: a thin line through all panels.
  for (const b of bands.slice(1)) {
    const bx = x(b.from);
    const colour = STATE_COLOURS[b.state];
    const line = {
      x1: bx,
      x2: bx,
      y1: price.top,
      y2: pos.bottom,
      stroke: colour,
      'stroke-width': 1,
      'stroke-dasharray': '3 3',
      opacity: 0.8,
    };
    svg.append(s('line', line, svgTitle(`→ ${b.state} at ${secs(b.from)} s`)));
  }

  // Price panel.
  const orderList = [...orders.values()].filter((o) => marks.has(o.symbol));
  /**
   * The mark of `sym` at `t` (the first one before any).
   * @param {string} sym
   * @param {number} t
   */
  const markAt = (sym, t) => {
    const series = marks.get(sym) ?? [];
    let value = series[0]?.[1];
    for (const [mt, mp] of series) {
      if (mt > t) break;
      value = mp;
    }
    return value ?? NaN;
  };
  /** @param {ChartOrder} o */
  const orderPrice = (o) => (o.price && o.price !== '0' ? num(o.price) : markAt(o.symbol, o.t));
  const priceValues = [...[...marks.values()].flat().map(([, v]) => v), ...orderList.map(orderPrice)].filter(Number.isFinite);
  const py = scale(priceValues, price, 0.08);
  axis(svg, py, price, left, W - right);
  [...marks.entries()].forEach(([sym, series], i) => {
    const last = series.at(-1);
    if (!last) return;
    const colour = SYMBOL_COLOURS[i % SYMBOL_COLOURS.length];
    svg.append(
      s(
        'path',
        { d: stepPath(series, x, py.map, x(t1)), fill: 'none', stroke: colour, 'stroke-width': 1.6, class: 'mark-line' },
        svgTitle(`${sym} mark`),
      ),
    );
    svg.append(
      s('text', { x: W - right + 6, y: py.map(last[1]) + 4, class: 'end-label', fill: colour }, `${sym} ${fmtDec(String(last[1]), 1)}`),
    );
  });
  for (const o of orderList) {
    const p = orderPrice(o);
    if (!Number.isFinite(p)) continue;
    svg.append(orderMarker(o, x(o.t), py.map(p)));
  }
  for (const b of blocked) {
    const bx = x(b.t);
    svg.append(
      s(
        'g',
        { class: 'blocked-mark' },
        s('line', { x1: bx - 4, x2: bx + 4, y1: price.top + 4, y2: price.top + 12, stroke: '#b3261e', 'stroke-width': 2 }),
        s('line', { x1: bx + 4, x2: bx - 4, y1: price.top + 4, y2: price.top + 12, stroke: '#b3261e', 'stroke-width': 2 }),
        svgTitle(`${secs(b.t)} s entry blocked: ${(b.rules ?? []).join(', ')}`),
      ),
    );
  }
  for (const l of liquidations) {
    const p = l.price ? num(l.price) : markAt(l.symbol, l.t);
    if (!Number.isFinite(p)) continue;
    svg.append(
      s(
        'g',
        {},
        s('circle', { cx: x(l.t), cy: py.map(p), r: 7, fill: 'none', stroke: '#000', 'stroke-width': 2 }),
        svgTitle(`${secs(l.t)} s LIQUIDATED ${l.symbol}`),
      ),
    );
  }

  // Margin buffer panel, with its thresholds.
  /** @type {Series} */
  const bufferSeries = risk.filter((r) => r.marginBuffer !== null && r.marginBuffer !== undefined).map((r) => [r.t, num(r.marginBuffer)]);
  const minB = num(account?.minMarginBuffer);
  const panicB = num(account?.panicMarginBuffer);
  const by = scale([...bufferSeries.map(([, v]) => v), minB, panicB, 0].filter(Number.isFinite), buf, 0.12);
  // Fractions as percentages, with the decimals the tick step needs.
  axis(svg, by, buf, left, W - right, (v, decimals) => `${formatTick(v * 100, Math.max(0, decimals - 2))}%`);
  /** @type {Array<[number, string, 'min' | 'panic']>} */
  const levels = [
    [minB, '#7b3fb5', 'min'],
    [panicB, '#d62828', 'panic'],
  ];
  for (const [level, colour, label] of levels) {
    if (!Number.isFinite(level)) continue;
    const ly = by.map(level);
    const name = label === 'min' ? 'minMarginBuffer' : 'panicMarginBuffer';
    const line = {
      x1: left,
      x2: W - right,
      y1: ly,
      y2: ly,
      stroke: colour,
      'stroke-dasharray': '6 4',
      'stroke-width': 1.3,
      class: `threshold-${label}`,
    };
    svg.append(s('line', line, svgTitle(`${name} ${pct(String(level))}`)));
    svg.append(s('text', { x: W - right + 6, y: ly + 4, class: 'end-label', fill: colour }, `${label} ${fmtDec(String(level * 100), 1)}%`));
  }
  if (bufferSeries.length) {
    const d = stepPath(bufferSeries, x, by.map, x(t1));
    svg.append(s('path', { d, fill: 'none', stroke: '#1f6fd1', 'stroke-width': 1.8, class: 'buffer-line' }, svgTitle('margin buffer')));
  } else {
    svg.append(s('text', { x: left + 6, y: buf.top + 30, class: 'muted-text' }, 'flat: no margin buffer'));
  }

  // Position panel.
  /** @type {Map<string, Series>} */
  const posSeries = new Map(symbols.map((sym) => [sym, risk.map((r) => [r.t, num(r.position?.[sym] ?? '0')])]));
  const pyPos = scale([0, ...[...posSeries.values()].flat().map(([, v]) => v)].filter(Number.isFinite), pos, 0.15);
  axis(svg, pyPos, pos, left, W - right);
  svg.append(s('line', { x1: left, x2: W - right, y1: pyPos.map(0), y2: pyPos.map(0), stroke: '#98a2b3', 'stroke-width': 1 }));
  [...posSeries.entries()].forEach(([sym, series], i) => {
    const last = series.at(-1);
    if (!last) return;
    const colour = POSITION_COLOURS[i % POSITION_COLOURS.length];
    svg.append(
      s(
        'path',
        { d: stepPath(series, x, pyPos.map, x(t1)), fill: 'none', stroke: colour, 'stroke-width': 1.8 },
        svgTitle(`${sym} position`),
      ),
    );
    svg.append(
      s('text', { x: W - right + 6, y: pyPos.map(last[1]) + 4, class: 'end-label', fill: colour }, `${sym} ${fmtSize(String(last[1]))}`),
    );
  });

  // Time axis, in seconds.
  const bottom = pos.bottom;
  const timeTicks = niceTicks(t0 / 1000, t1 / 1000, 8);
  for (const t of timeTicks.values) {
    const tx = x(t * 1000);
    svg.append(s('line', { x1: tx, x2: tx, y1: bottom, y2: bottom + 4, stroke: '#667085' }));
    svg.append(s('text', { x: tx, y: bottom + 15, 'text-anchor': 'middle', class: 'tick' }, `${formatTick(t, timeTicks.decimals)}s`));
  }
  box.replaceChildren(svg);
  renderLegend();
}

/**
 * @param {string} title
 * @param {number} height
 * @param {number} top
 * @returns {Panel}
 */
function panel(title, height, top) {
  return { title, height, top, bottom: top + height };
}

function renderLegend() {
  const legend = $('timeline-legend');
  if (legend.childElementCount) return;
  /**
   * @param {Element} swatch
   * @param {string} text
   */
  const item = (swatch, text) => h('span', { class: 'legend-item' }, swatch, text);
  /**
   * @param {string} purpose
   * @param {string} status
   */
  const marker = (purpose, status) => {
    const svg = s('svg', { viewBox: '-8 -8 16 16', width: 14, height: 14, 'aria-hidden': 'true' });
    svg.append(orderMarker({ purpose, status, orderId: '', side: '', amount: '', symbol: '', type: '', t: 0 }, 0, 0, false));
    return svg;
  };
  legend.append(
    ...Object.entries(PURPOSES).map(([purpose, p]) => item(marker(purpose, 'filled'), p.label)),
    item(marker('reduce', 'sent'), 'working'),
    item(marker('reduce', 'rejected'), 'rejected'),
    item(marker('reduce', 'cancelled'), 'cancelled'),
    ...MODES.map((mode) => item(h('span', { class: 'swatch', dataset: { state: mode } }), mode)),
  );
}

/**
 * An order's marker: its shape and colour say its purpose, its fill its status.
 * @param {ChartOrder} o
 * @param {number} cx
 * @param {number} cy
 * @param {boolean} [withTitle]
 * @returns {SVGGElement}
 */
function orderMarker(o, cx, cy, withTitle = true) {
  const p = Object.hasOwn(PURPOSES, o.purpose) ? PURPOSES[/** @type {OrderPurpose} */ (o.purpose)] : PURPOSES.entry;
  const filled = o.status === 'filled' || o.status === 'partially-filled';
  const rejected = o.status === 'rejected' || o.status === 'liquidated';
  const cancelled = o.status === 'cancelled';
  const fill = filled ? p.colour : '#fff';
  const stroke = cancelled ? '#98a2b3' : p.colour;
  const r = 5.5;
  /** @type {SVGElement} */
  let shape;
  if (p.shape === 'circle') shape = s('circle', { cx, cy, r });
  else if (p.shape === 'square') shape = s('rect', { x: cx - r + 1, y: cy - r + 1, width: 2 * r - 2, height: 2 * r - 2 });
  else if (p.shape === 'diamond') {
    shape = s('path', { d: `M${cx} ${cy - r - 1}L${cx + r + 1} ${cy}L${cx} ${cy + r + 1}L${cx - r - 1} ${cy}Z` });
  } else {
    // An exit points the way it trades: up for a buy, down for a sell.
    const up = o.side !== 'sell';
    shape = s('path', {
      d: up
        ? `M${cx} ${cy - r - 1}L${cx + r} ${cy + r - 1}L${cx - r} ${cy + r - 1}Z`
        : `M${cx} ${cy + r + 1}L${cx + r} ${cy - r + 1}L${cx - r} ${cy - r + 1}Z`,
    });
  }
  shape.setAttribute('fill', fill);
  shape.setAttribute('stroke', stroke);
  shape.setAttribute('stroke-width', '1.8');
  if (cancelled) shape.setAttribute('stroke-dasharray', '2 2');
  if (o.status === 'partially-filled') shape.setAttribute('fill-opacity', '0.5');
  const g = s('g', { class: `order-marker purpose-${o.purpose} status-${o.status}` }, shape);
  if (rejected) {
    g.append(
      s('line', { x1: cx - r, y1: cy - r, x2: cx + r, y2: cy + r, stroke: '#b3261e', 'stroke-width': 2 }),
      s('line', { x1: cx + r, y1: cy - r, x2: cx - r, y2: cy + r, stroke: '#b3261e', 'stroke-width': 2 }),
    );
  }
  if (withTitle) {
    const why = o.reason ? ` (${o.reason})` : o.cancelReason ? ` (cancel asked: ${o.cancelReason})` : '';
    const limit = o.price && o.price !== '0' ? ` @ ${o.price}` : '';
    const filledText = o.filled && o.filled !== '0' ? ` ${fmtSize(o.filled)}` : '';
    const order = `${o.orderId} ${o.purpose}: ${o.side} ${fmtSize(o.amount)} ${o.symbol} ${o.type}${limit}`;
    g.append(svgTitle(`${secs(o.t)} s ${order} → ${o.status}${filledText}${why}`));
  }
  return g;
}

/**
 * A step line through `series`: each value holds until the next, the last until `xEnd`.
 * @param {Series} series
 * @param {(t: number) => number} x
 * @param {(v: number) => number} y
 * @param {number} xEnd
 */
function stepPath(series, x, y, xEnd) {
  let d = '';
  series.forEach(([t, v], i) => {
    if (!Number.isFinite(v)) return;
    const px = x(t).toFixed(1);
    const py = y(v).toFixed(1);
    d += i === 0 || !d ? `M${px} ${py}` : `H${px}V${py}`;
  });
  if (d) d += `H${xEnd.toFixed(1)}`;
  return d;
}

/**
 * The panel's vertical scale over `values`, padded by `pad` of their span (the report's domain rules).
 * @param {readonly number[]} values
 * @param {Panel} p
 * @param {number} pad
 * @returns {Scale}
 */
function scale(values, p, pad) {
  const [lo, hi] = niceDomain(values, { pad });
  const top = p.top + 16;
  const bottom = p.bottom - 6;
  return { lo, hi, map: (v) => bottom - ((v - lo) / (hi - lo)) * (bottom - top) };
}

/**
 * Round ticks and light grid lines across the panel.
 * @param {SVGSVGElement} svg
 * @param {Scale} sc
 * @param {Panel} p
 * @param {number} x0
 * @param {number} x1
 * @param {(value: number, decimals: number) => string} [label]
 */
function axis(svg, sc, p, x0, x1, label = formatTick) {
  const ticks = niceTicks(sc.lo, sc.hi, 4);
  for (const v of ticks.values) {
    const ty = sc.map(v);
    if (ty < p.top + 14 || ty > p.bottom - 2) continue;
    svg.append(s('line', { x1: x0, x2: x1, y1: ty, y2: ty, stroke: '#eef0f4' }));
    svg.append(s('text', { x: x0 - 6, y: ty + 3.5, 'text-anchor': 'end', class: 'tick' }, label(v, ticks.decimals)));
  }
}
