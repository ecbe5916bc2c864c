import { toIso } from '../domain/periods.ts';
import type { Stopout } from '../domain/stopout.ts';
import type { StoredStopout } from './stopout-store.ts';

/** What `StopoutStore.set` does given what is already stored under the same (scope, id, reason). */
export type SetDecision =
  | { kind: 'keep'; stopout: StoredStopout }
  | { kind: 'write'; upgrade: boolean; stopout: (sequence: number) => StoredStopout };

/**
 * Idempotence: an existing stopout is kept as it is (sequence, stoppedAt, everything) unless the new one
 * closes positions and the existing one does not; that upgrade takes a new sequence (it is a new instruction
 * to act on) and keeps the original stoppedAt (the stop began then). A malformed stored value is replaced
 * by the well-formed one (a repair; it stays a stopout either way). `now` fills an absent stoppedAt.
 */
export function decideSet(input: Stopout, existing: StoredStopout | undefined, now: number): SetDecision {
  if (existing !== undefined && existing.malformed === undefined && (existing.closePositions || !input.closePositions)) {
    return { kind: 'keep', stopout: existing };
  }
  const stoppedAt = existing?.stoppedAt ?? input.stoppedAt ?? toIso(now);
  return {
    kind: 'write',
    upgrade: existing !== undefined && existing.malformed === undefined,
    stopout: (sequence) => {
      const stored: StoredStopout = {
        scope: input.scope,
        id: input.id,
        reason: input.reason,
        closePositions: input.closePositions,
        stoppedAt,
        sequence,
      };
      if (input.stoppedTill !== undefined) stored.stoppedTill = input.stoppedTill;
      if (input.by !== undefined) stored.by = input.by;
      return stored;
    },
  };
}
