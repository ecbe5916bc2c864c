// @ts-check
// Copying the fields one API shape shares with another (a risk record's figures into a fleet row, a fleet
// row's into the account detail), only those the source actually has.

/**
 * The `keys` of `source` that it has, and nothing else.
 * @template {object} T
 * @template {keyof T} K
 * @param {T} source
 * @param {readonly K[]} keys
 * @returns {Partial<Pick<T, K>>}
 */
export function pickPresent(source, keys) {
  /** @type {Partial<Pick<T, K>>} */
  const out = {};
  for (const key of keys) if (key in source) out[key] = source[key];
  return out;
}
