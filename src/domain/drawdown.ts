import { dec, isDecimalString, str, type Decimal, type DecimalString } from './decimal.ts';
import type { RiskLimit } from './risk-limit.ts';
import { parseIsoTime, periodWindow, startOfUtcDay, toIso } from './periods.ts';

/**
 * The values of an account at one instant. `netTransfers` is a running total of deposits minus
 * withdrawals from any origin: only its differences matter.
 */
export interface Observation {
  /** Epoch ms. */
  at: number;
  /** Settled collateral. */
  balance: DecimalString;
  /** Collateral + unrealized PnL. */
  equity: DecimalString;
  netTransfers: DecimalString;
}

/** An observation as callers have it: decimals as Decimal or decimal strings. */
export interface ObservationInput {
  at: number;
  balance: Decimal | DecimalString;
  equity: Decimal | DecimalString;
  netTransfers: Decimal | DecimalString;
}

/** Enough day-opens for the longest trailing window (a year: at most 366 days). */
export const MAX_DAY_OPENS = 400;

/**
 * What a supervisor keeps per account so that every period's baseline can be found without every mark.
 * JSON-serialisable as is.
 */
export interface DrawdownHistory {
  /** The first observation ever: the baseline of `lifetime` without startTime. */
  first: Observation | null;
  /** The most recent observation. */
  latest: Observation | null;
  /** The first observation of each UTC day, oldest first, at most MAX_DAY_OPENS. */
  dayOpens: Observation[];
  /**
   * Observations pinned at explicit times (startTime moved to "now"), keyed by canonical ISO time.
   * null = pending: filled by the first observation at or after that time.
   */
  anchors: Record<string, Observation | null>;
}

/** A limit's drawdown at one instant. Times are epoch ms; decimals canonical strings. */
export interface DrawdownMeasure {
  /** Effective period start: max(calendar start, startTime); for `lifetime` startTime or the first observation. */
  periodStart: number;
  /** The `stoppedTill` basis (see periodWindow); null for `lifetime`. */
  periodEnd: number | null;
  /** Time of the baseline observation (the first observed at or after periodStart). */
  baseAt: number;
  /** Baseline value after transfers: baseBalance' or baseEquity'. */
  base: DecimalString;
  drawdown: DecimalString;
  /** drawdown / base; null when base <= 0 (no relative check then). */
  relative: DecimalString | null;
  absoluteBreached: boolean;
  relativeBreached: boolean;
  breached: boolean;
}

export function createDrawdownHistory(): DrawdownHistory {
  return { first: null, latest: null, dayOpens: [], anchors: {} };
}

function decimalField(name: string, v: Decimal | DecimalString): DecimalString {
  if (typeof v === 'string') {
    if (!isDecimalString(v)) throw new TypeError(`observation.${name}: expected a decimal string, got ${JSON.stringify(v)}`);
    return str(v);
  }
  if (!v.isFinite()) throw new TypeError(`observation.${name}: expected a finite decimal`);
  return str(v);
}

/** Canonical form of an observation; throws naming the bad field. */
export function toObservation(input: ObservationInput): Observation {
  if (!Number.isFinite(input.at)) throw new TypeError(`observation.at: expected finite epoch milliseconds, got ${input.at}`);
  return {
    at: input.at,
    balance: decimalField('balance', input.balance),
    equity: decimalField('equity', input.equity),
    netTransfers: decimalField('netTransfers', input.netTransfers),
  };
}

function sameObservation(a: Observation, b: Observation): boolean {
  return a.at === b.at && a.balance === b.balance && a.equity === b.equity && a.netTransfers === b.netTransfers;
}

/**
 * Records an observation. Observations must come in time order: one older than the latest is ignored.
 * Returns `history` itself when nothing changes; otherwise a new history sharing unchanged parts.
 */
export function observe(history: DrawdownHistory, input: ObservationInput): DrawdownHistory {
  const obs = toObservation(input);
  const latest = history.latest;
  if (latest !== null && (obs.at < latest.at || sameObservation(latest, obs))) return history;

  let dayOpens = history.dayOpens;
  const lastOpen = dayOpens[dayOpens.length - 1];
  if (lastOpen === undefined || startOfUtcDay(obs.at) > startOfUtcDay(lastOpen.at)) {
    dayOpens = [...dayOpens, obs];
    if (dayOpens.length > MAX_DAY_OPENS) dayOpens = dayOpens.slice(dayOpens.length - MAX_DAY_OPENS);
  }

  let anchors = history.anchors;
  for (const [key, value] of Object.entries(history.anchors)) {
    if (value !== null) continue;
    const pinnedAt = parseIsoTime(key);
    if (pinnedAt !== null && pinnedAt <= obs.at) {
      if (anchors === history.anchors) anchors = { ...history.anchors };
      anchors[key] = obs;
    }
  }

  return { first: history.first ?? obs, latest: obs, dayOpens, anchors };
}

/**
 * Pins the values at `at` so that a startTime moved to `at` has its own baseline. When the latest
 * observation is at or after `at` it is pinned at once (older marks are not kept, so it is the best
 * value known at or after `at`); otherwise the anchor stays pending and the next observation at or
 * after `at` fills it. Pinning an already pinned time changes nothing.
 */
