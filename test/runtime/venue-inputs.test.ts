import { describe, expect, it } from 'vitest';
import type { AccountEvent } from '../../machines/account-context.ts';
import type { SupervisorEvent } from '../../machines/supervisor.ts';
import type { TimelineRecord } from '../../src/timeline/timeline-record.ts';
import { RunCounters } from '../../src/runtime/run-counters.ts';
import { VenueInputs } from '../../src/runtime/venue-inputs.ts';

function setup() {
  const handlers = new Map<string, (payload: never) => void>();
  const seen: string[] = [];
  const records: TimelineRecord[] = [];
  const sent: SupervisorEvent[] = [];
  const routed: Array<{ accountId: string; event: AccountEvent }> = [];
  const delivered: unknown[] = [];
  const counters = new RunCounters();
  const inputs = new VenueInputs({
    venue: {
      on: ((name: string, handler: (payload: never) => void) => {
        handlers.set(name, handler);
      }) as never,
    },
    outlet: {
      origin: 1_000,
      write: (record) => {
        records.push(record);
        seen.push(`record ${record.kind}`);
      },
    },
    send: (event) => {
      sent.push(event);
      seen.push(`send ${event.type}`);
    },
    route: (accountId, event) => {
      routed.push({ accountId, event });
      seen.push(`route ${event.type}`);
    },
    deliverMark: (mark) => {
      delivered.push(mark);
      seen.push(`deliver ${mark.symbol}`);
    },
    observeGroups: () => seen.push('observe groups'),
    wake: () => seen.push('wake'),
    counters,
    orders: {
      noteHash: (a, id, hash) => seen.push(`hash ${a} ${id} ${hash}`),
      forgetHash: (a, id) => seen.push(`forget ${a} ${id}`),
      submitted: (a) => seen.push(`submitted ${a}`),
    },
  });
  inputs.attach();
  const emit = (name: string, payload: unknown) => handlers.get(name)!(payload as never);
  return { inputs, emit, seen, records, sent, routed, counters, delivered };
}

describe('venue inputs', () => {
  it('delivers a mark once, after its record, then measures the groups', () => {
    const { emit, seen, records, delivered } = setup();
    emit('mark', { symbol: 'ETHP', price: '2000', globalOrdinal: 3, at: 1_500 });
    expect(seen).toEqual(['record mark', 'deliver ETHP', 'observe groups']);
    expect(records).toEqual([{ t: 500, kind: 'mark', symbol: 'ETHP', price: '2000' }]);
    expect(delivered).toEqual([{ symbol: 'ETHP', price: '2000', globalOrdinal: 3, at: 1_500 }]);
  });

  it('keeps a submitted order hash for takeovers without an order-update record', () => {
    const { emit, seen } = setup();
    emit('lifecycle', { strategyId: 'a', clientOrderId: 'a-1', orderHash: '0xab', status: 'submitted', filled: '0', at: 1_000 });
    expect(seen).toEqual(['wake', 'hash a a-1 0xab', 'submitted a']);
  });

  it('ends a terminal order, writes its update and routes it to the account', () => {
    const { inputs, emit, seen, records, routed, counters } = setup();
    counters.orderSent('a', 'a-1', 'reduce');
    emit('lifecycle', { strategyId: 'a', clientOrderId: 'a-1', status: 'rejected', filled: '0', reason: 'NoLiquidity', at: 2_000 });
    expect(seen).toEqual(['wake', 'forget a a-1', 'record order-update', 'route ORDER_UPDATE']);
    expect(records[0]).toEqual({
      t: 1_000,
      kind: 'order-update',
      account: 'a',
      orderId: 'a-1',
      status: 'rejected',
      filled: '0',
      reason: 'NoLiquidity',
    });
    expect(routed[0]).toEqual({
      accountId: 'a',
      event: { type: 'ORDER_UPDATE', clientOrderId: 'a-1', status: 'rejected', filled: '0', reason: 'NoLiquidity', at: 2_000 },
    });
    counters.orderSent('a', 'a-2', 'reduce');
    expect(counters.summary(0, { a: 'trading' }).maxReductionsInFlight.a).toBe(1); // a-1 no longer in flight
    inputs.onLifecycle({ strategyId: 'a', clientOrderId: 'a-2', status: 'partially-filled', filled: '0.5', at: 2_000 });
    expect(seen.slice(-2)).toEqual(['record order-update', 'route ORDER_UPDATE']); // not terminal: nothing forgotten
  });

  it('reports the feed stale while any feed is, and counts liquidations', () => {
    const { emit, sent, records, counters } = setup();
    emit('feed-status', { feed: 'marks', stale: true, at: 1 });
    emit('feed-status', { feed: 'orders', stale: true, at: 2 });
    emit('feed-status', { feed: 'marks', stale: false, at: 3 });
    emit('feed-status', { feed: 'orders', stale: false, at: 4 });
    expect(sent.map((e) => (e.type === 'BROADCAST' && e.event.type === 'FEED_STATUS' ? e.event.stale : null))).toEqual([
      true,
      true,
      true,
      false,
    ]);
    emit('liquidation', { strategyId: 'b', symbol: 'ETHP', price: '1500', at: 1_250 });
    expect(records).toEqual([{ t: 250, kind: 'liquidation', account: 'b', symbol: 'ETHP', price: '1500' }]);
    expect(counters.summary(0, {}).liquidated).toEqual(['b']);
  });

  it('passes foreign-order notices to its listeners until they unsubscribe', () => {
    const { inputs, emit } = setup();
    const notices: unknown[] = [];
    const off = inputs.onForeignOrder((n) => notices.push(n));
    emit('foreign-order', { strategyId: 'a' });
    off();
    emit('foreign-order', { strategyId: 'b' });
    expect(notices).toEqual([{ strategyId: 'a' }]);
  });
});
