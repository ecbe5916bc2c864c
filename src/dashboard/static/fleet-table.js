// @ts-check
// The fleet table and the rows behind it: one row per supervised account, as the last fleet read and the
// live records since left it. Sorting and the portfolio filter are the table's own; what a click on a
// row or a changed row means elsewhere, the listeners say.

import { h, $, $as } from './dom.js';
import { cmpDec, fmtDec, money, signOf } from './decimal-format.js';
import { gauge, positionText, setBadge, stopChip } from './account-widgets.js';
import { ACCOUNT_MODES as MODES } from './vocabulary.js';
import { api, asRecord, errorText, problemText } from './api-client.js';
import { showBanner } from './page-status.js';
import { clockFromFleet } from './fleet-clock.js';
import { selectedAccountId } from './selection.js';

/** @typedef {import('./api-types.js').FleetRow} FleetRow */
/** @typedef {import('./api-types.js').FleetResponse} FleetResponse */
/** @typedef {'id' | 'state' | 'position' | 'grossNotional' | 'marginBuffer' | 'sessionPnl' | 'stopouts'} SortKey */
/**
 * A row of the table and its cells, in column order.
 * @typedef {object} RowView
 * @property {HTMLTableRowElement} tr
 * @property {HTMLTableCellElement} id
 * @property {HTMLTableCellElement} state
 * @property {HTMLTableCellElement} position
 * @property {HTMLTableCellElement} notional
 * @property {HTMLTableCellElement} buffer
 * @property {HTMLTableCellElement} pnl
 * @property {HTMLTableCellElement} stopouts
 */

/** @type {Map<string, FleetRow>} */
const rows = new Map();
/** @type {Map<string, RowView>} */
const views = new Map();
/** @type {string[]} */
let portfolios = [];
/** @type {{ key: SortKey, dir: 1 | -1 }} */
let sort = { key: 'id', dir: 1 };
let filter = '';
let reorderQueued = false;

/** @type {Array<(id: string) => void>} */
const clickListeners = [];
/** @type {Array<() => void>} */
const readListeners = [];
/** @type {Array<(id: string) => void>} */
const changeListeners = [];

/** @param {(id: string) => void} listener called with the account whose row was clicked (or Enter/Space on it) */
export function onRowClick(listener) {
  clickListeners.push(listener);
}

/** @param {() => void} listener called after every fleet read, once the table shows it */
export function onFleetRead(listener) {
  readListeners.push(listener);
}

/** @param {(id: string) => void} listener called when one account's row changed between fleet reads */
export function onRowChange(listener) {
  changeListeners.push(listener);
}

/**
 * @param {string} id
 * @returns {Readonly<FleetRow> | undefined}
 */
export function fleetRow(id) {
  return rows.get(id);
}

/** @returns {Array<Readonly<FleetRow>>} every supervised account's row */
export function fleetRows() {
  return [...rows.values()];
}

/** @returns {readonly string[]} the fleet's portfolios, sorted */
export function portfolioNames() {
  return portfolios;
}

/**
 * Reads the fleet and shows it; a failure goes into the banner.
 * @returns {Promise<boolean>} whether the fleet could be read
 */
export async function loadFleet() {
  let result;
  try {
    result = await api('/fleet');
  } catch (error) {
    showBanner(`the server cannot be reached: ${errorText(error)}`);
    return false;
  }
  const fleet = asFleet(result.data);
  if (!result.ok || !fleet) {
    showBanner(`fleet: ${problemText(result)}`);
    return false;
  }
  showBanner(null);
  applyFleet(fleet);
  return true;
}

/**
 * Newer figures for one account's row (from a record or an account read): its cells change at once, so a
 * state change shows even if the next one undoes it; the order follows in the next frame.
 * @param {string} id
 * @param {Partial<FleetRow>} patch
 */
export function updateRow(id, patch) {
  const row = rows.get(id);
  if (!row) return;
  Object.assign(row, patch);
  const view = views.get(id);
  if (view) fillRow(view, row);
  queueReorder();
  for (const listener of changeListeners) listener(id);
}

