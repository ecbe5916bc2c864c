import { dec, isDecimalString } from './decimal.ts';
import { measureDrawdown, type DrawdownHistory, type DrawdownMeasure, type ObservationInput } from './drawdown.ts';
import { parseIsoTime, toIso } from './periods.ts';
import {
  RISK_LIMIT_APPLY_TO,
  RISK_LIMIT_LEVELS,
  RISK_LIMIT_TYPES,
  type ResolvedRiskLimit,
  type RiskLimit,
  type RiskLimitApplyTo,
  type RiskLimitLevel,
  type RiskLimitSource,
  type RiskLimitType,
} from './risk-limit.ts';
import type { Stopout, StopoutScope } from './stopout.ts';

/**
 * CopyFactory risk limits: validation, resolution along the strategy → member → portfolio →
 * subscription → subscriber chain, evaluation into stopouts, and the reset rule.
 * Semantics: docs/copyfactory.md.
 */

/** The stopout scope a limit's level raises its stopouts on. */
export const LEVEL_STOPOUT_SCOPE: Readonly<Record<RiskLimitLevel, StopoutScope>> = {
  strategy: 'strategy',
  member: 'member',
  portfolio: 'portfolio',
  subscription: 'subscription',
  subscriber: 'subscriber',
};

function positiveDecimalProblem(path: string, field: string, v: unknown): string | null {
  if (!isDecimalString(v)) return `${path}${field}: expected a decimal string, got ${JSON.stringify(v)}`;
  if (!dec(v).greaterThan(0)) return `${path}${field}: must be greater than 0, got ${v}`;
  return null;
}

/**
 * Problems of one limit, each prefixed with `path` (e.g. "portfolios[0].riskLimits[1]"); empty when valid.
 * Limits of 0 are refused: a drawdown of 0 would breach them at once, forever.
 */
export function validateRiskLimit(limit: RiskLimit, path = ''): string[] {
  const at = path === '' ? '' : `${path}.`;
  const problems: string[] = [];
  const l = limit as unknown as Record<string, unknown>;
  if (typeof l !== 'object' || l === null) return [`${path || 'riskLimit'}: expected an object`];
  if (!(RISK_LIMIT_TYPES as readonly unknown[]).includes(l.type)) {
    problems.push(`${at}type: expected one of ${RISK_LIMIT_TYPES.join(', ')}, got ${JSON.stringify(l.type)}`);
  }
  if (!(RISK_LIMIT_APPLY_TO as readonly unknown[]).includes(l.applyTo)) {
    problems.push(`${at}applyTo: expected one of ${RISK_LIMIT_APPLY_TO.join(', ')}, got ${JSON.stringify(l.applyTo)}`);
  }
  if (typeof l.closePositions !== 'boolean') problems.push(`${at}closePositions: expected a boolean`);
  if (l.maxAbsoluteRisk === undefined && l.maxRelativeRisk === undefined) {
    problems.push(`${path === '' ? '' : `${path}: `}maxAbsoluteRisk or maxRelativeRisk is required`);
  }
  for (const field of ['maxAbsoluteRisk', 'maxRelativeRisk'] as const) {
    if (l[field] === undefined) continue;
    const problem = positiveDecimalProblem(at, field, l[field]);
    if (problem !== null) problems.push(problem);
  }
  if (l.startTime !== undefined && parseIsoTime(l.startTime) === null) {
    problems.push(`${at}startTime: expected an ISO 8601 time with zone (e.g. 2026-01-05T00:00:00Z), got ${JSON.stringify(l.startTime)}`);
  }
  return problems;
}

/** Throws one error listing every problem of the limit. */
export function assertValidRiskLimit(limit: RiskLimit, path = 'riskLimit'): void {
  const problems = validateRiskLimit(limit, path);
  if (problems.length > 0) throw new Error(problems.join('; '));
}

/** `<type>-<applyTo>`, e.g. "day-balance-difference". */
export function stopoutReason(limit: Pick<RiskLimit, 'type' | 'applyTo'>): string {
  return `${limit.type}-${limit.applyTo}`;
}

