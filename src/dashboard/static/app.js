// riskwarden dashboard: plain ES module, no framework, no build step. Everything it shows comes from
// /api/v1 of the origin that served it; every string from the API goes into the page as text
// (textContent, attribute values, SVG text nodes), never as markup.

const API = '/api/v1';
const MODES = ['trading', 'entries-blocked', 'de-risking', 'panic-exit', 'stopped-out'];
const SVG_NS = 'http://www.w3.org/2000/svg';
const POLL_MS = 2000;
const LIVE_REFRESH_MS = 5000;
const MAX_TIMELINE = 6000;
const MAX_DECISIONS = 200;
const MAX_ACTIVITY = 80;

const PURPOSES = {
  entry: { shape: 'circle', colour: '#1f6fd1', label: 'entry' },
  close: { shape: 'square', colour: '#0f8f7e', label: 'close' },
  reduce: { shape: 'diamond', colour: '#7b3fb5', label: 'reduce' },
  exit: { shape: 'triangle', colour: '#d62828', label: 'exit' },
};
const STATE_COLOURS = {
  trading: '#2e9d4a',
  'entries-blocked': '#e0a000',
  'de-risking': '#7b3fb5',
  'panic-exit': '#d62828',
  'stopped-out': '#7a0c0c',
};
const SYMBOL_COLOURS = ['#1b1b1b', '#e07000', '#0f8f7e', '#b0357a', '#5a5a5a'];
const TERMINAL = new Set(['filled', 'cancelled', 'rejected', 'liquidated']);

// ---------------------------------------------------------------------------------------------------
// State

const ui = {
  token: null,
  fleet: null,
  rows: new Map(),
  rowEls: new Map(),
  portfolios: [],
  sort: { key: 'id', dir: 1 },
  filter: '',
  selected: null,
  account: null,
  timeline: [],
  decisions: [],
  stopouts: [],
  activity: [],
  live: false,
  socket: null,
  retry: 0,
  retryTimer: null,
  pollTimer: null,
  chartQueued: false,
  chartWidth: 0,
  reorderQueued: false,
  svgMachine: null,
  statechartFor: null,
  accountRefresh: null,
  stopoutRefresh: null,
  lastT: null,
  origin: null,
  lastRecordAt: 0,
};

// ---------------------------------------------------------------------------------------------------
// DOM helpers: text only

const $ = (id) => document.getElementById(id);

function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  append(node, children);
  return node;
}

function s(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null) continue;
    node.setAttribute(key, String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
}

function svgTitle(text) {
  const title = document.createElementNS(SVG_NS, 'title');
  title.textContent = text;
  return title;
}

// ---------------------------------------------------------------------------------------------------
// Exact decimals for display and sorting (BigInt: no float rounding of money)

function parseDec(text) {
  if (typeof text !== 'string' && typeof text !== 'number') return null;
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:e([+-]?\d+))?$/i.exec(String(text).trim());
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return null;
  const frac = m[3] ?? '';
  let digits = BigInt((m[2] || '0') + frac);
  let scale = frac.length - Number(m[4] ?? 0);
  if (scale < 0) {
    digits *= 10n ** BigInt(-scale);
    scale = 0;
  }
  return { n: m[1] === '-' ? -digits : digits, scale };
}

function cmpDec(a, b) {
  const x = parseDec(a);
  const y = parseDec(b);
  if (!x || !y) return x ? -1 : y ? 1 : 0;
  const scale = Math.max(x.scale, y.scale);
  const xn = x.n * 10n ** BigInt(scale - x.scale);
  const yn = y.n * 10n ** BigInt(scale - y.scale);
  return xn < yn ? -1 : xn > yn ? 1 : 0;
}

function signOf(text) {
  const d = parseDec(text);
  return !d ? 0 : d.n < 0n ? -1 : d.n > 0n ? 1 : 0;
}

/** `text` × 10^shift, rounded half away from zero to `places`, with thousands separators. */
function fmtDec(text, places = 2, { group = true, plus = false, shift = 0 } = {}) {
  const d = parseDec(text);
  if (!d) return text === null || text === undefined ? '—' : String(text);
  let { n, scale } = d;
  scale -= shift;
  if (scale < 0) {
    n *= 10n ** BigInt(-scale);
    scale = 0;
  }
  if (scale > places) {
    const div = 10n ** BigInt(scale - places);
    const neg = n < 0n;
    const abs = neg ? -n : n;
    let q = abs / div;
    if ((abs % div) * 2n >= div) q += 1n;
    n = neg ? -q : q;
    scale = places;
  } else {
    n *= 10n ** BigInt(places - scale);
    scale = places;
  }
  const neg = n < 0n;
  const raw = (neg ? -n : n).toString().padStart(places + 1, '0');
  let int = raw.slice(0, raw.length - places);
  const frac = places > 0 ? raw.slice(raw.length - places) : '';
  if (group) int = int.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const sign = neg && /[1-9]/.test(int + frac) ? '−' : plus && n > 0n ? '+' : '';
  return `${sign}${int}${frac ? `.${frac}` : ''}`;
}

/** A size as given (trailing zeros trimmed), with its sign. */
function fmtSize(text) {
  const d = parseDec(text);
  if (!d) return String(text);
  const neg = d.n < 0n;
  const raw = (neg ? -d.n : d.n).toString().padStart(d.scale + 1, '0');
  const int = raw.slice(0, raw.length - d.scale);
  const frac = d.scale > 0 ? raw.slice(raw.length - d.scale).replace(/0+$/, '') : '';
  return `${neg ? '−' : ''}${int}${frac ? `.${frac}` : ''}`;
}

const money = (text) => fmtDec(text, 2);
const pct = (text) => (text === null || text === undefined ? '—' : `${fmtDec(text, 2, { shift: 2 })} %`);
const secs = (t) => fmtDec(String(t), 1, { shift: -3, group: false });
const num = (text) => (text === null || text === undefined ? NaN : Number(text)); // plotting only

// ---------------------------------------------------------------------------------------------------
// API

