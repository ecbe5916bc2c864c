// @ts-check
// The open account's decision log: every pre-trade decision, newest first, with the rules that blocked it.

import { $, $as, h } from './dom.js';
import { fmtSize, secs } from './decimal-format.js';

/** @typedef {import('./api-types.js').DecisionRecord} DecisionRecord */

const MAX_DECISIONS = 200;

/** @type {DecisionRecord[]} oldest first */
let decisions = [];

/** Forgets the decisions (another account is opened, or none); the next render shows none. */
export function clearDecisions() {
  decisions = [];
}

/**
 * The decisions of an account read: the server's are the history; live ones that came meanwhile are kept
 * if they are newer.
 * @param {readonly DecisionRecord[]} history newest last
 */
export function mergeDecisions(history) {
  const lastT = history.at(-1)?.t ?? -Infinity;
  decisions = [...history, ...decisions.filter((d) => d.t > lastT)];
  renderDecisions();
}

/**
 * A live decision of the open account.
 * @param {DecisionRecord} record
 */
export function addDecision(record) {
  decisions.push(record);
  if (decisions.length > MAX_DECISIONS) decisions.splice(0, decisions.length - MAX_DECISIONS);
  renderDecisions();
}

export function renderDecisions() {
  const body = $as('decision-log', HTMLTableElement).tBodies[0];
  if (!body) return;
  const rows = [...decisions]
    .reverse()
    .slice(0, MAX_DECISIONS)
    .map((d) => {
      const o = d.order ?? {};
      const limit = o.price && o.price !== '0' ? ` @ ${o.price}` : '';
      const order = `${o.side ?? '?'} ${fmtSize(o.amount ?? '?')} ${o.symbol ?? ''} ${o.type ?? ''}${limit}`;
      return h(
        'tr',
        { class: d.allowed ? 'allowed' : 'blocked' },
        h('td', { class: 'num', text: secs(d.t) }),
        h('td', {}, h('span', { class: `pill ${d.allowed ? 'ok' : 'no'}`, text: d.allowed ? 'allowed' : 'blocked' })),
        h('td', { text: order.trim() }),
        h('td', {}, ...(d.rules ?? []).map((rule) => h('code', { class: 'rule', text: rule }))),
        h('td', { class: 'why', text: (d.reasons ?? []).join('; ') }),
      );
    });
  body.replaceChildren(...rows);
  $('decisions-empty').hidden = rows.length > 0;
}
