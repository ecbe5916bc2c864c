import type { RiskLimitType } from './risk-limit.ts';

/**
 * CopyFactory periods on the UTC calendar. Times are epoch milliseconds; every calendar step uses the
 * UTC fields of Date, never local time. See docs/copyfactory.md for the table of the 11 types.
 */

export const DAY_MS = 86_400_000;

/** The window a limit measures at one instant. */
export interface PeriodWindow {
  /** Effective start: max(calendar start, trackingStart). `-Infinity` only for `lifetime` without a trackingStart. */
  start: number;
  /** When a breach in this window can no longer be seen by the limit (the `stoppedTill` basis); null for `lifetime`. */
  end: number | null;
}

function assertTime(name: string, t: number): void {
  if (!Number.isFinite(t)) throw new RangeError(`${name}: expected finite epoch milliseconds, got ${t}`);
}

/** Midnight UTC of year `y`, month `m` (0-based, may overflow) and day `d` (1-based). Years 0–99 stay literal. */
export function utcDate(y: number, m: number, d: number): number {
  const t = new Date(0);
  t.setUTCFullYear(y, m, d);
  return t.getTime();
}

/** Days in month `m` (0-based) of year `y`. */
export function daysInUtcMonth(y: number, m: number): number {
  return Math.round((utcDate(y, m + 1, 1) - utcDate(y, m, 1)) / DAY_MS);
}

export function startOfUtcDay(at: number): number {
  return Math.floor(at / DAY_MS) * DAY_MS;
}

/** ISO week: Monday 00:00 UTC. */
export function startOfUtcWeek(at: number): number {
  const day = startOfUtcDay(at);
  const sinceMonday = (new Date(day).getUTCDay() + 6) % 7;
  return day - sinceMonday * DAY_MS;
}

export function startOfUtcMonth(at: number): number {
  const t = new Date(at);
  return utcDate(t.getUTCFullYear(), t.getUTCMonth(), 1);
}

/** Quarters start in January, April, July and October. */
export function startOfUtcQuarter(at: number): number {
  const t = new Date(at);
  const m = t.getUTCMonth();
  return utcDate(t.getUTCFullYear(), m - (m % 3), 1);
}

export function startOfUtcYear(at: number): number {
  return utcDate(new Date(at).getUTCFullYear(), 0, 1);
}

/**
 * The UTC day start `months` calendar months from the day of `at`, the day-of-month clamped to the
 * target month's length (Jan 31 − 1 month = Dec 31; Mar 31 − 1 month = Feb 28, or Feb 29 in a leap year).
 */
export function addUtcMonths(at: number, months: number): number {
  const t = new Date(startOfUtcDay(at));
  const index = t.getUTCMonth() + months;
  const y = t.getUTCFullYear() + Math.floor(index / 12);
  const m = ((index % 12) + 12) % 12;
  return utcDate(y, m, Math.min(t.getUTCDate(), daysInUtcMonth(y, m)));
}

/** First day of the trailing window ending with the day `today`: (today − n months) + 1 day. */
function trailingStart(today: number, months: number): number {
  return addUtcMonths(today, -months) + DAY_MS;
}

/**
 * The first day start T after `today` whose trailing window no longer contains `today` (so none of the
 * days of today's window), i.e. the least T with (T − n months, clamped) >= today. That is day d0 of the
 * month n months on, or the 1st of the month after it when that month has fewer than d0 days.
 */
function trailingEnd(today: number, months: number): number {
  const t = new Date(today);
  const d0 = t.getUTCDate();
  const index = t.getUTCMonth() + months;
  const y = t.getUTCFullYear() + Math.floor(index / 12);
  const m = ((index % 12) + 12) % 12;
  return d0 <= daysInUtcMonth(y, m) ? utcDate(y, m, d0) : utcDate(y, m + 1, 1);
}

