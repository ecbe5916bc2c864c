// @ts-check
// DOM helpers. Every string goes into the page as text (textContent, attribute values, SVG text nodes),
// never as markup: what the API sends cannot become part of the page's structure.

export const SVG_NS = 'http://www.w3.org/2000/svg';

/** @typedef {Node | string | null | undefined | false} Child */
/** @typedef {string | number | boolean | null | undefined | Record<string, string> | ((event: Event) => void)} PropValue */
/**
 * `class`, `text` (the text content), `dataset`, `on<event>` listeners; anything else is an attribute.
 * @typedef {Record<string, PropValue>} Props
 */

/**
 * The page's element with that id; it is part of index.html, so a missing one is a bug worth a loud error.
 * @param {string} id
 * @returns {HTMLElement}
 */
export function $(id) {
  const node = document.getElementById(id);
  if (!node) throw new Error(`the dashboard page has no #${id}`);
  return node;
}

/**
 * The page's element with that id, checked to be of the expected kind (a select, an input, a table).
 * @template {HTMLElement} T
 * @param {string} id
 * @param {new () => T} type
 * @returns {T}
 */
export function $as(id, type) {
  const node = $(id);
  if (!(node instanceof type)) throw new Error(`#${id} is not a ${type.name}`);
  return node;
}

/**
 * An HTML element with its props and children.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Props} [props]
 * @param {...(Child | Child[])} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = String(value);
    else if (key === 'text') node.textContent = String(value);
    else if (key === 'dataset' && typeof value === 'object') Object.assign(node.dataset, value);
    else if (key.startsWith('on') && typeof value === 'function') node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  append(node, children);
  return node;
}

/**
 * An SVG element with its attributes and children.
 * @template {keyof SVGElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, string | number | null | undefined>} [attrs]
 * @param {...(Child | Child[])} children
 * @returns {SVGElementTagNameMap[K]}
 */
export function s(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null) continue;
    node.setAttribute(key, String(value));
  }
  append(node, children);
  return node;
}

/**
 * An SVG `<title>`: the tooltip of its parent.
 * @param {string} text
 * @returns {SVGTitleElement}
 */
export function svgTitle(text) {
  const title = document.createElementNS(SVG_NS, 'title');
  title.textContent = text;
  return title;
}

/**
 * @param {Element} node
 * @param {Array<Child | Child[]>} children
 */
function append(node, children) {
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
}
