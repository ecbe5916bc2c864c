// @ts-check
// The account the operator has open and what was last read about it: one owner for the state that the
// account view, its chart, its statechart and the live records all follow.

/** @typedef {import('./api-types.js').AccountResponse} AccountResponse */

/** @type {string | null} */
let selectedId = null;
/** @type {AccountResponse | null} */
let account = null;

/** @returns {string | null} the open account's id */
export function selectedAccountId() {
  return selectedId;
}

/** @returns {Readonly<AccountResponse> | null} the open account as last read (and patched by live records since) */
export function selectedAccount() {
  return account;
}

/**
 * Opens another account (or none): what was read about the previous one goes with it.
 * @param {string | null} id
 */
export function selectAccountId(id) {
  selectedId = id;
  account = null;
}

/**
 * The open account as just read.
 * @param {AccountResponse} detail
 */
export function setSelectedAccount(detail) {
  account = detail;
}

/**
 * Newer figures for the open account, from a record or a fleet read.
 * @param {Partial<AccountResponse>} patch
 * @returns {boolean} false when the account has not been read yet (then there is nothing to patch)
 */
export function patchSelectedAccount(patch) {
  if (!account) return false;
  Object.assign(account, patch);
  return true;
}
