// @ts-check
// The stopouts panel: the stopouts in force, each with Reset and Move startTime, the manual stopout form,
// and the result of the last action (a refused reset shows the reason the server gave).

import { $, $as, h } from './dom.js';
import { api, asRecord, errorText, problemText } from './api-client.js';
import { clockText } from './fleet-clock.js';
import { fleetRows, loadFleet, portfolioNames } from './fleet-table.js';
import { selectedAccountId } from './selection.js';
import { queueAccountRefresh } from './account-view.js';

/** @typedef {import('./api-types.js').StoredStopout} StoredStopout */
/** @typedef {import('./api-types.js').StopoutsResponse} StopoutsResponse */

/** @type {StoredStopout[]} */
let stopouts = [];
/** @type {number | undefined} */
let refreshTimer;

/** Reads the stopouts in force and lists them; a failure shows in the panel's head. */
export async function loadStopouts() {
  let result;
  try {
    result = await api('/stopouts');
  } catch {
    return;
  }
  const d = asRecord(result.data);
  if (!result.ok || !d || !Array.isArray(d.stopouts)) {
    $('stopouts-count').textContent = problemText(result);
    return;
  }
  stopouts = /** @type {StopoutsResponse} */ (/** @type {unknown} */ (d)).stopouts;
  renderStopouts();
}

/** Reads the stopouts and the fleet again shortly (a stopout record came: a set, a reset, an action). */
export function queueStopoutRefresh() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => {
    void loadStopouts();
    void loadFleet();
  }, 150);
}

/** Ids the form suggests for its scope: accounts, portfolios, members. */
export function refreshIdChoices() {
  const scope = $as('so-scope', HTMLSelectElement).value;
  const rows = fleetRows();
  /** @type {readonly string[]} */
  let ids = [];
  if (scope === 'account' || scope === 'strategy') ids = rows.map((r) => r.id);
  else if (scope === 'portfolio') ids = portfolioNames();
  else if (scope === 'member') ids = rows.flatMap((r) => (r.portfolios ?? []).map((p) => `${p}/${r.id}`));
  else if (scope === 'fleet') ids = ['*'];
  $('so-ids').replaceChildren(...[...new Set(ids)].sort().map((v) => h('option', { value: v })));
}

/** The manual stopout form: set, reset, move startTime. */
export function setupStopoutForm() {
  const form = $as('stopout-form', HTMLFormElement);
  const scope = $as('so-scope', HTMLSelectElement);
  const id = $as('so-id', HTMLInputElement);
  scope.addEventListener('change', () => {
    if (scope.value === 'fleet') id.value = '*';
    else if (id.value === '*') id.value = '';
    refreshIdChoices();
  });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const v = formValues();
    if (!v.id || !v.reason) {
      showResult('error', 'a stopout needs an id and a reason');
      return;
    }
    const body = { scope: v.scope, id: v.id, reason: v.reason, closePositions: v.closePositions };
    void act('/stopouts', body, `set ${v.reason} on ${v.scope} ${v.id}`);
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

function renderStopouts() {
  const list = $('stopout-list');
  list.replaceChildren(
    ...stopouts.map((so) => {
      const key = `${so.scope}:${so.id}:${so.reason}`;
      const meta = [
        so.closePositions ? 'closes positions' : 'blocks entries',
        so.stoppedAt ? `since ${clockText(so.stoppedAt)}` : null,
        so.stoppedTill ? `till ${clockText(so.stoppedTill)}` : null,
        so.by ? `by ${so.by}` : null,
      ]
        .filter(Boolean)
        .join(' · ');
      return h(
        'li',
        { class: `stopout ${so.malformed ? 'malformed' : ''}`, dataset: { key } },
        h(
          'div',
          { class: 'stopout-main' },
          h('span', { class: 'chip scope', text: so.scope }),
          h('b', { class: 'stopout-id', text: so.id }),
          h('code', { class: 'rule', text: so.reason }),
        ),
        h('div', { class: 'stopout-meta', text: meta }),
        so.malformed ? h('div', { class: 'error', text: `malformed value: ${so.malformed}` }) : null,
        h(
          'div',
          { class: 'stopout-actions' },
          h('button', {
            type: 'button',
            class: 'small',
            text: 'Reset',
            'aria-label': `reset ${key}`,
            onclick: () => resetStopout(so.scope, so.id, so.reason),
          }),
          h('button', {
            type: 'button',
            class: 'small',
            text: 'Move startTime',
            'aria-label': `move startTime on ${so.scope} ${so.id}`,
            onclick: () => moveStartTime(so.scope, so.id),
          }),
        ),
      );
    }),
  );
  $('stopouts-empty').hidden = stopouts.length > 0;
  $('stopouts-count').textContent = stopouts.length ? `${stopouts.length} in force` : '';
}

/**
 * @param {'ok' | 'refused' | 'error'} kind
 * @param {string} text
 */
function showResult(kind, text) {
  const box = $('action-result');
  box.hidden = false;
  box.dataset.kind = kind;
  box.replaceChildren(
    h('span', { class: 'result-kind', text: kind === 'ok' ? 'done' : kind === 'refused' ? 'refused' : 'error' }),
    h('span', { class: 'result-text', text }),
  );
}

/**
 * An acting call: its result is shown, then the stopouts and the fleet are read again.
 * @param {string} path
 * @param {object} body
 * @param {string} describe the action in words, for the result
 * @returns {Promise<boolean>} whether the server answered 2xx
 */
async function act(path, body, describe) {
  let result;
  try {
    result = await api(path, { method: 'POST', body });
  } catch (error) {
    showResult('error', `${describe}: ${errorText(error)}`);
    return false;
  }
  const answer = asRecord(result.data);
  if (result.ok && answer?.result !== 'refused') {
    showResult('ok', `${describe}: ok`);
  } else if (answer?.result === 'refused') {
    showResult('refused', `${describe} — refused: ${answer.reason ?? 'no reason given'}`);
  } else {
    showResult('error', `${describe} — ${problemText(result)}`);
  }
  await Promise.all([loadStopouts(), loadFleet()]);
  if (selectedAccountId()) queueAccountRefresh();
  return result.ok;
}

/**
 * @param {string} scope
 * @param {string} id
 * @param {string} reason
 */
function resetStopout(scope, id, reason) {
  return act('/stopouts/reset', { scope, id, reason }, `reset ${reason} on ${scope} ${id}`);
}

/**
 * @param {string} scope
 * @param {string} id
 */
function moveStartTime(scope, id) {
  return act('/start-time', { scope, id }, `move startTime on ${scope} ${id}`);
}

function formValues() {
  return {
    scope: $as('so-scope', HTMLSelectElement).value,
    id: $as('so-id', HTMLInputElement).value.trim(),
    reason: $as('so-reason', HTMLInputElement).value.trim(),
    closePositions: $as('so-close', HTMLInputElement).checked,
  };
}