async function api(path, { method = 'GET', body } = {}) {
  const headers = { accept: 'application/json' };
  if (ui.token) headers.authorization = `Bearer ${ui.token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${API}${path}`, {
    method,
    headers,
    credentials: 'same-origin',
    cache: 'no-store',
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  return { status: res.status, ok: res.ok, data, text, res };
}

async function apiText(path) {
  const headers = { accept: 'image/svg+xml' };
  if (ui.token) headers.authorization = `Bearer ${ui.token}`;
  const res = await fetch(`${API}${path}`, { headers, credentials: 'same-origin', cache: 'no-store' });
  return { status: res.status, ok: res.ok, text: await res.text() };
}

function problemText(result) {
  const d = result.data;
  if (result.status === 401) return 'not signed in: open the dashboard with /?token=<token>';
  if (result.status === 403) return 'forbidden: this needs an admin token';
  if (d && typeof d === 'object') {
    if (d.result === 'refused') return `refused: ${d.reason ?? 'no reason given'}`;
    const problems = Array.isArray(d.problems) && d.problems.length ? ` (${d.problems.join('; ')})` : '';
    if (typeof d.error === 'string') return `${d.error}${problems}`;
  }
  return `HTTP ${result.status}${result.text ? `: ${result.text.slice(0, 200)}` : ''}`;
}

function showBanner(message) {
  const banner = $('banner');
  banner.hidden = !message;
  banner.textContent = message ?? '';
}

// ---------------------------------------------------------------------------------------------------
// Fleet

async function loadFleet() {
  let result;
  try {
    result = await api('/fleet');
  } catch (error) {
    showBanner(`the server cannot be reached: ${error.message}`);
    return false;
  }
  if (!result.ok || !result.data || !Array.isArray(result.data.accounts)) {
    showBanner(`fleet: ${problemText(result)}`);
    return false;
  }
  showBanner(null);
  applyFleet(result.data);
  return true;
}

function applyFleet(fleet) {
  ui.fleet = fleet;
  // Records carry t (ms since the start), the fleet its clock: together they give the start, so the clock
  // can move with the records between reads (to the second: records lag the clock by at most a step).
  const at = Date.parse(fleet.at);
  const fresh = ui.lastT !== null && performance.now() - ui.lastRecordAt < 1500;
  ui.origin = fresh && !Number.isNaN(at) ? Math.round((at - ui.lastT) / 1000) * 1000 : null;
  $('clock').textContent = clockText(fleet.at);
  const seen = new Set();
  for (const row of fleet.accounts) {
    seen.add(row.id);
    const before = ui.rows.get(row.id);
    ui.rows.set(row.id, { ...row });
    if (before && before.state !== row.state) flashRow(row.id);
  }
  for (const id of [...ui.rows.keys()]) if (!seen.has(id)) ui.rows.delete(id);
  setPortfolios(fleet.portfolios ?? []);
  renderFleet();
  refreshIdChoices();
  if (ui.selected && ui.rows.has(ui.selected)) {
    // The row is as fresh as it gets: the account view's figures follow it until the account is read again.
    if (ui.account) {
      const row = ui.rows.get(ui.selected);
      for (const key of ['state', 'detail', 'position', 'grossNotional', 'equity', 'marginBuffer', 'sessionPnl', 'stopouts']) ui.account[key] = row[key];
      renderFacts();
    }
    updateAccountHeader();
  }
}

function clockText(iso) {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return String(iso ?? '—');
  return `${new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}`;
}

function setPortfolios(list) {
  const sorted = [...new Set(list)].sort();
  if (sorted.join('\n') === ui.portfolios.join('\n')) return;
  ui.portfolios = sorted;
  const select = $('portfolio-filter');
  const current = select.value;
  select.replaceChildren(h('option', { value: '', text: 'all portfolios' }), ...sorted.map((p) => h('option', { value: p, text: p })));
  select.value = sorted.includes(current) ? current : '';
  ui.filter = select.value;
}

const SORTERS = {
  id: (a, b) => a.id.localeCompare(b.id),
  state: (a, b) => MODES.indexOf(a.state) - MODES.indexOf(b.state),
  position: (a, b) => cmpDec(positionKey(a), positionKey(b)),
  grossNotional: (a, b) => cmpDec(a.grossNotional, b.grossNotional),
  marginBuffer: (a, b) => cmpNullable(a.marginBuffer, b.marginBuffer),
  sessionPnl: (a, b) => cmpDec(a.sessionPnl, b.sessionPnl),
  stopouts: (a, b) => a.stopouts.length - b.stopouts.length,
};

function cmpNullable(a, b) {
  if (a === null || a === undefined) return b === null || b === undefined ? 0 : 1;
  if (b === null || b === undefined) return -1;
  return cmpDec(a, b);
}

/** Positions sort by the size of their first symbol (the usual case is one symbol per account). */
function positionKey(row) {
  const symbols = Object.keys(row.position ?? {}).sort();
  return symbols.length ? row.position[symbols[0]] : '0';
}

function visibleRows() {
  const rows = [...ui.rows.values()].filter((r) => !ui.filter || (r.portfolios ?? []).includes(ui.filter));
  const sorter = SORTERS[ui.sort.key] ?? SORTERS.id;
  rows.sort((a, b) => ui.sort.dir * sorter(a, b) || a.id.localeCompare(b.id));
  return rows;
}

function renderFleet() {
  const body = $('fleet-body');
  const rows = visibleRows();
  const wanted = new Set(rows.map((r) => r.id));
  for (const [id, tr] of ui.rowEls) {
    if (!wanted.has(id) || !ui.rows.has(id)) {
      tr.remove();
      if (!ui.rows.has(id)) ui.rowEls.delete(id);
    }
  }
  rows.forEach((row, index) => {
    let tr = ui.rowEls.get(row.id);
    if (!tr) {
      tr = makeRow(row.id);
      ui.rowEls.set(row.id, tr);
    }
    fillRow(tr, row);
    if (body.children[index] !== tr) body.insertBefore(tr, body.children[index] ?? null);
  });
  $('fleet-empty').hidden = rows.length > 0;
  $('fleet-empty').textContent = ui.rows.size === 0 ? 'No account is supervised (yet).' : 'No account is in this portfolio.';
  const total = ui.rows.size;
  $('fleet-count').textContent = rows.length === total ? `${total} account${total === 1 ? '' : 's'}` : `${rows.length} of ${total} accounts`;
  for (const th of document.querySelectorAll('#fleet-table th[data-sort]')) {
    const active = th.dataset.sort === ui.sort.key;
    if (active) th.setAttribute('aria-sort', ui.sort.dir > 0 ? 'ascending' : 'descending');
    else th.removeAttribute('aria-sort');
  }
}

function makeRow(id) {
  const tr = h('tr', { tabindex: 0, dataset: { account: id } });
  for (const name of ['id', 'state', 'position', 'notional', 'buffer', 'pnl', 'stopouts']) {
    tr.append(h('td', { class: `col-${name}${name === 'notional' || name === 'pnl' ? ' num' : ''}` }));
  }
  tr.addEventListener('click', () => selectAccount(id));
  tr.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      selectAccount(id);
    }
  });
  return tr;
}

function fillRow(tr, row) {
  const [idCell, stateCell, posCell, notionalCell, bufferCell, pnlCell, stopCell] = tr.children;
  tr.classList.toggle('selected', row.id === ui.selected);
  tr.setAttribute('aria-selected', row.id === ui.selected ? 'true' : 'false');
  tr.dataset.state = row.state;
  idCell.replaceChildren(
    h('span', { class: 'account-id', text: row.id }),
    h('span', { class: 'portfolios', text: (row.portfolios ?? []).join(', ') }),
  );
  setBadge(stateCell, row.state, row.detail);
  posCell.replaceChildren(positionText(row.position));
  notionalCell.textContent = money(row.grossNotional);
  bufferCell.replaceChildren(gauge(row.marginBuffer, row.minMarginBuffer, row.panicMarginBuffer));
  pnlCell.textContent = fmtDec(row.sessionPnl, 2, { plus: true });
  pnlCell.className = `col-pnl num ${signOf(row.sessionPnl) < 0 ? 'neg' : signOf(row.sessionPnl) > 0 ? 'pos' : ''}`;
  stopCell.replaceChildren(...(row.stopouts ?? []).map(stopChip));
  if (!row.stopouts?.length) stopCell.append(h('span', { class: 'muted', text: '—' }));
}

