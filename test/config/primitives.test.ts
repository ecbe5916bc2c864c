import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import {
  decimalString,
  duration,
  durationToMs,
  exactNumberToDecimal,
  fractionDecimal,
  identifier,
  isoTimestamp,
  nonNegativeDecimal,
  positiveDecimal,
} from '../../src/config/primitives.ts';

function messages(schema: z.ZodType, value: unknown): string[] {
  const r = schema.safeParse(value);
  return r.success ? [] : r.error.issues.map((i) => i.message);
}

describe('decimalString', () => {
  it('accepts plain decimal strings as written', () => {
    for (const s of ['2000.5', '-0.25', '0', '10000', '0.10']) expect(decimalString.parse(s)).toBe(s);
  });

  it('accepts numbers that are exact as written and normalises them to strings', () => {
    expect(decimalString.parse(0.05)).toBe('0.05');
    expect(decimalString.parse(3)).toBe('3');
    expect(decimalString.parse(-0.25)).toBe('-0.25');
    expect(decimalString.parse(2000.5)).toBe('2000.5');
    expect(decimalString.parse(123456789012345)).toBe('123456789012345'); // 15 significant digits
  });

  it('refuses exponents, non-exact floats, spaces and non-numbers', () => {
    for (const bad of [
      1e-7,
      1e21,
      0.1 + 0.2,
      1234567890123456,
      Number.NaN,
      Infinity,
      '1e-7',
      ' 1',
      '1.',
      '.5',
      '+1',
      '',
      '0x10',
      true,
      null,
      {},
    ]) {
      expect(messages(decimalString, bad), JSON.stringify(bad)).toEqual(['expected a decimal string']);
    }
  });

  it('says "required" when missing', () => {
    expect(messages(decimalString, undefined)).toEqual(['required']);
  });

  it('exactNumberToDecimal counts significant digits, not leading or trailing zeros', () => {
    expect(exactNumberToDecimal(0.000001)).toBe('0.000001'); // prints without exponent down to 1e-6
    expect(exactNumberToDecimal(1e-7)).toBeUndefined(); // prints "1e-7"
    expect(exactNumberToDecimal(1e18)).toBe('1000000000000000000'); // one significant digit
    expect(exactNumberToDecimal(0.30000000000000004)).toBeUndefined(); // 17 significant digits
  });

  it('range variants keep "expected a decimal string" for non-decimals and name the range otherwise', () => {
    expect(messages(positiveDecimal, '0')).toEqual(['expected a decimal > 0']);
    expect(messages(positiveDecimal, 'abc')).toEqual(['expected a decimal string']);
    expect(messages(nonNegativeDecimal, '-1')).toEqual(['expected a decimal ≥ 0']);
    expect(nonNegativeDecimal.parse(0)).toBe('0');
    expect(messages(fractionDecimal, '1.01')).toEqual(['expected a decimal fraction in (0, 1]']);
    expect(messages(fractionDecimal, 0)).toEqual(['expected a decimal fraction in (0, 1]']);
    expect(fractionDecimal.parse(1)).toBe('1');
  });
});

describe('duration', () => {
  it.each([
    ['250ms', 250],
    ['90s', 90_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['1d', 86_400_000],
    ['0s', 0],
    ['1.5s', 1_500],
    ['0.1s', 100], // exact: not 100.00000000000001
    [1500, 1500],
    [0, 0],
  ])('%j is %d ms', (input, ms) => {
    expect(duration.parse(input)).toBe(ms);
  });

  it.each([['90'], ['-1s'], ['1.5ms'], ['5 m'], ['1w'], [-1], [1.5], [Number.NaN], [true], [null]])('refuses %j', (bad) => {
    expect(messages(duration, bad)).toEqual(['expected a duration like "90s", "5m" or milliseconds']);
  });

  it('durationToMs returns undefined for non-durations', () => {
    expect(durationToMs('1.0001s')).toBeUndefined(); // 1000.1 ms is not a whole number of ms
    expect(durationToMs({})).toBeUndefined();
  });
});

describe('isoTimestamp and identifier', () => {
  it('accepts ISO date-times with a zone', () => {
    expect(isoTimestamp.parse('2026-01-05T13:00:00Z')).toBe('2026-01-05T13:00:00Z');
    expect(isoTimestamp.parse('2026-01-05T13:00:00.250+01:00')).toBe('2026-01-05T13:00:00.250+01:00');
  });

  it('refuses dates without time or zone', () => {
    for (const bad of ['2026-01-05', '2026-01-05T13:00:00', 'yesterday', 1700000000]) {
      expect(messages(isoTimestamp, bad)).toEqual(['expected an ISO 8601 timestamp like "2026-01-05T13:00:00Z"']);
    }
  });

  it('ids cannot hold the characters of Redis keys and compound ids', () => {
    for (const ok of ['alpha', 'fund-a', 'a_1.b', '7']) expect(identifier.parse(ok)).toBe(ok);
    for (const bad of ['a/b', 'a:b', '*', '-a', '', 'a b']) expect(identifier.safeParse(bad).success, bad).toBe(false);
  });
});
