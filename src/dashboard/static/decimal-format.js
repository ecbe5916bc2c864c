// @ts-check
// Exact decimals for display and sorting. The API sends money as decimal strings; BigInt keeps them exact
// here too, so no figure on the page is a float's rounding of the real one.

/** @typedef {string | number | null | undefined} DecimalText */
/** @typedef {{ n: bigint, scale: number }} Dec */

/**
 * `n × 10^-scale`, or null when `text` is not a decimal.
 * @param {unknown} text
 * @returns {Dec | null}
 */
export function parseDec(text) {
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

/**
 * Exact comparison; what is not a decimal sorts last.
 * @param {DecimalText} a
 * @param {DecimalText} b
 * @returns {number}
 */
export function cmpDec(a, b) {
  const x = parseDec(a);
  const y = parseDec(b);
  if (!x || !y) return x ? -1 : y ? 1 : 0;
  const scale = Math.max(x.scale, y.scale);
  const xn = x.n * 10n ** BigInt(scale - x.scale);
  const yn = y.n * 10n ** BigInt(scale - y.scale);
  return xn < yn ? -1 : xn > yn ? 1 : 0;
}

/**
 * -1, 0 or 1; 0 for what is not a decimal.
 * @param {DecimalText} text
 * @returns {number}
 */
export function signOf(text) {
  const d = parseDec(text);
  return !d ? 0 : d.n < 0n ? -1 : d.n > 0n ? 1 : 0;
}

/**
 * `text` × 10^shift, rounded half away from zero to `places`, with thousands separators.
 * @param {DecimalText} text
 * @param {number} [places]
 * @param {{ group?: boolean, plus?: boolean, shift?: number }} [options]
 * @returns {string}
 */
export function fmtDec(text, places = 2, { group = true, plus = false, shift = 0 } = {}) {
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

/**
 * A size as given (trailing zeros trimmed), with its sign.
 * @param {DecimalText} text
 * @returns {string}
 */
export function fmtSize(text) {
  const d = parseDec(text);
  if (!d) return String(text);
  const neg = d.n < 0n;
  const raw = (neg ? -d.n : d.n).toString().padStart(d.scale + 1, '0');
  const int = raw.slice(0, raw.length - d.scale);
  const frac = d.scale > 0 ? raw.slice(raw.length - d.scale).replace(/0+$/, '') : '';
  return `${neg ? '−' : ''}${int}${frac ? `.${frac}` : ''}`;
}

/** @param {DecimalText} text */
export const money = (text) => fmtDec(text, 2);

/** A fraction as a percentage: "0.1" → "10.00 %". @param {DecimalText} text */
export const pct = (text) => (text === null || text === undefined ? '—' : `${fmtDec(text, 2, { shift: 2 })} %`);

/** Milliseconds as seconds with one decimal. @param {number} t */
export const secs = (t) => fmtDec(String(t), 1, { shift: -3, group: false });

/** A float copy for plotting only, never for a figure that is shown or compared. @param {DecimalText} text */
export const num = (text) => (text === null || text === undefined ? NaN : Number(text));
