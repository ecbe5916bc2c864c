import { z } from 'zod';
import { dec, isDecimalString } from '../domain/decimal.ts';
import { INPUT_LIMITS } from './input-limits.ts';

/**
 * The small zod schemas every config and scenario field is built from. Each carries its own message so a
 * problem reads the same wherever the field appears; a missing required field always reads "required".
 */

/** Error callback: "required" for a missing value, `message` for anything else that is wrong. */
export function says(message: string): (issue: { input?: unknown }) => string {
  return (issue) => (issue.input === undefined ? 'required' : message);
}

const PLAIN_DECIMAL = /^-?\d+(?:\.\d+)?$/;
const MAX_EXACT_DIGITS = 15;

/**
 * The decimal string a JS number stands for, when that is unambiguous: finite, printed without exponent
 * and with at most 15 significant digits (every such decimal survives the trip through a double, so the
 * number is what the author wrote). `0.1 + 0.2` prints 17 digits and is refused; `1e-7` has an exponent.
 */
export function exactNumberToDecimal(n: number): string | undefined {
  if (!Number.isFinite(n)) return undefined;
  const s = String(n);
  if (!PLAIN_DECIMAL.test(s)) return undefined;
  const significant = s.replace('-', '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
  return significant.length <= MAX_EXACT_DIGITS ? s : undefined;
}

/** A decimal string or an exact number, as a decimal string; undefined when it is neither. */
export function toDecimalString(value: unknown): string | undefined {
  if (typeof value === 'string') return isDecimalString(value) ? value : undefined;
  if (typeof value === 'number') return exactNumberToDecimal(value);
  return undefined;
}

export const DECIMAL_MESSAGE = 'expected a decimal string';

/**
 * A decimal field. Something that is not a decimal at all reads "expected a decimal string"; a decimal
 * outside the field's range reads `rangeMessage`.
 */
function decimalWhere(rangeMessage: string | undefined, accept: (d: ReturnType<typeof dec>) => boolean, description: string) {
  return z
    .union([z.string().regex(PLAIN_DECIMAL, { error: DECIMAL_MESSAGE }), z.number()], { error: says(DECIMAL_MESSAGE) })
    .transform((value, ctx) => {
      if (typeof value === 'string' && value.length > INPUT_LIMITS.decimalLength) {
        ctx.addIssue({ code: 'custom', message: `expected a decimal of at most ${INPUT_LIMITS.decimalLength} characters`, input: value });
        return z.NEVER;
      }
      const s = toDecimalString(value);
      if (s === undefined) {
        ctx.addIssue({ code: 'custom', message: DECIMAL_MESSAGE, input: value });
        return z.NEVER;
      }
      if (!accept(dec(s))) {
        ctx.addIssue({ code: 'custom', message: rangeMessage ?? DECIMAL_MESSAGE, input: value });
        return z.NEVER;
      }
      return s;
    })
    .meta({ description });
}

/** "2000.5", "-0.25", or a number that is exact as written (0.05, 3); normalised to the string. */
export const decimalString = decimalWhere(
  undefined,
  () => true,
  'A decimal: a string like "2000.5" (no exponent), or a number that is exact as written.',
);

export const positiveDecimal = decimalWhere(
  'expected a decimal > 0',
  (d) => d.gt(0),
  'A positive decimal: a string like "2000.5", or an exact number.',
);

export const nonNegativeDecimal = decimalWhere(
  'expected a decimal ≥ 0',
  (d) => d.gte(0),
  'A decimal ≥ 0: a string like "10000", or an exact number.',
);

/** A fraction in (0, 1], e.g. "0.25" or 0.05. */
export const fractionDecimal = decimalWhere(
  'expected a decimal fraction in (0, 1]',
  (d) => d.gt(0) && d.lte(1),
  'A fraction in (0, 1]: a string like "0.05", or an exact number.',
);

/** A fraction in [0, 1), e.g. "0.2". */
export const halfOpenFraction = decimalWhere(
  'expected a decimal fraction in [0, 1)',
  (d) => d.gte(0) && d.lt(1),
  'A fraction in [0, 1): a string like "0.2", or an exact number.',
);

const DURATION_PATTERN = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
export const DURATION_MESSAGE = 'expected a duration like "90s", "5m" or milliseconds';
/** The longest duration (input-limits.ts): a run, a timeout, a fault. */
export const MAX_DURATION_MESSAGE = `expected a duration of at most ${INPUT_LIMITS.durationMs / 86_400_000}d`;

/** Milliseconds for "90s", "5m", "1h", "250ms", "1d", "1.5s" or an integer of ms; undefined otherwise. */
export function durationToMs(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const m = DURATION_PATTERN.exec(value);
  if (!m) return undefined;
  // Exact arithmetic so "0.1s" is 100 ms, not 100.00000000000001.
  const ms = dec(m[1]!).times(UNIT_MS[m[2]!]!);
  if (!ms.isInteger() || ms.gt(Number.MAX_SAFE_INTEGER)) return undefined;
  return ms.toNumber();
}

/** A duration, normalised to an integer number of milliseconds. */
export const duration = z
  .union(
    [
      z.string().regex(DURATION_PATTERN, { error: DURATION_MESSAGE }),
      z.number().int({ error: DURATION_MESSAGE }).nonnegative({ error: DURATION_MESSAGE }),
    ],
    { error: says(DURATION_MESSAGE) },
  )
  .transform((value, ctx) => {
    const ms = durationToMs(value);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: DURATION_MESSAGE, input: value });
      return z.NEVER;
    }
    // "9999d" is a well-formed duration that no run can carry out (the mark schedule has one entry a second).
    if (ms > INPUT_LIMITS.durationMs) {
      ctx.addIssue({ code: 'custom', message: MAX_DURATION_MESSAGE, input: value });
      return z.NEVER;
    }
    return ms;
  })
  .meta({ description: 'A duration of at most 7d: "250ms", "90s", "5m", "1h", "1d", or an integer number of milliseconds.' });

