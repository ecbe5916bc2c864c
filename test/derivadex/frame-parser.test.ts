import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseFrame, type FrameErrorCode } from '../../src/venue/frame-parser.ts';

const HASH = `0x${'ab'.repeat(25)}`;
const TRADER = `0x${'12'.repeat(20)}`;
const AT = '2026-01-05T13:00:00.000Z';

const tradeRow = {
  globalOrdinal: 7,
  epochId: 1,
  orderHash: HASH,
  symbol: 'ETHP',
  trader: TRADER,
  strategyIdHash: '0x2576ebd1',
  side: 0,
  orderType: 1,
  amount: '1',
  price: '0',
  reason: 1,
  fillAmount: '1',
  fillPrice: '2000.2',
  fee: '1.0001',
  filledAmount: '1',
  remainingAmount: '0',
  tradeId: '3',
  createdAt: AT,
};

function feed(feedName: string, data: unknown[], extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    sequence: 1,
    ordinal: 1,
    feed: feedName,
    subscriptionKey: `${feedName}:x`,
    contents: { messageType: 'UPDATE', data },
    ...extra,
  });
}

function errorCode(raw: string): FrameErrorCode | 'ok' {
  const parsed = parseFrame(raw);
  return parsed.ok ? 'ok' : parsed.error.code;
}

describe('parseFrame', () => {
  it('accepts acks, with and without an error', () => {
    expect(parseFrame('{"action":"SUBSCRIBE","nonce":"n1","result":{}}')).toEqual({
      ok: true,
      frame: { kind: 'ack', ack: { action: 'SUBSCRIBE', nonce: 'n1', result: {} } },
    });
    const refused = parseFrame('{"action":"UNSUBSCRIBE","nonce":"n2","result":{"error":"not subscribed"}}');
    expect(refused.ok && refused.frame.kind === 'ack' && refused.frame.ack.result.error).toBe('not subscribed');
  });

  it('types the rows of every feed', () => {
    const mark = parseFrame(
      feed('MARK_PRICE', [{ globalOrdinal: 2, epochId: 1, symbol: 'ETHP', price: '2000', fundingRate: '-0.0001', createdAt: AT }]),
    );
    expect(mark.ok && mark.frame.kind === 'feed' && mark.frame.message.feed).toBe('MARK_PRICE');
    const book = parseFrame(feed('ORDER_BOOK_L2', [{ symbol: 'ETHP', side: 1, price: '2000.2', amount: '0' }]));
    expect(book.ok).toBe(true);
    const order = parseFrame(feed('ORDER_UPDATE', [tradeRow]));
    if (!order.ok || order.frame.kind !== 'feed' || order.frame.message.feed !== 'ORDER_UPDATE')
      throw new Error('expected an ORDER_UPDATE');
    expect(order.frame.message.contents.data[0]!.fillPrice).toBe('2000.2');
    const strategy = parseFrame(
      feed('STRATEGY_UPDATE', [
        {
          globalOrdinal: 8,
          epochId: 1,
          trader: TRADER,
          strategyIdHash: '0x2576ebd1',
          reason: 5,
          collateralChange: '-0.2',
          collateral: '9999.8',
          symbol: 'ETHP',
          positionSide: 0,
          positionSize: '1',
          avgEntryPrice: '2000.2',
          tradeId: '3',
          createdAt: AT,
        },
      ]),
    );
    expect(strategy.ok).toBe(true);
  });

  it('names the place of a bad row', () => {
    const bad = parseFrame(feed('ORDER_UPDATE', [tradeRow, { ...tradeRow, fillPrice: 2000.2 }]));
    expect(bad).toEqual({ ok: false, error: { code: 'bad-row', path: 'contents.data[1].fillPrice', message: expect.any(String) } });
    const missing = parseFrame(feed('ORDER_UPDATE', [{ ...tradeRow, fillAmount: undefined }]));
    expect(!missing.ok && missing.error.path).toBe('contents.data[0].fillAmount');
    const rejection = parseFrame(feed('ORDER_UPDATE', [{ ...tradeRow, reason: 4 }]));
    expect(!rejection.ok && rejection.error.path).toBe('contents.data[0].orderRejection');
  });

  it('sorts every kind of bad frame into its code', () => {
    expect(errorCode('not json')).toBe('not-json');
    expect(errorCode('[1,2]')).toBe('bad-shape');
    expect(errorCode('null')).toBe('bad-shape');
    expect(errorCode('{"hello":1}')).toBe('bad-shape');
    expect(errorCode('{"action":"DANCE","nonce":"x","result":{}}')).toBe('bad-shape');
    expect(errorCode(feed('FUNDING', []))).toBe('unknown-feed');
    expect(errorCode(feed('MARK_PRICE', [], { ordinal: -1 }))).toBe('bad-shape');
    expect(errorCode(feed('MARK_PRICE', [], { ordinal: 1.5 }))).toBe('bad-shape');
    expect(parseFrame(Buffer.from([0xff, 0xfe]))).toMatchObject({ ok: false, error: { code: 'not-text' } });
    expect(parseFrame(Buffer.from('{}'), true)).toMatchObject({ ok: false, error: { code: 'not-text' } });
  });

  it('never throws on random strings, and rejects all but valid frames (seeded)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (text) => {
        const parsed = parseFrame(text);
        if (!parsed.ok) expect(['not-json', 'bad-shape', 'unknown-feed', 'bad-row']).toContain(parsed.error.code);
      }),
      { seed: 4242, numRuns: 5_000 },
    );
  });

  it('never throws on random JSON shapes, including near-valid frames (seeded)', () => {
    const nearFrame = fc.record({
      sequence: fc.oneof(fc.nat(), fc.string(), fc.constant(null)),
      ordinal: fc.oneof(fc.nat(), fc.integer({ min: -5, max: -1 }), fc.double()),
      feed: fc.constantFrom('MARK_PRICE', 'ORDER_BOOK_L2', 'ORDER_UPDATE', 'STRATEGY_UPDATE', 'OTHER'),
      subscriptionKey: fc.string(),
      contents: fc.record({
        messageType: fc.constantFrom('PARTIAL', 'UPDATE', 'X'),
        data: fc.array(fc.oneof(fc.jsonValue(), fc.constant(tradeRow))),
      }),
    });
    const nearAck = fc.record({
      action: fc.constantFrom('SUBSCRIBE', 'UNSUBSCRIBE', 'X'),
      nonce: fc.oneof(fc.string(), fc.nat()),
      result: fc.jsonValue(),
    });
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), nearFrame, nearAck), (value) => {
        const text = JSON.stringify(value) ?? 'undefined';
        const parsed = parseFrame(text);
        if (parsed.ok) {
          // Whatever is accepted is well-typed where it matters.
          if (parsed.frame.kind === 'feed') expect(Number.isSafeInteger(parsed.frame.message.ordinal)).toBe(true);
          else expect(typeof parsed.frame.ack.nonce).toBe('string');
        } else {
          expect(typeof parsed.error.path).toBe('string');
          expect(parsed.error.message.length).toBeGreaterThan(0);
        }
      }),
      { seed: 777, numRuns: 5_000 },
    );
  });
});
