import { parseIsoTime } from '../domain/periods.ts';
import type { StopoutIdentity } from '../domain/stopout-identity.ts';
import type { StoredStopout } from './stopout-store.ts';

/**
 * The value of one field of `<prefix>:stopout:<scope>:<id>` (docs/contracts.md#redis): a JSON object with optional
 * `closePositions` (bool), `stoppedAt`, `stoppedTill` (ISO 8601), `by`, and this store's `sequence`.
 * `{}` is valid. Unknown keys are ignored, so other writers may add their own.
 */
export interface StopoutValue {
  closePositions?: boolean;
  stoppedAt?: string;
  stoppedTill?: string;
  by?: string;
  sequence?: number;
}

/** The JSON this store writes: fixed key order, absent fields left out. */
export function encodeStopoutValue(stopout: StoredStopout): string {
  const value: StopoutValue = { closePositions: stopout.closePositions };
  if (stopout.stoppedAt !== undefined) value.stoppedAt = stopout.stoppedAt;
  if (stopout.stoppedTill !== undefined) value.stoppedTill = stopout.stoppedTill;
  if (stopout.by !== undefined) value.by = stopout.by;
  value.sequence = stopout.sequence;
  return JSON.stringify(value);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  const text = JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

/**
 * Reads a stored value, failing closed: whatever the value, the result is a stopout. A field that is not
 * the contract's shape is dropped (so a bad `closePositions` reads as false) and the problems are joined
 * into `malformed`. A missing sequence reads as 0, the same in every process.
 */
export function decodeStopoutValue(identity: StopoutIdentity, raw: string): StoredStopout {
  const stopout: StoredStopout = { ...identity, closePositions: false, sequence: 0 };
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    stopout.malformed = `not valid JSON: ${describe(raw)}`;
    return stopout;
  }
  if (!isPlainObject(value)) {
    stopout.malformed = `expected a JSON object, got ${describe(value)}`;
    return stopout;
  }
  const problems: string[] = [];
  const { closePositions, stoppedAt, stoppedTill, by, sequence } = value;
  if (closePositions !== undefined) {
    if (typeof closePositions === 'boolean') stopout.closePositions = closePositions;
    else problems.push(`closePositions: expected true or false, got ${describe(closePositions)}`);
  }
  for (const [name, time] of [
    ['stoppedAt', stoppedAt],
    ['stoppedTill', stoppedTill],
  ] as const) {
    if (time === undefined) continue;
    if (typeof time === 'string' && parseIsoTime(time) !== null) stopout[name] = time;
    else problems.push(`${name}: expected an ISO 8601 time, got ${describe(time)}`);
  }
  if (by !== undefined) {
    if (typeof by === 'string') stopout.by = by;
    else problems.push(`by: expected a string, got ${describe(by)}`);
  }
  if (sequence !== undefined) {
    if (Number.isSafeInteger(sequence) && (sequence as number) >= 0) stopout.sequence = sequence as number;
    else problems.push(`sequence: expected a non-negative integer, got ${describe(sequence)}`);
  }
  if (problems.length > 0) stopout.malformed = problems.join('; ');
  return stopout;
}

/** Equality of two stored stopouts as the store reports them (every field, in a fixed order). */
export function sameStoredStopout(a: StoredStopout, b: StoredStopout): boolean {
  return canonical(a) === canonical(b);
}

function canonical(s: StoredStopout): string {
  return JSON.stringify([s.scope, s.id, s.reason, s.closePositions, s.stoppedAt, s.stoppedTill, s.by, s.sequence, s.malformed]);
}
