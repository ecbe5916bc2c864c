import type { Stopout, StopoutScope } from '../domain/stopout.ts';

/** A stopout as a store holds it: always with a sequence (0 when the stored value carries none). */
export interface StoredStopout extends Stopout {
  sequence: number;
  /** Set when the stored value was not valid JSON or not the documented shape (docs/contracts.md#redis): the stopout still counts (fail closed). */
  malformed?: string;
}

/** A live breach a supervisor measures right now; a reset of the same (scope, id, reason) is refused while it holds. */
export interface StopoutBreach {
  scope: StopoutScope;
  id: string;
  reason: string;
  message: string;
}

/** A CopyFactory `startTime` moved on a level (`riskwarden stopouts move-start-time`). */
export interface StopoutStartTime {
  scope: StopoutScope;
  id: string;
  /** ISO 8601. */
  startTime: string;
}

export type StoreChange =
  | { kind: 'set'; stopout: StoredStopout }
  | { kind: 'reset'; stopout: StoredStopout }
  | { kind: 'start-time'; scope: StopoutScope; id: string; startTime: string }
  | { kind: 'health'; healthy: boolean; reason?: string }
  /**
   * The store came back without its epoch marker (docs/contracts.md#redis): its data was lost. The store keeps every
   * stopout it knew and writes them back (`reasserted`); an alert for the operator, not a change of any stopout.
   */
  | { kind: 'data-loss'; reason: string; reasserted: number };

/** Something wrong with what the store read (a malformed value, an unknown scope, a bad message) or with its connection. */
export interface StoreProblem {
  /** ISO 8601 (the store's clock). */
  at: string;
  /** Where: a Redis key (with `[field]` for a hash field), the events channel, or `connection`. */
  where: string;
  message: string;
}

/**
 * The shared stopout store (docs/contracts.md#redis): the embedded in-memory store for one process, or Redis for a
 * fleet of supervisor processes.
 */
export interface StopoutStore {
  readonly kind: 'memory' | 'redis';
  /** Every stopout, sorted by scope (in STOPOUT_SCOPES order), id, reason. */
  list(): Promise<StoredStopout[]>;
  /**
   * Idempotent per (scope, id, reason): an existing stopout is kept (its sequence and stoppedAt) unless
   * closePositions turns true, which upgrades it (new sequence, stoppedAt kept). The input's sequence is
   * ignored; stoppedAt defaults to now.
   */
  set(stopout: Stopout): Promise<StoredStopout>;
  /** True if it existed. */
  reset(scope: StopoutScope, id: string, reason: string): Promise<boolean>;
  /** Live breach records written by supervisors (so a CLI reset can refuse while the cause holds). */
  recordBreach(breach: StopoutBreach, ttlMs: number): Promise<void>;
  clearBreach(scope: StopoutScope, id: string, reason: string): Promise<void>;
  /** Sorted like list(). */
  breaches(): Promise<StopoutBreach[]>;
  /** CopyFactory startTime moved on a level (move-start-time); persisted and broadcast. */
  setStartTime(scope: StopoutScope, id: string, startTimeIso: string): Promise<void>;
  startTimes(): Promise<StopoutStartTime[]>;
  /**
   * Every change, whoever made it: own writes, other processes (pub/sub) and reconciliation diffs.
   * Called synchronously per change, in order. Returns the unsubscribe function.
   */
  watch(listener: (change: StoreChange) => void): () => void;
  healthy(): boolean;
  close(): Promise<void>;
}
