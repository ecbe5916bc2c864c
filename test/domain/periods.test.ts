import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  DAY_MS,
  addUtcMonths,
  parseIsoTime,
  periodWindow,
  startOfUtcDay,
  startOfUtcMonth,
  startOfUtcQuarter,
  startOfUtcWeek,
  startOfUtcYear,
  toIso,
} from '../../src/domain/periods.ts';
import { RISK_LIMIT_TYPES, type RiskLimitType } from '../../src/domain/risk-limit.ts';

const ms = (iso: string): number => {
  const t = parseIsoTime(iso);
  if (t === null) throw new Error(`bad test time ${iso}`);
  return t;
};

/** [start, end] of a type's window at `at`, as ISO strings (end null for lifetime). */
function win(type: RiskLimitType, at: string, trackingStart?: string): [string, string | null] {
  const w = periodWindow(type, ms(at), trackingStart === undefined ? undefined : ms(trackingStart));
  return [Number.isFinite(w.start) ? toIso(w.start) : String(w.start), w.end === null ? null : toIso(w.end)];
}

const D = (ymd: string): string => `${ymd}T00:00:00.000Z`;

describe('UTC calendar helpers', () => {
  it('day starts at 00:00 UTC; the last millisecond still belongs to the day', () => {
    expect(toIso(startOfUtcDay(ms('2026-01-06T23:59:59.999Z')))).toBe(D('2026-01-06'));
    expect(toIso(startOfUtcDay(ms('2026-01-07T00:00:00.000Z')))).toBe(D('2026-01-07'));
    // Before 1970 floor (not truncation) keeps the day right: 1969-12-31T12:00 is −43,200,000 ms.
    expect(toIso(startOfUtcDay(ms('1969-12-31T12:00:00Z')))).toBe(D('1969-12-31'));
  });

  it('ISO week starts Monday: Sunday belongs to the week before, Monday starts a new one', () => {
    // 2026-01-04 is a Sunday, 2026-01-05 a Monday.
    expect(toIso(startOfUtcWeek(ms('2026-01-04T23:59:59.999Z')))).toBe(D('2025-12-29'));
    expect(toIso(startOfUtcWeek(ms('2026-01-05T00:00:00.000Z')))).toBe(D('2026-01-05'));
    expect(toIso(startOfUtcWeek(ms('2026-01-11T12:00:00Z')))).toBe(D('2026-01-05'));
  });

  it('month, quarter and year starts', () => {
    expect(toIso(startOfUtcMonth(ms('2026-02-28T23:59:59.999Z')))).toBe(D('2026-02-01'));
    expect(toIso(startOfUtcQuarter(ms('2026-03-31T23:59:59.999Z')))).toBe(D('2026-01-01'));
    expect(toIso(startOfUtcQuarter(ms('2026-04-01T00:00:00.000Z')))).toBe(D('2026-04-01'));
    expect(toIso(startOfUtcQuarter(ms('2026-08-15T00:00:00Z')))).toBe(D('2026-07-01'));
    expect(toIso(startOfUtcQuarter(ms('2026-12-31T00:00:00Z')))).toBe(D('2026-10-01'));
    expect(toIso(startOfUtcYear(ms('2026-12-31T23:59:59.999Z')))).toBe(D('2026-01-01'));
  });

  it('adding months clamps the day to the target month', () => {
    expect(toIso(addUtcMonths(ms('2026-01-31T00:00:00Z'), -1))).toBe(D('2025-12-31'));
    expect(toIso(addUtcMonths(ms('2026-03-31T00:00:00Z'), -1))).toBe(D('2026-02-28'));
    expect(toIso(addUtcMonths(ms('2024-03-31T00:00:00Z'), -1))).toBe(D('2024-02-29')); // leap year
    expect(toIso(addUtcMonths(ms('2024-02-29T00:00:00Z'), -12))).toBe(D('2023-02-28'));
    expect(toIso(addUtcMonths(ms('2026-01-31T00:00:00Z'), 1))).toBe(D('2026-02-28'));
    expect(toIso(addUtcMonths(ms('2026-11-30T00:00:00Z'), 3))).toBe(D('2027-02-28'));
  });

  it('parses ISO times with a zone only', () => {
    expect(parseIsoTime('2026-01-05T00:00:00Z')).toBe(Date.UTC(2026, 0, 5));
    expect(parseIsoTime('2026-01-05')).toBe(Date.UTC(2026, 0, 5));
    // 01:00 at +01:00 is 00:00 UTC.
    expect(parseIsoTime('2026-01-05T01:00:00+01:00')).toBe(Date.UTC(2026, 0, 5));
    expect(parseIsoTime('2026-01-05T00:00:00.123456Z')).toBe(Date.UTC(2026, 0, 5) + 123);
    expect(parseIsoTime('2026-01-05T00:00:00')).toBeNull(); // local time: refused
    expect(parseIsoTime('2026-02-29T00:00:00Z')).toBeNull(); // 2026 is not a leap year
    expect(parseIsoTime('2024-02-29T00:00:00Z')).toBe(Date.UTC(2024, 1, 29));
    expect(parseIsoTime('2026-01-05T24:00:00Z')).toBeNull();
    expect(parseIsoTime('Jan 5 2026')).toBeNull();
    expect(parseIsoTime(42)).toBeNull();
  });
});

