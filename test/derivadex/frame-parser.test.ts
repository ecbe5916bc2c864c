import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseFrame, type FrameErrorCode } from '../../src/derivadex/frame-parser.ts';
import { fixture, fixtureRow } from '../venue/wire-fixtures.ts';

/*
 * parseFrame on frames in the real shapes (the golden fixtures of test/fixtures/derivadex/, SDK realtime
 * models and docs realtime examples), and on everything else.
 */

const tradeRow = fixtureRow('ws-order-update-trade');

function feed(feedName: string, data: unknown[], extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    sequence: 1,
    ordinal: 1,
    feed: feedName,
    subscriptionKey: `${feedName}|symbol=ETHP`,
    contents: { messageType: 'UPDATE', data },
    ...extra,
  });
}

function errorCode(raw: string): FrameErrorCode | 'ok' {
  const parsed = parseFrame(raw);
  return parsed.ok ? 'ok' : parsed.error.code;
}

describe('parseFrame', () => {
  it('accepts acks in every documented form: result {}, error null, only result, an error string', () => {
    expect(parseFrame(JSON.stringify(fixture('ws-ack-success-empty')))).toEqual({
      ok: true,
      frame: { kind: 'ack', ack: { action: 'SUBSCRIBE', nonce: '0', result: {} } },
    });
    const nullError = parseFrame(JSON.stringify(fixture('ws-ack-success-error-null')));
    expect(nullError.ok && nullError.frame.kind === 'ack' && nullError.frame.ack.result.error).toBeNull();
    expect(parseFrame('{"result":{}}')).toEqual({ ok: true, frame: { kind: 'ack', ack: { result: {} } } });
    const refused = parseFrame(JSON.stringify(fixture('ws-ack-error')));
    expect(refused.ok && refused.frame.kind === 'ack' && refused.frame.ack.result.error).toBe('Unexpected error.');
  });

  it('types the rows of every feed (the golden frames)', () => {
    for (const name of [
      'ws-mark-price-partial',
      'ws-order-book-l2-partial',
      'ws-order-book-l2-update',
      'ws-order-update-trade',
      'ws-strategy-update-funding',
    ]) {
      const parsed = parseFrame(JSON.stringify(fixture(name)));
      expect(parsed.ok, name).toBe(true);
    }
    const order = parseFrame(JSON.stringify(fixture('ws-order-update-trade')));
    if (!order.ok || order.frame.kind !== 'feed' || order.frame.message.feed !== 'ORDER_UPDATE')
      throw new Error('expected an ORDER_UPDATE');
    const row = order.frame.message.contents.data[0]!;
    expect([row.amount, row.price, row.takerFeeCollateral, row.makerOrderIntent.traderAddress]).toEqual([
      '0.5',
      '2450.5',
      '0.6126',
      '0x00a1b2c3d4e5f60718293a4b5c6d7e8f9012345678',
    ]);
    const strategy = parseFrame(JSON.stringify(fixture('ws-strategy-update-pnl-settlement')));
    if (!strategy.ok || strategy.frame.kind !== 'feed' || strategy.frame.message.feed !== 'STRATEGY_UPDATE')
      throw new Error('expected a STRATEGY_UPDATE');
    expect(strategy.frame.message.contents.data[0]!.positions?.[0]).toMatchObject({ balance: '1.5', side: 1 });
  });

  it('names the place of a bad row', () => {
    const bad = parseFrame(feed('ORDER_UPDATE', [tradeRow, { ...tradeRow, price: 2450.5 }]));
    expect(bad).toEqual({ ok: false, error: { code: 'bad-row', path: 'contents.data[1].price', message: expect.any(String) } });
    const maker = tradeRow.makerOrderIntent as Record<string, unknown>;
    const shortHash = parseFrame(feed('ORDER_UPDATE', [{ ...tradeRow, makerOrderIntent: { ...maker, orderHash: '0xabcd' } }]));
    expect(shortHash).toEqual({
      ok: false,
      error: { code: 'bad-row', path: 'contents.data[0].makerOrderIntent.orderHash', message: 'expected 25-byte hex' },
    });
    const missing = parseFrame(feed('ORDER_UPDATE', [{ ...tradeRow, amount: undefined }]));
    expect(!missing.ok && missing.error.path).toBe('contents.data[0].amount');
    const rejection = parseFrame(feed('ORDER_UPDATE', [{ ...tradeRow, reason: 4 }]));
    expect(!rejection.ok && rejection.error.path).toBe('contents.data[0].orderRejection');
    const cancelText = parseFrame(
      feed('ORDER_UPDATE', [{ ...fixtureRow('ws-order-update-cancel-rejection'), cancelRejection: 'InvalidOrder' }]),
    );
    expect(!cancelText.ok && cancelText.error.path).toBe('contents.data[0].cancelRejection');
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
          else expect(['string', 'undefined', 'object']).toContain(typeof parsed.frame.ack.nonce);
        } else {
          expect(typeof parsed.error.path).toBe('string');
          expect(parsed.error.message.length).toBeGreaterThan(0);
        }
      }),
      { seed: 777, numRuns: 5_000 },
    );
  });
});