/** The state badge: its text is exactly the top-level state; the nested path goes into the title. */
function setBadge(cell, state, detail) {
  let badge = cell.querySelector('.badge');
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

/** `scope:id:reason` as a chip: the scope small, the id bold, then the reason. */
function stopChip(text) {
  const first = text.indexOf(':');
  const last = text.lastIndexOf(':');
  if (first < 0 || last <= first) return h('span', { class: 'chip stop', text, title: text });
  return h('span', { class: 'chip stop', title: text },
    h('span', { class: 'scope-name', text: text.slice(0, first) }),
    h('b', { text: text.slice(first + 1, last) }),
    ` ${text.slice(last + 1)}`);
}

function positionText(position) {
  const entries = Object.entries(position ?? {}).filter(([, size]) => signOf(size) !== 0).sort(([a], [b]) => a.localeCompare(b));
  if (!entries.length) return h('span', { class: 'muted', text: 'flat' });
  return h('span', { class: 'positions' }, ...entries.map(([symbol, size]) =>
    h('span', { class: `pos ${signOf(size) < 0 ? 'short' : 'long'}` }, h('b', { text: fmtSize(size) }), ` ${symbol}`)));
}

/**
 * Margin buffer against its thresholds: red below panicMarginBuffer, amber up to minMarginBuffer, green
 * above; both thresholds are marked. The scale reaches three times the minimum (or the value, if more).
 */
function gauge(value, min, panic) {
  const v = num(value);
  const lo = Math.min(0, Number.isFinite(v) ? v : 0);
  const candidates = [Number.isFinite(num(min)) ? num(min) * 3 : 0, Number.isFinite(num(panic)) ? num(panic) * 6 : 0, Number.isFinite(v) ? v * 1.1 : 0, 0.05];
  const hi = Math.max(...candidates);
  const at = (x) => `${(((x - lo) / (hi - lo)) * 100).toFixed(2)}%`;
  const box = h('div', { class: 'gauge', role: 'meter' });
  const track = h('div', { class: 'gauge-track' });
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
  for (const [kind, level, label] of [['min', min, 'minMarginBuffer'], ['panic', panic, 'panicMarginBuffer']]) {
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
  const limits = [min !== null && min !== undefined ? `min ${pct(min)}` : null, panic !== null && panic !== undefined ? `panic ${pct(panic)}` : null].filter(Boolean).join(', ');
  box.title = `margin buffer ${Number.isFinite(v) ? pct(value) : 'n/a (flat)'}${limits ? ` — ${limits}` : ''}`;
  box.setAttribute('aria-label', box.title);
  if (Number.isFinite(v)) box.setAttribute('aria-valuenow', String(v));
  box.dataset.zone = Number.isFinite(v) ? zone : 'flat';
  return box;
}

function flashRow(id) {
  const tr = ui.rowEls.get(id);
  if (!tr) return;
  tr.classList.remove('flash');
  void tr.offsetWidth; // restart the animation
  tr.classList.add('flash');
}

function queueReorder() {
  if (ui.reorderQueued) return;
  ui.reorderQueued = true;
  requestAnimationFrame(() => {
    ui.reorderQueued = false;
    renderFleet();
  });
}

/** One account's row changed: its cells at once (a state change must show even if the next undoes it), order later. */
function rowChanged(id) {
  const row = ui.rows.get(id);
  const tr = ui.rowEls.get(id);
  if (row && tr) fillRow(tr, row);
  queueReorder();
  if (id === ui.selected) updateAccountHeader();
}

function setupFleetControls() {
  for (const th of document.querySelectorAll('#fleet-table th[data-sort]')) {
    th.querySelector('button').addEventListener('click', () => {
      const key = th.dataset.sort;
      ui.sort = key === ui.sort.key ? { key, dir: -ui.sort.dir } : { key, dir: key === 'id' ? 1 : -1 };
      renderFleet();
    });
  }
  $('portfolio-filter').addEventListener('change', (event) => {
    ui.filter = event.target.value;
    renderFleet();
  });
}

// ---------------------------------------------------------------------------------------------------
// Live updates

function connectLive() {
  clearTimeout(ui.retryTimer);
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${API}/live`;
  let socket;
  try {
    socket = new WebSocket(url);
  } catch {
    scheduleReconnect();
    return;
  }
  ui.socket = socket;
  setConn('connecting', 'connecting…');
  socket.addEventListener('open', () => {
    ui.live = true;
    setConn('live', 'live');
    // Anything missed while the socket was down: one full read, then the records carry on.
    void loadFleet();
    void loadStopouts();
    if (ui.selected) void loadAccount(ui.selected, { keepChart: false });
    schedulePoll();
  });
  socket.addEventListener('message', (event) => {
    let message;
    try {
      message = JSON.parse(event.data);
    } catch {
      return;
    }
    // The server spoke: the connection works, so the next drop starts the backoff afresh.
    ui.retry = 0;
    if (message && message.type === 'record' && message.record && typeof message.record === 'object') onRecord(message.record);
  });
  socket.addEventListener('close', () => {
    if (ui.socket !== socket) return;
    ui.socket = null;
    ui.live = false;
    scheduleReconnect();
  });
  socket.addEventListener('error', () => {
    /* the close event follows and schedules the retry */
  });
}

function scheduleReconnect() {
  const delay = Math.min(10_000, 500 * 2 ** ui.retry);
  ui.retry += 1;
  setConn('down', `live feed down — polling every ${POLL_MS / 1000} s, retry in ${Math.round(delay / 100) / 10} s`);
  ui.retryTimer = setTimeout(connectLive, delay);
  schedulePoll();
}

/** Polls the fleet every 2 s while the socket is down, and refreshes it now and then while it is up. */
function schedulePoll() {
  clearTimeout(ui.pollTimer);
  ui.pollTimer = setTimeout(async () => {
    await loadFleet();
    if (!ui.live) {
      await loadStopouts();
      if (ui.selected) await loadAccount(ui.selected, { keepChart: false });
    }
    schedulePoll();
  }, ui.live ? LIVE_REFRESH_MS : POLL_MS);
}

function setConn(state, text) {
  const conn = $('conn');
  conn.dataset.state = state;
  conn.textContent = text;
}

function onRecord(record) {
  if (typeof record.t === 'number' && record.t > (ui.lastT ?? -1)) {
    ui.lastT = record.t;
    ui.lastRecordAt = performance.now();
    if (ui.origin !== null) $('clock').textContent = clockText(new Date(ui.origin + record.t).toISOString());
  }
  const row = typeof record.account === 'string' ? ui.rows.get(record.account) : undefined;
  switch (record.kind) {
    case 'state':
      if (row) {
        const changed = row.state !== record.to;
        row.state = record.to;
        row.detail = typeof record.detail === 'string' && record.detail.startsWith(record.to) ? record.detail : record.to;
        rowChanged(record.account);
        if (changed) flashRow(record.account);
      }
      if (record.from !== record.to) addActivity(record, 'state', `${record.account}: ${record.from} → ${record.to}`, record.reason);
      if (record.account === ui.selected) highlightStatechart(row?.detail ?? record.to);
      break;
    case 'risk':
      if (row) {
        for (const key of ['position', 'grossNotional', 'equity', 'marginBuffer', 'sessionPnl']) if (key in record) row[key] = record[key];
        if (typeof record.state === 'string' && record.state !== row.state) {
          row.state = record.state;
          row.detail = record.state;
        }
        rowChanged(record.account);
      }
      if (record.account === ui.selected && ui.account) {
        for (const key of ['position', 'grossNotional', 'equity', 'marginBuffer', 'sessionPnl', 'marginFraction', 'maintenance']) if (key in record) ui.account[key] = record[key];
        renderFacts();
      }
      break;
    case 'stopout':
      addActivity(record, record.action === 'reset' ? 'reset' : 'stop', `stopout ${record.action} on ${record.scope} ${record.id}`, record.reason);
      queueStopoutRefresh();
      break;
    case 'operator':
      addActivity(record, record.result === 'ok' ? 'ok' : 'refused', `operator ${record.action} ${record.scope} ${record.id}: ${record.result}`, record.reason ?? '');
      queueStopoutRefresh();
      break;
    case 'liquidation':
      addActivity(record, 'stop', `${record.account}: LIQUIDATED ${record.symbol}`, '');
      break;
    case 'decision':
      if (record.account === ui.selected) {
        ui.decisions.push(record);
        if (ui.decisions.length > MAX_DECISIONS) ui.decisions.splice(0, ui.decisions.length - MAX_DECISIONS);
        renderDecisions();
      }
      break;
    default:
      break;
  }
  if (ui.selected && belongsToSelected(record)) {
    ui.timeline.push(record);
    if (ui.timeline.length > MAX_TIMELINE) ui.timeline.splice(0, ui.timeline.length - MAX_TIMELINE);
    queueChart();
    if (record.kind === 'order' || record.kind === 'order-update' || record.kind === 'cancel' || record.kind === 'state') queueAccountRefresh();
  }
}

function belongsToSelected(record) {
  if (record.account === ui.selected) return true;
  if (record.kind !== 'mark') return false;
  const symbols = chartSymbols();
  return symbols.length === 0 || symbols.includes(record.symbol);
}

function addActivity(record, kind, text, why) {
  ui.activity.unshift({ t: record.t, kind, text, why });
  if (ui.activity.length > MAX_ACTIVITY) ui.activity.length = MAX_ACTIVITY;
  const list = $('activity');
  const item = h('li', { class: `act ${kind}` },
    h('span', { class: 't', text: typeof record.t === 'number' ? `${secs(record.t)} s` : '' }),
    h('span', { class: 'what', text }),
    why ? h('span', { class: 'why', text: why }) : null);
  list.prepend(item);
  $('activity-empty').hidden = true;
  while (list.children.length > MAX_ACTIVITY) list.lastElementChild.remove();
}

// ---------------------------------------------------------------------------------------------------
// Account view

async function selectAccount(id) {
  if (ui.selected === id && !$('account-view').hidden) {
    $('account-view').scrollIntoView({ behavior: 'smooth', block: 'start' });
    return;
  }
  ui.selected = id;
  ui.account = null;
  ui.timeline = [];
  ui.decisions = [];
  history.replaceState(null, '', `${location.pathname}#account=${encodeURIComponent(id)}`);
  for (const [rowId, tr] of ui.rowEls) {
    tr.classList.toggle('selected', rowId === id);
    tr.setAttribute('aria-selected', rowId === id ? 'true' : 'false');
  }
  const view = $('account-view');
  view.hidden = false;
  $('account-name').textContent = id;
  $('account-facts').replaceChildren();
  $('timeline-chart').replaceChildren(h('p', { class: 'muted', text: 'loading…' }));
  renderDecisions();
  updateAccountHeader();
  await Promise.all([loadAccount(id, { keepChart: false }), loadStatechart(id)]);
  if (ui.selected === id) view.scrollIntoView({ behavior: 'smooth', block: 'start' });
}

function closeAccount() {
  ui.selected = null;
  ui.account = null;
  ui.timeline = [];
  ui.decisions = [];
  ui.statechartFor = null;
  $('account-view').hidden = true;
  history.replaceState(null, '', location.pathname);
  for (const tr of ui.rowEls.values()) {
    tr.classList.remove('selected');
    tr.setAttribute('aria-selected', 'false');
  }
}

async function loadAccount(id, { keepChart }) {
  let result;
  try {
    result = await api(`/accounts/${encodeURIComponent(id)}`);
  } catch (error) {
    if (ui.selected === id) showBanner(`account ${id}: ${error.message}`);
    return;
  }
  if (ui.selected !== id) return;
  if (!result.ok || !result.data) {
    $('timeline-chart').replaceChildren(h('p', { class: 'error', text: `account ${id}: ${problemText(result)}` }));
    return;
  }
  const account = result.data;
  ui.account = account;
  const row = ui.rows.get(id);
  if (row) {
    for (const key of ['state', 'detail', 'position', 'grossNotional', 'equity', 'marginBuffer', 'minMarginBuffer', 'panicMarginBuffer', 'sessionPnl', 'stopouts', 'portfolios']) {
      if (key in account) row[key] = account[key];
    }
    rowChanged(id);
  }
  // The server's timeline is the history; records that arrived meanwhile are kept if they are newer.
  const history = Array.isArray(account.timeline) ? account.timeline : [];
  const lastT = history.length ? history[history.length - 1].t : -Infinity;
  ui.timeline = keepChart ? ui.timeline : [...history, ...ui.timeline.filter((r) => r.t > lastT)];
  const decisionsT = account.decisions?.length ? account.decisions[account.decisions.length - 1].t : -Infinity;
  ui.decisions = [...(account.decisions ?? []), ...ui.decisions.filter((d) => d.t > decisionsT)];
  updateAccountHeader();
  renderFacts();
  renderDecisions();
  renderWorkingOrders();
  queueChart();
  highlightStatechart(account.detail ?? account.state);
}

function queueAccountRefresh() {
  clearTimeout(ui.accountRefresh);
  const id = ui.selected;
  ui.accountRefresh = setTimeout(() => {
    if (ui.selected === id) void loadAccount(id, { keepChart: true });
  }, 300);
}

function updateAccountHeader() {
  const id = ui.selected;
  if (!id) return;
  const row = ui.rows.get(id) ?? ui.account;
  if (!row) return;
  setBadge($('account-badge'), row.state, row.detail);
  $('account-detail').textContent = row.detail && row.detail !== row.state ? row.detail : '';
  $('account-portfolios').textContent = row.portfolios?.length ? `portfolio ${row.portfolios.join(', ')}` : '';
  highlightStatechart(row.detail ?? row.state);
}

function renderFacts() {
  const a = ui.account;
  if (!a) return;
  const budget = a.budget ?? {};
  const facts = [
    ['Equity', money(a.equity)],
    ['Session PnL', fmtDec(a.sessionPnl, 2, { plus: true }), signOf(a.sessionPnl) < 0 ? 'neg' : signOf(a.sessionPnl) > 0 ? 'pos' : ''],
    ['Gross notional', `${money(a.grossNotional)}${budget.maxGrossNotional ? ` / ${money(budget.maxGrossNotional)}` : ''}`],
    ['Position', positionText(a.position)],
    ['Margin fraction', pct(a.marginFraction)],
    ['Maintenance', pct(a.maintenance)],
    ['Margin buffer', gauge(a.marginBuffer, a.minMarginBuffer, a.panicMarginBuffer)],
    ['Stopouts', a.stopouts?.length ? h('span', {}, ...a.stopouts.map(stopChip)) : 'none'],
  ];
  $('account-facts').replaceChildren(...facts.map(([label, value, cls]) =>
    h('div', { class: 'fact' }, h('dt', { text: label }), h('dd', { class: cls || undefined }, value))));
}

function renderDecisions() {
  const body = $('decision-log').tBodies[0];
  const rows = [...ui.decisions].reverse().slice(0, MAX_DECISIONS).map((d) => {
    const o = d.order ?? {};
    const order = `${o.side ?? '?'} ${fmtSize(o.amount ?? '?')} ${o.symbol ?? ''} ${o.type ?? ''}${o.price && o.price !== '0' ? ` @ ${o.price}` : ''}`;
    return h('tr', { class: d.allowed ? 'allowed' : 'blocked' },
      h('td', { class: 'num', text: secs(d.t) }),
      h('td', {}, h('span', { class: `pill ${d.allowed ? 'ok' : 'no'}`, text: d.allowed ? 'allowed' : 'blocked' })),
      h('td', { text: order.trim() }),
      h('td', {}, ...(d.rules ?? []).map((rule) => h('code', { class: 'rule', text: rule }))),
      h('td', { class: 'why', text: (d.reasons ?? []).join('; ') }));
  });
  body.replaceChildren(...rows);
  $('decisions-empty').hidden = rows.length > 0;
}

function renderWorkingOrders() {
  const body = $('working-orders').tBodies[0];
  const orders = ui.account?.workingOrders ?? [];
  body.replaceChildren(...orders.map((o) => h('tr', {},
    h('td', { text: o.orderId }),
    h('td', {}, h('span', { class: `chip purpose-${o.purpose}`, text: o.purpose })),
    h('td', { text: o.side }),
    h('td', { class: 'num', text: fmtSize(o.amount) }),
    h('td', { class: 'num', text: o.price === '0' ? 'market' : o.price }),
    h('td', { text: o.status }),
    h('td', { class: 'num', text: fmtSize(o.filled) }))));
  $('orders-empty').hidden = orders.length > 0;
}

// ---------------------------------------------------------------------------------------------------
// Statechart

async function loadStatechart(id) {
  const box = $('statechart');
  box.replaceChildren(h('p', { class: 'muted', text: 'loading the statechart…' }));
  let result;
  try {
    result = await apiText(`/diagrams/account.svg?account=${encodeURIComponent(id)}`);
  } catch (error) {
    result = { ok: false, status: 0, text: error.message };
  }
  if (ui.selected !== id) return;
  if (!result.ok) {
    box.replaceChildren(h('p', { class: 'error', text: `statechart: HTTP ${result.status} ${result.text.slice(0, 200)}` }));
    return;
  }
  const svg = safeSvg(result.text);
  if (!svg) {
    box.replaceChildren(h('p', { class: 'error', text: 'statechart: the server sent no SVG' }));
    return;
  }
  box.replaceChildren(svg);
  ui.svgMachine = svg.querySelector('g.graph > title')?.textContent ?? 'account';
  ui.statechartFor = id;
  box.dataset.active = '';
  const row = ui.rows.get(id) ?? ui.account;
  highlightStatechart(row?.detail ?? row?.state ?? '');
}

/** The SVG as inert DOM: parsed as XML, without scripts, foreign content, handlers or outside links. */
function safeSvg(text) {
  const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
  const root = doc.documentElement;
  if (!root || root.namespaceURI !== SVG_NS || root.localName !== 'svg') return null;
  for (const bad of root.querySelectorAll('script, foreignObject, iframe, image, use, style')) bad.remove();
  for (const node of [root, ...root.querySelectorAll('*')]) {
    for (const attr of [...node.attributes]) {
      const name = attr.name.toLowerCase();
      if (name.startsWith('on') || ((name === 'href' || name === 'xlink:href') && !attr.value.startsWith('#'))) node.removeAttribute(attr.name);
    }
  }
  root.removeAttribute('width');
  root.removeAttribute('height');
  root.setAttribute('class', 'statechart-svg');
  root.setAttribute('role', 'img');
  root.setAttribute('aria-label', 'account statechart');
  return document.importNode(root, true);
}

/**
 * Marks the states a state path makes active (`de-risking.awaiting` → the de-risking cluster and its
 * awaiting node) and nothing else, whatever the served SVG marked when it was drawn: the live records
 * move the highlight without fetching the drawing again.
 */
function highlightStatechart(path) {
  const box = $('statechart');
  const svg = box.querySelector('svg');
  if (!svg || !path || ui.statechartFor !== ui.selected) return;
  if (box.dataset.active === path) return;
  const machine = ui.svgMachine ?? 'account';
  const parts = path.split('.');
  const active = new Set(parts.map((_, i) => `${machine}.${parts.slice(0, i + 1).join('.')}`));
  const leaf = `${machine}.${path}`;
  const groups = [...svg.querySelectorAll('g.node, g.cluster')].map((g) => {
    const title = g.querySelector(':scope > title')?.textContent ?? '';
    return { g, cluster: g.classList.contains('cluster'), id: title.replace(/^cluster_/, '') };
  });
  // A composite state is its cluster; the node of the same id is only its initial-state anchor.
  const clusters = new Set(groups.filter((x) => x.cluster).map((x) => x.id));
  for (const { g, cluster, id } of groups) {
    const on = active.has(id) && (cluster || !clusters.has(id));
    g.classList.toggle('is-active', on);
    g.classList.toggle('is-current', id === leaf);
    if (on) g.dataset.state = parts[0];
    else delete g.dataset.state;
  }
  box.dataset.active = path;
  $('statechart-state').textContent = `— now in ${path}`;
}

// ---------------------------------------------------------------------------------------------------
// Timeline chart

function queueChart() {
  if (ui.chartQueued) return;
  ui.chartQueued = true;
  setTimeout(() => {
    ui.chartQueued = false;
    renderChart();
  }, 200);
}

function chartSymbols() {
  const symbols = new Set(Object.keys(ui.account?.position ?? {}));
  for (const r of ui.timeline) if ((r.kind === 'order' || r.kind === 'liquidation') && r.account === ui.selected) symbols.add(r.symbol);
  for (const w of ui.account?.workingOrders ?? []) if (w.symbol) symbols.add(w.symbol);
  if (symbols.size === 0) for (const r of ui.timeline) if (r.kind === 'mark') symbols.add(r.symbol);
  return [...symbols].sort();
}

function renderChart() {
  const box = $('timeline-chart');
  if (!ui.selected) return;
  const id = ui.selected;
  const records = ui.timeline;
  const symbols = chartSymbols();
  const marks = new Map(symbols.map((sym) => [sym, []]));
  const risk = [];
  const states = [];
  const orders = new Map();
  const blocked = [];
  const liquidations = [];
  let t0 = Infinity;
  let t1 = -Infinity;
  for (const r of records) {
    if (typeof r.t !== 'number') continue;
    t0 = Math.min(t0, r.t);
    t1 = Math.max(t1, r.t);
    if (r.kind === 'mark' && marks.has(r.symbol)) marks.get(r.symbol).push([r.t, num(r.price)]);
    else if (r.account !== id) continue;
    else if (r.kind === 'risk') risk.push(r);
    else if (r.kind === 'state') states.push(r);
    else if (r.kind === 'order') orders.set(r.orderId, { ...r, status: 'sent', filled: '0' });
    else if (r.kind === 'order-update' && orders.has(r.orderId)) Object.assign(orders.get(r.orderId), { status: r.status, filled: r.filled, reason: r.reason });
    else if (r.kind === 'cancel' && orders.has(r.orderId) && !TERMINAL.has(orders.get(r.orderId).status)) orders.get(r.orderId).cancelReason = r.reason;
    else if (r.kind === 'decision' && !r.allowed) blocked.push(r);
    else if (r.kind === 'liquidation') liquidations.push(r);
  }
  if (!Number.isFinite(t0)) {
    box.replaceChildren(h('p', { class: 'muted', text: 'no timeline records yet' }));
    return;
  }
  // Risk records come every 10 s and on state changes; the account's current figures extend them to now.
  if (ui.account && (!risk.length || risk[risk.length - 1].t < t1)) {
    risk.push({ t: t1, marginBuffer: ui.account.marginBuffer, position: ui.account.position ?? {} });
  }
  if (t1 - t0 < 10_000) t1 = t0 + 10_000;

  const W = Math.max(520, Math.round(box.clientWidth || 900));
  ui.chartWidth = box.clientWidth;
  const left = 64;
  const right = 86;
  const panels = [
    { key: 'price', title: 'mark price', height: 170 },
    { key: 'buffer', title: 'margin buffer', height: 110 },
    { key: 'position', title: 'position', height: 84 },
  ];
  const gap = 26;
  let y = 18;
  for (const p of panels) {
    p.top = y;
    p.bottom = y + p.height;
    y = p.bottom + gap;
  }
  const H = y + 4;
  const x = (t) => left + ((t - t0) / (t1 - t0)) * (W - left - right);
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'timeline-svg', role: 'img', 'aria-label': `timeline of ${id}` });

  // State bands behind every panel.
  const firstState = states[0]?.from ?? ui.rows.get(id)?.state ?? 'trading';
  const bands = [];
  let current = { state: firstState, from: t0 };
  for (const st of states) {
    if (st.to === current.state) continue;
    bands.push({ ...current, to: st.t, reason: st.reason });
    current = { state: st.to, from: st.t };
  }
  bands.push({ ...current, to: t1 });
  for (const p of panels) {
    for (const b of bands) {
      const bx = x(b.from);
      const bw = Math.max(1.5, x(b.to) - bx);
      svg.append(s('rect', { x: bx, y: p.top, width: bw, height: p.height, fill: STATE_COLOURS[b.state] ?? '#999', opacity: 0.1 },
        svgTitle(`${b.state} ${secs(b.from)}–${secs(b.to)} s`)));
    }
    svg.append(s('rect', { x: left, y: p.top, width: W - left - right, height: p.height, fill: 'none', stroke: '#d5d9e0' }));
    svg.append(s('text', { x: left + 6, y: p.top + 13, class: 'panel-title' }, p.title));
  }
  // State transitions: a thin line through all panels.
  for (const b of bands.slice(1)) {
    svg.append(s('line', { x1: x(b.from), x2: x(b.from), y1: panels[0].top, y2: panels[panels.length - 1].bottom, stroke: STATE_COLOURS[b.state], 'stroke-width': 1, 'stroke-dasharray': '3 3', opacity: 0.8 },
      svgTitle(`→ ${b.state} at ${secs(b.from)} s`)));
  }

  // Price panel.
  const price = panels[0];
  const orderList = [...orders.values()].filter((o) => marks.has(o.symbol));
  const markAt = (sym, t) => {
    const series = marks.get(sym) ?? [];
    let value = series[0]?.[1];
    for (const [mt, mp] of series) {
      if (mt > t) break;
      value = mp;
    }
    return value;
  };
  const orderPrice = (o) => (o.price && o.price !== '0' ? num(o.price) : markAt(o.symbol, o.t));
  const priceValues = [...[...marks.values()].flat().map(([, v]) => v), ...orderList.map(orderPrice)].filter(Number.isFinite);
  const py = scale(priceValues, price, 0.08);
  axis(svg, py, price, left, W - right);
  [...marks.entries()].forEach(([sym, series], i) => {
    if (!series.length) return;
    const colour = SYMBOL_COLOURS[i % SYMBOL_COLOURS.length];
    svg.append(s('path', { d: stepPath(series, x, py.map, x(t1)), fill: 'none', stroke: colour, 'stroke-width': 1.6, class: 'mark-line' }, svgTitle(`${sym} mark`)));
    const last = series[series.length - 1];
    svg.append(s('text', { x: W - right + 6, y: py.map(last[1]) + 4, class: 'end-label', fill: colour }, `${sym} ${fmtDec(String(last[1]), 1)}`));
  });
  for (const o of orderList) {
    const p = orderPrice(o);
    if (!Number.isFinite(p)) continue;
    svg.append(orderMarker(o, x(o.t), py.map(p)));
  }
  for (const b of blocked) {
    const bx = x(b.t);
    svg.append(s('g', { class: 'blocked-mark' },
      s('line', { x1: bx - 4, x2: bx + 4, y1: price.top + 4, y2: price.top + 12, stroke: '#b3261e', 'stroke-width': 2 }),
      s('line', { x1: bx + 4, x2: bx - 4, y1: price.top + 4, y2: price.top + 12, stroke: '#b3261e', 'stroke-width': 2 }),
      svgTitle(`${secs(b.t)} s entry blocked: ${(b.rules ?? []).join(', ')}`)));
  }
  for (const l of liquidations) {
    const p = l.price ? num(l.price) : markAt(l.symbol, l.t);
    if (!Number.isFinite(p)) continue;
    svg.append(s('g', {}, s('circle', { cx: x(l.t), cy: py.map(p), r: 7, fill: 'none', stroke: '#000', 'stroke-width': 2 }), svgTitle(`${secs(l.t)} s LIQUIDATED ${l.symbol}`)));
  }

  // Margin buffer panel, with its thresholds.
  const buf = panels[1];
  const bufferSeries = risk.filter((r) => r.marginBuffer !== null && r.marginBuffer !== undefined).map((r) => [r.t, num(r.marginBuffer)]);
  const minB = num(ui.account?.minMarginBuffer);
  const panicB = num(ui.account?.panicMarginBuffer);
  const by = scale([...bufferSeries.map(([, v]) => v), minB, panicB, 0].filter(Number.isFinite), buf, 0.12);
  axis(svg, by, buf, left, W - right, (v) => `${fmtDec(String(v * 100), 0)}%`);
  for (const [level, colour, label] of [[minB, '#7b3fb5', 'min'], [panicB, '#d62828', 'panic']]) {
    if (!Number.isFinite(level)) continue;
    const ly = by.map(level);
    svg.append(s('line', { x1: left, x2: W - right, y1: ly, y2: ly, stroke: colour, 'stroke-dasharray': '6 4', 'stroke-width': 1.3, class: `threshold-${label}` }, svgTitle(`${label === 'min' ? 'minMarginBuffer' : 'panicMarginBuffer'} ${pct(String(level))}`)));
    svg.append(s('text', { x: W - right + 6, y: ly + 4, class: 'end-label', fill: colour }, `${label} ${fmtDec(String(level * 100), 1)}%`));
  }
  if (bufferSeries.length) {
    svg.append(s('path', { d: stepPath(bufferSeries, x, by.map, x(t1)), fill: 'none', stroke: '#1f6fd1', 'stroke-width': 1.8, class: 'buffer-line' }, svgTitle('margin buffer')));
  } else {
    svg.append(s('text', { x: left + 6, y: buf.top + 30, class: 'muted-text' }, 'flat: no margin buffer'));
  }

  // Position panel.
  const pos = panels[2];
  const posSeries = new Map(symbols.map((sym) => [sym, []]));
  for (const r of risk) for (const sym of symbols) posSeries.get(sym).push([r.t, num(r.position?.[sym] ?? '0')]);
  const pyPos = scale([0, ...[...posSeries.values()].flat().map(([, v]) => v)].filter(Number.isFinite), pos, 0.15);
  axis(svg, pyPos, pos, left, W - right);
  svg.append(s('line', { x1: left, x2: W - right, y1: pyPos.map(0), y2: pyPos.map(0), stroke: '#98a2b3', 'stroke-width': 1 }));
  [...posSeries.entries()].forEach(([sym, series], i) => {
    if (!series.length) return;
    const colour = ['#1f6fd1', '#e07000', '#0f8f7e', '#b0357a'][i % 4];
    svg.append(s('path', { d: stepPath(series, x, pyPos.map, x(t1)), fill: 'none', stroke: colour, 'stroke-width': 1.8 }, svgTitle(`${sym} position`)));
    const last = series[series.length - 1];
    svg.append(s('text', { x: W - right + 6, y: pyPos.map(last[1]) + 4, class: 'end-label', fill: colour }, `${sym} ${fmtSize(String(last[1]))}`));
  });

  // Time axis.
  const bottom = panels[panels.length - 1].bottom;
  for (const t of niceTicks(t0 / 1000, t1 / 1000, 8)) {
    const tx = x(t * 1000);
    svg.append(s('line', { x1: tx, x2: tx, y1: bottom, y2: bottom + 4, stroke: '#667085' }));
    svg.append(s('text', { x: tx, y: bottom + 15, 'text-anchor': 'middle', class: 'tick' }, `${t}s`));
  }
  box.replaceChildren(svg);
  renderLegend();
}

