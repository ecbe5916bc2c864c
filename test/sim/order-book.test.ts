import { describe, expect, it } from 'vitest';
import { dec, str } from '../../src/domain/decimal.ts';
import { OrderBook, levelChanges } from '../../src/sim/order-book.ts';

function bookWithAsks(): OrderBook {
  const book = new OrderBook('ETHP');
  book.add({ orderHash: 'a1', owner: 'alice', side: 1, price: dec('2000'), remaining: dec('1') });
  book.add({ orderHash: 'b1', owner: 'bob', side: 1, price: dec('2000'), remaining: dec('2') });
  book.add({ orderHash: 'c1', owner: 'carol', side: 1, price: dec('1999.9'), remaining: dec('0.5') });
  book.add({ orderHash: 'a2', owner: 'alice', side: 1, price: dec('2000.5'), remaining: dec('3') });
  return book;
}

describe('OrderBook', () => {
  it('keeps price-time priority: better price first, then earlier order', () => {
    const book = bookWithAsks();
    expect(book.orders(1).map((o) => o.orderHash)).toEqual(['c1', 'a1', 'b1', 'a2']);
    const plan = book.match({ owner: 'dave', side: 0, amount: dec('2'), limit: dec('2000') });
    // 0.5 @ 1999.9 (carol, best price) + 1 @ 2000 (alice, first at 2000) + 0.5 @ 2000 (bob)
    expect(plan.fills.map((f) => [f.makerHash, str(f.amount), str(f.price)])).toEqual([
      ['c1', '0.5', '1999.9'],
      ['a1', '1', '2000'],
      ['b1', '0.5', '2000'],
    ]);
    expect(str(plan.filled)).toBe('2');
    expect(book.get('c1')).toBeUndefined();
    expect(book.get('a1')).toBeUndefined();
    expect(str(book.get('b1')!.remaining)).toBe('1.5'); // 2 − 0.5: partially filled, keeps its place
    expect(book.orders(1).map((o) => o.orderHash)).toEqual(['b1', 'a2']);
  });

  it('stops at the limit price and reports a partial fill', () => {
    const book = bookWithAsks();
    const plan = book.match({ owner: 'dave', side: 0, amount: dec('10'), limit: dec('1999.9') });
    expect(str(plan.filled)).toBe('0.5');
    expect(book.levels()).toEqual([
      { side: 1, price: '2000', amount: '3' },
      { side: 1, price: '2000.5', amount: '3' },
    ]);
  });

  it('sells into bids best (highest) first', () => {
    const book = new OrderBook('ETHP');
    book.add({ orderHash: 'x', owner: 'bob', side: 0, price: dec('1990'), remaining: dec('1') });
    book.add({ orderHash: 'y', owner: 'bob', side: 0, price: dec('1995'), remaining: dec('1') });
    const plan = book.match({ owner: 'carol', side: 1, amount: dec('1.5'), limit: null });
    expect(plan.fills.map((f) => [f.makerHash, str(f.amount)])).toEqual([
      ['y', '1'],
      ['x', '0.5'],
    ]);
    expect(book.levels()).toEqual([{ side: 0, price: '1990', amount: '0.5' }]);
  });

  it('refuses a self-match as a whole, before anything fills', () => {
    const book = bookWithAsks();
    // alice's own ask a1 is reached after carol's 0.5: the whole order is refused.
    const plan = book.match({ owner: 'alice', side: 0, amount: dec('1'), limit: dec('2000') });
    expect(plan.selfMatch).toBe(true);
    expect(plan.fills).toEqual([]);
    expect(str(book.get('c1')!.remaining)).toBe('0.5');
    // Filled before reaching her own order: no self-match.
    const ok = book.match({ owner: 'alice', side: 0, amount: dec('0.5'), limit: dec('2000') });
    expect(ok.selfMatch).toBe(false);
    expect(str(ok.filled)).toBe('0.5');
  });

  it('aggregates levels and reports level changes with removed levels at "0"', () => {
    const book = bookWithAsks();
    book.add({ orderHash: 'd1', owner: 'dave', side: 0, price: dec('1999'), remaining: dec('4') });
    const before = book.levels();
    expect(before).toEqual([
      { side: 0, price: '1999', amount: '4' },
      { side: 1, price: '1999.9', amount: '0.5' },
      { side: 1, price: '2000', amount: '3' }, // 1 + 2
      { side: 1, price: '2000.5', amount: '3' },
    ]);
    book.match({ owner: 'eve', side: 0, amount: dec('1'), limit: dec('2000') }); // 0.5 @ 1999.9, 0.5 from a1
    book.remove('d1');
    expect(levelChanges(before, book.levels())).toEqual([
      { side: 0, price: '1999', amount: '0' },
      { side: 1, price: '1999.9', amount: '0' },
      { side: 1, price: '2000', amount: '2.5' },
    ]);
  });
});
