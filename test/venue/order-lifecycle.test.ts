import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isTerminal, TERMINAL_STATUSES, type OrderStatus } from '../../src/domain/order-status.ts';
import { LifecycleError, OrderLifecycle, type LifecycleEvent } from '../../src/venue/order-lifecycle.ts';
import type { OrderUpdateRow } from '../../src/venue/protocol.ts';

const HASH = `0x${'ab'.repeat(25)}`;
const OTHER = `0x${'cd'.repeat(25)}`;

function row(
  globalOrdinal: number,
  reason: OrderUpdateRow['reason'],
  filled: string,
  remaining: string,
  extra: Partial<OrderUpdateRow> = {},
): OrderUpdateRow {
  return {
    globalOrdinal,
    epochId: 1,
    orderHash: HASH,
    symbol: 'ETHP',
    trader: `0x${'12'.repeat(20)}`,
    strategyIdHash: '0x2576ebd1',
    side: 0,
    orderType: 0,
    amount: '3',
    price: '2000',
    reason,
    filledAmount: filled,
    remainingAmount: remaining,
    createdAt: '2026-01-05T13:00:00.000Z',
    ...extra,
  };
}

function tracker(): { lifecycle: OrderLifecycle; events: LifecycleEvent[]; statuses: () => OrderStatus[] } {
  const events: LifecycleEvent[] = [];
  const lifecycle = new OrderLifecycle((e) => events.push(e));
  lifecycle.submit({ strategyId: 'alpha', clientOrderId: 'c1', orderHash: HASH, symbol: 'ETHP', side: 'buy', amount: '3' }, 0);
  return { lifecycle, events, statuses: () => events.map((e) => e.status) };
}

