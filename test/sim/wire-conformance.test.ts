import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ORDER_TYPE } from '../../src/derivadex/codes.ts';
import { strategyIdHash } from '../../src/derivadex/crypto/bytes32.ts';
import { ROW_SCHEMAS, ackSchema, frameEnvelopeSchema, type Feed } from '../../src/derivadex/feed-messages.ts';
import { PATHS } from '../../src/derivadex/paths.ts';
import {
  deploymentInfoSchema,
  encryptionKeySchema,
  exchangeInfoBodySchema,
  markPricesPageSchema,
  orderBookL3BodySchema,
  orderUpdatesPageSchema,
  positionsBodySchema,
  strategyBodySchema,
  strategyMetricsBodySchema,
  strategyUpdatesPageSchema,
} from '../../src/derivadex/rest-bodies.ts';
import { shapeDifferences } from '../harness/wire-shape.ts';
import { ALICE, ALICE21, BOB, BOB21, START, simSetup, type SimSetup } from './sim-harness.ts';

/*
 * Everything the simulator emits in a representative session — every REST body it serves and every
 * frame it sends while marks move, orders post, trade, cancel and are rejected, funding is paid and a
 * strategy is liquidated — parses with the src/derivadex schemas and has the key set and JSON types of
 * the matching golden message in test/fixtures/derivadex/ (test/harness/wire-shape.ts).
 */

function golden(name: string): unknown {
  return JSON.parse(readFileSync(new URL(`../fixtures/derivadex/${name}.json`, import.meta.url), 'utf8')) as unknown;
}

function frameSchema(feed: Feed): z.ZodType {
  return frameEnvelopeSchema.extend({
    contents: z.object({ messageType: z.enum(['PARTIAL', 'UPDATE']), data: z.array(ROW_SCHEMAS[feed]) }),
  });
}

/** The golden frame a frame is compared with: by feed, message type and reason. */
function goldenFrameName(feed: string, messageType: string, reason: unknown): string {
  switch (feed) {
    case 'MARK_PRICE':
      return 'ws-mark-price-partial';
    case 'ORDER_BOOK_L2':
      return messageType === 'PARTIAL' ? 'ws-order-book-l2-partial' : 'ws-order-book-l2-update';
    case 'ORDER_UPDATE':
      if (messageType === 'PARTIAL') return 'ws-order-update-empty-partial';
      return [
        'ws-order-update-post',
        'ws-order-update-trade',
        'ws-order-update-liquidation',
        'ws-order-update-cancellation',
        'ws-order-update-order-rejection',
        'ws-order-update-cancel-rejection',
      ][reason as number]!;
    default:
      if (messageType === 'PARTIAL') return 'ws-strategy-update-empty-partial';
      // No golden Trade (5), Fee (6) or Liquidation (7) row: the same row model as these.
      return (
        {
          0: 'ws-strategy-update-deposit',
          3: 'ws-strategy-update-funding',
          5: 'ws-strategy-update-pnl-settlement',
          6: 'ws-strategy-update-funding',
          7: 'ws-strategy-update-pnl-settlement',
        } as Record<number, string>
      )[reason as number]!;
  }
}

interface Session {
  s: SimSetup;
  bodies: Array<{ path: string; golden: string; schema: z.ZodType; body: unknown }>;
}

async function runSession(): Promise<Session> {
  const bodies: Session['bodies'] = [];
  const s = await simSetup({ funding: { rate: '0.0001', intervalMs: 1000 }, liquidity: { depth: '5', levels: 3, spreadTicks: 2 } });
  s.sim.setMark('BTCP', '40000');
  const ack = await s.control({
    action: 'SUBSCRIBE',
    nonce: '0',
    feeds: [
      { feed: 'MARK_PRICE', params: { symbols: ['ETHP', 'BTCP'] } },
      { feed: 'ORDER_BOOK_L2', params: { orderBookL2Filters: [{ symbol: 'ETHP', aggregation: 1 }] } },
      {
        feed: 'ORDER_UPDATE',
        params: { orderFilters: [{ traderAddress: ALICE21, strategyIdHash: strategyIdHash('main') }, { traderAddress: BOB21 }] },
      },
      {
        feed: 'STRATEGY_UPDATE',
        params: { strategyFilters: [{ traderAddress: ALICE21, strategyIdHash: strategyIdHash('main') }, { traderAddress: BOB21 }] },
      },
    ],
  });
  expect(ack.result).toEqual({});
  // deposit, post, trade (taker), cancel, cancel rejection, post-only rejection, funding, liquidation
  s.sim.exchange.deposit(BOB.address, 'main', '1000');
  const resting = s.order({ orderType: ORDER_TYPE.Limit, price: '1990', amount: '2' });
  s.order({ amount: '0.5' });
  s.cancel(resting);
  s.cancel(resting);
  s.order({ orderType: ORDER_TYPE.LimitPostOnly, price: '2000.2', amount: '0.1' });
  s.order({ trader: BOB.address, amount: '1.4' });
  s.clock.advanceTo(START + 1000);
  s.sim.setMark('ETHP', '2001'); // funding for Alice and Bob
  s.sim.setMark('ETHP', '1350'); // Bob liquidated
  s.order({ orderType: ORDER_TYPE.Limit, side: 1, price: '1360', amount: '0.1' }); // Alice's resting ask for the L3 book
  await s.idle();

  const trader20 = ALICE.address;
  const reads: Array<[string, string, z.ZodType]> = [
    [`${PATHS.deploymentInfo}?contractDeployment=testnet`, 'rest-contract-server-addresses', deploymentInfoSchema],
    [PATHS.exchangeInfo, 'rest-exchange-info', exchangeInfoBodySchema],
    [PATHS.encryptionKey, 'rest-encryption-key', encryptionKeySchema],
    [`${PATHS.strategy}?trader=${trader20}&strategyId=main`, 'rest-strategy', strategyBodySchema],
    [`${PATHS.positions}?trader=${trader20}&strategyId=main`, 'rest-positions', positionsBodySchema],
    [`${PATHS.strategyMetrics}?trader=${trader20}&strategyId=main`, 'rest-strategy-metrics', strategyMetricsBodySchema],
    [`${PATHS.orderUpdates}?trader=${ALICE21}&strategyIdHash=${strategyIdHash('main')}`, 'rest-order-updates', orderUpdatesPageSchema],
    [`${PATHS.orderUpdates}?trader=${BOB21}&limit=2`, 'rest-order-updates', orderUpdatesPageSchema],
    [
      `${PATHS.strategyUpdates}?trader=${ALICE21}&strategyIdHash=${strategyIdHash('main')}`,
      'rest-strategy-updates',
      strategyUpdatesPageSchema,
    ],
    [`${PATHS.strategyUpdates}?trader=${BOB21}`, 'rest-strategy-updates', strategyUpdatesPageSchema],
    [`${PATHS.orderBookL3}?trader=${ALICE21}&strategyIdHash=${strategyIdHash('main')}`, 'rest-order-book-l3', orderBookL3BodySchema],
    [`${PATHS.markPrices}?symbol=ETHP&limit=2`, 'rest-mark-prices', markPricesPageSchema],
  ];
  for (const [path, name, schema] of reads) {
    const { status, body } = await s.get(path);
    expect([path, status]).toEqual([path, 200]);
    bodies.push({ path, golden: name, schema, body });
  }
  return { s, bodies };
}