/** The calendar window of a type at `at`, before any trackingStart. */
function calendarWindow(type: RiskLimitType, at: number): PeriodWindow {
  const today = startOfUtcDay(at);
  switch (type) {
    case 'day':
    case 'date':
      return { start: today, end: today + DAY_MS };
    case 'week-to-date': {
      const start = startOfUtcWeek(at);
      return { start, end: start + 7 * DAY_MS };
    }
    case 'month-to-date': {
      const start = startOfUtcMonth(at);
      return { start, end: addUtcMonths(start, 1) };
    }
    case 'quarter-to-date': {
      const start = startOfUtcQuarter(at);
      return { start, end: addUtcMonths(start, 3) };
    }
    case 'year-to-date': {
      const start = startOfUtcYear(at);
      return { start, end: addUtcMonths(start, 12) };
    }
    case 'week':
      // The last 7 UTC days including today; today's day leaves the window 7 days later.
      return { start: today - 6 * DAY_MS, end: today + 7 * DAY_MS };
    case 'month':
      return { start: trailingStart(today, 1), end: trailingEnd(today, 1) };
    case 'quarter':
      return { start: trailingStart(today, 3), end: trailingEnd(today, 3) };
    case 'year':
      return { start: trailingStart(today, 12), end: trailingEnd(today, 12) };
    case 'lifetime':
      return { start: Number.NEGATIVE_INFINITY, end: null };
  }
}

/**
 * The window a limit of `type` measures at `at`. With `trackingStart` (the limit's startTime, or for
 * `lifetime` the start of tracking) the start becomes max(calendar start, trackingStart); a start after
 * `at` means the limit is not tracking yet. `end` is unaffected by trackingStart.
 */
export function periodWindow(type: RiskLimitType, at: number, trackingStart?: number): PeriodWindow {
  assertTime('at', at);
  if (trackingStart !== undefined) assertTime('trackingStart', trackingStart);
  const window = calendarWindow(type, at);
  if (window === undefined) throw new RangeError(`type: unknown risk limit type ${JSON.stringify(type)}`);
  return trackingStart === undefined ? window : { start: Math.max(window.start, trackingStart), end: window.end };
}

export function toIso(at: number): string {
  return new Date(at).toISOString();
}

const ISO_PATTERN = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|([+-])(\d{2}):(\d{2})))?$/;

/**
 * Epoch ms of an ISO 8601 time, or null. Accepts a date (`2026-01-05`, midnight UTC) or a date-time with
 * `Z` or an offset; a date-time without a zone is refused because it would mean local time.
 * Sub-millisecond digits are truncated.
 */
export function parseIsoTime(s: unknown): number | null {
  if (typeof s !== 'string') return null;
  const m = ISO_PATTERN.exec(s);
  if (m === null) return null;
  const [, ys, mos, ds, hs, mis, ss, frac, zone, sign, ohs, oms] = m;
  const y = Number(ys),
    mo = Number(mos),
    d = Number(ds);
  if (mo < 1 || mo > 12 || d < 1 || d > daysInUtcMonth(y, mo - 1)) return null;
  if (hs !== undefined && zone === undefined) return null;
  const h = Number(hs ?? 0),
    mi = Number(mis ?? 0),
    sec = Number(ss ?? 0);
  if (h > 23 || mi > 59 || sec > 59) return null;
  const ms = frac === undefined ? 0 : Number(frac.slice(0, 3).padEnd(3, '0'));
  let offset = 0;
  if (sign !== undefined) {
    const oh = Number(ohs),
      om = Number(oms);
    if (oh > 23 || om > 59) return null;
    offset = (sign === '-' ? -1 : 1) * (oh * 60 + om) * 60_000;
  }
  return utcDate(y, mo - 1, d) + ((h * 60 + mi) * 60 + sec) * 1000 + ms - offset;
}

/**
 * The first instant after `at` at which a risk limit's window can move by time alone: the next UTC midnight
 * (every calendar and trailing window here is made of whole UTC days) or the earliest `startTimes` entry after
 * `at` (a limit starts tracking then). Between two boundaries only marks and ledger events move a drawdown.
 */
export function nextPeriodBoundary(at: number, startTimes: readonly number[] = []): number {
  assertTime('at', at);
  let next = startOfUtcDay(at) + DAY_MS;
  for (const t of startTimes) if (t > at && t < next) next = t;
  return next;
}
