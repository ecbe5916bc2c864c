/** Scopes of a stopout (docs/contracts.md#redis). `fleet` with id "*" is the global kill switch. */
export const STOPOUT_SCOPES = ['fleet', 'portfolio', 'member', 'strategy', 'account', 'subscription', 'subscriber'] as const;
export type StopoutScope = (typeof STOPOUT_SCOPES)[number];

/** A temporary stop on new entries, as CopyFactory raises it. */
export interface Stopout {
  scope: StopoutScope;
  id: string;
  /** `<type>-<applyTo>` (e.g. "day-balance-difference"), "manual" or "session-loss-limit". */
  reason: string;
  closePositions: boolean;
  /** ISO 8601. */
  stoppedAt?: string;
  /** ISO 8601: end of the period; absent means until reset. */
  stoppedTill?: string;
  /** Monotonic per store; orders stopouts and makes a replayed one recognisable. */
  sequence?: number;
  by?: string;
}