const ISO_MESSAGE = 'expected an ISO 8601 timestamp like "2026-01-05T13:00:00Z"';

/** An ISO 8601 date-time with a zone ("Z" or an offset), kept as written. */
export const isoTimestamp = z.iso
  .datetime({ offset: true, error: says(ISO_MESSAGE) })
  .meta({ description: 'An ISO 8601 date-time with a zone, e.g. "2026-01-05T13:00:00Z".' });

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const ID_MESSAGE = 'expected an id of letters, digits, "_", "." and "-" (no "/", ":" or "*"), starting with a letter or digit';

/** An id that is safe inside a Redis key and a `<portfolio>/<account>` compound id. */
export const identifier = z
  .string({ error: says(ID_MESSAGE) })
  .max(INPUT_LIMITS.idLength, { error: `expected an id of at most ${INPUT_LIMITS.idLength} characters` })
  .regex(ID_PATTERN, { error: ID_MESSAGE })
  .meta({ description: 'An id: letters, digits, "_", "." and "-"; no "/", ":" or "*" (ids go into Redis keys).' });

const SYMBOL_MESSAGE = 'expected a product symbol like "ETHP" (letters, digits, "_", "." and "-", at most 31 bytes)';

/** A product symbol; it becomes a bytes32 on the venue, so at most 31 bytes. */
export const symbol = z
  .string({ error: says(SYMBOL_MESSAGE) })
  .regex(ID_PATTERN, { error: SYMBOL_MESSAGE })
  .max(31, { error: SYMBOL_MESSAGE })
  .meta({ description: 'A product symbol such as "ETHP" or "BTCP".' });

/**
 * A mapping from product symbol to `value`. The keys are checked after the values (not by zod's record
 * key schema), so a misspelt symbol does not hide the problems of its value.
 */
