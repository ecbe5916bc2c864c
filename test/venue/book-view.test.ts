import { describe, expect, it } from 'vitest';
import { BookView } from '../../src/venue/book-view.ts';

describe('BookView', () => {
  it('replaces on PARTIAL, merges UPDATEs, removes zero levels, sorts best first', () => {
    const book = new BookView('ETHP');
    expect(book.apply('UPDATE', [{ symbol: 'ETHP', side: 0, price: '1999', amount: '1' }])).toBe(false);
    expect(book.synced).toBe(false);
    book.apply('PARTIAL', [
      { symbol: 'ETHP', side: 0, price: '1999.8', amount: '50' },
      { symbol: 'ETHP', side: 0, price: '1999.9', amount: '5' },
      { symbol: 'ETHP', side: 1, price: '2000.3', amount: '50' },
      { symbol: 'ETHP', side: 1, price: '2000.2', amount: '50' },
    ]);
    book.apply('UPDATE', [
      { symbol: 'ETHP', side: 1, price: '2000.2', amount: '0' },
      { symbol: 'ETHP', side: 0, price: '1999.80', amount: '49.5' },
      { symbol: 'BTCP', side: 0, price: '1', amount: '1' },
    ]);
    expect(book.snapshot()).toEqual({
      symbol: 'ETHP',
      bids: [
        { price: '1999.9', amount: '5' },
        { price: '1999.8', amount: '49.5' },
      ],
      asks: [{ price: '2000.3', amount: '50' }],
    });
    book.invalidate();
    expect(book.apply('UPDATE', [])).toBe(false);
    book.apply('PARTIAL', []);
    expect(book.snapshot()).toEqual({ symbol: 'ETHP', bids: [], asks: [] });
  });
});
