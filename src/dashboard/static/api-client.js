// @ts-check
// The HTTP client of the dashboard: its own origin only, nothing cached, the bearer token if the page was
// opened with one (the HttpOnly cookie the server set covers the rest).

export const API = '/api/v1';

/** @type {string | null} */
let token = null;

/**
 * @typedef {object} ApiResult
 * @property {number} status
 * @property {boolean} ok
 * @property {unknown} data The parsed JSON body, not yet validated; null when there was none or it was not JSON.
 * @property {string} text The body as sent.
 */

/**
 * Sends `value` as the bearer token on every later request.
 * @param {string} value
 */
export function useToken(value) {
  token = value;
}

/**
 * A JSON request to the API.
 * @param {string} path below /api/v1
 * @param {{ method?: 'GET' | 'POST', body?: unknown }} [options]
 * @returns {Promise<ApiResult>}
 */
export async function api(path, { method = 'GET', body } = {}) {
  /** @type {Record<string, string>} */
  const headers = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${API}${path}`, {
    method,
    headers,
    credentials: 'same-origin',
    cache: 'no-store',
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  /** @type {unknown} */
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  return { status: res.status, ok: res.ok, data, text };
}

/**
 * An SVG drawing from the API, as text.
 * @param {string} path below /api/v1
 * @returns {Promise<{ status: number, ok: boolean, text: string }>}
 */
export async function apiText(path) {
  /** @type {Record<string, string>} */
  const headers = { accept: 'image/svg+xml' };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${API}${path}`, { headers, credentials: 'same-origin', cache: 'no-store' });
  return { status: res.status, ok: res.ok, text: await res.text() };
}

/**
 * A JSON object's fields for checking one by one; null for anything else.
 * @param {unknown} value
 * @returns {Record<string, unknown> | null}
 */
export function asRecord(value) {
  return value !== null && typeof value === 'object' ? /** @type {Record<string, unknown>} */ (value) : null;
}

/**
 * What went wrong with a request, in words: sign-in and role first, then the API's own error.
 * @param {ApiResult} result
 * @returns {string}
 */
export function problemText(result) {
  if (result.status === 401) return 'not signed in: open the dashboard with /?token=<token>';
  if (result.status === 403) return 'forbidden: this needs an admin token';
  const d = asRecord(result.data);
  if (d) {
    if (d.result === 'refused') return `refused: ${d.reason ?? 'no reason given'}`;
    const problems = Array.isArray(d.problems) && d.problems.length ? ` (${d.problems.join('; ')})` : '';
    if (typeof d.error === 'string') return `${d.error}${problems}`;
  }
  return `HTTP ${result.status}${result.text ? `: ${result.text.slice(0, 200)}` : ''}`;
}

/**
 * The message of a failed fetch (a TypeError when the server cannot be reached).
 * @param {unknown} error
 * @returns {string}
 */
export function errorText(error) {
  return error instanceof Error ? error.message : String(error);
}
