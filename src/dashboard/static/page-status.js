// @ts-check
// The page's own status: the banner over everything (the fleet cannot be read) and the live feed's
// indicator in the top bar.

import { $ } from './dom.js';

/**
 * Shows `message` in the banner, or hides it.
 * @param {string | null} message
 */
export function showBanner(message) {
  const banner = $('banner');
  banner.hidden = !message;
  banner.textContent = message ?? '';
}

/**
 * The live feed indicator (its colour follows `state`).
 * @param {'connecting' | 'live' | 'down'} state
 * @param {string} text
 */
export function setConn(state, text) {
  const conn = $('conn');
  conn.dataset.state = state;
  conn.textContent = text;
}
