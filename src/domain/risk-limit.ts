import type { DecimalString } from './decimal.ts';

/** CopyFactory period types, all in UTC. */
export const RISK_LIMIT_TYPES = [
  'day',
  'date',
  'week',
  'week-to-date',
  'month',
  'month-to-date',
  'quarter',
  'quarter-to-date',
  'year',
  'year-to-date',
  'lifetime',
] as const;
export type RiskLimitType = (typeof RISK_LIMIT_TYPES)[number];

/** CopyFactory drawdown measures. */
export const RISK_LIMIT_APPLY_TO = ['balance-difference', 'balance-minus-equity', 'equity-difference'] as const;
export type RiskLimitApplyTo = (typeof RISK_LIMIT_APPLY_TO)[number];

/** A CopyFactory StrategyRiskLimit, same field names and meanings. */
export interface RiskLimit {
  type: RiskLimitType;
  applyTo: RiskLimitApplyTo;
  /** Max drawdown in account currency. */
  maxAbsoluteRisk?: DecimalString;
  /** Max drawdown as a fraction of the period-start value. */
  maxRelativeRisk?: DecimalString;
  closePositions: boolean;
  /** ISO 8601; history before it is ignored. */
  startTime?: string;
}

/** The levels of the CopyFactory chain, earliest first: a later level overrides an earlier one. */
export const RISK_LIMIT_LEVELS = ['strategy', 'member', 'portfolio', 'subscription', 'subscriber'] as const;
export type RiskLimitLevel = (typeof RISK_LIMIT_LEVELS)[number];

/** One level's limits, with the id of the entity that carries them (e.g. portfolio "core", member "core/alpha"). */
export interface RiskLimitSource {
  level: RiskLimitLevel;
  id: string;
  limits: RiskLimit[];
}

/** A limit that applies to an account after resolution, with where it came from. */
export interface ResolvedRiskLimit extends RiskLimit {
  level: RiskLimitLevel;
  /** Id of the entity at that level (used as the stopout scope id). */
  sourceId: string;
}
