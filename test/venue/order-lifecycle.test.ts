import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { OrderUpdateReason } from '../../src/derivadex/codes.ts';
import type { OrderUpdateRow } from '../../src/derivadex/order-update.ts';
import { orderBookL3EntrySchema } from '../../src/derivadex/rest-bodies.ts';
import { isTerminal, TERMINAL_STATUSES, type OrderStatus } from '../../src/domain/order-status.ts';
import { LifecycleError, OrderLifecycle, type LifecycleEvent } from '../../src/venue/order-lifecycle.ts';
import { FIXTURE_TRADER, fixture, intent, orderUpdate, orderUpdateHistory, type Json } from './wire-fixtures.ts';

/*
 * The order lifecycle on ORDER_UPDATE rows in the real shape (SDK realtime `OrderUpdate`): the order is
 * the intent's orderHash, `amount` / `price` are this update's fill, `cumulativeFilledAmount` the total.
 */

const HASH = `0x${'ab'.repeat(25)}`;
const OTHER = `0x${'cd'.repeat(25)}`;
const FIXTURE_NAME: Record<OrderUpdateReason, string> = {
  0: 'ws-order-update-post',
  1: 'ws-order-update-trade',
  2: 'ws-order-update-liquidation',
  3: 'ws-order-update-cancellation',
  4: 'ws-order-update-order-rejection',
  5: 'ws-order-update-cancel-rejection',
};

/** A row about our order HASH (amount 3, Bid): `filled` is cumulativeFilledAmount; `extra` e.g. the fill `amount`. */
function row(globalOrdinal: number, reason: OrderUpdateReason, filled: string, extra: Json = {}): OrderUpdateRow {
  const liquidation = reason === 2 ? { liquidatedTraderAddress: `0x00${'77'.repeat(20)}`, liquidatedStrategyIdHash: '0x2576ebd1' } : {};
  return orderUpdate(FIXTURE_NAME[reason], {
    globalOrdinal,
    makerOrderIntent: intent(FIXTURE_TRADER, { orderHash: HASH, amount: '3', side: 0 }),
    takerOrderIntent: undefined,
    cumulativeFilledAmount: filled,
    amount: reason === 1 || reason === 2 ? '1' : '0',
    price: '2000',
    ...liquidation,
    ...extra,
  });
}

