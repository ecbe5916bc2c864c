import type { StateValue } from 'xstate';
import type { AccountMode } from '../src/domain/assessment.ts';

/** The top-level state of an account snapshot's value: `{ 'de-risking': 'awaiting' }` → `de-risking`. */
export function topState(value: StateValue): AccountMode {
  return (typeof value === 'string' ? value : Object.keys(value)[0]) as AccountMode;
}

/** The full path of a state value: `{ 'de-risking': 'awaiting' }` → `de-risking.awaiting`. */
export function statePath(value: StateValue): string {
  if (typeof value === 'string') return value;
  const [key, inner] = Object.entries(value)[0] ?? ['', undefined];
  return inner === undefined ? key : `${key}.${statePath(inner as StateValue)}`;
}
