import type { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { dec } from '../../src/domain/decimal.ts';
import type { Simulator } from '../../src/sim/server.ts';
import type { OrderIntent } from '../../src/domain/order.ts';
import { VenueClient, type VenueClientEvents } from '../../src/venue/venue-client.ts';
import { clientBook, startHarness, venueBook, walletFor, type Harness, type HarnessOptions } from './venue-harness.ts';

/*
 * The venue client against the real simulator over real sockets, on a simulated clock. After every
 * scenario the client's ledger must equal the simulator's strategy exactly, with every fill counted once.
 */

const harnesses: Harness[] = [];
afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.close();
});

async function start(options: HarnessOptions = {}): Promise<Harness> {
  const h = await startHarness(options);
  harnesses.push(h);
  return h;
}

const MARKET_BUY = (amount: string): OrderIntent => ({ symbol: 'ETHP', side: 'buy', amount, type: 'market' });
const LIMIT = (side: 'buy' | 'sell', amount: string, price: string): OrderIntent => ({
  symbol: 'ETHP',
  side,
  amount,
  type: 'limit',
  price,
});

function nextEvent<K extends keyof VenueClientEvents>(
  client: VenueClient,
  name: K,
  match: (e: VenueClientEvents[K][0]) => boolean = () => true,
): Promise<VenueClientEvents[K][0]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${String(name)} event within 5 s`)), 5_000);
    // The untyped view of the same emitter: a listener generic in K does not narrow the typed one.
    const emitter: EventEmitter = client;
    const listener = (event: VenueClientEvents[K][0]): void => {
      if (!match(event)) return;
      clearTimeout(timer);
      emitter.off(name, listener);
      resolve(event);
    };
    emitter.on(name, listener);
  });
}

function statuses(h: Harness, clientOrderId: string): Array<[string, string]> {
  return h.lifecycle(clientOrderId).map((e) => [e.status, e.filled]);
}

/** The client's ledger equals the simulator's strategy, and every venue fill entered it exactly once. */
function expectReconciled(h: Harness, id = 'alpha'): void {
  const wallet = h.wallet(id);
  expect(clientBook(h.client, id)).toEqual(venueBook(h.sim, wallet));
  const venueFills = h.sim.exchange
    .orderUpdates(wallet.address, '0x2576ebd1')
    .filter((r) => r.reason === 1)
    .map((r) => `${r.orderHash.toLowerCase()}:${r.globalOrdinal}`)
    .sort();
  const ledgerFills = h.events.ledger.filter((u) => u.strategyId === id && u.event.kind === 'fill').map((u) => u.event.id);
  expect([...ledgerFills].sort()).toEqual(venueFills);
  expect(new Set(ledgerFills).size).toBe(ledgerFills.length);
  expect(h.events.drift).toEqual([]);
  expect(h.events.fault).toEqual([]);
}

describe('VenueClient bootstrap and feeds', () => {
  it('loads products, the strategy snapshot, marks and the book, subscribed to all four feeds', async () => {
    const h = await start();
    expect(h.client.products.ETHP).toEqual({
      symbol: 'ETHP',
      tickSize: '0.1',
      minOrderSize: '0.0001',
      maxOrderNotional: '1000000',
      maxTakerPriceDeviation: '0.02',
      maxLeverage: 3,
      mmr: '0.05',
    });
    expect(h.events.bootstrap.map((b) => [b.strategyId, b.ledger.collateral, b.openOrders.length])).toEqual([['alpha', '10000', 0]]);
    expect(h.events.mark.map((m) => [m.symbol, m.price])).toEqual([['ETHP', '2000']]);
    expect(h.client.book('ETHP')?.asks[0]).toEqual({ price: '2000.2', amount: '50' });
    expect(h.sim.connectionCount).toBe(1);
    await h.step(1_000, (sim) => sim.setMark('ETHP', '2001'));
    expect(h.events.mark.map((m) => [m.price, m.at - h.events.mark[0]!.at])).toEqual([
      ['2000', 0],
      ['2001', 1_000],
    ]);
    expect(h.client.book('ETHP')?.asks[0]?.price).toBe('2001.2');
    expect(h.client.stats).toMatchObject({ rejected: 0, duplicates: 0, gaps: 0 });
  });

  it('after a restart, bootstraps an existing position and adopts open orders by their hash', async () => {
    const first = await start({ seed: 3 });
    await first.client.placeOrder('alpha', 'b1', MARKET_BUY('2'));
    const resting = await first.client.placeOrder('alpha', 'r1', LIMIT('buy', '1', '1990'));
    await first.idle();
    await first.client.close();

    const second = new VenueClient({ restUrl: first.sim.url, wsUrl: first.sim.wsUrl, clock: first.clock, work: first.work, seed: 4 });
    const boot = nextEvent(second, 'bootstrap');
    await second.connect();
    await second.bootstrap([{ strategyId: 'alpha', signer: walletFor('alpha') }]);
    const notice = await boot;
    await first.idle();
    expect(notice.ledger.positions).toEqual({ ETHP: { size: '2', avgEntry: '2000.2' } });
    expect(notice.ledger.collateral).toBe(venueBook(first.sim, walletFor('alpha')).collateral);
    expect(notice.openOrders.map((o) => [o.clientOrderId, o.status, o.amount])).toEqual([[resting.orderHash, 'posted', '1']]);
    await second.cancelOrder('alpha', resting.orderHash);
    await first.idle();
    expect(second.order('alpha', resting.orderHash)?.status).toBe('cancelled');
    await second.close();
  });
});

describe('VenueClient orders', () => {
  it('place → fill: submitted then filled, one fill with its fee in the ledger', async () => {
    const h = await start();
    const placed = await h.client.placeOrder('alpha', 'o1', MARKET_BUY('1'));
    await h.idle();
    expect(placed.orderHash).toMatch(/^0x[0-9a-f]{50}$/);
    expect(statuses(h, 'o1')).toEqual([
      ['submitted', '0'],
      ['sequenced', '0'],
      ['filled', '1'],
    ]);
    // 1 at the best ask 2000.2; taker fee 1 × 2000.2 × 0.0005 = 1.0001; collateral 10000 − 1.0001
    expect(h.events.ledger.map((u) => [u.event.kind, (u.event as { price?: string }).price, (u.event as { fee?: string }).fee])).toEqual([
      ['fill', '2000.2', '1.0001'],
    ]);
    expect(h.client.ledger('alpha')?.collateral).toBe('9998.9999');
    expectReconciled(h);
  });

  it('partial fills: a limit order fills in parts, rests, then fills as the market moves through it', async () => {
    const h = await start({ sim: { liquidity: { depth: '1', levels: 2, spreadTicks: 2 } } });
    await h.client.placeOrder('alpha', 'p1', LIMIT('buy', '3', '2000.3'));
    await h.idle();
    // 1 at 2000.2 and 1 at 2000.3 (the only asks), 1 rests at 2000.3
    expect(statuses(h, 'p1')).toEqual([
      ['submitted', '0'],
      ['sequenced', '0'],
      ['partially-filled', '1'],
      ['partially-filled', '2'],
    ]);
    expect(h.client.order('alpha', 'p1')).toMatchObject({ status: 'partially-filled', remaining: '1' });
    await h.step(1_000, (sim) => sim.setMark('ETHP', '2000')); // the re-laid ask 2000.2 crosses our 2000.3 bid
    expect(statuses(h, 'p1').at(-1)).toEqual(['filled', '3']);
    expectReconciled(h);
  });

  it('partial fill of a market order: what cannot fill inside the band is cancelled', async () => {
    const h = await start({ sim: { liquidity: { depth: '1', levels: 2, spreadTicks: 2 } } });
    await h.client.placeOrder('alpha', 'm1', MARKET_BUY('5'));
    await h.idle();
    expect(statuses(h, 'm1')).toEqual([
      ['submitted', '0'],
      ['sequenced', '0'],
      ['partially-filled', '1'],
      ['partially-filled', '2'],
      ['cancelled', '2'],
    ]);
    expectReconciled(h);
  });

  it('cancel one order, cancel all, and a cancel of a finished order does nothing', async () => {
    const h = await start();
    await h.client.placeOrder('alpha', 'c1', LIMIT('buy', '1', '1990'));
    await h.client.placeOrder('alpha', 'c2', LIMIT('buy', '1', '1980'));
    await h.client.placeOrder('alpha', 'c3', LIMIT('sell', '1', '2100'));
    await h.idle();
    expect(statuses(h, 'c1')).toEqual([
      ['submitted', '0'],
      ['sequenced', '0'],
      ['posted', '0'],
    ]);
    await h.client.cancelOrder('alpha', 'c1');
    await h.idle();
    expect(statuses(h, 'c1').at(-1)).toEqual(['cancelled', '0']);
    await h.client.cancelOrder('alpha', 'c1');
    await h.client.cancelAll('alpha', 'ETHP');
    await h.idle();
    expect(statuses(h, 'c2').at(-1)).toEqual(['cancelled', '0']);
    expect(statuses(h, 'c3').at(-1)).toEqual(['cancelled', '0']);
    expect(h.lifecycle('c1').length).toBe(4);
    expect(h.client.liveOrders('alpha')).toEqual([]);
    expectReconciled(h);
  });
});

describe('VenueClient rejects, one per rule', () => {
  async function rejection(h: Harness, id: string, intent: OrderIntent): Promise<{ reason?: string; detail?: string }> {
    await h.client.placeOrder('alpha', id, intent);
    await h.idle();
    const last = h.lifecycle(id).at(-1)!;
    expect(last.status).toBe('rejected');
    return { ...(last.reason === undefined ? {} : { reason: last.reason }), ...(last.detail === undefined ? {} : { detail: last.detail }) };
  }

  it('tick size, minimum size and max notional are refused by the venue (422 SafetyFailure)', async () => {
    const h = await start();
    const tick = await rejection(h, 'tick', LIMIT('buy', '1', '1999.95'));
    expect(tick.reason).toBe('SafetyFailure');
    expect(tick.detail).toContain('tickSize');
    const size = await rejection(h, 'size', LIMIT('buy', '0.00005', '1990'));
    expect(size.reason).toBe('SafetyFailure');
    expect(size.detail).toContain('minOrderSize');
    const notional = await rejection(h, 'notional', MARKET_BUY('600')); // 600 × 2000 = 1,200,000 > 1,000,000
    expect(notional.reason).toBe('SafetyFailure');
    expect(notional.detail).toContain('maxOrderNotional');
    expect(statuses(h, 'tick')).toEqual([
      ['submitted', '0'],
      ['rejected', '0'],
    ]);
    expectReconciled(h);
  });

  it('price band, margin and liquidity are rejected by the matching engine (ORDER_UPDATE)', async () => {
    const h = await start();
    expect((await rejection(h, 'band', LIMIT('buy', '1', '2040.1'))).reason).toBe('MaxTakerPriceDeviation'); // band high 2000 × 1.02 = 2040
    expect((await rejection(h, 'margin', MARKET_BUY('20'))).reason).toBe('SolvencyGuard'); // 40,000 notional needs 13,333 > 10,000
    h.sim.injectFault({ kind: 'reject-next-order', trader: h.wallet('alpha').address, strategyId: 'main', reason: 'NoLiquidity' });
    expect((await rejection(h, 'liquidity', MARKET_BUY('1'))).reason).toBe('NoLiquidity');
    expectReconciled(h);
  });

  it('a used nonce is refused with 412 IllegalNonce (re-signing switched off), or re-signed with a fresh one', async () => {
    const h = await start({ seed: 5 });
    await h.client.placeOrder('alpha', 'first', LIMIT('buy', '1', '1990'));
    await h.idle();
    // A second process with the same seed repeats the first nonce.
    const twin = new VenueClient({ restUrl: h.sim.url, wsUrl: h.sim.wsUrl, clock: h.clock, work: h.work, seed: 5, nonceRetries: 0 });
    const events: Array<[string, string | undefined]> = [];
    twin.on('lifecycle', (e) => events.push([e.status, e.reason]));
    await twin.connect();
    await twin.bootstrap([{ strategyId: 'alpha', signer: walletFor('alpha') }]);
    await twin.placeOrder('alpha', 'again', LIMIT('buy', '1', '1989'));
    await h.idle();
    expect(events.slice(-2)).toEqual([
      ['submitted', undefined],
      ['rejected', 'IllegalNonce'],
    ]);
    await twin.close();

    const healed = new VenueClient({ restUrl: h.sim.url, wsUrl: h.sim.wsUrl, clock: h.clock, work: h.work, seed: 5 });
    await healed.connect();
    await healed.bootstrap([{ strategyId: 'alpha', signer: walletFor('alpha') }]);
    const placed = await healed.placeOrder('alpha', 'again', LIMIT('buy', '1', '1989'));
    await h.idle();
    expect(healed.order('alpha', 'again')?.status).toBe('posted');
    expect(h.sim.exchange.openOrders(walletFor('alpha').address, '0x2576ebd1').map((o) => o.orderHash)).toContain(placed.orderHash);
    await healed.close();
  });
});

describe('VenueClient liquidation and money movements', () => {
  it('a liquidation cancels working orders, closes the position at mark, and books the insurance top-up', async () => {
    const h = await start();
    await h.client.placeOrder('alpha', 'big', MARKET_BUY('14')); // 14 × 2000.2; needs 9,334 of 10,000
    await h.client.placeOrder('alpha', 'tp', LIMIT('sell', '1', '2100'));
    await h.idle();
    expect(statuses(h, 'big').at(-1)).toEqual(['filled', '14']);
    await h.step(1_000, (sim) => sim.setMark('ETHP', '1200'));
    // (1200 − 2000.2) × 14 = −11,202.8 against 9,985.9986: the insurance fund tops the balance up to 0.
    expect(h.events.liquidation.map((l) => [l.strategyId, l.symbol, l.price])).toEqual([['alpha', 'ETHP', '1200']]);
    expect(statuses(h, 'tp').at(-1)).toEqual(['cancelled', '0']);
    expect(h.events.ledger.map((u) => u.event.kind).slice(-2)).toEqual(['liquidation', 'fee']);
    expect(h.client.ledger('alpha')?.positions).toEqual({});
    expect(h.client.ledger('alpha')?.collateral).toBe('0');
    expectReconciled(h);
  });

  it('deposits and funding payments enter the ledger once', async () => {
    const h = await start({ sim: { funding: { rate: '0.0001', intervalMs: 60_000 } } });
    await h.client.placeOrder('alpha', 'f1', MARKET_BUY('2'));
    await h.idle();
    await h.step(60_000, (sim) => sim.setMark('ETHP', '2010'));
    await h.step(1_000, (sim) => sim.exchange.deposit(walletFor('alpha').address, 'main', '500'));
    // funding at 2010: 2 × 2010 × 0.0001 = 0.402, paid by the long
    const kinds = h.events.ledger.map((u) => [u.event.kind, (u.event as { amount?: string }).amount]);
    expect(kinds).toContainEqual(['funding', '-0.402']);
    expect(kinds).toContainEqual(['deposit', '500']);
    expectReconciled(h);
  });
});

describe('VenueClient recovery from injected faults', () => {
  it('drop-feed ORDER_UPDATE: the gap is repaired from REST, no fill lost', async () => {
    const h = await start();
    await h.step(1_000, (sim) => sim.injectFault({ kind: 'drop-feed', feed: 'ORDER_UPDATE', duration: 10_000 }));
    await h.client.placeOrder('alpha', 'd1', MARKET_BUY('1'));
    await h.idle();
    expect(h.events.repair.map((r) => r.phase)).toEqual(['start', 'done']);
    expect(h.events.repair[0]!.reason).toContain('gap');
    expect(statuses(h, 'd1')).toEqual([
      ['submitted', '0'],
      ['sequenced', '0'],
      ['filled', '1'],
    ]);
    expectReconciled(h);
  });

  it('a dropped update with no later frame to show the gap is found by tick() after unresolvedAfterMs', async () => {
    const h = await start({ client: { orderBook: false, unresolvedAfterMs: 3_000 } });
    h.sim.injectFault({ kind: 'drop-feed', feed: 'ORDER_UPDATE', duration: 1_000 });
    await h.client.placeOrder('alpha', 'q1', LIMIT('buy', '1', '1990')); // a Post row only: nothing else is sent
    await h.idle();
    expect(statuses(h, 'q1')).toEqual([
      ['submitted', '0'],
      ['sequenced', '0'],
    ]);
    await h.step(2_000);
    expect(statuses(h, 'q1').length).toBe(2);
    await h.step(1_000);
    expect(h.events.repair[0]?.reason).toBe('sequenced-without-update');
    expect(statuses(h, 'q1').at(-1)).toEqual(['posted', '0']);
    expectReconciled(h);
  });

  it('drop-feed MARK_PRICE: marks come back through repair, the feed is reported stale and then fresh', async () => {
    const h = await start({ client: { staleAfterMs: { MARK_PRICE: 5_000 } } });
    h.sim.injectFault({ kind: 'drop-feed', feed: 'MARK_PRICE', duration: 8_000 });
    for (let i = 1; i <= 10; i += 1) await h.step(1_000, (sim) => sim.setMark('ETHP', String(2000 + i)));
    expect(h.events['feed-status'].map((s) => [s.feed, s.stale, s.at - h.clock.now()])).toEqual([
      ['MARK_PRICE', true, -4_000], // no MARK_PRICE frame since t=0: stale at t=6 s (> 5 s)
      ['MARK_PRICE', false, -2_000], // marks flow again from t=8 s
    ]);
    expect(h.events.mark.at(-1)?.price).toBe('2010');
    // Every mark reached the client, live or through repair, in order and only once.
    expect(h.events.mark.map((m) => m.price)).toEqual(['2000', ...Array.from({ length: 10 }, (_, i) => String(2001 + i))]);
    expectReconciled(h);
  });

  it('duplicate-messages: duplicates are dropped, nothing counted twice', async () => {
    const h = await start();
    h.sim.injectFault({ kind: 'duplicate-messages', count: 20 });
    await h.client.placeOrder('alpha', 'u1', MARKET_BUY('1'));
    await h.client.placeOrder('alpha', 'u2', LIMIT('sell', '0.5', '2000'));
    await h.idle();
    expect(h.client.stats.duplicates).toBeGreaterThan(0);
    expect(h.events.repair).toEqual([]);
    expect(statuses(h, 'u1')).toEqual([
      ['submitted', '0'],
      ['sequenced', '0'],
      ['filled', '1'],
    ]);
    expectReconciled(h);
  });

  it('reorder-messages: the late frame is dropped, the gap repaired, the ledger exact', async () => {
    const h = await start();
    h.sim.injectFault({ kind: 'reorder-messages', count: 3 });
    await h.client.placeOrder('alpha', 'r1', MARKET_BUY('1'));
    await h.client.placeOrder('alpha', 'r2', MARKET_BUY('0.5'));
    await h.step(1_000, (sim) => sim.setMark('ETHP', '2001'));
    expect(h.client.stats.gaps).toBeGreaterThan(0);
    expect(h.events.repair.some((r) => r.phase === 'done')).toBe(true);
    expect(statuses(h, 'r1').at(-1)).toEqual(['filled', '1']);
    expect(statuses(h, 'r2').at(-1)).toEqual(['filled', '0.5']);
    expectReconciled(h);
  });

  it('disconnect: reconnects, resubscribes, and re-bootstraps what happened meanwhile', async () => {
    const h = await start();
    const repaired = nextEvent(h.client, 'repair', (r) => r.phase === 'done' && r.reason.includes('reconnected'));
    h.sim.injectFault({ kind: 'disconnect' });
    // While the feed is down the order still goes through REST; its updates can only come from repair.
    await h.client.placeOrder('alpha', 'x1', MARKET_BUY('1'));
    // The close frame is not counted as work by the simulator: wait for the client's repair itself.
    await repaired;
    await h.idle();
    expect(h.client.stats.reconnects).toBe(1);
    expect(h.sim.connectionCount).toBe(1);
    expect(statuses(h, 'x1').at(-1)).toEqual(['filled', '1']);
    await h.step(1_000, (sim) => sim.setMark('ETHP', '2002'));
    expect(h.events.mark.at(-1)?.price).toBe('2002');
    expectReconciled(h);
  });

  it('drop-acks: a 503 on the request is reconciled from REST; the order exists once', async () => {
    const h = await start();
    h.sim.injectFault({ kind: 'drop-acks', count: 1 });
    const placed = await h.client.placeOrder('alpha', 'a1', MARKET_BUY('1'));
    await h.idle();
    expect(statuses(h, 'a1')).toEqual([
      ['submitted', '0'],
      ['sequenced', '0'],
      ['filled', '1'],
    ]);
    const rows = h.sim.exchange.orderUpdates(h.wallet('alpha').address, '0x2576ebd1').filter((r) => r.orderHash === placed.orderHash);
    expect(rows.map((r) => r.reason)).toEqual([1]);
    expectReconciled(h);
  });

  it('drop-acks in stepped mode: the order stays submitted (never assumed) until the venue executes it', async () => {
    const h = await start({ sim: { mode: 'stepped' } });
    h.sim.injectFault({ kind: 'drop-acks', count: 1 });
    await h.client.placeOrder('alpha', 's1', MARKET_BUY('1'));
    await h.idle();
    expect(statuses(h, 's1')).toEqual([['submitted', '0']]);
    expect(h.client.order('alpha', 's1')?.unresolved).toBe(true);
    await h.step(1_000, (sim) => sim.flush());
    expect(statuses(h, 's1')).toEqual([
      ['submitted', '0'],
      ['sequenced', '0'],
      ['filled', '1'],
    ]);
    expectReconciled(h);
  });

  it('a request that never reached the venue is rejected NotSequenced only after a reconcile proves it', async () => {
    let dropNext = true;
    const lossyFetch: typeof fetch = async (input, init) => {
      if (dropNext && String(input).endsWith('/v2/request')) {
        dropNext = false;
        throw new TypeError('fetch failed');
      }
      return fetch(input, init);
    };
    const h = await start({ client: { fetch: lossyFetch, unresolvedAfterMs: 5_000 } });
    await h.client.placeOrder('alpha', 'n1', MARKET_BUY('1'));
    await h.idle();
    expect(statuses(h, 'n1')).toEqual([['submitted', '0']]);
    await h.step(4_000);
    expect(statuses(h, 'n1')).toEqual([['submitted', '0']]);
    await h.step(1_000);
    expect(h.lifecycle('n1').at(-1)).toMatchObject({ status: 'rejected', reason: 'NotSequenced' });
    expectReconciled(h);
  });

  it('delay-acks: the call settles on the update, and the clock can move while the receipt waits', async () => {
    const h = await start();
    h.sim.injectFault({ kind: 'delay-acks', duration: 2_000, count: 1 });
    const placed = await h.client.placeOrder('alpha', 'w1', LIMIT('buy', '1', '1990'));
    expect(placed.status).toBe('posted');
    await h.idle(); // quiescent although the receipt has not come: the runner may move the clock
    expect(statuses(h, 'w1')).toEqual([
      ['submitted', '0'],
      ['sequenced', '0'],
      ['posted', '0'],
    ]);
    await h.step(2_000); // the receipt arrives now and changes nothing
    expect(statuses(h, 'w1').length).toBe(3);
    expectReconciled(h);
  });

  it('delay-acks in stepped mode: the runner reaches quiescence, flushes, and the update settles the call', async () => {
    const h = await start({ sim: { mode: 'stepped' } });
    h.sim.injectFault({ kind: 'delay-acks', duration: 2_000, count: 1 });
    const placing = h.client.placeOrder('alpha', 's1', LIMIT('buy', '1', '1990'));
    const began = Date.now();
    await h.idle(); // the held receipt is parked: waiting for the clock cannot deadlock
    expect(Date.now() - began).toBeLessThan(1_000);
    expect(h.sim.flush()).toBe(1);
    await h.idle();
    expect((await placing).status).toBe('posted');
    await h.step(2_000); // the receipt arrives and changes nothing
    expect(statuses(h, 's1')).toEqual([
      ['submitted', '0'],
      ['sequenced', '0'],
      ['posted', '0'],
    ]);
    expectReconciled(h);
  });

  it('pause-feed on ORDER_UPDATE while STRATEGY_UPDATE flows: the late fill still settles the order (stepped mode)', async () => {
    const h = await start({ sim: { mode: 'stepped' } });
    await h.client.placeOrder('alpha', 'p0', MARKET_BUY('1'));
    await h.idle();
    h.sim.flush();
    await h.idle();
    h.sim.injectFault({ kind: 'pause-feed', feed: 'ORDER_UPDATE', duration: 6_000 });
    await h.step(1_000);
    const placing = h.client.placeOrder('alpha', 'p1', LIMIT('sell', '0.5', '1990'));
    await h.idle();
    h.sim.flush();
    await h.idle();
    await placing;
    for (let i = 0; i < 8; i += 1) await h.step(1_000);
    expect(h.lifecycle('p1').map((e) => e.status)).toEqual(['submitted', 'sequenced', 'filled']);
    // While the fill was held, STRATEGY_UPDATE showed the venue ahead of us (reported as drift); now they agree.
    expect(clientBook(h.client, 'alpha')).toEqual(venueBook(h.sim, h.wallet('alpha')));
  });

  it('pause-feed: held marks arrive late and in order, with no gap; the feed is stale meanwhile', async () => {
    const h = await start({ client: { staleAfterMs: { MARK_PRICE: 2_000 }, orderBook: false } });
    h.sim.injectFault({ kind: 'pause-feed', feed: 'MARK_PRICE', duration: 4_000 });
    for (let i = 1; i <= 5; i += 1) await h.step(1_000, (sim) => sim.setMark('ETHP', String(2000 + i)));
    expect(h.client.stats.gaps).toBe(0);
    expect(h.events.mark.map((m) => m.price)).toEqual(['2000', '2001', '2002', '2003', '2004', '2005']);
    expect(h.events['feed-status'].map((s) => s.stale)).toEqual([true, false]);
    expectReconciled(h);
  });
});

describe('VenueClient determinism', () => {
  async function run(): Promise<string> {
    const h = await start({ seed: 9 });
    h.sim.injectFault({ kind: 'reorder-messages', count: 2 });
    await h.client.placeOrder('alpha', 'q1', MARKET_BUY('1'));
    h.sim.injectFault({ kind: 'drop-acks', count: 1 });
    await h.client.placeOrder('alpha', 'q2', LIMIT('buy', '1', '1995'));
    await h.idle();
    await h.step(1_000, (sim: Simulator) => sim.setMark('ETHP', '1994'));
    const log = JSON.stringify({ lifecycle: h.events.lifecycle, ledger: h.events.ledger, marks: h.events.mark });
    expectReconciled(h);
    return log;
  }

  it('the same seed gives the same events, byte for byte', async () => {
    const a = await run();
    const b = await run();
    expect(a).toBe(b);
    expect(dec(JSON.parse(a).ledger.length).gt(0)).toBe(true);
  });
});

describe("VenueClient takeover of another process's orders", () => {
  it('reclaims an open order by hash, finds an ended one in the history, and knows an unknown one never reached the venue', async () => {
    const h = await start();
    const resting = await h.client.placeOrder('alpha', 'alpha-1', LIMIT('buy', '1', '1950'));
    const filled = await h.client.placeOrder('alpha', 'alpha-2', MARKET_BUY('0.5'));
    await h.idle();
    expect(h.client.order('alpha', 'alpha-2')?.status).toBe('filled');

    // A second process with the same key starts from REST, as after a takeover.
    const heir = new VenueClient({
      restUrl: h.sim.url,
      wsUrl: h.sim.wsUrl,
      clock: h.clock,
      work: h.work,
      seed: 2,
      sleep: () => new Promise((r) => setImmediate(r)),
    });
    await heir.connect();
    await heir.bootstrap([{ strategyId: 'alpha', signer: h.wallet('alpha') }]);
    await h.idle();

    const open = await heir.reclaimOrder('alpha', 'alpha-1', resting.orderHash);
    expect(open).toMatchObject({ clientOrderId: 'alpha-1', status: 'posted' });
    expect(heir.order('alpha', 'alpha-1')?.orderHash).toBe(resting.orderHash);
    const ended = await heir.reclaimOrder('alpha', 'alpha-2', filled.orderHash);
    expect(ended).toMatchObject({ clientOrderId: 'alpha-2', status: 'filled', filled: '0.5' });
    expect(await heir.reclaimOrder('alpha', 'alpha-3', `0x${'ab'.repeat(25)}`)).toBeNull();

    // The renamed order is followed: its cancellation reaches the heir under the inherited id.
    const seen: string[] = [];
    heir.on('lifecycle', (e) => void seen.push(`${e.clientOrderId}:${e.status}`));
    await heir.cancelOrder('alpha', 'alpha-1');
    await h.idle();
    expect(seen).toContain('alpha-1:cancelled');
    await heir.close();
  });
});