export function pinAnchor(history: DrawdownHistory, at: number): DrawdownHistory {
  if (!Number.isFinite(at)) throw new RangeError(`pinAnchor at: expected finite epoch milliseconds, got ${at}`);
  const key = toIso(at);
  const current = history.anchors[key];
  const latest = history.latest;
  const value = latest !== null && latest.at >= at ? latest : null;
  if (current !== undefined && (current !== null || value === null)) return history;
  return { ...history, anchors: { ...history.anchors, [key]: value } };
}

/**
 * The baseline of a period starting at `from`: the earliest stored observation (the first observation,
 * a day-open or a filled anchor) with `at >= from` — the first value observed at or after the period
 * start. null when none is stored yet.
 */
export function baselineAt(history: DrawdownHistory, from: number): Observation | null {
  let best: Observation | null = null;
  const consider = (o: Observation | null | undefined): void => {
    if (o !== null && o !== undefined && o.at >= from && (best === null || o.at < best.at)) best = o;
  };
  consider(history.first);
  // dayOpens are in time order: binary search for the first at >= from.
  const opens = history.dayOpens;
  let lo = 0,
    hi = opens.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (opens[mid]!.at < from) lo = mid + 1;
    else hi = mid;
  }
  consider(opens[lo]);
  for (const anchor of Object.values(history.anchors)) consider(anchor);
  return best;
}

/**
 * The drawdown a limit sees at `now` (null while its startTime is in the future). The baseline is the
 * first value observed at or after the effective period start (`now` itself when nothing is stored yet),
 * adjusted by the net transfers since then, so that deposits and withdrawals are not drawdown.
 */
export function measureDrawdown(history: DrawdownHistory, limit: RiskLimit, nowInput: ObservationInput): DrawdownMeasure | null {
  const now = toObservation(nowInput);
  let startTime: number | undefined;
  if (limit.startTime !== undefined) {
    const parsed = parseIsoTime(limit.startTime);
    if (parsed === null) throw new RangeError(`startTime: expected an ISO 8601 time with zone, got ${JSON.stringify(limit.startTime)}`);
    startTime = parsed;
  }
  if (startTime !== undefined && startTime > now.at) return null;

  const trackingStart = limit.type === 'lifetime' && startTime === undefined ? Math.min(history.first?.at ?? now.at, now.at) : startTime;
  const window = periodWindow(limit.type, now.at, trackingStart);

  let baseline = baselineAt(history, window.start);
  if (baseline === null || baseline.at > now.at) baseline = now;

  const transfers = dec(now.netTransfers).minus(baseline.netTransfers);
  const baseBalance = dec(baseline.balance).plus(transfers);
  const baseEquity = dec(baseline.equity).plus(transfers);
  let base: Decimal;
  let drawdown: Decimal;
  switch (limit.applyTo) {
    case 'balance-difference':
      base = baseBalance;
      drawdown = baseBalance.minus(now.balance);
      break;
    case 'balance-minus-equity':
      base = baseBalance;
      drawdown = baseBalance.minus(now.equity);
      break;
    case 'equity-difference':
      base = baseEquity;
      drawdown = baseEquity.minus(now.equity);
      break;
    default:
      throw new RangeError(`applyTo: unknown measure ${JSON.stringify(limit.applyTo)}`);
  }

  const positiveBase = base.greaterThan(0);
  const absoluteBreached = limit.maxAbsoluteRisk !== undefined && drawdown.greaterThanOrEqualTo(limit.maxAbsoluteRisk);
  // Compare drawdown >= maxRelativeRisk × base: exact, unlike the rounded quotient.
  const relativeBreached =
    limit.maxRelativeRisk !== undefined && positiveBase && drawdown.greaterThanOrEqualTo(base.times(limit.maxRelativeRisk));
  return {
    periodStart: window.start,
    periodEnd: window.end,
    baseAt: baseline.at,
    base: str(base),
    drawdown: str(drawdown),
    relative: positiveBase ? str(drawdown.dividedBy(base)) : null,
    absoluteBreached,
    relativeBreached,
    breached: absoluteBreached || relativeBreached,
  };
}

/**
 * The equity levels at or below which `limit` measures a breach at `now`, other things as they are: the
 * baseline is fixed for the period, so a limit on equity (`equity-difference`, `balance-minus-equity`) breaches
 * once equity ≤ base − maxAbsoluteRisk or ≤ base × (1 − maxRelativeRisk). `[]` when the limit does not depend on
 * equity (a balance limit, or not tracking yet); `'moving'` when no baseline is stored yet (the baseline is `now`
 * itself and moves with every mark).
 */
export function equityBreachLevels(history: DrawdownHistory, limit: RiskLimit, nowInput: ObservationInput): Decimal[] | 'moving' {
  if (limit.applyTo === 'balance-difference') return [];
  const measure = measureDrawdown(history, limit, nowInput);
  if (measure === null) return [];
  const stored = baselineAt(history, measure.periodStart);
  if (stored === null || stored.at > nowInput.at) return 'moving';
  const base = dec(measure.base);
  const levels: Decimal[] = [];
  if (limit.maxAbsoluteRisk !== undefined) levels.push(base.minus(limit.maxAbsoluteRisk));
  if (limit.maxRelativeRisk !== undefined && base.greaterThan(0)) levels.push(base.minus(base.times(limit.maxRelativeRisk)));
  return levels;
}
