import { afterEach, describe, expect, it } from 'vitest';
import { traderAddress21 } from '../../src/derivadex/trader-address.ts';
import type { OrderIntent } from '../../src/domain/order.ts';
import { VenueClient } from '../../src/venue/venue-client.ts';
import { record, startFakeHarness, walletFor, type FakeHarness, type FakeVenue } from './venue-harness.ts';
import { MAIN_HASH, asObject, fixture, fixtureRow, intent, orderRow, strategyRow, type Json } from './wire-fixtures.ts';

/*
 * The venue client against a fake DerivaDEX serving the golden-fixture shapes over real sockets
 * (venue-harness.ts), on a simulated clock. The fake matches nothing: each test writes the exchange's
 * rows itself, so every expectation is a row of the real protocol and its hand-worked consequence.
 */

const harnesses: FakeHarness[] = [];
afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.close();
});

async function start(options: Parameters<typeof startFakeHarness>[0] = {}, prepare?: (venue: FakeVenue) => void): Promise<FakeHarness> {
  const h = await startFakeHarness(options, prepare);
  harnesses.push(h);
  return h;
}

const ALPHA = walletFor('alpha');
const BETA = walletFor('beta');
const A21 = traderAddress21(ALPHA.address);
const B21 = traderAddress21(BETA.address);
const OTHER21 = '0x00c0ffee00112233445566778899aabbccddeeff00';
const RESTING = '0x60fedfa68fa1ef03597a7ce6fc660f80cd6d26771fa888a6ba';

const strategyValue = (trader: string, availCollateral: string): Json => ({
  ...asObject(asObject(fixture('rest-strategy'), 'body').value, 'strategy'),
  trader,
  availCollateral,
});
const positionValue = (trader: string, balance: string, side: number, avgEntryPrice: string): Json => ({
  ...asObject((fixture('rest-positions') as { value: unknown[] }).value[0], 'position'),
  trader,
  balance,
  side,
  avgEntryPrice,
});

async function bootstrapped(
  options: Parameters<typeof startFakeHarness>[0] = {},
  prepare?: (venue: FakeVenue) => void,
): Promise<FakeHarness> {
  const h = await start(options, prepare);
  await h.client.bootstrap([{ strategyId: 'alpha', signer: ALPHA }]);
  await h.idle();
  return h;
}

const LIMIT = (side: 'buy' | 'sell', amount: string, price: string): OrderIntent => ({
  symbol: 'ETHP',
  side,
  amount,
  type: 'limit',
  price,
});

