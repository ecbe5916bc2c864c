import { dec, str, type DecimalString } from './decimal.ts';

/**
 * What follows a reducing or exit order the venue rejected for its price or the book: instead of sending the
 * same order again each time the rejection arrives (six MaxTakerPriceDeviation rejections in half a second,
 * issue 12), the first retry goes at once and each further one waits a backoff that doubles (500 ms, 1 s,
 * 2 s, 4 s, 8 s at most), measured on the account's clock (events' `at`, TICKs: no timers); after a
 * price-band rejection it is priced inside the band from the latest mark, further in each time. A fill, or
 * another outcome, ends the streak. Other rejections keep today's behaviour (the next plan at once).
 */
/** Rejections for the price band: after the order was sequenced, or (…Breached) when the request was checked. */
export const BAND_REJECTIONS = ['MaxTakerPriceDeviation', 'MaxTakerPriceDeviationBreached'] as const;
export const RETRYABLE_REJECTIONS = [...BAND_REJECTIONS, 'NoLiquidity'] as const;

export const RETRY_BASE_MS = 500;
export const RETRY_MAX_MS = 8_000;
/** From this many rejections in a row the streak is worth reporting (the API shows it). */
export const RETRY_REPORT_AFTER = 3;

export interface ReductionRetry {
  /** Rejections in a row, ≥ 1. */
  rejections: number;
  /** Of them, rejected for the price band (MaxTakerPriceDeviation): how far inside the band to price. */
  bandRejections: number;
  /** The latest rejection's reason. */
  reason: string;
  /** Epoch ms of the latest rejection. */
  at: number;
  /** Epoch ms before which no new reducing order is sent. */
  notBefore: number;
}

/**
 * The wait after `rejections` rejections in a row: none after the first (the retry is re-priced, and one
 * more attempt is no hammering), then 500 ms doubling, at most 8 s.
 */
export function retryBackoffMs(rejections: number): number {
  if (rejections <= 1) return 0;
  return Math.min(RETRY_BASE_MS * 2 ** (rejections - 2), RETRY_MAX_MS);
}

/**
 * The streak after a reducing order ended with `status` (and the venue's `reason`) at `at`: extended by a
 * retryable rejection, ended (null) by anything else.
 */
export function afterReductionOutcome(previous: unknown, status: string, reason: string | undefined, at: number): ReductionRetry | null {
  if (status !== 'rejected' || !(RETRYABLE_REJECTIONS as readonly string[]).includes(reason ?? '')) return null;
  const prior = validRetry(previous);
  const rejections = (prior?.rejections ?? 0) + 1;
  const bandRejections = (prior?.bandRejections ?? 0) + ((BAND_REJECTIONS as readonly string[]).includes(reason ?? '') ? 1 : 0);
  return { rejections, bandRejections, reason: reason!, at, notBefore: at + retryBackoffMs(rejections) };
}

/** Whether a new reducing order may go out at `now` (no streak, or its backoff is over). */
export function retryDue(retry: unknown, now: number): boolean {
  const valid = validRetry(retry);
  return valid === undefined || now >= valid.notBefore;
}

/** The furthest a retry is priced from the edge: half-way to the mark, so it still crosses the book. */
export const MAX_BAND_MARGIN = '0.5';

/**
 * How far inside the band edge to price, as a fraction of the band's half-width: 0 at first, then 0.1,
 * 0.2, 0.4 and 0.5 after 1, 2, 3, 4+ band rejections. planReduction makes it at least one tick: the mark
 * may move between pricing and matching.
 */
export function bandMargin(retry: unknown): DecimalString {
  const band = validRetry(retry)?.bandRejections ?? 0;
  if (band <= 0) return '0';
  const margin = dec('0.1').times(2 ** Math.min(band - 1, 3));
  return str(margin.gt(MAX_BAND_MARGIN) ? dec(MAX_BAND_MARGIN) : margin);
}

/** The streak, when `value` is one (a snapshot written by another version may hold anything there). */
export function validRetry(value: unknown): ReductionRetry | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const r = value as Record<string, unknown>;
  const whole = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
  if (!whole(r.rejections) || !whole(r.bandRejections) || typeof r.reason !== 'string') return undefined;
  if (typeof r.at !== 'number' || !Number.isFinite(r.at) || typeof r.notBefore !== 'number' || !Number.isFinite(r.notBefore))
    return undefined;
  return value as ReductionRetry;
}
