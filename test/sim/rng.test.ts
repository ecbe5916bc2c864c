import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/sim/rng.ts';

describe('createRng', () => {
  it('repeats its sequence for the same seed and differs for another', () => {
    const a = createRng(42);
    const b = createRng(42);
    const c = createRng(43);
    const xs = Array.from({ length: 8 }, () => a.nextUint32());
    expect(Array.from({ length: 8 }, () => b.nextUint32())).toEqual(xs);
    expect(Array.from({ length: 8 }, () => c.nextUint32())).not.toEqual(xs);
    for (const x of xs) expect(Number.isInteger(x) && x >= 0 && x < 2 ** 32).toBe(true);
  });

  it('draws integers in range, bytes and independent forks', () => {
    const rng = createRng(5);
    const counts = [0, 0, 0];
    for (let i = 0; i < 3000; i++) counts[rng.int(3)]! += 1;
    for (const n of counts) expect(n).toBeGreaterThan(800); // roughly uniform
    for (let i = 0; i < 100; i++) {
      const x = rng.between(-2, 2);
      expect(x >= -2 && x <= 2).toBe(true);
    }
    expect(rng.bytes(5)).toHaveLength(5);
    const f1 = createRng(9).fork();
    const f2 = createRng(9).fork();
    expect(f1.nextUint32()).toBe(f2.nextUint32());
  });
});