describe('VenueClient bootstrap', () => {
  it('reads the deployment, products with the margin overlay, the bracketed snapshot and open orders; ONE SUBSCRIBE of all four feeds', async () => {
    const h = await bootstrapped({ contractDeployment: 'testnet', productMargins: { ETHP: { maxLeverage: 5, mmr: '0.03' } } }, (venue) => {
      venue.strategies.set(`${A21}:${MAIN_HASH}`, strategyValue(ALPHA.address, '10012.5'));
      venue.positions.set(`${A21}:${MAIN_HASH}`, [positionValue(ALPHA.address, '1.5', 1, '2450.5')]);
      venue.book.push({ ...asObject((fixture('rest-order-book-l3') as { value: unknown[] }).value[0], 'l3'), traderAddress: A21 });
      venue.marks.push(...(fixture('rest-mark-prices') as { value: Json[] }).value);
    });
    const { venue, client, events } = h;
    expect(venue.reads[0]?.path).toBe('/contract-server/addresses');
    expect(venue.reads[0]?.query.get('contractDeployment')).toBe('testnet');
    expect(client.products.ETHP).toMatchObject({ tickSize: '0.1', maxLeverage: 5, mmr: '0.03' });
    expect(client.products.BTCP).toMatchObject({ tickSize: '1', maxLeverage: 3, mmr: '0.05' }); // 0.15 / 3
    expect(venue.controls).toEqual([
      {
        action: 'SUBSCRIBE',
        nonce: 'sub-1',
        feeds: [
          { feed: 'MARK_PRICE', params: { symbols: ['BTCP', 'ETHP'] } },
          {
            feed: 'ORDER_BOOK_L2',
            params: {
              orderBookL2Filters: [
                { symbol: 'BTCP', aggregation: 1 },
                { symbol: 'ETHP', aggregation: 0.1 },
              ],
            },
          },
          { feed: 'ORDER_UPDATE', params: { orderFilters: [{ traderAddress: A21, strategyIdHash: MAIN_HASH }] } },
          { feed: 'STRATEGY_UPDATE', params: { strategyFilters: [{ traderAddress: A21, strategyIdHash: MAIN_HASH }] } },
        ],
      },
    ]);
    // The snapshot: the 20-byte trader on /stats, bracketed by order=desc&limit=1 reads of both families (21-byte).
    const strategyRead = venue.reads.find((r) => r.path === '/stats/api/v1/strategy')!;
    expect([strategyRead.query.get('trader'), strategyRead.query.get('strategyId')]).toEqual([ALPHA.address, 'main']);
    const brackets = venue.reads.filter((r) => r.query.get('order') === 'desc');
    expect(brackets.map((r) => [r.path, r.query.get('trader'), r.query.get('limit')])).toEqual([
      ['/exchange/api/v1/order_updates', A21, '1'],
      ['/exchange/api/v1/strategy_updates', A21, '1'],
      ['/exchange/api/v1/order_updates', A21, '1'],
      ['/exchange/api/v1/strategy_updates', A21, '1'],
    ]);
    const boot = events.bootstrap[0]!;
    expect(boot.ledger.collateral).toBe('10012.5');
    expect(boot.ledger.positions).toEqual({ ETHP: { size: '1.5', avgEntry: '2450.5' } });
    // L3 entry: originalAmount 2, amount (remaining) 1.5 → filled 0.5.
    expect(boot.openOrders.map((o) => [o.orderHash, o.status, o.amount, o.filled, o.remaining])).toEqual([
      ['0xea670d68af94b1095d9b35bf71258ef395953fd9b5712b929a', 'partially-filled', '2', '0.5', '1.5'],
    ]);
    expect(events.mark.map((m) => [m.symbol, m.price])).toEqual([['ETHP', '2451.3']]);
    expect(client.book('ETHP')?.bids[0]).toEqual({ price: '2450', amount: '50.25' });
    expect(events.fault).toEqual([]);
  });

  it('takes the EIP-712 domain from the options when both halves are given, and every documented ack form', async () => {
    for (const ackStyle of ['error-null', 'bare'] as const) {
      const h = await bootstrapped({ chainId: 1337, verifyingContract: `0x${'dd'.repeat(20)}` }, (venue) => {
        venue.ackStyle = ackStyle;
      });
      expect(h.venue.reads.some((r) => r.path === '/contract-server/addresses')).toBe(false);
      expect(h.events.bootstrap.length).toBe(1);
    }
  });

  it('a second bootstrap re-sends the user feeds with every strategy (a SUBSCRIBE replaces a feed)', async () => {
    const h = await bootstrapped();
    await h.client.bootstrap([{ strategyId: 'beta', signer: BETA }]);
    await h.idle();
    const filters = [
      { traderAddress: A21, strategyIdHash: MAIN_HASH },
      { traderAddress: B21, strategyIdHash: MAIN_HASH },
    ];
    expect(h.venue.controls[1]).toEqual({
      action: 'SUBSCRIBE',
      nonce: 'sub-2',
      feeds: [
        { feed: 'ORDER_UPDATE', params: { orderFilters: filters } },
        { feed: 'STRATEGY_UPDATE', params: { strategyFilters: filters } },
      ],
    });
  });

  it('reads the snapshot again when the venue moved while it was read', async () => {
    let reads = 0;
    const h = await bootstrapped({}, (venue) => {
      venue.onSnapshotRead = () => {
        reads += 1;
        if (reads === 1) venue.strategyUpdate(strategyRow('ws-strategy-update-deposit', { traderAddress: A21 }), { live: false });
      };
      venue.strategies.set(`${A21}:${MAIN_HASH}`, strategyValue(ALPHA.address, '10000'));
    });
    expect(reads).toBe(2);
    expect(h.events.bootstrap[0]!.ledger.collateral).toBe('10000');
    expect(h.events.repair).toEqual([]);
  });
});

