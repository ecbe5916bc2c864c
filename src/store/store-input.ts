import { parseIsoTime } from '../domain/periods.ts';
import type { Stopout, StopoutScope } from '../domain/stopout.ts';
import { identityProblems } from '../domain/stopout-identity.ts';
import type { StopoutBreach } from './stopout-store.ts';

/**
 * Checks of what a caller asks a store to write. A programming error, not an outside input: it throws a
 * RangeError that lists every problem by field.
 */
function fail(operation: string, problems: string[]): void {
  if (problems.length > 0) throw new RangeError(`${operation}: ${problems.join('; ')}`);
}

function isoProblem(name: string, value: unknown): string[] {
  if (value === undefined) return [];
  return typeof value === 'string' && parseIsoTime(value) !== null
    ? []
    : [`${name}: expected an ISO 8601 time, got ${JSON.stringify(value)}`];
}

export function assertStopoutInput(stopout: Stopout): void {
  const problems = identityProblems(stopout);
  if (typeof stopout.closePositions !== 'boolean') problems.push('closePositions: expected true or false');
  problems.push(...isoProblem('stoppedAt', stopout.stoppedAt), ...isoProblem('stoppedTill', stopout.stoppedTill));
  if (stopout.by !== undefined && typeof stopout.by !== 'string') problems.push('by: expected a string');
  fail('set', problems);
}

export function assertResetInput(scope: StopoutScope, id: string, reason: string): void {
  fail('reset', identityProblems({ scope, id, reason }));
}

export function assertBreachInput(operation: string, breach: Omit<StopoutBreach, 'message'> & { message?: unknown }, ttlMs?: number): void {
  const problems = identityProblems(breach);
  if (operation === 'recordBreach' && typeof breach.message !== 'string') problems.push('message: expected a string');
  if (ttlMs !== undefined && (!Number.isSafeInteger(ttlMs) || ttlMs < 1))
    problems.push(`ttlMs: expected a positive integer of milliseconds, got ${ttlMs}`);
  fail(operation, problems);
}

export function assertStartTimeInput(scope: StopoutScope, id: string, startTimeIso: string): void {
  fail('setStartTime', [...identityProblems({ scope, id }), ...isoProblem('startTime', startTimeIso)]);
}