describe('OrderLifecycle', () => {
  it('walks submitted → sequenced → posted → partially-filled → filled, cumulative filled', () => {
    const { lifecycle, events, statuses } = tracker();
    lifecycle.sequenced(HASH, 1);
    lifecycle.applyUpdate('alpha', row(10, 0, '0', '3'), 2);
    lifecycle.applyUpdate('alpha', row(11, 1, '1', '2', { fillAmount: '1', fillPrice: '2000' }), 3);
    lifecycle.applyUpdate('alpha', row(12, 1, '2.5', '0.5', { fillAmount: '1.5', fillPrice: '2000' }), 4);
    lifecycle.applyUpdate('alpha', row(13, 1, '3', '0', { fillAmount: '0.5', fillPrice: '2000' }), 5);
    expect(statuses()).toEqual(['submitted', 'sequenced', 'posted', 'partially-filled', 'partially-filled', 'filled']);
    expect(events.map((e) => e.filled)).toEqual(['0', '0', '0', '1', '2.5', '3']);
    expect(events.at(-1)).toEqual({
      strategyId: 'alpha',
      clientOrderId: 'c1',
      orderHash: HASH,
      symbol: 'ETHP',
      status: 'filled',
      filled: '3',
      remaining: '0',
      at: 5,
    });
  });

  it('ends in cancelled (keeping what filled), rejected with the rejection name, or liquidated', () => {
    const cancelled = tracker();
    cancelled.lifecycle.applyUpdate('alpha', row(11, 1, '1', '2', { fillAmount: '1', fillPrice: '2000' }), 1);
    cancelled.lifecycle.applyUpdate('alpha', row(12, 3, '1', '0'), 2);
    expect(cancelled.events.at(-1)).toMatchObject({ status: 'cancelled', filled: '1', remaining: '0' });

    const rejected = tracker();
    rejected.lifecycle.applyUpdate('alpha', row(11, 4, '0', '0', { orderRejection: 3 }), 1);
    expect(rejected.events.at(-1)).toMatchObject({ status: 'rejected', reason: 'NoLiquidity' });
    const solvency = tracker();
    solvency.lifecycle.applyUpdate('alpha', row(11, 4, '0', '0', { orderRejection: 1 }), 1);
    expect(solvency.events.at(-1)?.reason).toBe('SolvencyGuard');

    const liquidated = tracker();
    liquidated.lifecycle.applyUpdate('alpha', row(11, 0, '0', '3'), 1);
    liquidated.lifecycle.applyUpdate('alpha', row(12, 2, '0', '0'), 2);
    expect(liquidated.statuses()).toEqual(['submitted', 'sequenced', 'posted', 'liquidated']);
  });

  it('an update before the receipt proves sequencing: sequenced is reported once, first', () => {
    const { lifecycle, statuses } = tracker();
    lifecycle.applyUpdate('alpha', row(10, 0, '0', '3'), 1);
    lifecycle.sequenced(HASH, 2);
    expect(statuses()).toEqual(['submitted', 'sequenced', 'posted']);
  });

  it('only moves forward: a late receipt or Post after a fill changes nothing', () => {
    const { lifecycle, statuses } = tracker();
    lifecycle.applyUpdate('alpha', row(11, 1, '1', '2', { fillAmount: '1', fillPrice: '2000' }), 1);
    lifecycle.sequenced(HASH, 2);
    expect(lifecycle.applyUpdate('alpha', row(12, 0, '1', '2'), 3).outcome).toBe('unchanged');
    expect(statuses()).toEqual(['submitted', 'sequenced', 'partially-filled']);
  });

  it('is terminal only on a terminal update: nothing after it counts, duplicates are ignored', () => {
    const { lifecycle, statuses } = tracker();
    const fill = row(11, 1, '3', '0', { fillAmount: '3', fillPrice: '2000' });
    expect(lifecycle.applyUpdate('alpha', fill, 1).outcome).toBe('applied');
    expect(lifecycle.applyUpdate('alpha', fill, 2).outcome).toBe('duplicate');
    expect(lifecycle.applyUpdate('alpha', row(12, 3, '3', '0'), 3).outcome).toBe('after-terminal');
    expect(statuses()).toEqual(['submitted', 'sequenced', 'filled']);
    expect(lifecycle.live()).toEqual([]);
  });

  it('a lost answer keeps the order submitted until a reconcile settles it', () => {
    const { lifecycle, statuses } = tracker();
    lifecycle.markUnresolved(HASH);
    expect(lifecycle.byHash(HASH)).toMatchObject({ status: 'submitted', unresolved: true });
    expect(lifecycle.live().length).toBe(1);
    lifecycle.notSequenced(HASH, 9);
    expect(statuses()).toEqual(['submitted', 'rejected']);
    expect(lifecycle.byHash(HASH)?.reason).toBe('NotSequenced');
  });

  it('a refused request is rejected with the HTTP error name; a re-signed order changes its hash', () => {
    const { lifecycle, events } = tracker();
    lifecycle.rekey(HASH, OTHER);
    expect(lifecycle.byHash(HASH)).toBeUndefined();
    lifecycle.refused(OTHER, 'IllegalNonce', 'nonce used', 4);
    expect(events.at(-1)).toMatchObject({
      clientOrderId: 'c1',
      orderHash: OTHER,
      status: 'rejected',
      reason: 'IllegalNonce',
      detail: 'nonce used',
    });
  });

  it('adopts orders it did not place, keyed by their hash', () => {
    const events: LifecycleEvent[] = [];
    const lifecycle = new OrderLifecycle((e) => events.push(e));
    lifecycle.applyOpenOrder(
      'alpha',
      {
        orderHash: OTHER,
        symbol: 'ETHP',
        side: 1,
        orderType: 0,
        amount: '2',
        price: '2100',
        filledAmount: '0.5',
        remainingAmount: '1.5',
        nonce: `0x${'00'.repeat(32)}`,
        createdAt: '2026-01-05T13:00:00.000Z',
      },
      1,
    );
    expect(events).toEqual([
      {
        strategyId: 'alpha',
        clientOrderId: OTHER,
        orderHash: OTHER,
        symbol: 'ETHP',
        status: 'partially-filled',
        filled: '0.5',
        remaining: '1.5',
        at: 1,
      },
    ]);
    expect(lifecycle.get('alpha', OTHER)?.side).toBe('sell');
  });

  it('refuses a clientOrderId twice', () => {
    const { lifecycle } = tracker();
    expect(() =>
      lifecycle.submit({ strategyId: 'alpha', clientOrderId: 'c1', orderHash: OTHER, symbol: 'ETHP', side: 'buy', amount: '1' }, 0),
    ).toThrow(LifecycleError);
  });

  it('never goes backwards and ends at most once, whatever order updates arrive in (seeded)', () => {
    const rank: Record<OrderStatus, number> = {
      submitted: 0,
      sequenced: 1,
      posted: 2,
      'partially-filled': 3,
      filled: 4,
      cancelled: 4,
      rejected: 4,
      liquidated: 4,
    };
    const update = fc.record({
      reason: fc.constantFrom<OrderUpdateRow['reason']>(0, 1, 1, 1, 2, 3, 4, 5),
      filled: fc.constantFrom('0', '1', '2', '3'),
      ordinal: fc.integer({ min: 1, max: 40 }),
    });
    fc.assert(
      fc.property(fc.array(update, { maxLength: 30 }), fc.boolean(), (updates, receipt) => {
        const { lifecycle, events } = tracker();
        if (receipt) lifecycle.sequenced(HASH, 0);
        for (const u of updates) {
          lifecycle.applyUpdate(
            'alpha',
            row(u.ordinal, u.reason, u.filled, '0', {
              ...(u.reason === 1 ? { fillAmount: '1', fillPrice: '2000' } : {}),
              ...(u.reason === 4 ? { orderRejection: 0 as const } : {}),
            }),
            0,
          );
        }
        for (let i = 1; i < events.length; i += 1) {
          const [a, b] = [events[i - 1]!, events[i]!];
          expect(rank[b.status]).toBeGreaterThanOrEqual(rank[a.status]);
          if (a.status === b.status) expect(Number(b.filled)).toBeGreaterThan(Number(a.filled));
          expect(Number(b.filled)).toBeGreaterThanOrEqual(Number(a.filled));
        }
        expect(events.filter((e) => isTerminal(e.status)).length).toBeLessThanOrEqual(1);
        const terminal = events.find((e) => isTerminal(e.status));
        // The model: a repeated globalOrdinal is a duplicate; filled is the largest seen; a Trade ends
        // the order once filled reaches the amount (3); Liquidation, Cancellation, OrderRejection end it.
        const seen = new Set<number>();
        let most = 0;
        let ended = false;
        for (const u of updates) {
          if (seen.has(u.ordinal)) continue;
          seen.add(u.ordinal);
          if (u.reason === 5) continue;
          most = Math.max(most, Number(u.filled));
          if (u.reason === 2 || u.reason === 3 || u.reason === 4 || (u.reason === 1 && most >= 3)) ended = true;
        }
        expect(terminal !== undefined).toBe(ended);
        if (terminal !== undefined) expect(TERMINAL_STATUSES).toContain(terminal.status);
      }),
      { seed: 31337, numRuns: 2_000 },
    );
  });
});
