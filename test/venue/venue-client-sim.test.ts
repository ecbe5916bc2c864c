import type { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { strategyIdHash as hashStrategyId } from '../../src/derivadex/crypto/bytes32.ts';
import { FEEDS, PARAMS_SCHEMAS, controlMessageSchema, type Feed } from '../../src/derivadex/feed-messages.ts';
import { CONTENT_KEYS, signedRequestSchema } from '../../src/derivadex/signed-requests.ts';
import { ORDER_UPDATE_REASON } from '../../src/derivadex/codes.ts';
import { traderAddress21 } from '../../src/derivadex/trader-address.ts';
import type { OrderIntent } from '../../src/domain/order.ts';
import type { Simulator } from '../../src/sim/server.ts';
import type { VenueClient, VenueClientEvents } from '../../src/venue/venue-client.ts';
import { clientBook, record, startSimVenue, venueBook, venueFillIds, walletFor, type SimVenue, type SimVenueOptions } from './sim-venue.ts';

/*
 * The venue client against the REAL simulator (src/sim/server.ts) over real sockets, on a simulated
 * clock: both sides speak the real DerivaDEX shapes of src/derivadex/. After every scenario the client's
 * ledger must equal the simulator's strategy exactly, with every fill counted once. The client's unit
 * tests against a scripted fake venue are test/venue/venue-client.test.ts.
 */

const venues: SimVenue[] = [];
afterEach(async () => {
  for (const h of venues.splice(0)) await h.close();
});

async function start(options: SimVenueOptions = {}): Promise<SimVenue> {
  const h = await startSimVenue(options);
  venues.push(h);
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

const MAIN_HASH = hashStrategyId('main').toLowerCase();

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

function statuses(h: SimVenue, clientOrderId: string): Array<[string, string]> {
  return h.lifecycle(clientOrderId).map((e) => [e.status, e.filled]);
}

/** The client's ledger equals the simulator's strategy, and every venue fill entered it exactly once. */
function expectReconciled(h: SimVenue, id = 'alpha'): void {
  const wallet = h.wallet(id);
  expect(clientBook(h.client, id)).toEqual(venueBook(h.sim, wallet));
  // Fill ids are `order:<globalOrdinal>` of the ORDER_UPDATE Trade row (docs/venue-client.md, Ledger).
  const ledgerFills = h.events.ledger.filter((u) => u.strategyId === id && u.event.kind === 'fill').map((u) => u.event.id);
  expect([...ledgerFills].sort()).toEqual(venueFillIds(h.sim, wallet));
  expect(new Set(ledgerFills).size).toBe(ledgerFills.length);
  // `seq` is the strategy's application order (docs/venue-client.md, Ledger): 0, 1, 2, … with no hole.
  const seqs = h.events.ledger.filter((u) => u.strategyId === id).map((u) => u.event.seq);
  expect(seqs).toEqual(seqs.map((_, i) => i));
  expect(h.events.drift).toEqual([]);
  expect(h.events.fault).toEqual([]);
  expect(h.events['frame-rejected']).toEqual([]);
  expect(h.events.repair.filter((r) => r.phase === 'failed')).toEqual([]);
}

/** What a ledger event carries beyond its kind and id, for the assertions below. */
function ledgerField(event: object, field: 'price' | 'fee' | 'amount'): string | undefined {
  const value: unknown = (event as Record<string, unknown>)[field];
  return typeof value === 'string' ? value : undefined;
}

describe('VenueClient × simulator: bootstrap and feeds', () => {
  it('loads products, the strategy snapshot, marks and the book, subscribed to all four feeds', async () => {
    const h = await start();
    // exchange_info carries no margin parameters (§10.12): without productMargins the client takes
    // DerivaDEX's default 3× and mmr 0.15 / 3, which is what the simulator's ETHP has.
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
    // BTCP is served too but has no mark yet.
    expect(h.events.mark.map((m) => [m.symbol, m.price])).toEqual([['ETHP', '2000']]);
    expect(h.client.book('ETHP')?.asks[0]).toEqual({ price: '2000.2', amount: '50' });
    expect(h.sim.connectionCount).toBe(1);
    await h.step(1_000, (sim) => sim.setMark('ETHP', '2001'));
    expect(h.events.mark.map((m) => [m.price, m.at - h.events.mark[0]!.at])).toEqual([
      ['2000', 0],
      ['2001', 1_000],
    ]);
    expect(h.client.book('ETHP')?.asks[0]?.price).toBe('2001.2');
    expect(h.client.stats).toMatchObject({ rejected: 0, duplicates: 0, gaps: 0, badInput: 0 });
    expectReconciled(h);
  });

  it('after a restart, bootstraps an existing position and adopts open orders by their hash', async () => {
    const first = await start({ seed: 3 });
    await first.client.placeOrder('alpha', 'b1', MARKET_BUY('2'));
    const resting = await first.client.placeOrder('alpha', 'r1', LIMIT('buy', '1', '1990'));
    await first.idle();
    await first.client.close();

    const second = first.newClient({ seed: 4 });
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
    expect(first.sim.exchange.orderBook({ trader: walletFor('alpha').address, strategyIdHash: MAIN_HASH })).toEqual([]);
  });
});

describe('VenueClient × simulator: orders', () => {
  it('place → fill: submitted, sequenced, filled, one fill with its fee in the ledger', async () => {
    const h = await start();
    const placed = await h.client.placeOrder('alpha', 'o1', MARKET_BUY('1'));
    await h.idle();
    // 25-byte order hash (EIP-712 digest truncated, SDK `get_order_hash`).
    expect(placed.orderHash).toMatch(/^0x[0-9a-f]{50}$/);
    expect(statuses(h, 'o1')).toEqual([
      ['submitted', '0'],
      ['sequenced', '0'],
      ['filled', '1'],
    ]);
    // 1 at the best ask 2000.2; taker fee 1 × 2000.2 × 0.0005 = 1.0001; collateral 10000 − 1.0001
    expect(h.events.ledger.map((u) => [u.event.kind, ledgerField(u.event, 'price'), ledgerField(u.event, 'fee')])).toEqual([
      ['fill', '2000.2', '1.0001'],
    ]);
    expect(h.events.ledger[0]?.event.id).toMatch(/^order:\d+$/);
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
    const requestsBefore = h.sim.exchange.orderUpdates({ trader: h.wallet('alpha').address }).value.length;
    await h.client.cancelOrder('alpha', 'c1'); // terminal: nothing is sent
    await h.idle();
    expect(h.sim.exchange.orderUpdates({ trader: h.wallet('alpha').address }).value.length).toBe(requestsBefore);
    await h.client.cancelAll('alpha', 'ETHP');
    await h.idle();
    expect(statuses(h, 'c2').at(-1)).toEqual(['cancelled', '0']);
    expect(statuses(h, 'c3').at(-1)).toEqual(['cancelled', '0']);
    expect(h.lifecycle('c1').length).toBe(4);
    expect(h.client.liveOrders('alpha')).toEqual([]);
    expect(h.events['cancel-rejected']).toEqual([]);
    expectReconciled(h);
  });
});

describe('VenueClient × simulator: refusals and rejections, one per rule', () => {
  async function rejection(h: SimVenue, id: string, intent: OrderIntent): Promise<{ reason?: string; detail?: string }> {
    await h.client.placeOrder('alpha', id, intent);
    await h.idle();
    const last = h.lifecycle(id).at(-1)!;
    expect(last.status).toBe('rejected');
    return { ...(last.reason === undefined ? {} : { reason: last.reason }), ...(last.detail === undefined ? {} : { detail: last.detail }) };
  }

  it('tick size, minimum size and max notional are refused by the venue (SafetyFailure receipts with the variant name)', async () => {
    const h = await start();
    // Changed: the reason is now the operator's SafetyFailure variant (§10.9), not "SafetyFailure" + a field name.
    const tick = await rejection(h, 'tick', LIMIT('buy', '1', '1999.95'));
    expect(tick.reason).toBe('PriceNotMultipleOfTickSize');
    expect(tick.detail).toMatch(/tick/i);
    const size = await rejection(h, 'size', LIMIT('buy', '0.00005', '1990'));
    expect(size.reason).toBe('OrderAmountNotMultipleOfMinOrderSize');
    const notional = await rejection(h, 'notional', MARKET_BUY('600')); // 600 × 2000 = 1,200,000 > 1,000,000
    expect(notional.reason).toBe('MaxOrderNotionalBreached');
    // Refused requests are never sequenced: no `sequenced` in between.
    expect(statuses(h, 'tick')).toEqual([
      ['submitted', '0'],
      ['rejected', '0'],
    ]);
    expect(h.sim.exchange.orderUpdates({ trader: h.wallet('alpha').address }).value).toEqual([]);
    expectReconciled(h);
  });

  it('price band, margin and liquidity are rejected by the matching engine (ORDER_UPDATE OrderRejection)', async () => {
    const h = await start();
    expect((await rejection(h, 'band', LIMIT('buy', '1', '2040.1'))).reason).toBe('MaxTakerPriceDeviation'); // band high 2000 × 1.02 = 2040
    expect((await rejection(h, 'margin', MARKET_BUY('20'))).reason).toBe('SolvencyGuard'); // 40,000 notional needs 13,333 > 10,000
    h.sim.injectFault({ kind: 'reject-next-order', trader: h.wallet('alpha').address, strategyId: 'main', reason: 'NoLiquidity' });
    expect((await rejection(h, 'liquidity', MARKET_BUY('1'))).reason).toBe('NoLiquidity');
    // Executed, then rejected: each was sequenced first.
    expect(statuses(h, 'band')).toEqual([
      ['submitted', '0'],
      ['sequenced', '0'],
      ['rejected', '0'],
    ]);
    const rows = h.sim.exchange.orderUpdates({ trader: h.wallet('alpha').address }).value;
    expect(rows.map((r) => r.reason)).toEqual([
      ORDER_UPDATE_REASON.OrderRejection,
      ORDER_UPDATE_REASON.OrderRejection,
      ORDER_UPDATE_REASON.OrderRejection,
    ]);
    expectReconciled(h);
  });

  it('a used nonce is refused with 412 IllegalNonce (re-signing switched off), or re-signed with a fresh one', async () => {
    const h = await start({ seed: 5 });
    await h.client.placeOrder('alpha', 'first', LIMIT('buy', '1', '1990'));
    await h.idle();
    // A second process with the same seed repeats the first nonce (one nonce sequence per seed, trader and strategy).
    const twin = h.newClient({ seed: 5, nonceRetries: 0 });
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

    const healed = h.newClient({ seed: 5 });
    await healed.connect();
    await healed.bootstrap([{ strategyId: 'alpha', signer: walletFor('alpha') }]);
    const placed = await healed.placeOrder('alpha', 'again', LIMIT('buy', '1', '1989'));
    await h.idle();
    expect(healed.order('alpha', 'again')?.status).toBe('posted');
    // Re-signed with a fresh nonce: a new order hash, the one on the book.
    const open = h.sim.exchange.orderBook({ trader: walletFor('alpha').address, strategyIdHash: MAIN_HASH }).map((o) => o.orderHash);
    expect(open).toContain(placed.orderHash);
    expect(open).toHaveLength(2);
    await healed.close();
    expectReconciled(h);
  });
});

describe('VenueClient × simulator: liquidation and money movements', () => {
  it('a liquidation cancels working orders, closes the position at mark, and books the insurance top-up', async () => {
    const h = await start();
    await h.client.placeOrder('alpha', 'big', MARKET_BUY('14')); // 14 × 2000.2; needs 9,334 of 10,000
    await h.client.placeOrder('alpha', 'tp', LIMIT('sell', '1', '2100'));
    await h.idle();
    expect(statuses(h, 'big').at(-1)).toEqual(['filled', '14']);
    await h.step(1_000, (sim) => sim.setMark('ETHP', '1200'));
    // (1200 − 2000.2) × 14 = −11,202.8 against 9,985.9986: the insurance fund tops the balance up to 0.
    expect(h.events.liquidation.map((l) => [l.strategyId, l.symbol, l.price])).toEqual([['alpha', 'ETHP', '1200']]);
    // Changed: the lifecycle has no `liquidated` status any more; the venue cancels working orders.
    expect(statuses(h, 'tp').at(-1)).toEqual(['cancelled', '0']);
    expect(h.events.lifecycle.some((e) => e.status === 'liquidated')).toBe(false);
    const tail = h.events.ledger.slice(-2).map((u) => [u.event.kind, u.event.id.replace(/\d+$/, 'G')]);
    expect(tail).toEqual([
      ['liquidation', 'order:G'],
      ['fee', 'insurance:G'],
    ]);
    expect(h.client.ledger('alpha')?.positions).toEqual({});
    expect(h.client.ledger('alpha')?.collateral).toBe('0');
    expect(h.client.liveOrders('alpha')).toEqual([]);
    expectReconciled(h);
  });

  it('deposits and funding payments enter the ledger once', async () => {
    const h = await start({ sim: { funding: { rate: '0.0001', intervalMs: 60_000 } } });
    await h.client.placeOrder('alpha', 'f1', MARKET_BUY('2'));
    await h.idle();
    await h.step(60_000, (sim) => sim.setMark('ETHP', '2010'));
    await h.step(1_000, (sim) => sim.exchange.deposit(walletFor('alpha').address, 'main', '500'));
    // funding at 2010: 2 × 2010 × 0.0001 = 0.402, paid by the long
    const kinds = h.events.ledger.map((u) => [u.event.kind, ledgerField(u.event, 'amount')]);
    expect(kinds).toContainEqual(['funding', '-0.402']);
    expect(kinds).toContainEqual(['deposit', '500']);
    expect(kinds.filter(([k]) => k === 'funding' || k === 'deposit')).toHaveLength(2);
    for (const u of h.events.ledger.filter((x) => x.event.kind === 'funding' || x.event.kind === 'deposit')) {
      expect(u.event.id).toMatch(/^strategy:\d+$/);
    }
    expectReconciled(h);
  });
});

describe('VenueClient × simulator: recovery from injected faults', () => {
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
    // Every mark reached the client, live or through repair (the book frame after each shows the gap), in order and once.
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
    // The close frame is not counted as work by the simulator (docs/venue-client.md, Work counting): wait for the repair itself.
    await repaired;
    await h.idle();
    expect(h.client.stats.reconnects).toBe(1);
    expect(h.sim.connectionCount).toBe(1);
    expect(statuses(h, 'x1').at(-1)).toEqual(['filled', '1']);
    await h.step(1_000, (sim) => sim.setMark('ETHP', '2002'));
    expect(h.events.mark.at(-1)?.price).toBe('2002');
    expect(h.client.book('ETHP')?.asks[0]?.price).toBe('2002.2');
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
    const rows = h.sim.exchange.orderUpdates({ orderHashes: [placed.orderHash] }).value;
    expect(rows.map((r) => r.reason)).toEqual([ORDER_UPDATE_REASON.Trade]);
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
    // Behaviour, not time: the held receipt is parked, so idle() settles at all (waiting for the clock cannot
    // deadlock); a deadlock is the vitest timeout's. Nothing ran yet: the one pending request runs on flush().
    await h.idle();
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
    // While the fill was held, STRATEGY_UPDATE showed the venue ahead of us (reported as drift); now they agree, every fill once.
    expect(clientBook(h.client, 'alpha')).toEqual(venueBook(h.sim, h.wallet('alpha')));
    // The drift was reported while the fill was held (the venue's rows ahead of ours), never after.
    expect(h.events.drift.map((d) => [d.field, d.venue, d.local])).toEqual([
      ['position', '0.5', '1'],
      ['collateral', '9998.29995', '9998.9999'],
    ]);
    expect(h.events.repair.at(-1)?.phase).toBe('done');
    const ledgerFills = h.events.ledger.filter((u) => u.event.kind === 'fill').map((u) => u.event.id);
    expect([...ledgerFills].sort()).toEqual(venueFillIds(h.sim, h.wallet('alpha')));
    expect(h.events.fault).toEqual([]);
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

describe('VenueClient × simulator: determinism', () => {
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
    const parsed: { ledger: unknown[]; lifecycle: Array<{ status: string }> } = JSON.parse(a);
    expect(parsed.ledger.length).toBeGreaterThan(0);
    expect(parsed.lifecycle.map((e) => e.status)).toContain('filled');
  });
});

describe("VenueClient × simulator: takeover of another process's orders", () => {
  it('reclaims an open order by hash, finds an ended one in the history, and knows an unknown one never reached the venue', async () => {
    const h = await start();
    const resting = await h.client.placeOrder('alpha', 'alpha-1', LIMIT('buy', '1', '1950'));
    const filled = await h.client.placeOrder('alpha', 'alpha-2', MARKET_BUY('0.5'));
    await h.idle();
    expect(h.client.order('alpha', 'alpha-2')?.status).toBe('filled');

    // A second process with the same key starts from REST, as after a takeover.
    const heir = h.newClient({ seed: 2 });
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
    expect(h.client.order('alpha', 'alpha-1')?.status).toBe('cancelled');
    expectReconciled(h);
  });
});

describe('VenueClient × simulator: what the client sends', () => {
  it('every control message and every signed request of a session parses with the src/derivadex schemas, in the documented key order', async () => {
    const h = await start({
      capture: true,
      accounts: [
        { id: 'alpha', collateral: '10000' },
        { id: 'beta', collateral: '5000' },
      ],
    });
    // A session that exercises every kind of message: the bootstrap SUBSCRIBE, orders of both types,
    // a cancel, a cancel-all, a gap (the book is UNSUBSCRIBEd and SUBSCRIBEd again), a reconnect
    // (every feed subscribed again) and a re-signed request after 412.
    await h.client.placeOrder('alpha', 's1', LIMIT('buy', '1', '1990'));
    await h.client.placeOrder('alpha', 's2', MARKET_BUY('0.5'));
    await h.client.placeOrder('beta', 's3', LIMIT('sell', '1', '2100'));
    await h.client.cancelOrder('alpha', 's1');
    await h.client.cancelAll('beta', 'ETHP');
    await h.idle();
    await h.step(1_000, (sim) => sim.injectFault({ kind: 'drop-feed', feed: 'ORDER_BOOK_L2', duration: 1_000 }));
    await h.step(500, (sim) => sim.setMark('ETHP', '2001')); // the book frame is dropped…
    await h.step(1_000, (sim) => sim.setMark('ETHP', '2002')); // …and the next frames show the gap
    const repaired = nextEvent(h.client, 'repair', (r) => r.phase === 'done' && r.reason.includes('reconnected'));
    h.sim.injectFault({ kind: 'disconnect' });
    await repaired;
    await h.idle();
    // Another process on the same seed draws alpha's used nonces first (s1, s2 and the cancel used three):
    // 412 three times, re-signed each time with the next nonce.
    const twin = h.newClient({ nonceRetries: 3 });
    const twinEvents = record(twin);
    await twin.connect();
    await twin.bootstrap([{ strategyId: 'alpha', signer: walletFor('alpha') }]);
    await twin.placeOrder('alpha', 't1', LIMIT('buy', '1', '1985'));
    await h.idle();
    expect(twinEvents.lifecycle.filter((e) => e.clientOrderId === 't1').at(-1)?.status).toBe('posted');

    // ── WebSocket: every message is a control message, every feed's params parse (and carry nothing else) ──
    expect(h.sent.ws.length).toBeGreaterThan(0);
    const actions: string[] = [];
    const subscribedFeeds: Feed[][] = [];
    for (const { message } of h.sent.ws) {
      const parsed = controlMessageSchema.safeParse(message);
      expect(parsed.success, JSON.stringify(message)).toBe(true);
      if (!parsed.success) continue;
      const control = parsed.data;
      actions.push(control.action);
      expect(control.nonce.length).toBeGreaterThan(0);
      if (control.action === 'UNSUBSCRIBE') {
        for (const feed of control.feeds) expect(FEEDS as readonly string[]).toContain(feed);
        continue;
      }
      const feeds: Feed[] = [];
      for (const entry of control.feeds) {
        expect(FEEDS as readonly string[]).toContain(entry.feed);
        const feed = entry.feed as Feed;
        feeds.push(feed);
        const params = PARAMS_SCHEMAS[feed].strict().safeParse(entry.params ?? {});
        expect(params.success, `${feed} ${JSON.stringify(entry.params)}`).toBe(true);
      }
      subscribedFeeds.push(feeds);
    }
    expect(actions).toContain('UNSUBSCRIBE');
    // The first SUBSCRIBE names the four feeds at once; the user feeds carry every strategy's filter (21-byte trader).
    expect([...subscribedFeeds[0]!].sort()).toEqual([...FEEDS].sort());
    const first = controlMessageSchema.parse(h.sent.ws[0]!.message);
    const orderFeed = first.action === 'SUBSCRIBE' ? first.feeds.find((f) => f.feed === 'ORDER_UPDATE') : undefined;
    expect(orderFeed?.params).toEqual({
      orderFilters: [
        { traderAddress: traderAddress21(walletFor('alpha').address), strategyIdHash: MAIN_HASH },
        { traderAddress: traderAddress21(walletFor('beta').address), strategyIdHash: MAIN_HASH },
      ],
    });
    // Acks are matched by nonce: unique on each connection (each client counts its own).
    for (const connection of new Set(h.sent.ws.map((s) => s.connection))) {
      const nonces = h.sent.ws.filter((s) => s.connection === connection).map((s) => controlMessageSchema.parse(s.message).nonce);
      expect(new Set(nonces).size).toBe(nonces.length);
    }
    // Three connections: the client's, its reconnect, the twin's; each starts with one SUBSCRIBE of all four feeds.
    expect(new Set(h.sent.ws.map((s) => s.connection)).size).toBe(3);
    for (const connection of [1, 2, 3]) {
      const opening = controlMessageSchema.parse(h.sent.ws.find((s) => s.connection === connection)?.message);
      expect(opening.action).toBe('SUBSCRIBE');
      const names = opening.action === 'SUBSCRIBE' ? opening.feeds.map((f) => f.feed).sort() : [];
      expect(names).toEqual([...FEEDS].sort());
    }

    // ── signed requests: each parses with signedRequestSchema, `{t, c}` with c in CONTENT_KEYS order ──
    const kinds: string[] = [];
    const orderTypes = new Set<number>();
    for (const text of h.sent.requests) {
      const json: unknown = JSON.parse(text);
      const parsed = signedRequestSchema.safeParse(json);
      expect(parsed.success, text).toBe(true);
      if (!parsed.success) continue;
      kinds.push(parsed.data.t);
      expect(Object.keys(json as object)).toEqual(['t', 'c']);
      const content = (json as { c: object }).c;
      expect(Object.keys(content), text).toEqual([...CONTENT_KEYS[parsed.data.t]]);
      if (parsed.data.t === 'Order') {
        // §10.14: Limit 0 with its price, Market 1 with price "0"; no traderAddress (the signer is the trader).
        if (parsed.data.c.orderType === 1) expect(parsed.data.c.price).toBe('0');
        else expect(parsed.data.c.orderType).toBe(0);
        orderTypes.add(parsed.data.c.orderType);
        expect(parsed.data.c.stopPrice).toBe('0');
      }
      expect(parsed.data.c.recv_window_ms).toBe(5_000);
      expect(parsed.data.c.client_timestamp_ms).toBeLessThanOrEqual(h.clock.now());
    }
    // s1, s2, s3, cancel s1, cancel-all, then t1 signed four times (412 ×3, then sequenced).
    expect([...orderTypes].sort()).toEqual([0, 1]);
    expect(kinds).toEqual(['Order', 'Order', 'Order', 'CancelOrder', 'CancelAll', 'Order', 'Order', 'Order', 'Order']);
    const t1 = h.sent.requests.slice(-4).map((text) => signedRequestSchema.parse(JSON.parse(text)).c.nonce);
    expect(new Set(t1).size).toBe(4);
    expectReconciled(h);
    expectReconciled(h, 'beta');
  });
});
