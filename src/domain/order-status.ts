/**
 * The lifecycle of an order at the venue, as the timeline's `order-update.status` reports it, plus
 * `submitted` before any receipt. The account machine, the venue client's lifecycle tracker, the metrics
 * and the dashboard all speak this one vocabulary.
 */
export const ORDER_STATUSES = [
  'submitted',
  'sequenced',
  'posted',
  'partially-filled',
  'filled',
  'cancelled',
  'rejected',
  'liquidated',
] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

/** Statuses after which nothing more happens to an order. */
export const TERMINAL_STATUSES: readonly OrderStatus[] = ['filled', 'cancelled', 'rejected', 'liquidated'];

const TERMINAL: ReadonlySet<string> = new Set(TERMINAL_STATUSES);

/** Whether `status` is terminal; takes any string so a value read from outside can be asked as it is. */
export function isTerminal(status: string): boolean {
  return TERMINAL.has(status);
}
