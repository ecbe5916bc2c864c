import { Decimal, dec, str, type DecimalString } from '../domain/decimal.ts';

/** How the report prints times and numbers. */

/** Milliseconds since the start as seconds: "82", "82.5". */
export function seconds(t: number): string {
  const whole = Math.trunc(t / 1000);
  const ms = Math.abs(t % 1000);
  return ms === 0 ? String(whole) : `${whole}.${String(ms).padStart(3, '0').replace(/0+$/, '')}`;
}

/** A duration: "180 s (3 min)". */
export function duration(ms: number): string {
  const s = seconds(ms);
  if (ms < 60_000) return `${s} s`;
  const minutes = ms / 60_000;
  return `${s} s (${Number.isInteger(minutes) ? minutes : minutes.toFixed(1)} min)`;
}

/** A decimal rounded for a label, exact digits kept below `places`: "1260.61", "0.15". */
export function rounded(value: DecimalString, places = 2): string {
  return str(dec(value).toDecimalPlaces(places, Decimal.ROUND_HALF_EVEN));
}

/**
 * A decimal string as a number for plotting. Only pixel positions are computed from it; the exact
 * value is what tables and labels print.
 */
export function plotValue(value: DecimalString): number {
  return Number(value);
}