describe('VenueClient books the golden frames', () => {
  it('fills, fees, funding, a withdrawal intent and its rejection, fed frame by frame over the socket', async () => {
    const h = await bootstrapped();
    const { venue, events } = h;
    const ours = (fields: Json) => intent(A21, fields);
    const restingIntent = ours({ ...asObject(fixtureRow('ws-order-update-post').makerOrderIntent, 'intent'), traderAddress: A21 });
    const taker = ours({ orderHash: `0x${'22'.repeat(25)}`, side: 1, amount: '0.2', price: '0', orderType: 1 });
    venue.strategyUpdate(strategyRow('ws-strategy-update-deposit', { traderAddress: A21 }));
    venue.orderUpdate(orderRow('ws-order-update-post', { makerOrderIntent: restingIntent }));
    venue.orderUpdate(orderRow('ws-order-update-trade', { makerOrderIntent: restingIntent }));
    // We take 0.2 from someone's bid at 2450 with a market ask: the taker side and fee are ours.
    venue.orderUpdate(
      orderRow('ws-order-update-trade', {
        globalOrdinal: 90212,
        amount: '0.2',
        price: '2450',
        cumulativeFilledAmount: '0.2',
        makerOrderIntent: intent(OTHER21, { orderHash: `0x${'11'.repeat(25)}`, side: 0, amount: '1', price: '2450' }),
        takerOrderIntent: taker,
        makerFeeCollateral: '0',
        takerFeeCollateral: '0.245',
      }),
    );
    const su = (name: string, fields: Json) => strategyRow(name, { traderAddress: A21, ...fields });
    venue.strategyUpdate(
      su('ws-strategy-update-funding', { globalOrdinal: 5131, reason: 6, amount: '-0.245', newAvailCollateral: '9999.655' }),
    );
    venue.strategyUpdate(su('ws-strategy-update-funding', { newAvailCollateral: '9999.285' }));
    venue.strategyUpdate(su('ws-strategy-update-withdraw-intent', { newAvailCollateral: '9499.285' }));
    venue.strategyUpdate(su('ws-strategy-update-withdraw-rejection', {}));
    venue.strategyUpdate(
      su('ws-strategy-update-pnl-settlement', {
        globalOrdinal: 5137,
        amount: '0',
        newAvailCollateral: '9499.285',
        positions: [{ symbol: 'ETHP', balance: '0.3', side: 1, avgEntryPrice: '2450.5', realizedPnl: '-0.1' }],
      }),
    );
    await h.idle();

    expect(events.ledger.map((u) => [u.event.id, u.event.kind, u.event.seq])).toEqual([
      ['strategy:5120', 'deposit', 0],
      ['order:90211', 'fill', 1],
      ['order:90212', 'fill', 2],
      ['strategy:5134', 'funding', 3],
      ['strategy:5135', 'withdrawal', 4],
    ]);
    // 0 + 10000 deposit
    // buy 0.5 @ 2450.5 as maker, fee 0                              → 10000
    // sell 0.2 @ 2450 as taker: (2450 − 2450.5) × 0.2 = −0.1, fee 0.245 → 10000 − 0.1 − 0.245 = 9999.655 (the Fee row agrees)
    // funding −0.37                                                  → 9999.285
    // withdrawal intent 500 (availCollateral → locked)                → 9499.285
    const ledger = h.client.ledger('alpha')!;
    expect(ledger.collateral).toBe('9499.285');
    expect(ledger.positions).toEqual({ ETHP: { size: '0.3', avgEntry: '2450.5' } }); // 0.5 − 0.2
    expect([ledger.realizedPnl, ledger.feesPaid, ledger.fundingReceived, ledger.netTransfers]).toEqual(['-0.1', '0.245', '-0.37', '9500']);
    expect(events['withdraw-rejected'].map((w) => [w.strategyId, w.reason, w.globalOrdinal])).toEqual([
      ['alpha', 'MaxWithdrawalAmount', 5136],
    ]);
    expect(h.client.order('alpha', RESTING)).toMatchObject({ status: 'partially-filled', filled: '0.5', remaining: '1.5' });
    expect(h.client.order('alpha', `0x${'22'.repeat(25)}`)).toMatchObject({ status: 'filled', filled: '0.2', remaining: '0' });
    expect(events.drift).toEqual([]);
    expect(events.fault).toEqual([]);
  });

  it('one Liquidation row reaches both strategies it names: the liquidated one and the one whose order absorbed it', async () => {
    const h = await start({}, (venue) => {
      venue.strategies.set(`${A21}:${MAIN_HASH}`, strategyValue(ALPHA.address, '100'));
      venue.positions.set(`${A21}:${MAIN_HASH}`, [positionValue(ALPHA.address, '1.5', 1, '2450.5')]);
      venue.strategies.set(`${B21}:${MAIN_HASH}`, strategyValue(BETA.address, '10000'));
    });
    await h.client.bootstrap([
      { strategyId: 'alpha', signer: ALPHA },
      { strategyId: 'beta', signer: BETA },
    ]);
    await h.idle();
    const absorber = intent(B21, { ...asObject(fixtureRow('ws-order-update-liquidation').makerOrderIntent, 'maker'), traderAddress: B21 });
    h.venue.orderUpdate(orderRow('ws-order-update-liquidation', { liquidatedTraderAddress: A21, makerOrderIntent: absorber }));
    // alpha: (2300 − 2450.5) × 1.5 = −225.75 → 100 − 225.75 = −125.75; the insurance fund tops it up to 0.
    h.venue.strategyUpdate(
      strategyRow('ws-strategy-update-funding', {
        traderAddress: A21,
        globalOrdinal: 5140,
        reason: 7,
        amount: '-100',
        newAvailCollateral: '0',
        positions: [],
      }),
    );
    await h.idle();
    expect(h.events.liquidation.map((l) => [l.strategyId, l.symbol, l.price])).toEqual([['alpha', 'ETHP', '2300']]);
    expect(h.events.ledger.map((u) => [u.strategyId, u.event.kind, u.event.id])).toEqual([
      ['beta', 'fill', 'order:90240'],
      ['alpha', 'liquidation', 'order:90240'],
      ['alpha', 'fee', 'insurance:5140'],
    ]);
    expect(h.client.ledger('alpha')).toMatchObject({ collateral: '0', positions: {} });
    expect(h.client.ledger('beta')).toMatchObject({ collateral: '10000', positions: { ETHP: { size: '1.5', avgEntry: '2300' } } });
    expect(h.events.drift).toEqual([]);
  });
});

