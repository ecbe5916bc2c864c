import { setup } from 'xstate';

/**
 * The lifecycle of one venue order, as the order lifecycle tracker (src/venue/order-lifecycle.ts) follows
 * it: statuses only move forward, terminal statuses are final, and a partial fill may repeat (the filled
 * amount grows). Updates can arrive out of order, so a later status may skip the ones before it. A test
 * checks that the tracker allows exactly these transitions.
 */
export type OrderLifecycleEvent =
  | { type: 'SEQUENCED' }
  | { type: 'POSTED' }
  | { type: 'PARTIALLY_FILLED' }
  | { type: 'FILLED' }
  | { type: 'CANCELLED' }
  | { type: 'REJECTED' }
  | { type: 'LIQUIDATED' };

const terminal = {
  FILLED: '#order.filled',
  CANCELLED: '#order.cancelled',
  REJECTED: '#order.rejected',
  LIQUIDATED: '#order.liquidated',
} as const;

export const orderMachine = setup({
  types: { events: {} as OrderLifecycleEvent },
}).createMachine({
  id: 'order',
  initial: 'submitted',
  states: {
    submitted: {
      on: { SEQUENCED: 'sequenced', POSTED: 'posted', PARTIALLY_FILLED: 'partially-filled', ...terminal },
    },
    sequenced: {
      on: { POSTED: 'posted', PARTIALLY_FILLED: 'partially-filled', ...terminal },
    },
    posted: {
      on: { PARTIALLY_FILLED: 'partially-filled', ...terminal },
    },
    'partially-filled': {
      on: { PARTIALLY_FILLED: { target: 'partially-filled', reenter: false }, ...terminal },
    },
    filled: { type: 'final' },
    cancelled: { type: 'final' },
    rejected: { type: 'final' },
    liquidated: { type: 'final' },
  },
});
