import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseFrame } from '../../src/derivadex/frame-parser.ts';

/*
 * `parseFrame` is total: whatever a venue sends, it returns a typed result and never throws (issue 12,
 * failure 2: a MARK_PRICE row with `price: "abc"` or `""` used to throw out of a decimal refinement and
 * kill every supervisor reading the feed).
 */

const DIR = fileURLToPath(new URL('../fixtures/derivadex/', import.meta.url));
const FRAMES = readdirSync(DIR)
  .filter(
    (name) =>
      name.startsWith('ws-') && !name.startsWith('ws-ack') && !name.startsWith('ws-subscribe') && !name.startsWith('ws-unsubscribe'),
  )
  .map((name) => JSON.parse(readFileSync(`${DIR}${name}`, 'utf8')) as Record<string, unknown>);

const markFrame = (price: unknown) => ({
  sequence: 1,
  ordinal: 0,
  feed: 'MARK_PRICE',
  subscriptionKey: 'MARK_PRICE',
  contents: {
    messageType: 'UPDATE',
    data: [{ globalOrdinal: 1, epochId: 1, price, fundingRate: '0', symbol: 'ETHP', createdAt: '2026-01-01T00:00:00Z' }],
  },
});

/** Every leaf of a JSON value, as a path of keys. */
function leaves(value: unknown, path: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(value)) return value.flatMap((v, i) => leaves(v, [...path, i]));
  if (typeof value === 'object' && value !== null) return Object.entries(value).flatMap(([k, v]) => leaves(v, [...path, k]));
  return [path];
}

function withLeaf(value: unknown, path: readonly (string | number)[], leaf: unknown): unknown {
  const [head, ...rest] = path;
  if (head === undefined) return leaf;
  if (Array.isArray(value)) return value.map((v: unknown, i) => (i === head ? withLeaf(v, rest, leaf) : v));
  const record = value as Record<string, unknown>;
  return { ...record, [head]: withLeaf(record[head], rest, leaf) };
}

describe('parseFrame never throws', () => {
  it.each(['abc', '', '-1', '1e5', ' 1', null, 5, {}, []])('a MARK_PRICE price of %j is a bad-row error at its path', (price) => {
    const parsed = parseFrame(JSON.stringify(markFrame(price)));
    expect(parsed).toMatchObject({ ok: false, error: { code: 'bad-row', path: 'contents.data[0].price' } });
  });

  it('any leaf of any golden frame replaced by any JSON value: a result, never an exception', () => {
    const frames = FRAMES.map((frame) => ({ frame, paths: leaves(frame) }));
    fc.assert(
      fc.property(fc.nat({ max: frames.length - 1 }), fc.nat(), fc.jsonValue(), (which, leaf, replacement) => {
        const { frame, paths } = frames[which]!;
        const mutated = withLeaf(frame, paths[leaf % paths.length]!, replacement);
        const parsed = parseFrame(JSON.stringify(mutated));
        expect(typeof parsed.ok).toBe('boolean');
      }),
      { seed: 12, numRuns: 3_000 },
    );
  });

  it('arbitrary text and binary: a result, never an exception', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json(), fc.uint8Array()), (input) => {
        const parsed = typeof input === 'string' ? parseFrame(input) : parseFrame(Buffer.from(input), true);
        expect(parsed.ok === false || parsed.frame !== undefined).toBe(true);
      }),
      { seed: 12, numRuns: 2_000 },
    );
  });
});
