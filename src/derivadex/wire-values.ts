import { z } from 'zod';
import { dec, isDecimalString } from '../domain/decimal.ts';

/*
 * The scalar shapes every DerivaDEX message is built from, and how a failed parse is named.
 *
 * Sources (docs/derivadex-sources.md §0–§2): every SDK model inherits `CamelModel` (ddx `models/base.py`),
 * decimals are `Decimal` serialised as strings, hashes and addresses are `HexStr` (`^0x[0-9A-Fa-f]+$`),
 * times are ISO-8601 `datetime`s. Unknown object keys are dropped, never refused: the SDK forbids extra
 * keys, but the exchange adds fields between SDK versions and we must not break when it does.
 */

/** A decimal travels as a string (a JSON number may already have been rounded by its encoder). */
export const decimal = z.string({ error: 'expected a decimal string' }).refine(isDecimalString, { message: 'expected a decimal string' });
export const nonNegativeDecimal = z
  .string({ error: 'expected a decimal string' })
  .refine(isDecimalString, { message: 'expected a decimal string' })
  .refine((s) => !isDecimalString(s) || !dec(s).isNeg(), { message: 'expected a decimal string >= 0' });
export const wholeNumber = z.int().min(0);
export const text = z.string().min(1);
/** `createdAt`: ISO-8601 with an offset or `Z` (SDK `datetime`). */
export const datetime = z.iso.datetime({ offset: true });

/** `0x` + exactly `bytes` bytes of hex, either case. */
export function hexBytes(bytes: number) {
  return z
    .string({ error: `expected ${bytes}-byte hex` })
    .regex(new RegExp(`^0x[0-9a-fA-F]{${2 * bytes}}$`), { message: `expected ${bytes}-byte hex` });
}

/** An order hash: the first 25 bytes of the order's EIP-712 digest. */
export const orderHash = hexBytes(25);
/** A strategy id hash: the first 4 bytes of keccak256 of the bytes32 strategy id (`"main"` → `0x2576ebd1`). */
export const strategyIdHash = hexBytes(4);
/** A trader as rows and `/exchange/api/v1` filters carry it: the `0x00` chain discriminant + the 20-byte address. */
export const traderAddress = z
  .string({ error: 'expected a 21-byte trader address (0x00 + 40 hex digits)' })
  .regex(/^0x00[0-9a-fA-F]{40}$/, { message: 'expected a 21-byte trader address (0x00 + 40 hex digits)' });
/** A plain 20-byte Ethereum address (deployment info, collateral token). */
export const ethAddress = hexBytes(20);
/** A bytes32 value (request nonces). */
export const bytes32 = hexBytes(32);
/** A 65-byte ECDSA signature. */
export const signature = hexBytes(65);
/** Any `HexStr`. */
export const hex = z.string().regex(/^0x[0-9a-fA-F]*$/, { message: 'expected 0x-prefixed hex' });

/** A problem in a message from outside, with where it is: `contents.data[0].makerOrderIntent.orderHash`. */
export interface WireIssue {
  path: string;
  message: string;
}

export type WireParse<T> = { ok: true; value: T } | { ok: false; issue: WireIssue };

/** A path in the project's style: `contents.data[3].price`. */
export function formatPath(base: string, path: readonly PropertyKey[]): string {
  let out = base;
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out;
}

/** The first issue of a failed parse (zod orders issues by position in the input). */
export function firstIssue(error: z.ZodError, base = ''): WireIssue {
  const issue = error.issues[0];
  if (issue === undefined) return { path: base, message: 'invalid' };
  return { path: formatPath(base, issue.path), message: issue.message };
}

/** Validates `value` against `schema`; never throws. `base` prefixes the issue's path. */
export function parseWire<S extends z.ZodType>(schema: S, value: unknown, base = ''): WireParse<z.output<S>> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return { ok: true, value: parsed.data };
  return { ok: false, issue: firstIssue(parsed.error, base) };
}

/** JSON text → value, or the issue `not JSON`. */
export function parseJson(textValue: string): WireParse<unknown> {
  try {
    return { ok: true, value: JSON.parse(textValue) as unknown };
  } catch {
    return { ok: false, issue: { path: '', message: 'not valid JSON' } };
  }
}
