import { describe, expect, it } from 'vitest';
import { str } from '../../src/domain/decimal.ts';
import { syntheticQuotes } from '../../src/sim/synthetic-liquidity.ts';

const show = (levels: { price: { toString(): string }; amount: { toString(): string } }[]): string[][] =>
  levels.map((l) => [str(l.price.toString()), str(l.amount.toString())]);

describe('syntheticQuotes', () => {
  it('lays `levels` levels per side starting spreadTicks ticks from the mark (defaults)', () => {
    const q = syntheticQuotes('2000', '0.1');
    expect(q.bids).toHaveLength(20);
    expect(q.asks).toHaveLength(20);
    // best bid 2000 − 2 × 0.1 = 1999.8, best ask 2000 + 0.2 = 2000.2; the 20th levels 19 ticks further out
    expect(show(q.bids.slice(0, 2))).toEqual([
      ['1999.8', '50'],
      ['1999.7', '50'],
    ]);
    expect(show(q.asks.slice(0, 2))).toEqual([
      ['2000.2', '50'],
      ['2000.3', '50'],
    ]);
    expect(str(q.bids[19]!.price)).toBe('1997.9'); // 1999.8 − 1.9
    expect(str(q.asks[19]!.price)).toBe('2002.1'); // 2000.2 + 1.9
  });

  it('rounds an off-grid mark away from it: bids down, asks up', () => {
    const q = syntheticQuotes('2000.05', '0.1', { depth: '7.5', levels: 2, spreadTicks: 2 });
    // 2000.05 − 0.2 = 1999.85 → 1999.8; 2000.05 + 0.2 = 2000.25 → 2000.3
    expect(show(q.bids)).toEqual([
      ['1999.8', '7.5'],
      ['1999.7', '7.5'],
    ]);
    expect(show(q.asks)).toEqual([
      ['2000.3', '7.5'],
      ['2000.4', '7.5'],
    ]);
  });

  it('uses the product tick (BTCP tick 1) and leaves out bids at or below zero', () => {
    const btc = syntheticQuotes('42000.4', '1', { depth: '2', levels: 3, spreadTicks: 1 });
    // 42000.4 − 1 = 41999.4 → 41999; 42001.4 → 42002
    expect(show(btc.bids)).toEqual([
      ['41999', '2'],
      ['41998', '2'],
      ['41997', '2'],
    ]);
    expect(show(btc.asks)).toEqual([
      ['42002', '2'],
      ['42003', '2'],
      ['42004', '2'],
    ]);
    const low = syntheticQuotes('0.3', '0.1', { depth: '1', levels: 5, spreadTicks: 1 });
    expect(show(low.bids)).toEqual([
      ['0.2', '1'],
      ['0.1', '1'],
    ]);
  });
});