function apply(lifecycle: OrderLifecycle, r: OrderUpdateRow, at: number) {
  return lifecycle.applyUpdate('alpha', r, r.makerOrderIntent, at);
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
    apply(lifecycle, row(10, 0, '0'), 2);
    apply(lifecycle, row(11, 1, '1', { amount: '1' }), 3);
    apply(lifecycle, row(12, 1, '2.5', { amount: '1.5' }), 4);
    apply(lifecycle, row(13, 1, '3', { amount: '0.5' }), 5);
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

  it('ends in cancelled (keeping what filled), rejected with the rejection name (codes 0–5), or filled by a liquidation it absorbed', () => {
    const cancelled = tracker();
    apply(cancelled.lifecycle, row(11, 1, '1', { amount: '1' }), 1);
    apply(cancelled.lifecycle, row(12, 3, '1'), 2);
    expect(cancelled.events.at(-1)).toMatchObject({ status: 'cancelled', filled: '1', remaining: '0' });

    const rejected = tracker();
    apply(rejected.lifecycle, row(11, 4, '0', { orderRejection: 3 }), 1);
    expect(rejected.events.at(-1)).toMatchObject({ status: 'rejected', reason: 'NoLiquidity' });
    const solvency = tracker();
    apply(solvency.lifecycle, row(11, 4, '0', { orderRejection: 1 }), 1);
    expect(solvency.events.at(-1)?.reason).toBe('SolvencyGuard');

    const postOnly = tracker();
    apply(postOnly.lifecycle, row(11, 4, '0', { orderRejection: 5 }), 1);
    expect(postOnly.events.at(-1)?.reason).toBe('PostOnlyViolation');

    // Our resting order absorbed a liquidation (§10.7: it is the row's makerOrderIntent): a fill of it.
    const absorbed = tracker();
    apply(absorbed.lifecycle, row(11, 0, '0'), 1);
    apply(absorbed.lifecycle, row(12, 2, '1'), 2);
    expect(absorbed.statuses()).toEqual(['submitted', 'sequenced', 'posted', 'partially-filled']);
    expect(absorbed.events.at(-1)).toMatchObject({ filled: '1', remaining: '2' });
  });

  it('an update before the receipt proves sequencing: sequenced is reported once, first', () => {
    const { lifecycle, statuses } = tracker();
    apply(lifecycle, row(10, 0, '0'), 1);
    lifecycle.sequenced(HASH, 2);
    expect(statuses()).toEqual(['submitted', 'sequenced', 'posted']);
  });

  it('only moves forward: a late receipt or Post after a fill changes nothing', () => {
    const { lifecycle, statuses } = tracker();
    apply(lifecycle, row(11, 1, '1', { amount: '1' }), 1);
    lifecycle.sequenced(HASH, 2);
    expect(apply(lifecycle, row(12, 0, '1'), 3).outcome).toBe('unchanged');
    expect(statuses()).toEqual(['submitted', 'sequenced', 'partially-filled']);
  });

  it('is terminal only on a terminal update: nothing after it counts, duplicates are ignored', () => {
    const { lifecycle, statuses } = tracker();
    const fill = row(11, 1, '3', { amount: '3' });
    expect(apply(lifecycle, fill, 1).outcome).toBe('applied');
    expect(apply(lifecycle, fill, 2).outcome).toBe('duplicate');
    expect(apply(lifecycle, row(12, 3, '3'), 3).outcome).toBe('after-terminal');
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
    // The L3 book's entry (SDK OrderBookL3Entry): amount 1.5 remains of originalAmount 2.
    const book = fixture('rest-order-book-l3') as { value: unknown[] };
    const entry = orderBookL3EntrySchema.parse({ ...(book.value[0] as Json), orderHash: OTHER, side: 1 });
    lifecycle.applyOpenOrder('alpha', entry, 1);
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

  it('REST rows carry no cumulative amount: filled is the sum of the fills, remaining intent.amount − filled', () => {
    const { lifecycle, events } = tracker();
    const ours = { makerOrderIntent: intent(FIXTURE_TRADER, { orderHash: HASH, amount: '3', side: 0 }), takerOrderIntent: undefined };
    for (const [g, amount] of [
      [11, '1'],
      [12, '1.5'],
    ] as const) {
      const r = orderUpdateHistory('ws-order-update-trade', { ...ours, globalOrdinal: g, amount });
      lifecycle.applyUpdate('alpha', r, r.makerOrderIntent, 1);
    }
    // 1 + 1.5 = 2.5 filled of 3; 0.5 remains
    expect(events.at(-1)).toMatchObject({ status: 'partially-filled', filled: '2.5', remaining: '0.5' });
  });

  it("as the taker, the row's cumulativeFilledAmount is the maker's: the taker's fills are summed", () => {
    const { lifecycle, events } = tracker();
    const r = orderUpdate('ws-order-update-trade', {
      globalOrdinal: 11,
      amount: '1',
      cumulativeFilledAmount: '7', // the resting order's total, not ours
      takerOrderIntent: intent(FIXTURE_TRADER, { orderHash: HASH, amount: '3', side: 0 }),
      makerOrderIntent: intent(`0x00${'77'.repeat(20)}`, { side: 1 }),
    });
    lifecycle.applyUpdate('alpha', r, r.takerOrderIntent!, 1);
    expect(events.at(-1)).toMatchObject({ status: 'partially-filled', filled: '1', remaining: '2' });
  });

  it('matches a rejection with a placeholder intent by the nonce it was signed with (§10.8), else leaves it', () => {
    const events: LifecycleEvent[] = [];
    const lifecycle = new OrderLifecycle((e) => events.push(e));
    const nonce = `0x${'31'.repeat(16)}${'00'.repeat(16)}`;
    lifecycle.submit({ strategyId: 'alpha', clientOrderId: 'c9', orderHash: HASH, symbol: 'ETHP', side: 'buy', amount: '1', nonce }, 0);
    const placeholder = (n: string) =>
      intent('', {
        orderHash: '',
        symbol: '',
        amount: '',
        price: '',
        strategyIdHash: '',
        stopPrice: '',
        signature: '',
        createdAt: '',
        side: 0,
        orderType: 0,
        nonce: n,
      });
    const unknown = orderUpdate('ws-order-update-order-rejection', {
      globalOrdinal: 20,
      orderRejection: 1,
      makerOrderIntent: placeholder(''),
    });
    expect(lifecycle.applyUpdate('alpha', unknown, unknown.makerOrderIntent, 1).outcome).toBe('unmatched');
    const known = orderUpdate('ws-order-update-order-rejection', {
      globalOrdinal: 21,
      orderRejection: 1,
      makerOrderIntent: placeholder(nonce),
    });
    expect(lifecycle.applyUpdate('alpha', known, known.makerOrderIntent, 2).outcome).toBe('applied');
    expect(events.at(-1)).toMatchObject({ clientOrderId: 'c9', status: 'rejected', reason: 'SolvencyGuard' });
  });

  it('a CancelRejection (integer code) leaves the order as it was', () => {
    const { lifecycle, statuses } = tracker();
    apply(lifecycle, row(10, 0, '0'), 1);
    expect(apply(lifecycle, row(11, 5, '0'), 2).outcome).toBe('cancel-rejected');
    expect(statuses()).toEqual(['submitted', 'sequenced', 'posted']);
  });

  it('refuses a clientOrderId twice', () => {
    const { lifecycle } = tracker();
    expect(() =>
      lifecycle.submit({ strategyId: 'alpha', clientOrderId: 'c1', orderHash: OTHER, symbol: 'ETHP', side: 'buy', amount: '1' }, 0),
    ).toThrow(LifecycleError);
  });

  it('reuses the id of an ended order of an earlier tenure: the old order stays followed under an alias', () => {
    // Issue 12: a process that owned the strategy before, then took it over again from another process's
    // snapshot, restarts the id counter: "taking over r1 failed: clientOrderId "r1-1" is already used", for ever.
    const { lifecycle } = tracker();
    lifecycle.refused(HASH, 'RateLimit', 'too many requests', 1);
    const next = lifecycle.submit(
      { strategyId: 'alpha', clientOrderId: 'c1', orderHash: OTHER, symbol: 'ETHP', side: 'buy', amount: '1' },
      2,
    );
    expect(lifecycle.get('alpha', 'c1')).toBe(next);
    expect(lifecycle.byHash(HASH)?.clientOrderId).toBe(`c1@${HASH}`);
    // A reclaimed order takes its id back from whatever held it, live or not.
    const again = lifecycle.rename(HASH, 'c1');
    expect(again.clientOrderId).toBe('c1');
    expect(lifecycle.get('alpha', `c1@${OTHER}`)).toBe(next);
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
      reason: fc.constantFrom<OrderUpdateReason>(0, 1, 1, 1, 2, 3, 4, 5),
      filled: fc.constantFrom('0', '1', '2', '3'),
      ordinal: fc.integer({ min: 1, max: 40 }),
    });
    fc.assert(
      fc.property(fc.array(update, { maxLength: 30 }), fc.boolean(), (updates, receipt) => {
        const { lifecycle, events } = tracker();
        if (receipt) lifecycle.sequenced(HASH, 0);
        for (const u of updates) {
          apply(
            lifecycle,
            row(u.ordinal, u.reason, u.filled, {
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
        // (or a Liquidation it absorbed) ends the order once filled reaches the amount (3); Cancellation and
        // OrderRejection end it.
        const seen = new Set<number>();
        let most = 0;
        let ended = false;
        for (const u of updates) {
          if (seen.has(u.ordinal)) continue;
          seen.add(u.ordinal);
          if (u.reason === 5) continue;
          most = Math.max(most, Number(u.filled));
          if (u.reason === 3 || u.reason === 4 || ((u.reason === 1 || u.reason === 2) && most >= 3)) ended = true;
        }
        expect(terminal !== undefined).toBe(ended);
        if (terminal !== undefined) expect(TERMINAL_STATUSES).toContain(terminal.status);
      }),
      { seed: 31337, numRuns: 2_000 },
    );
  });
});
