import { afterEach, describe, expect, it } from 'vitest';
import { ORDER_TYPE, ORDER_UPDATE_REASON } from '../../src/derivadex/codes.ts';
import { strategyIdHash } from '../../src/derivadex/crypto/bytes32.ts';
import { RawClient, ALICE, ALICE21, BOB, BOB21, START, simSetup, type SimSetup } from './sim-harness.ts';

const MAIN = strategyIdHash('main');
let open: SimSetup | undefined;
afterEach(async () => {
  await open?.close();
  open = undefined;
});

async function setup(options: Parameters<typeof simSetup>[0] = {}): Promise<SimSetup> {
  open = await simSetup(options);
  return open;
}

const subscribe = (s: SimSetup, feeds: unknown[], nonce = 'n1') => s.control({ action: 'SUBSCRIBE', nonce, feeds });
const orderFeed = { feed: 'ORDER_UPDATE', params: { orderFilters: [{ traderAddress: ALICE21, strategyIdHash: MAIN }] } };
const markFeed = { feed: 'MARK_PRICE', params: { symbols: ['ETHP'] } };

describe('subscriptions', () => {
  it('acks, sends a PARTIAL of the current state, then UPDATEs; ordinals from 0 and +1 per frame', async () => {
    const s = await setup();
    const ack = await subscribe(s, [markFeed, orderFeed]);
    expect(ack).toEqual({ action: 'SUBSCRIBE', nonce: 'n1', result: {} });
    const [mark, orders] = s.client.frames();
    expect(mark).toMatchObject({
      ordinal: 0,
      feed: 'MARK_PRICE',
      subscriptionKey: 'MARK_PRICE|symbols=ETHP',
      contents: { messageType: 'PARTIAL', data: [{ symbol: 'ETHP', price: '2000', epochId: 1, fundingRate: '0', globalOrdinal: 1 }] },
    });
    expect(orders).toEqual({
      sequence: expect.any(Number),
      ordinal: 1,
      feed: 'ORDER_UPDATE',
      subscriptionKey: `ORDER_UPDATE|traderAddress=${ALICE21}|strategyIdHash=${MAIN}`,
      contents: { messageType: 'PARTIAL', data: [] }, // user feeds start empty: bootstrap from REST
    });
    s.clock.advanceTo(START + 1000);
    s.sim.setMark('ETHP', '2001.5');
    s.sim.setMark('ETHP', '2002');
    await s.idle();
    const updates = s.client.frames().slice(2);
    expect(updates.map((u) => [u.ordinal, u.contents.messageType, u.contents.data[0]!.price])).toEqual([
      [2, 'UPDATE', '2001.5'],
      [3, 'UPDATE', '2002'],
    ]);
    expect(updates[1]!.sequence).toBeGreaterThan(updates[0]!.sequence); // global: every exchange event counts
  });

  it('without symbols MARK_PRICE covers every symbol; a second SUBSCRIBE of a feed replaces it', async () => {
    const s = await setup();
    s.sim.setMark('BTCP', '40000');
    await subscribe(s, [{ feed: 'MARK_PRICE', params: {} }]);
    expect(s.client.frames()[0]).toMatchObject({
      subscriptionKey: 'MARK_PRICE',
      contents: { data: [{ symbol: 'BTCP' }, { symbol: 'ETHP' }] },
    });
    await subscribe(s, [{ feed: 'MARK_PRICE', params: { symbols: ['BTCP'] } }], 'n2');
    expect(s.client.frames()[1]).toMatchObject({ subscriptionKey: 'MARK_PRICE|symbols=BTCP', contents: { messageType: 'PARTIAL' } });
    s.sim.setMark('ETHP', '2001');
    s.sim.setMark('BTCP', '40001');
    await s.idle();
    expect(
      s.client
        .frames()
        .slice(2)
        .map((f) => f.contents.data[0]!.symbol),
    ).toEqual(['BTCP']);
  });

  it('refuses bad control messages, unknown and unserved feeds and bad params with result.error, subscribing nothing', async () => {
    const s = await setup();
    expect((await subscribe(s, [{ feed: 'TRADES', params: {} }], 'a')).result.error).toContain('feeds[0].feed');
    expect(await subscribe(s, [{ feed: 'ORDER_BOOK_L3', params: {} }], 'b')).toEqual({
      action: 'SUBSCRIBE',
      nonce: 'b',
      result: { error: expect.stringContaining('feeds[0].feed: ORDER_BOOK_L3 is not served by the simulator') },
    });
    expect((await subscribe(s, [{ feed: 'TRADER_UPDATE', params: {} }], 'c')).result.error).toContain('TRADER_UPDATE is not served');
    expect((await subscribe(s, [{ feed: 'MARK_PRICE', params: { symbols: ['DOGEP'] } }], 'd')).result.error).toBe(
      'feeds[0].params.symbols[0]: unknown symbol "DOGEP"',
    );
    // A 20-byte trader is not a realtime filter: the 21-byte form is.
    const twenty = await subscribe(
      s,
      [markFeed, { feed: 'ORDER_UPDATE', params: { orderFilters: [{ traderAddress: ALICE.address }] } }],
      'e',
    );
    expect(twenty.result.error).toContain('feeds[1].params.orderFilters[0].traderAddress: expected a 21-byte trader address');
    expect(await s.control({ action: 'PING', nonce: 'f' })).toMatchObject({
      action: null,
      nonce: 'f',
      result: { error: expect.any(String) },
    });
    s.client.send('not json');
    await s.client.waitFor(s.client.received.length + 1);
    expect(s.client.acks().at(-1)).toEqual({ action: null, nonce: null, result: { error: 'message is not valid JSON' } });
    s.sim.setMark('ETHP', '2001');
    await s.idle();
    expect(s.client.frames()).toEqual([]);
  });

  it('UNSUBSCRIBE takes feed names and removes the whole feed', async () => {
    const s = await setup();
    await subscribe(s, [markFeed, orderFeed]);
    expect(await s.control({ action: 'UNSUBSCRIBE', nonce: 'u', feeds: ['MARK_PRICE', 'ORDER_BOOK_L2'] })).toEqual({
      action: 'UNSUBSCRIBE',
      nonce: 'u',
      result: {},
    });
    s.sim.setMark('ETHP', '2001');
    s.order({ amount: '0.1' });
    await s.idle();
    expect(
      s.client
        .frames()
        .slice(2)
        .map((f) => f.feed),
    ).toEqual(['ORDER_UPDATE']);
  });

  it('sends the book as a PARTIAL of levels aggregated to the filter, then aggregated level changes', async () => {
    const s = await setup({ liquidity: { depth: '2', levels: 3, spreadTicks: 1 } });
    // book: bids 1999.9, 1999.8, 1999.7; asks 2000.1, 2000.2, 2000.3 — 2 each
    await subscribe(s, [
      {
        feed: 'ORDER_BOOK_L2',
        params: {
          orderBookL2Filters: [
            { symbol: 'ETHP', aggregation: 0.1 },
            { symbol: 'ETHP', aggregation: 1 },
          ],
        },
      },
    ]);
    const [fine, coarse] = s.client.frames();
    expect(fine).toMatchObject({ subscriptionKey: 'ORDER_BOOK_L2|symbol=ETHP|aggr=0.1', contents: { messageType: 'PARTIAL' } });
    expect(fine!.contents.data).toHaveLength(6);
    // aggregation 1: bids floor to 1999, asks ceil to 2001
    expect(coarse).toMatchObject({
      subscriptionKey: 'ORDER_BOOK_L2|symbol=ETHP|aggr=1',
      contents: {
        data: [
          { symbol: 'ETHP', side: 0, amount: '6', price: '1999' },
          { symbol: 'ETHP', side: 1, amount: '6', price: '2001' },
        ],
      },
    });
    s.sim.setMark('ETHP', '2000.1');
    await s.idle();
    const updates = s.client.frames().slice(2);
    expect(updates.map((u) => u.subscriptionKey)).toEqual(['ORDER_BOOK_L2|symbol=ETHP|aggr=0.1', 'ORDER_BOOK_L2|symbol=ETHP|aggr=1']);
    expect(updates[0]!.contents.data).toEqual([
      { symbol: 'ETHP', side: 0, amount: '2', price: '2000' },
      { symbol: 'ETHP', side: 0, amount: '0', price: '1999.7' },
      { symbol: 'ETHP', side: 1, amount: '0', price: '2000.1' },
      { symbol: 'ETHP', side: 1, amount: '2', price: '2000.4' },
    ]);
    // bids 2000, 1999.9, 1999.8 → 1999: 4, 2000: 2; asks 2000.2 … 2000.4 → 2001: 6 (unchanged)
    expect(updates[1]!.contents.data).toEqual([
      { symbol: 'ETHP', side: 0, amount: '2', price: '2000' },
      { symbol: 'ETHP', side: 0, amount: '4', price: '1999' },
    ]);
  });

  it('routes ORDER_UPDATE rows by either intent and the filter parts; one frame per row per connection', async () => {
    const s = await setup();
    s.sim.exchange.deposit(BOB.address, 'mm', '100000');
    await subscribe(s, [
      {
        feed: 'ORDER_UPDATE',
        params: {
          orderFilters: [
            { traderAddress: ALICE21, reason: ORDER_UPDATE_REASON.Trade },
            { traderAddress: BOB21, strategyIdHash: strategyIdHash('mm') },
          ],
        },
      },
      { feed: 'STRATEGY_UPDATE', params: { strategyFilters: [{ traderAddress: BOB21 }] } },
    ]);
    const ask = s.order({ trader: BOB.address, strategyId: 'mm', orderType: ORDER_TYPE.Limit, side: 1, price: '2000.1', amount: '1' });
    s.order({ amount: '0.5' });
    await s.idle();
    // An empty PARTIAL per filter stream, then one frame per row.
    expect(
      s.client
        .frames()
        .slice(0, 3)
        .map((f) => [f.contents.messageType, f.contents.data.length]),
    ).toEqual([
      ['PARTIAL', 0],
      ['PARTIAL', 0],
      ['PARTIAL', 0],
    ]);
    const updates = s.client.frames().slice(3);
    expect(updates.map((f) => [f.feed, f.subscriptionKey, f.contents.data[0]!.reason])).toEqual([
      ['ORDER_UPDATE', `ORDER_UPDATE|traderAddress=${BOB21}|strategyIdHash=${strategyIdHash('mm')}`, ORDER_UPDATE_REASON.Post],
      ['ORDER_UPDATE', `ORDER_UPDATE|traderAddress=${ALICE21}|reason=1`, ORDER_UPDATE_REASON.Trade],
      ['STRATEGY_UPDATE', `STRATEGY_UPDATE|traderAddress=${BOB21}`, 5],
    ]);
    expect(updates[1]!.contents.data[0]).toMatchObject({
      makerOrderIntent: { orderHash: ask },
      takerOrderIntent: { traderAddress: ALICE21 },
    });
  });

  it('delivers a liquidation to the liquidated strategy', async () => {
    const s = await setup();
    s.sim.exchange.deposit(BOB.address, 'main', '1000');
    await subscribe(s, [{ feed: 'ORDER_UPDATE', params: { orderFilters: [{ traderAddress: BOB21 }] } }]);
    s.order({ trader: BOB.address, amount: '1.4' });
    s.sim.setMark('ETHP', '1350');
    await s.idle();
    expect(s.client.frames().at(-1)!.contents.data[0]).toMatchObject({
      reason: ORDER_UPDATE_REASON.Liquidation,
      liquidatedTraderAddress: BOB21,
    });
  });
});

