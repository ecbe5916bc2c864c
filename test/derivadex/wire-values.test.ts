import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { orderUpdateRowSchema } from '../../src/derivadex/order-update.ts';
import { decimal, nonNegativeDecimal, orderHash, parseJson, parseWire, traderAddress } from '../../src/derivadex/wire-values.ts';

describe('wire values', () => {
  it('takes decimals only as strings', () => {
    expect(decimal.safeParse('-1.25').success).toBe(true);
    expect(decimal.safeParse(1.25).success).toBe(false);
    expect(nonNegativeDecimal.safeParse('-1').error?.issues[0]?.message).toBe('expected a decimal string >= 0');
  });

  it('names hex by its byte length', () => {
    expect(orderHash.safeParse('0x1234').error?.issues[0]?.message).toBe('expected 25-byte hex');
    expect(traderAddress.safeParse('0xa1b2c3d4e5f60718293a4b5c6d7e8f9012345678').success).toBe(false);
  });

  it('reports the first problem with its path under a base', () => {
    const schema = z.object({ data: z.array(z.object({ price: decimal })) });
    expect(parseWire(schema, { data: [{ price: '1' }, { price: 2 }] }, 'contents')).toEqual({
      ok: false,
      issue: { path: 'contents.data[1].price', message: 'expected a decimal string' },
    });
    expect(parseJson('{')).toEqual({ ok: false, issue: { path: '', message: 'not valid JSON' } });
  });

  it('refuses a placeholder intent outside a rejection, and accepts it on one (order and account event reference)', () => {
    const intent = {
      epochId: 1,
      orderHash: '',
      symbol: '',
      side: 0,
      amount: '',
      price: '',
      traderAddress: '',
      strategyIdHash: '',
      orderType: 0,
      stopPrice: '',
      nonce: '',
      signature: '',
      createdAt: '',
    };
    const row = { globalOrdinal: 1, epochId: 1, ordinal: 0, symbol: 'ETHP', makerOrderIntent: intent, createdAt: '2026-01-01T00:00:00Z' };
    expect(orderUpdateRowSchema.safeParse({ ...row, reason: 4, orderRejection: 3 }).success).toBe(true);
    const post = orderUpdateRowSchema.safeParse({ ...row, reason: 0 });
    expect(post.error?.issues[0]).toMatchObject({
      path: ['makerOrderIntent', 'orderHash'],
      message: 'must not be empty outside an OrderRejection row',
    });
  });
});