describe('periodWindow: the 11 types', () => {
  it('day and date: the current UTC day; 23:59:59.999 and 00:00:00.000 are in different days', () => {
    for (const type of ['day', 'date'] as const) {
      expect(win(type, '2026-01-05T13:00:00Z')).toEqual([D('2026-01-05'), D('2026-01-06')]);
      expect(win(type, '2026-01-05T23:59:59.999Z')).toEqual([D('2026-01-05'), D('2026-01-06')]);
      expect(win(type, '2026-01-06T00:00:00.000Z')).toEqual([D('2026-01-06'), D('2026-01-07')]);
      expect(win(type, '2024-02-29T12:00:00Z')).toEqual([D('2024-02-29'), D('2024-03-01')]);
      expect(win(type, '2026-12-31T23:59:59.999Z')).toEqual([D('2026-12-31'), D('2027-01-01')]);
    }
  });

  it('week-to-date: from Monday 00:00; a Sunday is the end of the previous week', () => {
    // Tuesday 2026-01-06 → Monday 2026-01-05 .. Monday 2026-01-12.
    expect(win('week-to-date', '2026-01-06T10:00:00Z')).toEqual([D('2026-01-05'), D('2026-01-12')]);
    // Sunday 2026-01-11 23:59:59.999 → still the week of 2026-01-05.
    expect(win('week-to-date', '2026-01-11T23:59:59.999Z')).toEqual([D('2026-01-05'), D('2026-01-12')]);
    // Monday 2026-01-12 00:00 → a new week.
    expect(win('week-to-date', '2026-01-12T00:00:00.000Z')).toEqual([D('2026-01-12'), D('2026-01-19')]);
    // Across a year: Thursday 2026-01-01 → Monday 2025-12-29.
    expect(win('week-to-date', '2026-01-01T00:00:00Z')).toEqual([D('2025-12-29'), D('2026-01-05')]);
  });

  it('week: the last 7 UTC days including today', () => {
    // Tuesday 2026-01-06: start = 06 − 6 days = Wednesday 2025-12-31; end = 06 + 7 days = 2026-01-13.
    expect(win('week', '2026-01-06T10:00:00Z')).toEqual([D('2025-12-31'), D('2026-01-13')]);
    // Sunday 2026-01-11 23:59:59.999: start = 11 − 6 = 05; end = 11 + 7 = 18.
    expect(win('week', '2026-01-11T23:59:59.999Z')).toEqual([D('2026-01-05'), D('2026-01-18')]);
    // Monday 2026-01-12 00:00: the baseline moved one day: start 06, end 19.
    expect(win('week', '2026-01-12T00:00:00.000Z')).toEqual([D('2026-01-06'), D('2026-01-19')]);
    // Leap day: 2024-03-03 − 6 days = 2024-02-26 (Feb has 29 days: 03, 02, 01, 29, 28, 27, 26).
    expect(win('week', '2024-03-03T00:00:00Z')).toEqual([D('2024-02-26'), D('2024-03-10')]);
  });

  it('month-to-date: from the 1st; ends at the next 1st', () => {
    expect(win('month-to-date', '2026-01-31T23:59:59.999Z')).toEqual([D('2026-01-01'), D('2026-02-01')]);
    expect(win('month-to-date', '2026-02-01T00:00:00.000Z')).toEqual([D('2026-02-01'), D('2026-03-01')]);
    expect(win('month-to-date', '2024-02-29T12:00:00Z')).toEqual([D('2024-02-01'), D('2024-03-01')]);
    expect(win('month-to-date', '2026-12-15T00:00:00Z')).toEqual([D('2026-12-01'), D('2027-01-01')]);
  });

  it('month: (today − 1 month) + 1 day; ends when today has left the window', () => {
    // 2026-03-15: 2026-02-15 + 1 = 02-16 (28 days: 13 in Feb + 15 in Mar). Window at 04-15 starts
    // 03-16 (no day of this one left); at 04-14 it starts 03-15 (still in it) → end 04-15.
    expect(win('month', '2026-03-15T12:00:00Z')).toEqual([D('2026-02-16'), D('2026-04-15')]);
    // Jan 31 − 1 month = Dec 31, + 1 day = Jan 1. End: Feb has no 31st → Mar 1
    // (at Feb 28 the window starts Jan 28 + 1 = Jan 29, still inside; at Mar 1 it starts Feb 2).
    expect(win('month', '2026-01-31T23:59:59.999Z')).toEqual([D('2026-01-01'), D('2026-03-01')]);
    // One ms later, Feb 1: Jan 1 + 1 = Jan 2; end Mar 1 (Feb 1 − … : day 1 exists in March).
    expect(win('month', '2026-02-01T00:00:00.000Z')).toEqual([D('2026-01-02'), D('2026-03-01')]);
    // Mar 31 2026 − 1 month = Feb 31 → clamped to Feb 28, + 1 = Mar 1; April has no 31st → end May 1.
    expect(win('month', '2026-03-31T00:00:00Z')).toEqual([D('2026-03-01'), D('2026-05-01')]);
    // Leap year: Mar 31 2024 → Feb 29 + 1 = Mar 1.  Mar 1 2024 → Feb 1 + 1 = Feb 2; end Apr 1.
    expect(win('month', '2024-03-31T00:00:00Z')).toEqual([D('2024-03-01'), D('2024-05-01')]);
    expect(win('month', '2024-03-01T00:00:00Z')).toEqual([D('2024-02-02'), D('2024-04-01')]);
    // Feb 29 2024 → Jan 29 + 1 = Jan 30; end Mar 29.
    expect(win('month', '2024-02-29T10:00:00Z')).toEqual([D('2024-01-30'), D('2024-03-29')]);
  });

  it('quarter-to-date: quarters start Jan, Apr, Jul, Oct', () => {
    expect(win('quarter-to-date', '2026-03-31T23:59:59.999Z')).toEqual([D('2026-01-01'), D('2026-04-01')]);
    expect(win('quarter-to-date', '2026-04-01T00:00:00.000Z')).toEqual([D('2026-04-01'), D('2026-07-01')]);
    expect(win('quarter-to-date', '2026-09-30T12:00:00Z')).toEqual([D('2026-07-01'), D('2026-10-01')]);
    expect(win('quarter-to-date', '2026-11-11T00:00:00Z')).toEqual([D('2026-10-01'), D('2027-01-01')]);
  });

  it('quarter: (today − 3 months) + 1 day', () => {
    // 2026-03-15 − 3 months = 2025-12-15, + 1 = 12-16; end 2026-06-15.
    expect(win('quarter', '2026-03-15T00:00:00Z')).toEqual([D('2025-12-16'), D('2026-06-15')]);
    // 2026-05-31 − 3 months = Feb 31 → Feb 28, + 1 = Mar 1; August has a 31st → end 08-31.
    expect(win('quarter', '2026-05-31T00:00:00Z')).toEqual([D('2026-03-01'), D('2026-08-31')]);
    // 2026-11-30 − 3 months = 08-30, + 1 = 08-31; Feb 2027 has no 30th → end 2027-03-01.
    expect(win('quarter', '2026-11-30T00:00:00Z')).toEqual([D('2026-08-31'), D('2027-03-01')]);
    // Quarter start instant: 2026-04-01 00:00 → 2026-01-01 + 1 = 01-02; end 07-01.
    expect(win('quarter', '2026-04-01T00:00:00.000Z')).toEqual([D('2026-01-02'), D('2026-07-01')]);
  });

  it('year-to-date: from Jan 1', () => {
    expect(win('year-to-date', '2026-12-31T23:59:59.999Z')).toEqual([D('2026-01-01'), D('2027-01-01')]);
    expect(win('year-to-date', '2027-01-01T00:00:00.000Z')).toEqual([D('2027-01-01'), D('2028-01-01')]);
    expect(win('year-to-date', '2024-02-29T00:00:00Z')).toEqual([D('2024-01-01'), D('2025-01-01')]);
  });

  it('year: (today − 12 months) + 1 day; leap days clamp', () => {
    // 2026-03-15 → 2025-03-15 + 1 = 2025-03-16 (365 days); end 2027-03-15.
    expect(win('year', '2026-03-15T00:00:00Z')).toEqual([D('2025-03-16'), D('2027-03-15')]);
    // 2024-02-29 − 12 months = 2023-02-29 → 02-28, + 1 = 2023-03-01; 2025 has no Feb 29 → end 2025-03-01.
    expect(win('year', '2024-02-29T12:00:00Z')).toEqual([D('2023-03-01'), D('2025-03-01')]);
    // Year start instant: 2027-01-01 00:00 → 2026-01-01 + 1 = 2026-01-02.
    expect(win('year', '2027-01-01T00:00:00.000Z')).toEqual([D('2026-01-02'), D('2028-01-01')]);
    expect(win('year', '2026-12-31T23:59:59.999Z')).toEqual([D('2026-01-01'), D('2027-12-31')]);
  });

  it('lifetime: no calendar start, no end; starts at the tracking start', () => {
    expect(win('lifetime', '2026-01-05T00:00:00Z')).toEqual(['-Infinity', null]);
    expect(win('lifetime', '2026-06-05T00:00:00Z', '2026-01-05T13:00:00Z')).toEqual(['2026-01-05T13:00:00.000Z', null]);
  });

  it('a tracking start moves the start, never the end; a future one means not tracking yet', () => {
    expect(win('day', '2026-01-05T20:00:00Z', '2026-01-05T13:00:00Z')).toEqual(['2026-01-05T13:00:00.000Z', D('2026-01-06')]);
    expect(win('day', '2026-01-05T20:00:00Z', '2026-01-01T00:00:00Z')).toEqual([D('2026-01-05'), D('2026-01-06')]);
    const w = periodWindow('week', ms('2026-01-05T20:00:00Z'), ms('2026-01-06T00:00:00Z'));
    expect(w.start).toBeGreaterThan(ms('2026-01-05T20:00:00Z'));
  });

  it('refuses non-finite times', () => {
    expect(() => periodWindow('day', Number.NaN)).toThrow(/at: expected finite/);
    expect(() => periodWindow('day', 0, Number.POSITIVE_INFINITY)).toThrow(/trackingStart/);
  });
});

