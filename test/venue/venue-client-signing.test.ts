import { afterEach, describe, expect, it } from 'vitest';
import type { OrderIntent } from '../../src/domain/order.ts';
import { startSimVenue, type SimVenue } from './sim-venue.ts';

/*
 * The client's burst path end to end against the simulator: a seeded burst signed on the worker threads
 * sends the same requests, in the same order, with the same lifecycle for each order, as one signed
 * inline; close() stops the threads.
 */

const ACCOUNTS = Array.from({ length: 8 }, (_, i) => ({ id: `acct-${i}`, collateral: '100000' }));
const limit = (i: number): OrderIntent => ({
  symbol: 'ETHP',
  side: i % 2 === 0 ? 'buy' : 'sell',
  amount: '1',
  type: 'limit',
  price: i % 2 === 0 ? `${1990 - i}` : `${2010 + i}`,
});

const venues: SimVenue[] = [];
afterEach(async () => {
  for (const v of venues.splice(0)) await v.close();
});

/** Until the client's signing threads are up (they start at the first burst). */
async function threadsUp(v: SimVenue, count: number): Promise<void> {
  for (let turn = 0; v.client.signingStats.backends.length < count; turn += 1) {
    if (turn > 5_000) throw new Error(`signing threads: ${v.client.signingStats.backends.length} of ${count} started`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

function perOrder<T extends { clientOrderId: string }>(events: readonly T[]): Record<string, T[]> {
  const by: Record<string, T[]> = {};
  for (const e of events) (by[e.clientOrderId] ??= []).push({ ...e });
  return by;
}

async function run(threads: number) {
  const v = await startSimVenue({ accounts: ACCOUNTS, capture: true, client: { signingThreads: threads } });
  venues.push(v);
  for (const round of [0, 1]) {
    // One turn: every account's order submitted before any is signed.
    await Promise.all(v.accounts.map((a, i) => v.client.placeOrder(a.strategyId, `${a.strategyId}-${round}`, limit(i + round))));
    await v.idle();
    if (round === 0 && threads > 0) await threadsUp(v, threads);
  }
  const stats = v.client.signingStats;
  await v.client.close();
  return {
    requests: [...v.sent.requests],
    // Per order: across orders the feed and the receipts race on different sockets, signed inline or not.
    lifecycle: perOrder(v.events.lifecycle),
    stats,
    after: v.client.signingStats,
  };
}

describe('VenueClient signing bursts', () => {
  it('a burst on the threads sends what an inline burst sends, in the same order, with the same lifecycle per order', async () => {
    const inline = await run(0);
    const threaded = await run(2);
    expect(inline.requests.length).toBe(16);
    expect(threaded.requests).toEqual(inline.requests);
    expect(threaded.lifecycle).toEqual(inline.lifecycle);
    // Round 0 inline while the threads start; round 1: the first order of the turn inline, 7 on the threads.
    expect(threaded.stats).toMatchObject({ threaded: 7, threads: 2 });
    expect(inline.stats).toMatchObject({ inline: 16, threaded: 0, threads: 0 });
    expect(threaded.after.threads).toBe(0);
  });
});
