import { describe, expect, it } from 'vitest';
import { dec } from '../../src/domain/decimal.ts';
import type { OrderIntent } from '../../src/domain/order.ts';
import { DEFAULT_PRODUCTS } from '../../src/domain/products.ts';
import { runCrashDrill } from '../../src/runtime/crash-drill.ts';

describe('crash drill', () => {
  it('runs the crash path on accounts of its own: every one places a reducing sell inside the product increments', async () => {
    const product = DEFAULT_PRODUCTS.ETHP!;
    const signed: OrderIntent[] = [];
    const drill = await runCrashDrill({ symbol: 'ETHP', product, price: '2400', accounts: 40, sign: (intent) => void signed.push(intent) });
    expect(drill).toMatchObject({ accounts: 40, placed: 40 });
    expect(signed).toHaveLength(40);
    for (const intent of signed) {
      expect(intent.side).toBe('sell');
      expect(dec(intent.amount).mod(product.minOrderSize).isZero()).toBe(true);
      expect(dec(intent.amount).lte(10)).toBe(true);
    }
    // Both reducing states ran: the thinnest exit (in larger steps), the others reduce a quarter at most.
    expect(signed.some((i) => dec(i.amount).gt('2.5'))).toBe(true);
    expect(signed.some((i) => dec(i.amount).lte('2.5'))).toBe(true);
  });

  it('drills at any positive price of the product, on the tick grid', async () => {
    const drill = await runCrashDrill({ symbol: 'BTCP', product: DEFAULT_PRODUCTS.BTCP!, price: '61234.5', accounts: 3 });
    expect(drill.placed).toBe(3);
  });

  it('refuses an input it cannot drill with, naming it', async () => {
    const product = DEFAULT_PRODUCTS.ETHP!;
    await expect(runCrashDrill({ symbol: 'ETHP', product, price: '0' })).rejects.toThrow('crash drill: price must be positive, got 0');
    await expect(runCrashDrill({ symbol: 'ETHP', product, price: '2000', accounts: 0 })).rejects.toThrow(
      'crash drill: accounts must be a positive integer, got 0',
    );
  });
});