function renderLegend() {
  const legend = $('timeline-legend');
  if (legend.childElementCount) return;
  const item = (swatch, text) => h('span', { class: 'legend-item' }, swatch, text);
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

function orderMarker(o, cx, cy, withTitle = true) {
  const p = PURPOSES[o.purpose] ?? PURPOSES.entry;
  const filled = o.status === 'filled' || o.status === 'partially-filled';
  const rejected = o.status === 'rejected' || o.status === 'liquidated';
  const cancelled = o.status === 'cancelled';
  const fill = filled ? p.colour : '#fff';
  const stroke = cancelled ? '#98a2b3' : p.colour;
  const r = 5.5;
  let shape;
  if (p.shape === 'circle') shape = s('circle', { cx, cy, r });
  else if (p.shape === 'square') shape = s('rect', { x: cx - r + 1, y: cy - r + 1, width: 2 * r - 2, height: 2 * r - 2 });
  else if (p.shape === 'diamond') shape = s('path', { d: `M${cx} ${cy - r - 1}L${cx + r + 1} ${cy}L${cx} ${cy + r + 1}L${cx - r - 1} ${cy}Z` });
  else {
    const up = o.side !== 'sell';
    shape = s('path', { d: up ? `M${cx} ${cy - r - 1}L${cx + r} ${cy + r - 1}L${cx - r} ${cy + r - 1}Z` : `M${cx} ${cy + r + 1}L${cx + r} ${cy - r + 1}L${cx - r} ${cy - r + 1}Z` });
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
    g.append(svgTitle(`${secs(o.t)} s ${o.orderId} ${o.purpose}: ${o.side} ${fmtSize(o.amount)} ${o.symbol} ${o.type}${o.price && o.price !== '0' ? ` @ ${o.price}` : ''} → ${o.status}${o.filled && o.filled !== '0' ? ` ${fmtSize(o.filled)}` : ''}${why}`));
  }
  return g;
}

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

function scale(values, panel, pad) {
  let lo = values.length ? Math.min(...values) : 0;
  let hi = values.length ? Math.max(...values) : 1;
  if (hi - lo < 1e-9) {
    const span = Math.abs(hi) * 0.05 || 1;
    lo -= span;
    hi += span;
  }
  const span = hi - lo;
  lo -= span * pad;
  hi += span * pad;
  const top = panel.top + 16;
  const bottom = panel.bottom - 6;
  return { lo, hi, map: (v) => bottom - ((v - lo) / (hi - lo)) * (bottom - top) };
}

function axis(svg, sc, panel, x0, x1, label = (v) => formatTick(v)) {
  for (const v of niceTicks(sc.lo, sc.hi, 4)) {
    const ty = sc.map(v);
    if (ty < panel.top + 14 || ty > panel.bottom - 2) continue;
    svg.append(s('line', { x1: x0, x2: x1, y1: ty, y2: ty, stroke: '#eef0f4' }));
    svg.append(s('text', { x: x0 - 6, y: ty + 3.5, 'text-anchor': 'end', class: 'tick' }, label(v)));
  }
}

function formatTick(v) {
  const a = Math.abs(v);
  return a >= 1000 ? String(Math.round(v)) : a >= 10 ? String(Math.round(v * 10) / 10) : String(Math.round(v * 1000) / 1000);
}

function niceTicks(lo, hi, count) {
  const span = hi - lo;
  if (!(span > 0)) return [lo];
  const raw = span / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((f) => f * mag).find((st) => st >= raw) ?? raw;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Math.round(v / step) * step);
  return out.map((v) => Number(v.toPrecision(12)));
}

