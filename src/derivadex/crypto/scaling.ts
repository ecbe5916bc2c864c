/**
 * Amounts and prices travel in signed messages as unsigned integers: value × 10^decimals.
 * `decimals` is a venue setting because the venue's documents disagree between 1e6 and 1e18; we
 * default to 6 (the scale of the USDC collateral) and let a venue's settings say 18.
 * Everything here is string and bigint arithmetic: no floating point touches a value.
 */

/** Default scale of signed amounts and prices (see the module comment for why it is configurable). */
export const DEFAULT_AMOUNT_DECIMALS = 6;

/** Largest supported scale; a uint256 holds 77 decimal digits, so this leaves room for the integer part. */
export const MAX_AMOUNT_DECIMALS = 36;

const UINT256_MAX = (1n << 256n) - 1n;

export type ScalingErrorCode = 'not-a-decimal' | 'negative' | 'too-precise' | 'too-large' | 'bad-decimals';

export class ScalingError extends Error {
  override readonly name = 'ScalingError';
  constructor(
    readonly code: ScalingErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const UNSIGNED_DECIMAL = /^(\d+)(?:\.(\d+))?$/;

function checkDecimals(decimals: number): void {
  if (!Number.isInteger(decimals) || decimals < 0 || decimals > MAX_AMOUNT_DECIMALS) {
    throw new ScalingError('bad-decimals', `decimals must be an integer from 0 to ${MAX_AMOUNT_DECIMALS}, got ${String(decimals)}`);
  }
}

/**
 * "10.6" with 6 decimals → 10600000n. Exact: refuses negative values, exponents, signs, more fractional
 * digits than `decimals` (rounding a signed order is never our call) and results beyond uint256.
 */
export function scaleToInteger(value: string, decimals: number): bigint {
  checkDecimals(decimals);
  if (typeof value !== 'string') throw new ScalingError('not-a-decimal', 'expected a decimal string');
  if (/^-\d+(?:\.\d+)?$/.test(value) && !/^-0+(?:\.0+)?$/.test(value)) {
    throw new ScalingError('negative', `negative value ${value} cannot be sent as an unsigned integer`);
  }
  const match = UNSIGNED_DECIMAL.exec(value.startsWith('-') ? value.slice(1) : value);
  if (match === null)
    throw new ScalingError('not-a-decimal', `expected a decimal string such as "2472.1", got ${JSON.stringify(value).slice(0, 40)}`);
  const whole = match[1] ?? '0';
  const fraction = (match[2] ?? '').replace(/0+$/, '');
  if (fraction.length > decimals) {
    throw new ScalingError(
      'too-precise',
      `${value} has ${fraction.length} significant fractional digits; the venue takes at most ${decimals}`,
    );
  }
  const scaled = BigInt(whole + fraction.padEnd(decimals, '0'));
  if (scaled > UINT256_MAX) throw new ScalingError('too-large', `${value} scaled by 10^${decimals} does not fit a uint256`);
  return scaled;
}

/** 10600000n with 6 decimals → "10.6". Canonical output: no exponent, no trailing zeros, "0" for zero. */
export function unscale(value: bigint, decimals: number): string {
  checkDecimals(decimals);
  const negative = value < 0n;
  const digits = (negative ? -value : value).toString().padStart(decimals + 1, '0');
  const whole = digits.slice(0, digits.length - decimals);
  const fraction = digits.slice(digits.length - decimals).replace(/0+$/, '');
  const text = fraction === '' ? whole : `${whole}.${fraction}`;
  return negative ? `-${text}` : text;
}