describe('periodWindow properties', () => {
  // 1900-01-01 .. 2200-12-31, any millisecond.
  const instant = fc.integer({ min: Date.UTC(1900, 0, 1), max: Date.UTC(2200, 11, 31) });
  const calendarTypes = RISK_LIMIT_TYPES.filter((t) => t !== 'lifetime');
  const trailing = ['week', 'month', 'quarter', 'year'] as const;

  it('every window holds its instant, starts at a day start and ends after it', () => {
    fc.assert(
      fc.property(instant, fc.constantFrom(...calendarTypes), (at, type) => {
        const w = periodWindow(type, at);
        expect(w.start).toBeLessThanOrEqual(at);
        expect(w.end).not.toBeNull();
        expect(w.end!).toBeGreaterThan(at);
        // `=== 0` rather than toBe(0): before 1970 the remainder is −0.
        expect(w.start % DAY_MS === 0).toBe(true);
        expect(w.end! % DAY_MS === 0).toBe(true);
      }),
      { seed: 20260105, numRuns: 500 },
    );
  });

  it('to-date windows are constant inside the period and reset exactly at its end', () => {
    fc.assert(
      fc.property(
        instant,
        fc.constantFrom('day', 'date', 'week-to-date', 'month-to-date', 'quarter-to-date', 'year-to-date' as const),
        (at, type) => {
          const w = periodWindow(type, at);
          expect(periodWindow(type, w.start)).toEqual(w);
          expect(periodWindow(type, w.end! - 1)).toEqual(w);
          expect(periodWindow(type, w.end!).start).toBe(w.end);
        },
      ),
      { seed: 11, numRuns: 500 },
    );
  });

  it('trailing windows: the start never moves back, and end is the first day whose window no longer holds today', () => {
    fc.assert(
      fc.property(instant, fc.constantFrom(...trailing), (at, type) => {
        const today = startOfUtcDay(at);
        const w = periodWindow(type, at);
        expect(periodWindow(type, today + DAY_MS).start).toBeGreaterThanOrEqual(w.start);
        expect(periodWindow(type, w.end!).start).toBeGreaterThan(today);
        expect(periodWindow(type, w.end! - DAY_MS).start).toBeLessThanOrEqual(today);
      }),
      { seed: 12, numRuns: 500 },
    );
  });
});