// ---------------------------------------------------------------------------------------------------
// Stopouts

async function loadStopouts() {
  let result;
  try {
    result = await api('/stopouts');
  } catch {
    return;
  }
  if (!result.ok || !result.data || !Array.isArray(result.data.stopouts)) {
    $('stopouts-count').textContent = problemText(result);
    return;
  }
  ui.stopouts = result.data.stopouts;
  renderStopouts();
}

function queueStopoutRefresh() {
  clearTimeout(ui.stopoutRefresh);
  ui.stopoutRefresh = setTimeout(() => {
    void loadStopouts();
    void loadFleet();
  }, 150);
}

function renderStopouts() {
  const list = $('stopout-list');
  list.replaceChildren(...ui.stopouts.map((so) => {
    const key = `${so.scope}:${so.id}:${so.reason}`;
    const meta = [so.closePositions ? 'closes positions' : 'blocks entries', so.stoppedAt ? `since ${clockText(so.stoppedAt)}` : null, so.stoppedTill ? `till ${clockText(so.stoppedTill)}` : null, so.by ? `by ${so.by}` : null].filter(Boolean).join(' · ');
    return h('li', { class: `stopout ${so.malformed ? 'malformed' : ''}`, dataset: { key } },
      h('div', { class: 'stopout-main' },
        h('span', { class: 'chip scope', text: so.scope }),
        h('b', { class: 'stopout-id', text: so.id }),
        h('code', { class: 'rule', text: so.reason })),
      h('div', { class: 'stopout-meta', text: meta }),
      so.malformed ? h('div', { class: 'error', text: `malformed value: ${so.malformed}` }) : null,
      h('div', { class: 'stopout-actions' },
        h('button', { type: 'button', class: 'small', text: 'Reset', 'aria-label': `reset ${key}`, onclick: () => resetStopout(so.scope, so.id, so.reason) }),
        h('button', { type: 'button', class: 'small', text: 'Move startTime', 'aria-label': `move startTime on ${so.scope} ${so.id}`, onclick: () => moveStartTime(so.scope, so.id) })));
  }));
  $('stopouts-empty').hidden = ui.stopouts.length > 0;
  $('stopouts-count').textContent = ui.stopouts.length ? `${ui.stopouts.length} in force` : '';
}

