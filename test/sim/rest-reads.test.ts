import { afterEach, describe, expect, it } from 'vitest';
import { ORDER_TYPE } from '../../src/derivadex/codes.ts';
import { strategyIdHash } from '../../src/derivadex/crypto/bytes32.ts';
import { PATHS } from '../../src/derivadex/paths.ts';
import { deploymentInfoSchema, orderUpdatesPageSchema, strategyBodySchema } from '../../src/derivadex/rest-bodies.ts';
import { DEPLOYMENT_ADDRESS_KEYS } from '../../src/sim/deployment.ts';
import { ALICE, ALICE21, START, simSetup, type SimSetup } from './sim-harness.ts';

let open: SimSetup | undefined;
afterEach(async () => {
  await open?.close();
  open = undefined;
});

describe('REST reads', () => {
  it('serves the deployment info bare, with the EIP-712 domain of the configured venue', async () => {
    open = await simSetup({ chainId: 11155111 });
    const { status, body } = await open.get(`${PATHS.deploymentInfo}?contractDeployment=testnet`);
    expect(status).toBe(200);
    const info = deploymentInfoSchema.parse(body);
    expect(info.chainId).toBe(11155111);
    expect(info.addresses.derivaDEXAddress).toBe(open.sim.venue.verifyingContract.toLowerCase());
    expect(Object.keys((body as { addresses: object }).addresses)).toEqual([...DEPLOYMENT_ADDRESS_KEYS]);
    expect((await open.get(PATHS.deploymentInfo)).body).toEqual({
      success: false,
      message: 'contractDeployment: required',
      timestamp: START / 1000,
    });
  });

  it('envelopes reads with the clock in unix seconds and serves the key bare', async () => {
    open = await simSetup();
    const info = await open.get(PATHS.exchangeInfo);
    expect(info.body).toMatchObject({
      success: true,
      timestamp: START / 1000,
      value: { assets: ['USDC'], symbols: [{ symbol: 'BTCP' }, { symbol: 'ETHP', kind: 'SingleNamePerpetual' }] },
    });
    expect(Object.keys((info.body as { value: { symbols: object[] } }).value.symbols[0]!).sort()).toEqual([
      'kind',
      'maxOrderNotional',
      'maxTakerPriceDeviation',
      'minOrderSize',
      'symbol',
      'tickSize',
    ]);
    expect((await open.get(PATHS.encryptionKey)).body).toBe(open.sim.operatorPublicKey);
  });

  it('takes the trader in either form on /stats reads and answers null for an unknown strategy', async () => {
    open = await simSetup();
    for (const trader of [ALICE.address, ALICE21]) {
      const body = strategyBodySchema.parse((await open.get(`${PATHS.strategy}?trader=${trader}&strategyId=main`)).body);
      expect(body.value).toMatchObject({ trader: ALICE21, availCollateral: '100000', strategyIdHash: strategyIdHash('main') });
    }
    expect((await open.get(`${PATHS.strategy}?trader=${ALICE.address}&strategyId=other`)).body).toMatchObject({
      value: null,
      success: true,
    });
  });

  it('pages order updates with the real query names (repeatable orderHash and reason)', async () => {
    open = await simSetup();
    const a = open.order({ orderType: ORDER_TYPE.Limit, price: '1990', amount: '0.1' });
    open.order({ orderType: ORDER_TYPE.Limit, price: '1991', amount: '0.1' });
    const c = open.order({ orderType: ORDER_TYPE.Limit, price: '1992', amount: '0.1' });
    const base = `${PATHS.orderUpdates}?trader=${ALICE21}&strategyIdHash=${strategyIdHash('main')}`;
    const page = orderUpdatesPageSchema.parse((await open.get(`${base}&limit=2`)).body);
    expect([page.value.map((r) => r.globalOrdinal), page.nextGlobalOrdinal]).toEqual([[1, 2], 3]);
    const picked = orderUpdatesPageSchema.parse((await open.get(`${base}&orderHash=${a}&orderHash=${c}&reason=0&reason=3`)).body);
    expect(picked.value.map((r) => r.makerOrderIntent.orderHash)).toEqual([a, c]);
    const newest = orderUpdatesPageSchema.parse((await open.get(`${base}&order=desc&limit=1`)).body);
    expect(newest.value.map((r) => r.globalOrdinal)).toEqual([3]);
    const book = (await open.get(`${PATHS.orderBookL3}?trader=${ALICE21}&side=0`)).body as { value: Array<{ price: string }> };
    expect(book.value.map((e) => e.price)).toEqual(['1992', '1991', '1990']);
    // depth counts the book's price levels per side (here the synthetic bids above ours), before the trader filter.
    const top = (await open.get(`${PATHS.orderBookL3}?side=0&depth=2`)).body as { value: Array<{ price: string }> };
    expect(top.value.map((e) => e.price)).toEqual(['1999.8', '1999.7']);
  });

  it('answers a bad parameter with 400 naming it, and an unknown path with 404', async () => {
    open = await simSetup();
    const cases: Array<[string, string]> = [
      [`${PATHS.orderUpdates}?limit=0`, 'limit: expected a whole number >= 1, got "0"'],
      [`${PATHS.orderUpdates}?order=up`, 'order: expected asc or desc, got "up"'],
      [`${PATHS.orderUpdates}?reason=9`, 'reason: expected one of 0, 1, 2, 3, 4, 5, got "9"'],
      [`${PATHS.orderUpdates}?orderHash=0x12`, 'orderHash: expected 25 bytes (0x and 50 hex digits), got "0x12"'],
      [`${PATHS.orderUpdates}?since=5&order=desc`, 'since: not allowed with order=desc'],
      [
        `${PATHS.strategyUpdates}?trader=me`,
        'trader: expected an address (0x + 40 hex digits, or the 21-byte 0x00 + 40 hex digits), got "me"',
      ],
      [`${PATHS.markPrices}?symbol=DOGEP`, 'symbol: unknown symbol "DOGEP" (known: BTCP, ETHP)'],
      [`${PATHS.positions}?trader=${ALICE.address}`, 'strategyId: required'],
      [`${PATHS.orderBookL3}?strategyIdHash=main`, 'strategyIdHash: expected 4 bytes (0x and 8 hex digits), got "main"'],
    ];
    for (const [path, message] of cases) {
      const answer = await open.get(path);
      expect([path, answer.status, answer.body]).toEqual([path, 400, { success: false, message, timestamp: START / 1000 }]);
    }
    const missing = await open.get('/nope');
    expect([missing.status, missing.body]).toEqual([404, { success: false, message: 'no route GET /nope', timestamp: START / 1000 }]);
  });
});
