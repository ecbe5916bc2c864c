// @ts-check
// The activity list: state changes, stopouts, liquidations and operator actions as they happen, newest
// first. The list in the page is its only state.

import { $, h } from './dom.js';
import { secs } from './decimal-format.js';

const MAX_ACTIVITY = 80;

/** @typedef {'state' | 'stop' | 'reset' | 'ok' | 'refused'} ActivityKind */

/**
 * @param {unknown} t the record's time (ms since the start)
 * @param {ActivityKind} kind
 * @param {string} text
 * @param {string} why
 */
export function addActivity(t, kind, text, why) {
  const list = $('activity');
  const item = h(
    'li',
    { class: `act ${kind}` },
    h('span', { class: 't', text: typeof t === 'number' ? `${secs(t)} s` : '' }),
    h('span', { class: 'what', text }),
    why ? h('span', { class: 'why', text: why }) : null,
  );
  list.prepend(item);
  $('activity-empty').hidden = true;
  while (list.children.length > MAX_ACTIVITY) list.lastElementChild?.remove();
}