function showResult(kind, text) {
  const box = $('action-result');
  box.hidden = false;
  box.dataset.kind = kind;
  box.replaceChildren(h('span', { class: 'result-kind', text: kind === 'ok' ? 'done' : kind === 'refused' ? 'refused' : 'error' }), h('span', { class: 'result-text', text }));
}

async function act(path, body, describe) {
  let result;
  try {
    result = await api(path, { method: 'POST', body });
  } catch (error) {
    showResult('error', `${describe}: ${error.message}`);
    return false;
  }
  if (result.ok && result.data?.result !== 'refused') {
    showResult('ok', `${describe}: ok`);
  } else if (result.data?.result === 'refused') {
    showResult('refused', `${describe} — refused: ${result.data.reason ?? 'no reason given'}`);
  } else {
    showResult('error', `${describe} — ${problemText(result)}`);
  }
  await Promise.all([loadStopouts(), loadFleet()]);
  if (ui.selected) queueAccountRefresh();
  return result.ok;
}

function resetStopout(scope, id, reason) {
  return act('/stopouts/reset', { scope, id, reason }, `reset ${reason} on ${scope} ${id}`);
}

function moveStartTime(scope, id) {
  return act('/start-time', { scope, id }, `move startTime on ${scope} ${id}`);
}

function formValues() {
  const scope = $('so-scope').value;
  const id = $('so-id').value.trim();
  const reason = $('so-reason').value.trim();
  const closePositions = $('so-close').checked;
  return { scope, id, reason, closePositions };
}

