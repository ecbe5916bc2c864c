import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RingBuffer } from '../../src/api/ring-buffer.ts';

describe('RingBuffer', () => {
  it('keeps the newest `capacity` items in order', () => {
    const ring = new RingBuffer<number>(3);
    expect(ring.last()).toEqual([]);
    expect(ring.newest()).toBeUndefined();
    for (const n of [1, 2]) ring.push(n);
    expect(ring.last()).toEqual([1, 2]);
    for (const n of [3, 4, 5]) ring.push(n);
    expect(ring.last()).toEqual([3, 4, 5]);
    expect(ring.last(2)).toEqual([4, 5]);
    expect(ring.last(0)).toEqual([]);
    expect(ring.last(10)).toEqual([3, 4, 5]);
    expect(ring.newest()).toBe(5);
    expect(ring.size).toBe(3);
  });

  it('is the tail of the pushed sequence, whatever the capacity and pushes', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.array(fc.integer(), { maxLength: 100 }), fc.nat(30), (capacity, items, n) => {
        const ring = new RingBuffer<number>(capacity);
        for (const item of items) ring.push(item);
        const tail = items.slice(-capacity);
        expect(ring.last()).toEqual(tail);
        expect(ring.last(n)).toEqual(n === 0 ? [] : tail.slice(-n));
      }),
      { seed: 8377, numRuns: 300 },
    );
  });

  it('refuses a capacity that is not a positive integer', () => {
    expect(() => new RingBuffer(0)).toThrow(RangeError);
    expect(() => new RingBuffer(1.5)).toThrow(RangeError);
  });
});
