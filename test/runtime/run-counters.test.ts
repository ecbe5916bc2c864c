import { describe, expect, it } from 'vitest';
import { RunCounters } from '../../src/runtime/run-counters.ts';

describe('run counters', () => {
  it('counts orders per purpose, blocked entries, liquidations and the most reductions in flight at once', () => {
    const counters = new RunCounters();
    counters.orderSent('b', 'b-1', 'entry');
    counters.orderSent('b', 'b-2', 'reduce');
    counters.orderSent('b', 'b-3', 'exit'); // two reducing orders in flight
    counters.orderEnded('b', 'b-2');
    counters.orderSent('b', 'b-4', 'reduce'); // b-3 and b-4: still two at most
    counters.entryBlocked('a');
    counters.entryBlocked('a');
    counters.liquidated('b');
    counters.liquidated('a');
    expect(counters.summary(42, { b: 'trading', a: 'de-risking' })).toEqual({
      t: 42,
      kind: 'summary',
      liquidated: ['a', 'b'],
      finalStates: { b: 'trading', a: 'de-risking' },
      orders: { b: { entry: 1, reduce: 2, exit: 1 }, a: {} },
      maxReductionsInFlight: { b: 2, a: 0 },
      blockedEntries: { b: 0, a: 2 },
    });
  });

  it('writes its per-account maps in the order of the final states', () => {
    const counters = new RunCounters();
    counters.entryBlocked('x');
    const summary = counters.summary(0, { y: 'trading', x: 'trading' });
    expect(JSON.stringify(summary.blockedEntries)).toBe('{"y":0,"x":1}');
  });

  it('hands out a copy of the counts, not its own', () => {
    const counters = new RunCounters();
    counters.orderSent('a', 'a-1', 'entry');
    const first = counters.summary(0, { a: 'trading' });
    counters.orderSent('a', 'a-2', 'entry');
    expect(first.orders.a).toEqual({ entry: 1 });
  });
});