/**
 * Flashes the row (its state changed).
 * @param {string} id
 */
export function flashRow(id) {
  const tr = views.get(id)?.tr;
  if (!tr) return;
  tr.classList.remove('flash');
  void tr.offsetWidth; // restart the animation
  tr.classList.add('flash');
}

/**
 * Marks the open account's row (or none).
 * @param {string | null} id
 */
export function markSelected(id) {
  for (const [rowId, { tr }] of views) {
    tr.classList.toggle('selected', rowId === id);
    tr.setAttribute('aria-selected', rowId === id ? 'true' : 'false');
  }
}

/** The sort buttons in the header and the portfolio filter. */
export function setupFleetControls() {
  for (const th of sortHeaders()) {
    th.querySelector('button')?.addEventListener('click', () => {
      const key = th.dataset.sort;
      if (!isSortKey(key)) return;
      sort = key === sort.key ? { key, dir: sort.dir > 0 ? -1 : 1 } : { key, dir: key === 'id' ? 1 : -1 };
      renderFleet();
    });
  }
  const select = $as('portfolio-filter', HTMLSelectElement);
  select.addEventListener('change', () => {
    filter = select.value;
    renderFleet();
  });
}

/**
 * The fleet as read, checked as far as the table relies on it.
 * @param {unknown} data
 * @returns {FleetResponse | null}
 */
function asFleet(data) {
  const d = asRecord(data);
  return d && Array.isArray(d.accounts) ? /** @type {FleetResponse} */ (/** @type {unknown} */ (d)) : null;
}

/** @param {FleetResponse} fleet */
function applyFleet(fleet) {
  clockFromFleet(fleet.at);
  const seen = new Set();
  for (const row of fleet.accounts) {
    seen.add(row.id);
    const before = rows.get(row.id);
    rows.set(row.id, { ...row });
    if (before && before.state !== row.state) flashRow(row.id);
  }
  for (const id of [...rows.keys()]) if (!seen.has(id)) rows.delete(id);
  setPortfolios(fleet.portfolios ?? []);
  renderFleet();
  for (const listener of readListeners) listener();
}

/** @param {readonly string[]} list */
function setPortfolios(list) {
  const sorted = [...new Set(list)].sort();
  if (sorted.join('\n') === portfolios.join('\n')) return;
  portfolios = sorted;
  const select = $as('portfolio-filter', HTMLSelectElement);
  const current = select.value;
  select.replaceChildren(h('option', { value: '', text: 'all portfolios' }), ...sorted.map((p) => h('option', { value: p, text: p })));
  select.value = sorted.includes(current) ? current : '';
  filter = select.value;
}

/** @type {Record<SortKey, (a: FleetRow, b: FleetRow) => number>} */
const SORTERS = {
  id: (a, b) => a.id.localeCompare(b.id),
  state: (a, b) => MODES.indexOf(a.state) - MODES.indexOf(b.state),
  position: (a, b) => cmpDec(positionKey(a), positionKey(b)),
  grossNotional: (a, b) => cmpDec(a.grossNotional, b.grossNotional),
  marginBuffer: (a, b) => cmpNullable(a.marginBuffer, b.marginBuffer),
  sessionPnl: (a, b) => cmpDec(a.sessionPnl, b.sessionPnl),
  stopouts: (a, b) => a.stopouts.length - b.stopouts.length,
};

/**
 * @param {string | undefined} key
 * @returns {key is SortKey}
 */
function isSortKey(key) {
  return key !== undefined && Object.hasOwn(SORTERS, key);
}

/**
 * Exact order; an account without a value (flat: no margin buffer) sorts last.
 * @param {string | null | undefined} a
 * @param {string | null | undefined} b
 */
function cmpNullable(a, b) {
  if (a === null || a === undefined) return b === null || b === undefined ? 0 : 1;
  if (b === null || b === undefined) return -1;
  return cmpDec(a, b);
}

/**
 * Positions sort by the size of their first symbol (the usual case is one symbol per account).
 * @param {FleetRow} row
 */