/** The inverse of stopoutReason; null for "manual" and other reasons. */
export function parseStopoutReason(reason: string): { type: RiskLimitType; applyTo: RiskLimitApplyTo } | null {
  for (const applyTo of RISK_LIMIT_APPLY_TO) {
    const suffix = `-${applyTo}`;
    if (!reason.endsWith(suffix)) continue;
    const type = reason.slice(0, -suffix.length);
    if ((RISK_LIMIT_TYPES as readonly string[]).includes(type)) return { type: type as RiskLimitType, applyTo };
  }
  return null;
}

/** The override identity: a later level replaces earlier limits with the same key. */
export function riskLimitKey(limit: Pick<RiskLimit, 'applyTo' | 'type' | 'closePositions'>): string {
  return `${limit.applyTo}|${limit.type}|${limit.closePositions}`;
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareOptionalDecimals(a: string | undefined, b: string | undefined): number {
  if (a === undefined || b === undefined) return a === b ? 0 : a === undefined ? -1 : 1;
  return dec(a).comparedTo(b) || compareStrings(a, b);
}

function compareOptionalTimes(a: string | undefined, b: string | undefined): number {
  if (a === undefined || b === undefined) return a === b ? 0 : a === undefined ? -1 : 1;
  return (parseIsoTime(a) ?? 0) - (parseIsoTime(b) ?? 0) || compareStrings(a, b);
}

/** The canonical order of resolved limits: level, sourceId, type, applyTo, closePositions, then values. */
export function compareResolvedRiskLimits(a: ResolvedRiskLimit, b: ResolvedRiskLimit): number {
  return (
    RISK_LIMIT_LEVELS.indexOf(a.level) - RISK_LIMIT_LEVELS.indexOf(b.level) ||
    compareStrings(a.sourceId, b.sourceId) ||
    RISK_LIMIT_TYPES.indexOf(a.type) - RISK_LIMIT_TYPES.indexOf(b.type) ||
    RISK_LIMIT_APPLY_TO.indexOf(a.applyTo) - RISK_LIMIT_APPLY_TO.indexOf(b.applyTo) ||
    Number(a.closePositions) - Number(b.closePositions) ||
    compareOptionalDecimals(a.maxAbsoluteRisk, b.maxAbsoluteRisk) ||
    compareOptionalDecimals(a.maxRelativeRisk, b.maxRelativeRisk) ||
    compareOptionalTimes(a.startTime, b.startTime)
  );
}

function resolved(limit: RiskLimit, level: RiskLimitLevel, sourceId: string): ResolvedRiskLimit {
  // Copy only the known fields, so that extra properties cannot make equal limits differ.
  const r: ResolvedRiskLimit = { type: limit.type, applyTo: limit.applyTo, closePositions: limit.closePositions, level, sourceId };
  if (limit.maxAbsoluteRisk !== undefined) r.maxAbsoluteRisk = limit.maxAbsoluteRisk;
  if (limit.maxRelativeRisk !== undefined) r.maxRelativeRisk = limit.maxRelativeRisk;
  if (limit.startTime !== undefined) r.startTime = limit.startTime;
  return r;
}

/**
 * The limits that apply to one account, given the sources of its chain (any order; several sources per
 * level allowed). Additive: every limit applies, except that a limit at a later level replaces every
 * earlier-level limit with the same (applyTo, type, closePositions). Limits of one level never override
 * each other. The result is sorted canonically (compareResolvedRiskLimits), so it does not depend on the
 * order of the input. Throws on an invalid limit or level, naming its place.
 */
export function resolveRiskLimits(chain: readonly RiskLimitSource[]): ResolvedRiskLimit[] {
  const problems: string[] = [];
  const all: ResolvedRiskLimit[] = [];
  chain.forEach((source, i) => {
    if (!(RISK_LIMIT_LEVELS as readonly string[]).includes(source.level)) {
      problems.push(`chain[${i}].level: expected one of ${RISK_LIMIT_LEVELS.join(', ')}, got ${JSON.stringify(source.level)}`);
      return;
    }
    source.limits.forEach((limit, j) => {
      const found = validateRiskLimit(limit, `${source.level} ${source.id}.limits[${j}]`);
      if (found.length > 0) problems.push(...found);
      else all.push(resolved(limit, source.level, source.id));
    });
  });
  if (problems.length > 0) throw new Error(`invalid risk limits: ${problems.join('; ')}`);

  const latestLevel = new Map<string, number>();
  for (const limit of all) {
    const key = riskLimitKey(limit);
    latestLevel.set(key, Math.max(latestLevel.get(key) ?? -1, RISK_LIMIT_LEVELS.indexOf(limit.level)));
  }
  return all
    .filter((limit) => RISK_LIMIT_LEVELS.indexOf(limit.level) === latestLevel.get(riskLimitKey(limit)))
    .sort(compareResolvedRiskLimits);
}

/** A limit that measures a breach, with the stopout it raises. */
export interface Breach {
  limit: ResolvedRiskLimit;
  measure: DrawdownMeasure;
  stopout: Stopout;
}

/** The stopout a breached limit raises (no sequence: the store assigns it). */
export function stopoutFor(limit: ResolvedRiskLimit, measure: DrawdownMeasure, at: number): Stopout {
  const stopout: Stopout = {
    scope: LEVEL_STOPOUT_SCOPE[limit.level],
    id: limit.sourceId,
    reason: stopoutReason(limit),
    closePositions: limit.closePositions,
    stoppedAt: toIso(at),
  };
  if (measure.periodEnd !== null) stopout.stoppedTill = toIso(measure.periodEnd);
  return stopout;
}

/**
 * The breaches at `now`, in the order of `limits`. Two limits of one source with the same reason (they
 * differ in closePositions or values) give two breaches with the same (scope, id, reason).
 */
export function evaluateRiskLimits(limits: readonly ResolvedRiskLimit[], history: DrawdownHistory, now: ObservationInput): Breach[] {
  const breaches: Breach[] = [];
  for (const limit of limits) {
    const measure = measureDrawdown(history, limit, now);
    if (measure?.breached) breaches.push({ limit, measure, stopout: stopoutFor(limit, measure, now.at) });
  }
  return breaches;
}

/** Whether one of `limits` raises stopouts of this identity (scope, id and reason), breached or not. */
export function raisedByLimits(stopout: Pick<Stopout, 'scope' | 'id' | 'reason'>, limits: readonly ResolvedRiskLimit[]): boolean {
  return limits.some(
    (l) => LEVEL_STOPOUT_SCOPE[l.level] === stopout.scope && l.sourceId === stopout.id && stopoutReason(l) === stopout.reason,
  );
}

export type ResetCheck = { ok: true } | { ok: false; reason: string };

function breachText(limit: RiskLimit, measure: DrawdownMeasure): string {
  const parts: string[] = [];
  if (measure.absoluteBreached) parts.push(`drawdown ${measure.drawdown} >= maxAbsoluteRisk ${limit.maxAbsoluteRisk}`);
  if (measure.relativeBreached) parts.push(`relative drawdown ${measure.relative} >= maxRelativeRisk ${limit.maxRelativeRisk}`);
  return parts.join(' and ');
}

/**
 * CopyFactory clearing: a stopout raised by a limit may be reset only when no limit of the same source
 * and reason still measures a breach (otherwise it would re-trigger at once): move startTime on that
 * level to now first. Manual and unknown reasons, and reasons no current limit gives, are always resettable.
 */
export function canResetStopout(
  stopout: Pick<Stopout, 'scope' | 'id' | 'reason'>,
  limits: readonly ResolvedRiskLimit[],
  history: DrawdownHistory,
  now: ObservationInput,
): ResetCheck {
  if (parseStopoutReason(stopout.reason) === null) return { ok: true };
  for (const limit of limits) {
    if (LEVEL_STOPOUT_SCOPE[limit.level] !== stopout.scope || limit.sourceId !== stopout.id) continue;
    if (stopoutReason(limit) !== stopout.reason) continue;
    const measure = measureDrawdown(history, limit, now);
    if (measure === null || !measure.breached) continue;
    return {
      ok: false,
      reason:
        `${stopout.reason} still breached: ${breachText(limit, measure)} since ${toIso(measure.periodStart)}; ` +
        `move startTime on ${stopout.scope} ${stopout.id} to now first, then reset`,
    };
  }
  return { ok: true };
}
