import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VisitQueue } from '../../src/runtime/visit-queue.ts';

describe('VisitQueue', () => {
  it('gives the slots by key, ties by slot, whatever order they came in and however the keys moved', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.nat(500), { maxLength: 80 }),
        fc.array(fc.oneof(fc.integer({ min: -5, max: 5 }), fc.constant(Number.NEGATIVE_INFINITY), fc.constant(Number.POSITIVE_INFINITY)), {
          minLength: 501,
          maxLength: 501,
        }),
        fc.integer({ min: 0, max: 10 }),
        (slots, keys, taken) => {
          let key = (slot: number) => keys[slot]!;
          const queue = new VisitQueue((slot) => key(slot));
          for (const s of slots) queue.push(s);
          queue.rekey();
          const first: number[] = [];
          for (let i = 0; i < Math.min(taken, slots.length); i += 1) first.push(queue.pop()!);
          // The marks moved: every key changes, the rest is ordered by the new keys.
          key = (slot: number) => -keys[slot]!;
          queue.rekey();
          const rest: number[] = [];
          for (let s = queue.pop(); s !== undefined; s = queue.pop()) rest.push(s);
          const byOld = [...slots].sort((a, b) => keys[a]! - keys[b]! || a - b);
          expect(first).toEqual(byOld.slice(0, first.length));
          const left = byOld.slice(first.length).sort((a, b) => -keys[a]! - -keys[b]! || a - b);
          expect(rest).toEqual(left);
        },
      ),
      { seed: 31, numRuns: 300 },
    );
  });
});