function setupStopoutForm() {
  const form = $('stopout-form');
  $('so-scope').addEventListener('change', () => {
    if ($('so-scope').value === 'fleet') $('so-id').value = '*';
    else if ($('so-id').value === '*') $('so-id').value = '';
    refreshIdChoices();
  });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const v = formValues();
    if (!v.id || !v.reason) {
      showResult('error', 'a stopout needs an id and a reason');
      return;
    }
    void act('/stopouts', { scope: v.scope, id: v.id, reason: v.reason, closePositions: v.closePositions }, `set ${v.reason} on ${v.scope} ${v.id}`);
  });
  $('so-reset').addEventListener('click', () => {
    const v = formValues();
    if (!v.id || !v.reason) {
      showResult('error', 'a reset needs an id and a reason');
      return;
    }
    void resetStopout(v.scope, v.id, v.reason);
  });
  $('so-start-time').addEventListener('click', () => {
    const v = formValues();
    if (!v.id) {
      showResult('error', 'moving startTime needs an id');
      return;
    }
    void moveStartTime(v.scope, v.id);
  });
}

/** Ids the form suggests for its scope: accounts, portfolios, members. */
function refreshIdChoices() {
  const scope = $('so-scope').value;
  const rows = [...ui.rows.values()];
  let ids = [];
  if (scope === 'account' || scope === 'strategy') ids = rows.map((r) => r.id);
  else if (scope === 'portfolio') ids = ui.portfolios;
  else if (scope === 'member') ids = rows.flatMap((r) => (r.portfolios ?? []).map((p) => `${p}/${r.id}`));
  else if (scope === 'fleet') ids = ['*'];
  $('so-ids').replaceChildren(...[...new Set(ids)].sort().map((v) => h('option', { value: v })));
}

