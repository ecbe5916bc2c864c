import { expect } from 'vitest';
import type { AccountEvent } from '../../machines/account-context.ts';
import { dec } from '../../src/domain/decimal.ts';
import { orderViolations } from '../../src/domain/rounding.ts';
import { topState, type AccountSnapshot, type SentOrder } from './account-fixture.ts';

/** The statechart invariants (docs/contracts.md#invariants), checked around one event. */
export function checkInvariants(before: AccountSnapshot, after: AccountSnapshot, event: AccountEvent, sent: SentOrder[]): void {
  const ctx = after.context;
  for (const order of sent) {
    // No entry leaves unless the account was trading and the gate passed it.
    if (order.purpose === 'entry') {
      expect(topState(before.value)).toBe('trading');
      expect(before.context.mode).toBe('trading');
    }
    // Every order respects the product's increments, notional cap and band.
    const product = ctx.settings.products[order.intent.symbol]!;
    const violations = orderViolations(product, order.intent, ctx.marks[order.intent.symbol]!);
    expect(violations).toEqual([]);
    // A reducing order never increases |position| nor flips it.
    if (order.purpose === 'reduce' || order.purpose === 'exit' || order.purpose === 'close') {
      const size = dec(order.position);
      expect(size.isZero()).toBe(false);
      expect(order.intent.side).toBe(size.isPos() ? 'sell' : 'buy');
      expect(dec(order.intent.amount).lte(size.abs())).toBe(true);
    }
  }
  // At most one reducing order in flight.
  const reducing = Object.values(ctx.orders).filter((o) => o.purpose === 'reduce' || o.purpose === 'exit');
  expect(reducing.length).toBeLessThanOrEqual(1);
  // stopped-out is left only by a reset.
  if (topState(before.value) === 'stopped-out' && topState(after.value) !== 'stopped-out') {
    expect(event.type).toBe('STOPOUT_RESET');
  }
}
