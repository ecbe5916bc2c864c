import type { Random } from './random.ts';

/**
 * Mutations of well-formed inputs, the way a broken venue, a half-written file or a hostile peer would
 * produce them: values of the wrong type or no value, numbers that are not numbers, keys gone or added,
 * text cut short or with a byte flipped. Deterministic for a given `Random`.
 */

/** Values that have broken parsers before: decimals that are not, sizes past every limit, odd types. */
const HOSTILE: readonly unknown[] = [
  'abc',
  '',
  ' ',
  '-1',
  '-0',
  '0',
  'NaN',
  'Infinity',
  '-Infinity',
  '1e400',
  '1e-400',
  '2.4513e3',
  '0x10',
  '1,5',
  '1.2.3',
  '+1',
  ' 12',
  '١٢٣',
  '9'.repeat(400),
  `0.${'0'.repeat(300)}1`,
  '\u0000',
  '💥',
  '<script>alert(1)</script>',
  '../../etc/passwd',
  '__proto__',
  'x'.repeat(5000),
  null,
  true,
  false,
  0,
  -1,
  1.5,
  -0.5,
  1e308,
  -1e308,
  2 ** 53 + 1,
  {},
  [],
  [null],
  { __proto__: 1 },
];

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isObject(value: unknown): value is Record<string, Json> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A random JSON value of bounded size. */
export function randomJson(rng: Random, depth = 0): Json {
  const kind = rng.int(0, depth > 3 ? 3 : 6);
  switch (kind) {
    case 0:
      return null;
    case 1:
      return rng.chance(0.5);
    case 2:
      return rng.chance(0.5) ? rng.int(-1e6, 1e6) : rng.next() * 1e6;
    case 3:
      return rng.chance(0.5) ? (rng.pick(HOSTILE.filter((h) => typeof h === 'string')) as string) : String(rng.int(0, 99999));
    case 4:
    case 5: {
      const out: Record<string, Json> = {};
      for (let i = rng.int(0, 5); i > 0; i -= 1) out[rng.pick(KEYS)] = randomJson(rng, depth + 1);
      return out;
    }
    default:
      return Array.from({ length: rng.int(0, 4) }, () => randomJson(rng, depth + 1));
  }
}

/** Keys of the real shapes, so random objects sometimes get deep into a schema. */
const KEYS = [
  'feed',
  'contents',
  'data',
  'messageType',
  'sequence',
  'ordinal',
  'price',
  'symbol',
  'amount',
  'side',
  'value',
  'success',
  'timestamp',
  'result',
  'error',
  'snapshot',
  'meta',
  'status',
  'context',
  'accounts',
  'marks',
  'until',
  'at',
  'kind',
  't',
  'c',
];

/** Every path into a JSON value (including the root, `[]`). */
function paths(value: Json, at: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(at);
  if (out.length > 4000) return out;
  if (Array.isArray(value)) value.forEach((v, i) => paths(v, [...at, i], out));
  else if (isObject(value)) for (const [k, v] of Object.entries(value)) paths(v, [...at, k], out);
  return out;
}

function get(root: Json, path: readonly (string | number)[]): Json {
  let node: Json = root;
  for (const key of path) node = (node as Record<string | number, Json>)[key] as Json;
  return node;
}

/** One structural mutation of a copy of `value`. */
function mutateOnce(value: Json, rng: Random): Json {
  const all = paths(value);
  const path = rng.pick(all);
  const target = get(value, path);
  const replacement = (): Json => {
    const op = rng.int(0, 9);
    if (op <= 3) return structuredClone(rng.pick(HOSTILE)) as Json;
    if (op === 4) return randomJson(rng);
    if (op === 5 && typeof target === 'string') {
      // A number where a decimal string was, or the string bent.
      return rng.chance(0.5) && Number.isFinite(Number(target))
        ? Number(target)
        : target.slice(0, rng.int(0, target.length)) + rng.pick(['.', '-', 'e', ' ', '']);
    }
    if (op === 6 && typeof target === 'number') return rng.chance(0.5) ? String(target) : -target;
    if (op === 7 && Array.isArray(target)) return rng.chance(0.5) ? [] : [...target, ...target];
    if (op === 8) return Array.from({ length: rng.int(0, 3) }, () => structuredClone(target));
    return null;
  };
  if (path.length === 0) return rng.chance(0.2) ? replacement() : mutateChildren(value, rng);
  const parentPath = path.slice(0, -1);
  const key = path[path.length - 1]!;
  const parent = get(value, parentPath) as Record<string | number, Json> | Json[];
  const action = rng.int(0, 9);
  if (action === 0 && Array.isArray(parent)) parent.splice(key as number, 1);
  else if (action === 0 && isObject(parent)) delete parent[key as string];
  else if (action === 1 && isObject(parent)) parent[`${rng.pick(KEYS)}${rng.chance(0.5) ? '' : 'X'}`] = randomJson(rng);
  else (parent as Record<string | number, Json>)[key] = replacement();
  return value;
}

function mutateChildren(value: Json, rng: Random): Json {
  if (isObject(value)) value[rng.pick(KEYS)] = randomJson(rng);
  else if (Array.isArray(value)) value.push(randomJson(rng));
  return value;
}

/** A copy of `value` with 1–4 structural mutations. */
export function mutateJson(value: unknown, rng: Random): unknown {
  let out = structuredClone(value) as Json;
  for (let n = rng.int(1, 4); n > 0; n -= 1) out = mutateOnce(out, rng);
  return out;
}

/** `text` cut, with a character flipped, inserted, removed or a slice repeated. */
export function mutateText(text: string, rng: Random): string {
  let out = text;
  for (let n = rng.int(1, 3); n > 0; n -= 1) {
    const i = rng.int(0, Math.max(0, out.length - 1));
    switch (rng.int(0, 5)) {
      case 0:
        out = out.slice(0, i);
        break;
      case 1:
        out = out.slice(0, i) + String.fromCharCode(rng.int(0, 0xff)) + out.slice(i + 1);
        break;
      case 2:
        out =
          out.slice(0, i) +
          rng.pick(['{', '}', '[', ']', '"', ',', ':', '\\', '\n', '  ', '- ', '&a', '*a', '!!', '#', '\u0000']) +
          out.slice(i);
        break;
      case 3:
        out = out.slice(0, i) + out.slice(i + rng.int(1, 20));
        break;
      case 4: {
        const j = Math.min(out.length, i + rng.int(1, 200));
        out = out.slice(0, j) + out.slice(i, j) + out.slice(j);
        break;
      }
      default:
        out = out.slice(0, i) + String.fromCharCode(rng.int(0x20, 0x7e)) + out.slice(i);
    }
  }
  return out;
}

/** An array nested `depth` deep: the input that exhausts recursive validators. */
export function deepNesting(depth: number, open = '[', close = ']'): string {
  return open.repeat(depth) + close.repeat(depth);
}