export function symbolRecord<T extends z.ZodType>(value: T) {
  return z
    .record(z.string(), value)
    .superRefine(
      (record, ctx) => {
        const keys = Object.keys(record);
        if (keys.length > INPUT_LIMITS.symbols)
          ctx.addIssue({ code: 'custom', message: `expected at most ${INPUT_LIMITS.symbols} symbols, got ${keys.length}`, input: record });
        for (const key of keys) {
          if (!symbol.safeParse(key).success) ctx.addIssue({ code: 'custom', path: [key], message: SYMBOL_MESSAGE, input: key });
        }
      },
      { when: (payload) => isRecord(payload.value) },
    )
    .meta({ propertyNames: { pattern: ID_PATTERN.source, maxLength: 31 } });
}

/** A plain object (a YAML mapping), not an array or null. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const ADDRESS_MESSAGE = 'expected a 0x-prefixed 20-byte hex address';

export const address = z
  .string({ error: says(ADDRESS_MESSAGE) })
  .regex(/^0x[0-9a-fA-F]{40}$/, { error: ADDRESS_MESSAGE })
  .meta({ description: 'An Ethereum address: 0x and 40 hex digits.' });

const ENV_MESSAGE = 'expected the name of an environment variable, like RISKWARDEN_TRADER_KEY';

export const envName = z
  .string({ error: says(ENV_MESSAGE) })
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: ENV_MESSAGE })
  .meta({ description: 'The name of an environment variable (the value is read from the environment, never from the file).' });

function urlWith(protocol: RegExp, message: string, description: string) {
  return z.url({ protocol, error: says(message) }).meta({ description });
}

export const httpUrl = urlWith(/^https?$/, 'expected an http:// or https:// URL', 'An http:// or https:// URL.');
export const wsUrl = urlWith(/^wss?$/, 'expected a ws:// or wss:// URL', 'A ws:// or wss:// URL.');
export const redisUrl = urlWith(/^rediss?$/, 'expected a redis:// or rediss:// URL', 'A redis:// or rediss:// URL.');

const HOST_MESSAGE = 'expected a host name or IP address';

export const host = z
  .string({ error: says(HOST_MESSAGE) })
  .regex(/^[A-Za-z0-9.:[\]_-]+$/, { error: HOST_MESSAGE })
  .meta({ description: 'A host name or IP address.' });

const PORT_MESSAGE = 'expected a port number from 0 to 65535';

export const port = z
  .number({ error: says(PORT_MESSAGE) })
  .int({ error: PORT_MESSAGE })
  .min(0, { error: PORT_MESSAGE })
  .max(65535, { error: PORT_MESSAGE })
  .meta({ description: 'A TCP port (0: any free port).' });

/** A whole number ≥ `min` (counts, levels, windows). */
export function integerAtLeast(min: number) {
  const message = `expected a whole number ≥ ${min}`;
  return z
    .number({ error: says(message) })
    .int({ error: message })
    .min(min, { error: message })
    .max(Number.MAX_SAFE_INTEGER, { error: message });
}

const BOOLEAN_MESSAGE = 'expected true or false';
export const boolean = z.boolean({ error: says(BOOLEAN_MESSAGE) });

/** A whole number in [`min`, `max`] (windows, book levels: what a run allocates). */
export function integerBetween(min: number, max: number) {
  const message = `expected a whole number from ${min} to ${max}`;
  return z
    .number({ error: says(message) })
    .int({ error: message })
    .min(min, { error: message })
    .max(max, { error: message });
}

/** A non-empty string of free text (names, reasons, paths), at most INPUT_LIMITS.textLength characters. */
export function text(what: string) {
  const message = `expected ${what}`;
  return z
    .string({ error: says(message) })
    .min(1, { error: message })
    .max(INPUT_LIMITS.textLength, { error: `expected ${what} of at most ${INPUT_LIMITS.textLength} characters` });
}

/** UTF-8 length; the venue stores strategy ids and symbols as bytes32 (1-byte length ‖ utf8). */
export function utf8Length(s: string): number {
  return new TextEncoder().encode(s).length;
}