function positionKey(row) {
  const first = Object.keys(row.position ?? {}).sort()[0];
  return first === undefined ? '0' : row.position[first];
}

function visibleRows() {
  const shown = [...rows.values()].filter((r) => !filter || (r.portfolios ?? []).includes(filter));
  const sorter = SORTERS[sort.key];
  shown.sort((a, b) => sort.dir * sorter(a, b) || a.id.localeCompare(b.id));
  return shown;
}

/** @returns {HTMLTableCellElement[]} */
function sortHeaders() {
  return [...$('fleet-table').querySelectorAll('th')].filter((th) => th.dataset.sort);
}

function renderFleet() {
  const body = $('fleet-body');
  const shown = visibleRows();
  const wanted = new Set(shown.map((r) => r.id));
  for (const [id, view] of views) {
    if (!wanted.has(id) || !rows.has(id)) {
      view.tr.remove();
      if (!rows.has(id)) views.delete(id);
    }
  }
  shown.forEach((row, index) => {
    let view = views.get(row.id);
    if (!view) {
      view = makeRow(row.id);
      views.set(row.id, view);
    }
    fillRow(view, row);
    if (body.children[index] !== view.tr) body.insertBefore(view.tr, body.children[index] ?? null);
  });
  const empty = $('fleet-empty');
  empty.hidden = shown.length > 0;
  empty.textContent = rows.size === 0 ? 'No account is supervised (yet).' : 'No account is in this portfolio.';
  const total = rows.size;
  $('fleet-count').textContent =
    shown.length === total ? `${total} account${total === 1 ? '' : 's'}` : `${shown.length} of ${total} accounts`;
  for (const th of sortHeaders()) {
    const active = th.dataset.sort === sort.key;
    if (active) th.setAttribute('aria-sort', sort.dir > 0 ? 'ascending' : 'descending');
    else th.removeAttribute('aria-sort');
  }
}

function queueReorder() {
  if (reorderQueued) return;
  reorderQueued = true;
  requestAnimationFrame(() => {
    reorderQueued = false;
    renderFleet();
  });
}

/**
 * @param {string} id
 * @returns {RowView}
 */
function makeRow(id) {
  const tr = h('tr', { tabindex: 0, dataset: { account: id } });
  /** @param {string} name */
  const cell = (name) => tr.appendChild(h('td', { class: `col-${name}${name === 'notional' || name === 'pnl' ? ' num' : ''}` }));
  const view = {
    tr,
    id: cell('id'),
    state: cell('state'),
    position: cell('position'),
    notional: cell('notional'),
    buffer: cell('buffer'),
    pnl: cell('pnl'),
    stopouts: cell('stopouts'),
  };
  const click = () => {
    for (const listener of clickListeners) listener(id);
  };
  tr.addEventListener('click', click);
  tr.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      click();
    }
  });
  return view;
}

/**
 * @param {RowView} view
 * @param {FleetRow} row
 */
function fillRow(view, row) {
  const selected = row.id === selectedAccountId();
  view.tr.classList.toggle('selected', selected);
  view.tr.setAttribute('aria-selected', selected ? 'true' : 'false');
  view.tr.dataset.state = row.state;
  view.id.replaceChildren(
    h('span', { class: 'account-id', text: row.id }),
    h('span', { class: 'portfolios', text: (row.portfolios ?? []).join(', ') }),
  );
  setBadge(view.state, row.state, row.detail);
  view.position.replaceChildren(positionText(row.position));
  view.notional.textContent = money(row.grossNotional);
  view.buffer.replaceChildren(gauge(row.marginBuffer, row.minMarginBuffer, row.panicMarginBuffer));
  view.pnl.textContent = fmtDec(row.sessionPnl, 2, { plus: true });
  view.pnl.className = `col-pnl num ${signOf(row.sessionPnl) < 0 ? 'neg' : signOf(row.sessionPnl) > 0 ? 'pos' : ''}`;
  view.stopouts.replaceChildren(...(row.stopouts ?? []).map(stopChip));
  if (!row.stopouts?.length) view.stopouts.append(h('span', { class: 'muted', text: '—' }));
}