describe('VenueClient orders', () => {
  it('sends limits as orderType 0 and markets as 1 without a trader address, and follows the order by its intent hash', async () => {
    const h = await bootstrapped();
    const limit = await h.client.placeOrder('alpha', 'l1', LIMIT('buy', '1', '2440'));
    await h.client.placeOrder('alpha', 'm1', { symbol: 'ETHP', side: 'sell', amount: '0.5', type: 'market' });
    await h.idle();
    const sent = h.venue.requests.map((r) => asObject(r.c, 'c'));
    expect(h.venue.requests.map((r) => r.t)).toEqual(['Order', 'Order']);
    expect(sent.map((c) => [c.side, c.orderType, c.amount, c.price, 'traderAddress' in c])).toEqual([
      ['Bid', 0, '1', '2440', false],
      ['Ask', 1, '0.5', '0', false],
    ]);
    const mine = intent(A21, { orderHash: limit.orderHash, nonce: sent[0]!.nonce, side: 0, amount: '1', price: '2440' });
    h.venue.orderUpdate(orderRow('ws-order-update-post', { globalOrdinal: 9, makerOrderIntent: mine }));
    h.venue.orderUpdate(
      orderRow('ws-order-update-trade', {
        globalOrdinal: 10,
        amount: '1',
        price: '2440',
        cumulativeFilledAmount: '1',
        makerOrderIntent: mine,
      }),
    );
    await h.idle();
    expect(h.events.lifecycle.filter((e) => e.clientOrderId === 'l1').map((e) => [e.status, e.filled, e.remaining])).toEqual([
      ['submitted', '0', '1'],
      ['sequenced', '0', '1'],
      ['posted', '0', '1'],
      ['filled', '1', '0'],
    ]);
  });

  it('a SafetyFailure receipt rejects the order with the variant name', async () => {
    const h = await bootstrapped();
    h.venue.answer = () => ({ status: 200, body: fixture('receipt-safety-failure') });
    await h.client.placeOrder('alpha', 'tick', LIMIT('buy', '1', '2440.05'));
    await h.idle();
    const inner = String(asObject(asObject(fixture('receipt-safety-failure'), 'receipt').c, 'c').inner);
    expect(h.events.lifecycle.map((e) => [e.status, e.reason])).toEqual([
      ['submitted', undefined],
      ['rejected', inner],
    ]);
  });

  it('a rejection with a placeholder intent is matched by the nonce the order was signed with', async () => {
    const h = await bootstrapped();
    await h.client.placeOrder('alpha', 'p1', LIMIT('buy', '100', '2440'));
    await h.idle();
    const nonce = String(asObject(h.venue.requests[0]!.c, 'c').nonce);
    const blank = {
      orderHash: '',
      symbol: '',
      amount: '',
      price: '',
      traderAddress: '',
      strategyIdHash: '',
      stopPrice: '',
      signature: '',
      createdAt: '',
      side: 0,
      orderType: 0,
    };
    h.venue.orderUpdate(
      orderRow('ws-order-update-order-rejection', { orderRejection: 1, makerOrderIntent: intent('', { ...blank, nonce }) }),
    );
    await h.idle();
    expect(h.client.order('alpha', 'p1')).toMatchObject({ status: 'rejected', reason: 'SolvencyGuard' });
  });

  it('a CancelRejection (integer 0) is reported as InvalidOrder and leaves the order working', async () => {
    const h = await bootstrapped();
    const placed = await h.client.placeOrder('alpha', 'c1', LIMIT('buy', '1', '2440'));
    const mine = intent(A21, { orderHash: placed.orderHash, side: 0, amount: '1', price: '2440' });
    h.venue.orderUpdate(orderRow('ws-order-update-post', { globalOrdinal: 5, makerOrderIntent: mine }));
    await h.idle();
    const cancelling = h.client.cancelOrder('alpha', 'c1');
    h.venue.orderUpdate(orderRow('ws-order-update-cancel-rejection', { globalOrdinal: 6, makerOrderIntent: mine }));
    await cancelling;
    await h.idle();
    expect(h.venue.requests.map((r) => r.t)).toEqual(['Order', 'CancelOrder']);
    expect(h.events['cancel-rejected'].map((c) => [c.clientOrderId, c.reason])).toEqual([['c1', 'InvalidOrder']]);
    expect(h.client.order('alpha', 'c1')?.status).toBe('posted');
  });

  it("reclaims another process's order from its history by orderHash=", async () => {
    const h = await bootstrapped();
    const hash = `0x${'44'.repeat(25)}`;
    const theirs = intent(A21, { orderHash: hash, side: 0, amount: '1', price: '2440' });
    h.venue.orderHistory.push({ ...orderRow('ws-order-update-post', { globalOrdinal: 3, makerOrderIntent: theirs }), txOrdinal: 1 });
    const fill = orderRow('ws-order-update-trade', { globalOrdinal: 4, amount: '1', price: '2440', makerOrderIntent: theirs });
    delete fill.cumulativeFilledAmount;
    h.venue.orderHistory.push({
      ...fill,
      txOrdinal: 2,
      orderMatchOrdinal: undefined,
      lastExecutedAmount: undefined,
      lastExecutedPrice: undefined,
      cumulativeQuoteAssetTransactedAmount: undefined,
      lastQuoteAssetTransactedAmount: undefined,
    });
    const reclaimed = await h.client.reclaimOrder('alpha', 'theirs-1', hash);
    expect(reclaimed).toMatchObject({ clientOrderId: 'theirs-1', status: 'filled', filled: '1' });
    expect(h.venue.reads.at(-1)?.query.getAll('orderHash')).toEqual([hash]);
    expect(await h.client.reclaimOrder('alpha', 'nobody', `0x${'ab'.repeat(25)}`)).toBeNull();
  });
});

