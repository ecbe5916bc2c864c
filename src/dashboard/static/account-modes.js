// @ts-check
// The five top-level states of an account (docs/contracts.md#timeline), from calm to stopped: the fleet table sorts by
// this order and the chart's legend lists them in it.

/** @type {readonly import('./api-types.js').AccountMode[]} */
export const MODES = ['trading', 'entries-blocked', 'de-risking', 'panic-exit', 'stopped-out'];
