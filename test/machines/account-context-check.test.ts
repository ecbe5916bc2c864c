import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { accountContextShape } from '../../machines/account-context-check.ts';
import { accountContext, sampleEvents, startRecordingActor } from './account-fixture.ts';

/** Every path to a value inside `value` (objects and arrays, depth first), the root excluded. */
function pathsOf(value: unknown, at: (string | number)[] = []): (string | number)[][] {
  if (typeof value !== 'object' || value === null) return [];
  const keys: (string | number)[] = Array.isArray(value) ? value.map((_, i) => i) : Object.keys(value);
  return keys.flatMap((key) => [[...at, key], ...pathsOf((value as Record<string, unknown>)[key as string], [...at, key])]);
}

/** `value` with the thing at `path` replaced by `next` (or removed when `next` is undefined). */
function spoiled(value: unknown, path: (string | number)[], next: unknown): unknown {
  const copy = structuredClone(value) as Record<string, unknown>;
  let parent = copy;
  for (const key of path.slice(0, -1)) parent = parent[key as string] as Record<string, unknown>;
  const last = path.at(-1) as string;
  if (next === undefined) delete parent[last];
  else parent[last] = next;
  return copy;
}

/** Contexts the machine really runs on: the fixture's, then after each of a few sample events. */
function contexts(): unknown[] {
  const { actor } = startRecordingActor(accountContext());
  const seen: unknown[] = [JSON.parse(JSON.stringify(actor.getSnapshot().context))];
  for (let i = 0; i < 6; i += 1) {
    const [event] = sampleEvents(actor.getSnapshot());
    if (!event) break;
    actor.send(event);
    seen.push(JSON.parse(JSON.stringify(actor.getSnapshot().context)));
  }
  actor.stop();
  return seen;
}

describe('accountContextShape: the quick answer agrees with the problems', () => {
  const valid = contexts();

  it('calls every context the machine writes valid, with no problems', () => {
    for (const context of valid) {
      const problems: string[] = [];
      accountContextShape(context, 'context', problems);
      expect(problems).toEqual([]);
      expect(accountContextShape.valid(context)).toBe(true);
    }
  });

  it('valid(value) is true exactly when the check finds no problem, for any value at any path (seeded)', () => {
    const cases = valid.flatMap((context) => pathsOf(context).map((path) => ({ context, path })));
    fc.assert(
      fc.property(
        fc.constantFrom(...cases),
        fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constant(undefined), fc.constantFrom('7', '-0.5', 7, -1, true, null, {}, [])),
        ({ context, path }, next) => {
          const value = spoiled(context, path, next);
          const problems: string[] = [];
          accountContextShape(value, 'context', problems);
          expect(accountContextShape.valid(value)).toBe(problems.length === 0);
        },
      ),
      { seed: 20261203, numRuns: 3000 },
    );
  });
});