describe('VenueClient repair', () => {
  it('a malformed ORDER_UPDATE frame for a real fill: counted, reported once with its path, repaired from REST, the ledger equals the venue', async () => {
    const h = await bootstrapped({}, (venue) => {
      venue.strategies.set(`${A21}:${MAIN_HASH}`, strategyValue(ALPHA.address, '10000'));
    });
    const { venue } = h;
    const mine = intent(A21, { ...asObject(fixtureRow('ws-order-update-post').makerOrderIntent, 'intent'), traderAddress: A21 });
    const fill = orderRow('ws-order-update-trade', { makerOrderIntent: mine, makerFeeCollateral: '0.5' });
    venue.orderUpdate(fill, { live: false });
    // After the fill: 10000 − 0.5 fee; long 0.5 at 2450.5.
    venue.strategies.set(`${A21}:${MAIN_HASH}`, strategyValue(ALPHA.address, '9999.5'));
    venue.positions.set(`${A21}:${MAIN_HASH}`, [positionValue(ALPHA.address, '0.5', 1, '2450.5')]);
    const l3 = asObject((fixture('rest-order-book-l3') as { value: unknown[] }).value[0], 'l3');
    venue.book.push({ ...l3, orderHash: mine.orderHash, originalAmount: '2', amount: '1.5', traderAddress: A21 });
    const broken = { ...fill, makerOrderIntent: { ...mine, orderHash: '0x1234' } };
    venue.push('ORDER_UPDATE', 'UPDATE', [broken]);
    await h.idle();
    expect(h.events.fault.map((f) => f.message)).toEqual([
      'venue sent a frame bad-row the client does not know: contents.data[0].makerOrderIntent.orderHash: expected 25-byte hex',
    ]);
    expect(h.events.repair.map((r) => r.phase)).toEqual(['start', 'done']);
    expect(h.events.ledger.map((u) => [u.event.id, u.event.kind])).toEqual([['order:90211', 'fill']]);
    expect(h.client.ledger('alpha')).toMatchObject({ collateral: '9999.5', positions: { ETHP: { size: '0.5', avgEntry: '2450.5' } } });
    expect(h.events.drift).toEqual([]);
    // The same bad place again: counted, not reported again.
    venue.push('ORDER_UPDATE', 'UPDATE', [broken]);
    await h.idle();
    expect(h.events.fault.map((f) => f.message.slice(0, 40))).toEqual(['venue sent a frame bad-row the client do']);
    expect(h.client.stats.badInput).toBe(2);
  });

  it('a gap: both families replayed from their own floors, the newest mark per symbol, the book resubscribed by feed name', async () => {
    const h = await bootstrapped({}, (venue) => {
      venue.strategies.set(`${A21}:${MAIN_HASH}`, strategyValue(ALPHA.address, '0'));
    });
    const { venue } = h;
    venue.strategyUpdate(strategyRow('ws-strategy-update-deposit', { traderAddress: A21 }), { live: false });
    venue.skipOrdinals(1); // the frame that carried it is lost
    venue.strategies.set(`${A21}:${MAIN_HASH}`, strategyValue(ALPHA.address, '10000'));
    venue.marks.push(...(fixture('rest-mark-prices') as { value: Json[] }).value);
    venue.push('MARK_PRICE', 'UPDATE', []);
    await h.idle();
    expect(h.events.repair.map((r) => [r.phase, r.reason])).toEqual([
      ['start', 'gap: ordinal 4 missing (got 5)'],
      ['done', 'gap: ordinal 4 missing (got 5)'],
    ]);
    const replay = venue.reads.filter((r) => r.query.get('globalOrdinal') !== null);
    expect(replay.map((r) => [r.path, r.query.get('globalOrdinal')])).toEqual([
      ['/exchange/api/v1/order_updates', '0'],
      ['/exchange/api/v1/strategy_updates', '0'],
    ]);
    const markRead = venue.reads.find((r) => r.path === '/exchange/api/v1/mark_prices')!;
    expect([markRead.query.get('symbol'), markRead.query.get('order'), markRead.query.get('limit')]).toEqual(['BTCP', 'desc', '1']);
    expect(h.client.ledger('alpha')?.collateral).toBe('10000');
    expect(h.events.mark.at(-1)).toMatchObject({ symbol: 'ETHP', price: '2451.3' });
    expect(venue.controls.slice(1).map((c) => [c.action, c.feeds.length])).toEqual([
      ['UNSUBSCRIBE', 1],
      ['SUBSCRIBE', 1],
    ]);
    expect(venue.controls[1]!.feeds).toEqual(['ORDER_BOOK_L2']);
    expect(h.events.drift).toEqual([]);
  });

  it('a reconnect resubscribes every feed in one SUBSCRIBE and repairs what happened meanwhile', async () => {
    const h = await bootstrapped({}, (venue) => {
      venue.strategies.set(`${A21}:${MAIN_HASH}`, strategyValue(ALPHA.address, '0'));
    });
    const repaired = new Promise<void>((resolve) => h.client.on('repair', (r) => r.phase === 'done' && resolve()));
    h.venue.dropConnections();
    h.venue.strategyUpdate(strategyRow('ws-strategy-update-deposit', { traderAddress: A21 }), { live: false });
    h.venue.strategies.set(`${A21}:${MAIN_HASH}`, strategyValue(ALPHA.address, '10000'));
    await repaired;
    await h.idle();
    expect(h.venue.connections).toBe(2);
    expect(h.venue.controls[1]?.feeds.map((f) => asObject(f, 'feed').feed)).toEqual([
      'MARK_PRICE',
      'ORDER_BOOK_L2',
      'ORDER_UPDATE',
      'STRATEGY_UPDATE',
    ]);
    expect(h.client.ledger('alpha')?.collateral).toBe('10000');
  });
});

