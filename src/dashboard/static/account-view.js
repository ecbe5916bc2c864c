// @ts-check
// The account view: opening and closing an account, reading it, and its header, facts and working orders.
// Its chart, statechart and decision log are modules of their own; this one tells them when.

import { $, $as, h } from './dom.js';
import { fmtDec, fmtSize, money, pct, signOf } from './decimal-format.js';
import { gauge, positionText, setBadge, stopChip } from './account-widgets.js';
import { api, asRecord, errorText, problemText } from './api-client.js';
import { showBanner } from './page-status.js';
import { pickPresent } from './pick-fields.js';
import { fleetRow, markSelected, updateRow } from './fleet-table.js';
import { patchSelectedAccount, selectAccountId, selectedAccount, selectedAccountId, setSelectedAccount } from './selection.js';
import { clearTimeline, mergeTimeline, queueChart, showChartMessage } from './timeline-chart.js';
import { forgetStatechart, highlightStatechart, loadStatechart } from './statechart.js';
import { clearDecisions, mergeDecisions, renderDecisions } from './decision-log.js';

/** @typedef {import('./api-types.js').AccountResponse} AccountResponse */

/** What an account read tells the fleet row. */
const ROW_FIELDS = /** @type {const} */ ([
  'state',
  'detail',
  'position',
  'grossNotional',
  'equity',
  'marginBuffer',
  'minMarginBuffer',
  'panicMarginBuffer',
  'sessionPnl',
  'stopouts',
  'portfolios',
]);
/** What a fleet read tells the account view, until the account is read again. */
const FROM_ROW_FIELDS = /** @type {const} */ ([
  'state',
  'detail',
  'position',
  'grossNotional',
  'equity',
  'marginBuffer',
  'sessionPnl',
  'stopouts',
]);

/** @type {number | undefined} */
let refreshTimer;

/**
 * Opens the account view on `id` (or scrolls to it, if it is open already), reads the account and its
 * statechart, and puts the account into the address (`#account=<id>`) so a reload opens it again.
 * @param {string} id
 */
export async function selectAccount(id) {
  const view = $('account-view');
  if (selectedAccountId() === id && !view.hidden) {
    view.scrollIntoView({ behavior: 'smooth', block: 'start' });
    return;
  }
  selectAccountId(id);
  clearTimeline();
  clearDecisions();
  history.replaceState(null, '', `${location.pathname}#account=${encodeURIComponent(id)}`);
  markSelected(id);
  view.hidden = false;
  $('account-name').textContent = id;
  $('account-facts').replaceChildren();
  showChartMessage('muted', 'loading…');
  renderDecisions();
  updateAccountHeader();
  await Promise.all([loadAccount(id, { keepChart: false }), loadStatechart(id)]);
  if (selectedAccountId() === id) view.scrollIntoView({ behavior: 'smooth', block: 'start' });
}

export function closeAccount() {
  selectAccountId(null);
  clearTimeline();
  clearDecisions();
  forgetStatechart();
  $('account-view').hidden = true;
  history.replaceState(null, '', location.pathname);
  markSelected(null);
}

/** The close button and Escape. */
export function setupAccountView() {
  $('account-close').addEventListener('click', closeAccount);
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && selectedAccountId()) closeAccount();
  });
}

/**
 * Reads the open account and shows it; `keepChart` keeps the chart's records (the live ones are newer
 * than anything the read can add).
 * @param {string} id
 * @param {{ keepChart: boolean }} options
 */
export async function loadAccount(id, { keepChart }) {
  let result;
  try {
    result = await api(`/accounts/${encodeURIComponent(id)}`);
  } catch (error) {
    if (selectedAccountId() === id) showBanner(`account ${id}: ${errorText(error)}`);
    return;
  }
  if (selectedAccountId() !== id) return;
  const account = asAccount(result.data);
  if (!result.ok || !account) {
    showChartMessage('error', `account ${id}: ${problemText(result)}`);
    return;
  }
  setSelectedAccount(account);
  updateRow(id, pickPresent(account, ROW_FIELDS));
  if (!keepChart) mergeTimeline(Array.isArray(account.timeline) ? account.timeline : []);
  mergeDecisions(account.decisions ?? []);
  updateAccountHeader();
  renderFacts();
  renderWorkingOrders();
  queueChart();
  highlightStatechart(account.detail ?? account.state);
}

/** Reads the open account again shortly (orders and states change in bursts). */
export function queueAccountRefresh() {
  clearTimeout(refreshTimer);
  const id = selectedAccountId();
  refreshTimer = setTimeout(() => {
    if (id !== null && selectedAccountId() === id) void loadAccount(id, { keepChart: true });
  }, 300);
}

/** A fleet read came: the account view's figures follow the open account's row. */
export function followFleetRow() {
  const id = selectedAccountId();
  const row = id === null ? undefined : fleetRow(id);
  if (!row) return;
  if (patchSelectedAccount(pickPresent(row, FROM_ROW_FIELDS))) renderFacts();
  updateAccountHeader();
}

/** The badge, state path and portfolios in the view's header, and the statechart's light. */
export function updateAccountHeader() {
  const id = selectedAccountId();
  if (!id) return;
  const row = fleetRow(id) ?? selectedAccount();
  if (!row) return;
  setBadge($('account-badge'), row.state, row.detail);
  $('account-detail').textContent = row.detail && row.detail !== row.state ? row.detail : '';
  $('account-portfolios').textContent = row.portfolios?.length ? `portfolio ${row.portfolios.join(', ')}` : '';
  highlightStatechart(row.detail ?? row.state);
}

/** The facts list: equity, PnL, notional against its budget, position, margin, stopouts. */
export function renderFacts() {
  const a = selectedAccount();
  if (!a) return;
  const budget = a.budget ?? {};
  /** @type {Array<[string, string | Node, string?]>} */
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
  $('account-facts').replaceChildren(
    ...facts.map(([label, value, cls]) =>
      h('div', { class: 'fact' }, h('dt', { text: label }), h('dd', { class: cls || undefined }, value)),
    ),
  );
}

function renderWorkingOrders() {
  const body = $as('working-orders', HTMLTableElement).tBodies[0];
  if (!body) return;
  const orders = selectedAccount()?.workingOrders ?? [];
  body.replaceChildren(
    ...orders.map((o) =>
      h(
        'tr',
        {},
        h('td', { text: o.orderId }),
        h('td', {}, h('span', { class: `chip purpose-${o.purpose}`, text: o.purpose })),
        h('td', { text: o.side }),
        h('td', { class: 'num', text: fmtSize(o.amount) }),
        h('td', { class: 'num', text: o.price === '0' ? 'market' : o.price }),
        h('td', { text: o.status }),
        h('td', { class: 'num', text: fmtSize(o.filled) }),
      ),
    ),
  );
  $('orders-empty').hidden = orders.length > 0;
}

/**
 * The account as read; the view shows what it has of it.
 * @param {unknown} data
 * @returns {AccountResponse | null}
 */
function asAccount(data) {
  const d = asRecord(data);
  return d ? /** @type {AccountResponse} */ (/** @type {unknown} */ (d)) : null;
}
