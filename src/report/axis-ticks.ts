/**
 * Axis arithmetic for the report's charts: round tick values (1, 2, 2.5 or 5 × 10^k apart) and the domain
 * they span. One implementation for the report and the dashboard: it lives with the dashboard's browser
 * modules, as plain JavaScript the browser loads unbundled, and is typed by the declaration beside it.
 */
export { formatTick, niceDomain, niceTicks } from '../dashboard/static/axis-ticks.js';
export type { Ticks } from '../dashboard/static/axis-ticks.js';
