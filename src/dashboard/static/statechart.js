// @ts-check
// The open account's statechart: the server draws it once (SVG), the page lights the current state and
// moves the light as the live records come, without fetching the drawing again.

import { $, h, SVG_NS } from './dom.js';
import { apiText, errorText } from './api-client.js';
import { fleetRow } from './fleet-table.js';
import { selectedAccount, selectedAccountId } from './selection.js';

/** @type {string} the machine id the drawing's node titles start with */
let machine = 'account';
/** @type {string | null} the account the drawing on the page is of */
let drawnFor = null;

/**
 * Fetches and shows the statechart of `id`, lit at its current state; nothing if another account was
 * opened meanwhile.
 * @param {string} id
 */
export async function loadStatechart(id) {
  const box = $('statechart');
  box.replaceChildren(h('p', { class: 'muted', text: 'loading the statechart…' }));
  let result;
  try {
    result = await apiText(`/diagrams/account.svg?account=${encodeURIComponent(id)}`);
  } catch (error) {
    result = { ok: false, status: 0, text: errorText(error) };
  }
  if (selectedAccountId() !== id) return;
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
  machine = svg.querySelector('g.graph > title')?.textContent ?? 'account';
  drawnFor = id;
  box.dataset.active = '';
  const row = fleetRow(id) ?? selectedAccount();
  highlightStatechart(row?.detail ?? row?.state ?? '');
}

/** The drawing on the page belongs to no open account any more. */
export function forgetStatechart() {
  drawnFor = null;
}

/**
 * Marks the states a state path makes active (`de-risking.awaiting` → the de-risking cluster and its
 * awaiting node) and nothing else, whatever the served SVG marked when it was drawn.
 * @param {string} path
 */
export function highlightStatechart(path) {
  const box = $('statechart');
  const svg = box.querySelector('svg');
  if (!svg || !path || drawnFor !== selectedAccountId()) return;
  if (box.dataset.active === path) return;
  const parts = path.split('.');
  const active = new Set(parts.map((_, i) => `${machine}.${parts.slice(0, i + 1).join('.')}`));
  const leaf = `${machine}.${path}`;
  const groups = [.../** @type {NodeListOf<SVGGElement>} */ (svg.querySelectorAll('g.node, g.cluster'))].map((g) => {
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

/** The "actual size" button: the drawing at its own size (scrolling) or fitted to the panel. */
export function setupStatechartZoom() {
  const zoom = $('statechart-zoom');
  zoom.addEventListener('click', () => {
    const on = $('statechart').classList.toggle('actual-size');
    zoom.setAttribute('aria-pressed', String(on));
    zoom.textContent = on ? 'fit' : 'actual size';
  });
}

/**
 * The SVG as inert DOM: parsed as XML, without scripts, foreign content, handlers or outside links.
 * @param {string} text
 * @returns {Element | null}
 */
function safeSvg(text) {
  const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
  /** @type {Element | null} */
  const root = doc.documentElement;
  if (!root || root.namespaceURI !== SVG_NS || root.localName !== 'svg') return null;
  for (const bad of root.querySelectorAll('script, foreignObject, iframe, image, use, style')) bad.remove();
  for (const node of [root, ...root.querySelectorAll('*')]) {
    for (const attr of [...node.attributes]) {
      const name = attr.name.toLowerCase();
      const outside = (name === 'href' || name === 'xlink:href') && !attr.value.startsWith('#');
      if (name.startsWith('on') || outside) node.removeAttribute(attr.name);
    }
  }
  root.removeAttribute('width');
  root.removeAttribute('height');
  root.setAttribute('class', 'statechart-svg');
  root.setAttribute('role', 'img');
  root.setAttribute('aria-label', 'account statechart');
  return document.importNode(root, true);
}
