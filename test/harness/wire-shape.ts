import { z } from 'zod';

/*
 * Compares the shape of a message with a golden one (test/fixtures/derivadex/): the same keys,
 * recursively, and the same JSON types. A key may be missing on one side only where the schema marks it
 * optional; a value may be null on one side only where the schema marks it nullable. A key the schema
 * does not know (a lenient schema reads only what it uses) must be on both sides with the same JSON type:
 * a key only the message has is an invented one. Arrays: every element of the message is compared with
 * the golden's first element.
 */

type JsonType = 'null' | 'array' | 'object' | 'string' | 'number' | 'boolean' | 'other';

function jsonType(value: unknown): JsonType {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  switch (typeof value) {
    case 'object':
      return 'object';
    case 'string':
      return 'string';
    case 'number':
      return 'number';
    case 'boolean':
      return 'boolean';
    default:
      return 'other';
  }
}

/** The schema under optional / nullable / default wrappers, and what those wrappers allow. */
function unwrap(schema: z.ZodType): { inner: z.ZodType; optional: boolean; nullable: boolean } {
  let inner = schema;
  let optional = false;
  let nullable = false;
  for (;;) {
    if (inner instanceof z.ZodOptional) {
      optional = true;
      inner = inner.unwrap() as z.ZodType;
    } else if (inner instanceof z.ZodNullable) {
      nullable = true;
      inner = inner.unwrap() as z.ZodType;
    } else if (inner instanceof z.ZodDefault) {
      optional = true;
      inner = inner.unwrap() as z.ZodType;
    } else return { inner, optional, nullable };
  }
}

function at(path: string, key: string | number): string {
  return typeof key === 'number' ? `${path}[${key}]` : path === '' ? key : `${path}.${key}`;
}

/** Every shape difference between `actual` and `golden` under `schema`; [] when they agree. */
export function shapeDifferences(actual: unknown, golden: unknown, schema: z.ZodType, path = ''): string[] {
  const { inner, nullable } = unwrap(schema);
  const ta = jsonType(actual);
  const tg = jsonType(golden);
  if (ta !== tg) {
    if (nullable && (ta === 'null' || tg === 'null')) return [];
    return [`${path || '(root)'}: ${ta} here, ${tg} in the golden message`];
  }
  if (ta === 'array') {
    const a = actual as unknown[];
    const g = golden as unknown[];
    if (g.length === 0 || a.length === 0) return [];
    const element = inner instanceof z.ZodArray ? (inner.element as z.ZodType) : z.unknown();
    return a.flatMap((item, i) => shapeDifferences(item, g[0], element, at(path, i)));
  }
  if (ta === 'object') {
    if (!(inner instanceof z.ZodObject)) return [];
    const shape = inner.shape as Record<string, z.ZodType>;
    const a = actual as Record<string, unknown>;
    const g = golden as Record<string, unknown>;
    const out: string[] = [];
    for (const key of [...new Set([...Object.keys(a), ...Object.keys(g)])].sort()) {
      const field = shape[key];
      const where = at(path, key);
      const inA = Object.hasOwn(a, key);
      const inG = Object.hasOwn(g, key);
      if (field === undefined) {
        if (inA && inG) out.push(...shapeDifferences(a[key], g[key], z.unknown(), where));
        else out.push(`${where}: not in the schema, and only ${inA ? 'here' : 'in the golden message'}`);
        continue;
      }
      if (inA && inG) out.push(...shapeDifferences(a[key], g[key], field, where));
      else if (!unwrap(field).optional) out.push(`${where}: required, but only ${inA ? 'here' : 'in the golden message'}`);
    }
    return out;
  }
  return [];
}