describe('faults on the wire', () => {
  const marks = (s: SimSetup): Array<[number, unknown]> =>
    s.client
      .frames()
      .filter((f) => f.feed === 'MARK_PRICE' && f.contents.messageType === 'UPDATE')
      .map((f) => [f.ordinal, f.contents.data[0]!.price]);

  it('drop-feed leaves an ordinal gap for the duration', async () => {
    const s = await setup();
    await subscribe(s, [markFeed]); // PARTIAL: ordinal 0
    s.sim.injectFault({ kind: 'drop-feed', feed: 'MARK_PRICE', duration: 2000 });
    s.sim.setMark('ETHP', '2001'); // ordinal 1, dropped
    s.clock.advanceTo(START + 1000);
    s.sim.setMark('ETHP', '2002'); // ordinal 2, dropped
    s.clock.advanceTo(START + 2000);
    s.sim.setMark('ETHP', '2003'); // ordinal 3, sent
    await s.idle();
    expect(marks(s)).toEqual([[3, '2003']]);
  });

  it('pause-feed holds frames and delivers them late, in order, without a gap', async () => {
    const s = await setup();
    await subscribe(s, [markFeed, orderFeed]); // ordinals 0, 1
    s.sim.injectFault({ kind: 'pause-feed', feed: 'MARK_PRICE', duration: 1000 });
    s.sim.setMark('ETHP', '2001');
    s.sim.setMark('ETHP', '2002');
    s.order({ amount: '0.1' }); // ORDER_UPDATE passes: ordinal 2
    await s.idle();
    expect(marks(s)).toEqual([]);
    expect(s.client.frames().at(-1)).toMatchObject({ ordinal: 2, feed: 'ORDER_UPDATE' });
    s.clock.advanceTo(START + 1000);
    s.sim.advance();
    await s.idle();
    expect(marks(s)).toEqual([
      [3, '2001'],
      [4, '2002'],
    ]);
  });

  it('duplicate-messages sends a frame twice with the same ordinal', async () => {
    const s = await setup();
    await subscribe(s, [markFeed]);
    s.sim.injectFault({ kind: 'duplicate-messages', feed: 'MARK_PRICE', count: 1 });
    s.sim.setMark('ETHP', '2001');
    s.sim.setMark('ETHP', '2002');
    await s.idle();
    expect(marks(s)).toEqual([
      [1, '2001'],
      [1, '2001'],
      [2, '2002'],
    ]);
  });

  it('reorder-messages swaps two consecutive frames', async () => {
    const s = await setup();
    await subscribe(s, [markFeed]);
    s.sim.injectFault({ kind: 'reorder-messages', count: 1 });
    s.sim.setMark('ETHP', '2001');
    s.sim.setMark('ETHP', '2002');
    s.sim.setMark('ETHP', '2003');
    await s.idle();
    expect(marks(s)).toEqual([
      [2, '2002'],
      [1, '2001'],
      [3, '2003'],
    ]);
  });

  it('disconnect closes every WebSocket with SERVER_CLOSE_CODE; a new connection starts at ordinal 0', async () => {
    const s = await setup();
    await subscribe(s, [markFeed]);
    s.sim.injectFault({ kind: 'disconnect' });
    expect(await s.client.closed).toBe(1012);
    const again = await RawClient.connect(s.sim.wsUrl, s.tracker);
    again.send({ action: 'SUBSCRIBE', nonce: 'r', feeds: [markFeed] });
    await again.waitFor(2);
    expect(again.frames()[0]).toMatchObject({ ordinal: 0, contents: { messageType: 'PARTIAL' } });
    again.close();
  });

  it("reject-next-order turns the strategy's next order into an OrderRejection", async () => {
    const s = await setup();
    s.sim.injectFault({ kind: 'reject-next-order', trader: ALICE.address, strategyId: 'main', reason: 'SolvencyGuard' });
    s.order({ amount: '0.1' });
    expect(s.sim.exchange.orderUpdates({ trader: ALICE21 }).value.at(-1)).toMatchObject({
      reason: ORDER_UPDATE_REASON.OrderRejection,
      orderRejection: 1,
    });
  });
});