// ---------------------------------------------------------------------------------------------------
// Start

function start() {
  const url = new URL(location.href);
  const token = url.searchParams.get('token');
  if (token) {
    // The server set its cookie on this request; the token also rides along as a bearer header, and
    // leaves the address bar (and the history) at once.
    ui.token = token;
    url.searchParams.delete('token');
    history.replaceState(null, '', `${url.pathname}${url.search}${url.hash}`);
  }
  setupFleetControls();
  setupStopoutForm();
  $('account-close').addEventListener('click', closeAccount);
  // The chart is drawn at the width it is shown at, so its text keeps its size.
  new ResizeObserver(() => {
    if (ui.selected && $('timeline-chart').clientWidth !== ui.chartWidth) queueChart();
  }).observe($('timeline-chart'));
  $('statechart-zoom').addEventListener('click', (event) => {
    const on = $('statechart').classList.toggle('actual-size');
    event.currentTarget.setAttribute('aria-pressed', String(on));
    event.currentTarget.textContent = on ? 'fit' : 'actual size';
  });
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && ui.selected) closeAccount();
  });
  void (async () => {
    await Promise.all([loadFleet(), loadStopouts()]);
    const wanted = /^#account=(.+)$/.exec(location.hash);
    if (wanted) {
      const id = decodeURIComponent(wanted[1]);
      if (ui.rows.has(id)) void selectAccount(id);
    }
    connectLive();
  })();
}

start();