describe('VenueClient determinism', () => {
  it('the same seed signs the same requests, byte for byte', async () => {
    const run = async (): Promise<string> => {
      const h = await bootstrapped();
      await h.client.placeOrder('alpha', 'q1', LIMIT('buy', '1', '2440'));
      await h.idle();
      return JSON.stringify(h.venue.requests.map((r) => asObject(r.c, 'c').signature));
    };
    expect(await run()).toBe(await run());
  });

  it('records only through events: a client with no listeners still keeps its ledger', async () => {
    const h = await bootstrapped();
    const quiet = new VenueClient({ restUrl: h.venue.url, wsUrl: h.venue.wsUrl, clock: h.clock, work: h.venue.work, seed: 2 });
    const events = record(quiet);
    await quiet.connect();
    await quiet.bootstrap([{ strategyId: 'alpha', signer: ALPHA }]);
    await h.idle();
    expect(events.bootstrap.length).toBe(1);
    await quiet.close();
  });
});

describe('VenueClient lost answers and refusals', () => {
  it('a request that never reached the venue is rejected NotSequenced only after a reconcile proves it', async () => {
    let dropNext = true;
    const lossyFetch: typeof fetch = async (input, init) => {
      if (dropNext && String(input).endsWith('/v2/request')) {
        dropNext = false;
        throw new TypeError('fetch failed');
      }
      return fetch(input, init);
    };
    const h = await bootstrapped({ fetch: lossyFetch, unresolvedAfterMs: 5_000 });
    await h.client.placeOrder('alpha', 'n1', LIMIT('buy', '1', '2440'));
    await h.idle();
    expect(h.events.lifecycle.map((e) => e.status)).toEqual(['submitted']);
    await h.step(4_000);
    expect(h.events.lifecycle.map((e) => e.status)).toEqual(['submitted']);
    await h.step(1_000);
    expect(h.events.lifecycle.at(-1)).toMatchObject({ status: 'rejected', reason: 'NotSequenced' });
  });

  it('a 503 on the request is reconciled from REST: the order the venue did take is found by its hash', async () => {
    const h = await bootstrapped({ unresolvedAfterMs: 1_000 });
    h.venue.answer = () => ({ status: 503, body: { error_reason: 'ServiceUnavailable', message: 'busy' } });
    const placed = await h.client.placeOrder('alpha', 'a1', LIMIT('buy', '1', '2440'));
    await h.idle();
    const mine = intent(A21, { orderHash: placed.orderHash, side: 0, amount: '1', price: '2440' });
    h.venue.orderUpdate(orderRow('ws-order-update-post', { globalOrdinal: 3, makerOrderIntent: mine }), { live: false });
    h.venue.book.push({
      ...asObject((fixture('rest-order-book-l3') as { value: unknown[] }).value[0], 'l3'),
      orderHash: placed.orderHash,
      originalAmount: '1',
      amount: '1',
      traderAddress: A21,
    });
    await h.step(1_000);
    expect(h.events.lifecycle.filter((e) => e.clientOrderId === 'a1').map((e) => e.status)).toEqual(['submitted', 'sequenced', 'posted']);
  });

  it('412 IllegalNonce: rejected when re-signing is off, re-signed with a fresh nonce (and hash) otherwise', async () => {
    const refused = await bootstrapped({ nonceRetries: 0 });
    refused.venue.answer = () => ({ status: 412, body: { error_reason: 'IllegalNonce', message: 'nonce used' } });
    await refused.client.placeOrder('alpha', 'x', LIMIT('buy', '1', '2440'));
    await refused.idle();
    expect(refused.events.lifecycle.map((e) => [e.status, e.reason])).toEqual([
      ['submitted', undefined],
      ['rejected', 'IllegalNonce'],
    ]);
    const healed = await bootstrapped();
    const sequenced = healed.venue.answer;
    let first = true;
    healed.venue.answer = (request) => {
      if (!first) return sequenced(request);
      first = false;
      return { status: 412, body: { error_reason: 'IllegalNonce', message: 'nonce used' } };
    };
    const placed = await healed.client.placeOrder('alpha', 'y', LIMIT('buy', '1', '2440'));
    await healed.idle();
    const nonces = healed.venue.requests.map((r) => asObject(r.c, 'c').nonce);
    expect(new Set(nonces).size).toBe(2);
    expect(healed.client.order('alpha', 'y')).toMatchObject({ status: 'sequenced', orderHash: placed.orderHash });
  });

  it('drops duplicate frames and reports MARK_PRICE stale after staleAfterMs of clock time, then fresh', async () => {
    const h = await bootstrapped({ staleAfterMs: { MARK_PRICE: 2_000 } });
    await h.step(2_500);
    const mark = { ...((fixture('rest-mark-prices') as { value: Json[] }).value[0] as Json), globalOrdinal: 330200 };
    h.venue.push('MARK_PRICE', 'UPDATE', [mark]);
    h.venue.skipOrdinals(-1);
    h.venue.push('MARK_PRICE', 'UPDATE', [mark]); // the same ordinal again
    await h.idle();
    expect(h.events['feed-status'].map((s) => s.stale)).toEqual([true, false]);
    expect(h.client.stats.duplicates).toBe(1);
    expect(h.events.mark.map((m) => m.globalOrdinal)).toEqual([330200]);
    expect(h.events.repair).toEqual([]);
  });
});