let s: SimSetup;
let bodies: Session['bodies'];
beforeAll(async () => {
  ({ s, bodies } = await runSession());
});

afterAll(async () => {
  await s.close();
});

describe('what the simulator emits matches the real shapes', () => {
  it('covers every row kind of the session', () => {
    const kinds = new Set(
      s.client
        .frames()
        .flatMap((f) => f.contents.data.map((row) => `${f.feed}:${'reason' in row ? String(row.reason) : f.contents.messageType}`)),
    );
    for (const kind of ['ORDER_UPDATE:0', 'ORDER_UPDATE:1', 'ORDER_UPDATE:2', 'ORDER_UPDATE:3', 'ORDER_UPDATE:4', 'ORDER_UPDATE:5'])
      expect(kinds).toContain(kind);
    for (const kind of ['STRATEGY_UPDATE:0', 'STRATEGY_UPDATE:3', 'STRATEGY_UPDATE:5', 'STRATEGY_UPDATE:6', 'STRATEGY_UPDATE:7'])
      expect(kinds).toContain(kind);
    expect(kinds).toContain('MARK_PRICE:UPDATE');
    expect(kinds).toContain('ORDER_BOOK_L2:UPDATE');
  });

  it('acks parse and match the golden ack', () => {
    for (const ack of s.client.received.filter((r) => r.kind === 'ack')) {
      expect(ackSchema.safeParse(ack.raw).success).toBe(true);
      expect(shapeDifferences(ack.raw, golden('ws-ack-success-empty'), ackSchema)).toEqual([]);
    }
  });

  it('every frame parses with its feed schema and has the golden frame shape', () => {
    const frames = s.client.received.flatMap((r) => (r.kind === 'feed' ? [r] : []));
    expect(frames.length).toBeGreaterThan(20);
    for (const { frame, raw } of frames) {
      const feed = frame.feed as Feed;
      const schema = frameSchema(feed);
      const parsed = schema.safeParse(raw);
      expect([frame.feed, frame.ordinal, parsed.success ? 'ok' : parsed.error.issues[0]]).toEqual([frame.feed, frame.ordinal, 'ok']);
      const rows = frame.contents.data.length === 0 ? [undefined] : frame.contents.data;
      for (const row of rows) {
        const name = goldenFrameName(frame.feed, frame.contents.messageType, row?.reason);
        const single = row === undefined ? raw : { ...frame, contents: { ...frame.contents, data: [row] } };
        expect([name, frame.ordinal, shapeDifferences(single, golden(name), schema)]).toEqual([name, frame.ordinal, []]);
      }
    }
  });

  it('every REST body parses with its schema and has the golden body shape', () => {
    for (const { path, golden: name, schema, body } of bodies) {
      const parsed = schema.safeParse(body);
      expect([path, parsed.success ? 'ok' : parsed.error.issues[0]]).toEqual([path, 'ok']);
      expect([path, shapeDifferences(body, golden(name), schema)]).toEqual([path, []]);
    }
    // The session gave the reads something to show.
    const byPath = new Map(bodies.map((b) => [b.path, b.body as { value: unknown }]));
    expect((byPath.get(`${PATHS.positions}?trader=${ALICE.address}&strategyId=main`)!.value as unknown[]).length).toBe(1);
    expect((byPath.get(`${PATHS.orderBookL3}?trader=${ALICE21}&strategyIdHash=${strategyIdHash('main')}`)!.value as unknown[]).length).toBe(
      1,
    );
  });

  it('is deterministic (the same session gives the same frames and bodies) with gap-free ordinals from 0', async () => {
    const again = await runSession();
    try {
      const text = (x: Session): string =>
        JSON.stringify({ received: x.s.client.received.map((r) => r.raw), bodies: x.bodies.map((b) => b.body) });
      expect(text(again)).toBe(text({ s, bodies }));
    } finally {
      await again.s.close();
    }
    expect(s.client.frames().map((f) => f.ordinal)).toEqual(s.client.frames().map((_, i) => i));
  });
});
