import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { orderMachine, type OrderLifecycleEvent } from '../../machines/order.ts';
import type { OrderStatus } from '../../src/domain/order-status.ts';
import { canAdvance } from '../../src/venue/order-lifecycle.ts';

const EVENT_OF: Record<string, OrderLifecycleEvent['type']> = {
  sequenced: 'SEQUENCED',
  posted: 'POSTED',
  'partially-filled': 'PARTIALLY_FILLED',
  filled: 'FILLED',
  cancelled: 'CANCELLED',
  rejected: 'REJECTED',
  liquidated: 'LIQUIDATED',
};
const STATUSES = ['submitted', ...Object.keys(EVENT_OF)];

describe('order lifecycle statechart', () => {
  it('moves only forward and ends in a final status', () => {
    for (const from of STATUSES) {
      for (const to of Object.keys(EVENT_OF)) {
        const actor = createActor(orderMachine);
        actor.start();
        if (from !== 'submitted') actor.send({ type: EVENT_OF[from]! });
        expect(actor.getSnapshot().value).toBe(from);
        actor.send({ type: EVENT_OF[to]! });
        const rank = (s: string) => Math.min(STATUSES.indexOf(s), 4);
        const allowed = rank(to) > rank(from) || (from === 'partially-filled' && to === 'partially-filled');
        expect(actor.getSnapshot().value, `${from} → ${to}`).toBe(allowed ? to : from);
      }
    }
  });

  it('is the transition relation the venue lifecycle tracker implements', () => {
    for (const from of STATUSES as OrderStatus[]) {
      for (const to of Object.keys(EVENT_OF) as OrderStatus[]) {
        const actor = createActor(orderMachine);
        actor.start();
        if (from !== 'submitted') actor.send({ type: EVENT_OF[from]! });
        actor.send({ type: EVENT_OF[to]! });
        expect(actor.getSnapshot().value !== from || (from === to && from === 'partially-filled'), `${from} → ${to}`).toBe(
          canAdvance(from, to, true),
        );
      }
    }
  });
});
