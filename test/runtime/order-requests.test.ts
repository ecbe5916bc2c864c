import { describe, expect, it } from 'vitest';
import type { AccountContext } from '../../machines/account-context.ts';
import { OrderRequests } from '../../src/runtime/order-requests.ts';
import { RunCounters } from '../../src/runtime/run-counters.ts';
import type { LifecycleUpdate } from '../../src/runtime/venue-inputs.ts';
import type { TimelineRecord } from '../../src/timeline/timeline-record.ts';

const context = { settings: { accountId: 'a' }, mode: 'de-risking', metrics: { marginBuffer: '0.05' } } as unknown as AccountContext;
const placed = (clientOrderId: string) =>
  ({ clientOrderId, purpose: 'reduce', intent: { symbol: 'ETHP', side: 'sell', amount: '1.5', type: 'market' } }) as never;

function setup(placeOrder: (account: string, id: string) => Promise<unknown>) {
  const seen: string[] = [];
  const records: TimelineRecord[] = [];
  const failures: LifecycleUpdate[] = [];
  let work = 0;
  const counters = new RunCounters();
  const requests = new OrderRequests({
    venue: {
      placeOrder: (account, id) => {
        seen.push(`place ${id}`);
        return placeOrder(account, id) as never;
      },
      cancelOrder: async (_account, id) => void seen.push(`cancel ${id}`),
    },
    outlet: {
      clock: { now: () => 1_200 },
      origin: 1_000,
      write: (r) => {
        records.push(r);
        seen.push(`record ${r.kind}`);
      },
      report: () => {},
    },
    work: { begin: () => void (work += 1), end: () => void (work -= 1) },
    serializeRequests: true,
    counters,
    noteState: (id, to) => seen.push(`state ${id} ${to}`),
    onFailure: (update) => failures.push(update),
  });
  return { requests, seen, records, failures, counters, work: () => work };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('order requests', () => {
  it('notes the state, writes the order record, counts it and then sends it', async () => {
    const { requests, seen, records, counters, work } = setup(async () => ({}));
    requests.sendOrder(placed('a-1'), context);
    expect(records[0]).toEqual({
      t: 200,
      kind: 'order',
      account: 'a',
      orderId: 'a-1',
      symbol: 'ETHP',
      side: 'sell',
      amount: '1.5',
      price: '0', // a market order has no price
      type: 'market',
      purpose: 'reduce',
    });
    expect(work()).toBe(1); // counted until the venue client has taken it
    await settle();
    expect(work()).toBe(0);
    expect(seen).toEqual(['state a de-risking', 'record order', 'place a-1']);
    expect(counters.summary(0, { a: 'trading' }).orders.a).toEqual({ reduce: 1 });
  });

  it('sends serialized requests one at a time, in the order asked', async () => {
    const { requests, seen } = setup(async () => ({}));
    requests.sendOrder(placed('a-1'), context);
    requests.cancelOrder({ clientOrderId: 'a-0', reason: 'replaced' }, context);
    await settle();
    expect(seen.filter((s) => !s.startsWith('state') && !s.startsWith('record'))).toEqual(['place a-1', 'cancel a-0']);
  });

  it('turns a request that fails or throws into a rejection the account sees', async () => {
    const { requests, failures, work } = setup((_account, id) => {
      if (id === 'a-1') throw new TypeError('bad');
      return Promise.reject(Object.assign(new Error('down'), { name: '' }));
    });
    requests.sendOrder(placed('a-1'), context);
    requests.sendOrder(placed('a-2'), context);
    await settle();
    await settle();
    expect(work()).toBe(0);
    expect(failures).toEqual([
      { strategyId: 'a', clientOrderId: 'a-1', status: 'rejected', filled: '0', reason: 'TypeError', at: 1_200 },
      { strategyId: 'a', clientOrderId: 'a-2', status: 'rejected', filled: '0', reason: 'RequestFailed', at: 1_200 },
    ]);
  });
});
