import { Decimal as DecimalJs } from 'decimal.js';

/**
 * The one Decimal constructor the project uses. A private clone so that no other
 * library's global Decimal settings can change our arithmetic.
 * 40 significant digits is far beyond any price × size we handle; ties round to even.
 */
export const Decimal = DecimalJs.clone({ precision: 40, rounding: DecimalJs.ROUND_HALF_EVEN, toExpNeg: -30, toExpPos: 40 });
export type Decimal = InstanceType<typeof Decimal>;

/** Anything `dec()` accepts. */
export type DecimalValue = Decimal | string | number;

/** A decimal number written as a string, e.g. "2000.5" or "-0.25". */
export type DecimalString = string;

const DECIMAL_PATTERN = /^-?(?:\d+)(?:\.\d+)?$/;

/** True when `s` is a plain decimal string (no exponent, no spaces, no leading '+'). */
export function isDecimalString(s: unknown): s is DecimalString {
  return typeof s === 'string' && DECIMAL_PATTERN.test(s);
}

export function dec(value: DecimalValue): Decimal {
  return new Decimal(value);
}

/** Canonical string form: no exponent, no trailing zeros, "-0" becomes "0". */
export function str(value: DecimalValue): DecimalString {
  // A Decimal is immutable: no copy needed to print it.
  const d = value instanceof Decimal ? value : new Decimal(value);
  return d.isZero() ? '0' : d.toFixed();
}

export const ZERO = new Decimal(0);
export const ONE = new Decimal(1);
