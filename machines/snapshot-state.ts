import type { AnyStateNode, StateValue } from 'xstate';
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

/**
 * Why `value` (read from outside: a persisted snapshot) is not a complete state of the machine whose
 * root is `root`, each problem with its path, e.g. `snapshot.value: unknown state "no-such-state"`; empty
 * when it is one. Complete means what XState itself writes: every key names a child state node of its
 * parent, a compound state names exactly one child, a parallel one every region, and the path ends on a
 * leaf. XState checks none of this on restore (it throws on an unknown name, from inside whichever actor
 * spawns the account, and silently accepts a path that stops at a compound state), so it is checked here.
 */
export function stateValueProblems(root: AnyStateNode, value: unknown, where: string): string[] {
  return childProblems(root, value, where);
}

/** `value` selects among the child states of `node`. */
function childProblems(node: AnyStateNode, value: unknown, where: string): string[] {
  const children = node.states;
  // History nodes are children too, but a state value never names one.
  const names = (): string[] => Object.keys(children).filter((name) => children[name]?.type !== 'history');
  const known = (name: string): AnyStateNode | undefined =>
    Object.hasOwn(children, name) && children[name]?.type !== 'history' ? children[name] : undefined;
  // Only a problem needs it: built then, not for every valid value.
  const expected = (): string =>
    `expected one of ${names()
      .map((n) => JSON.stringify(n))
      .join(', ')}`;
  if (typeof value === 'string') {
    const child = known(value);
    if (!child) return [`${where}: unknown state ${JSON.stringify(value)} (${expected()})`];
    if (node.type === 'parallel') return [`${where}: the parallel state "${node.key}" needs an object naming each of its regions`];
    if (hasChildren(child))
      return [`${where}: state ${JSON.stringify(value)} is not a leaf: expected {${JSON.stringify(value)}: …} naming one of its states`];
    return [];
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return [`${where}: expected a state name or an object {state: substate}, got ${describeValue(value)}`];
  }
  const keys = Object.keys(value);
  const problems: string[] = [];
  if (node.type === 'parallel') {
    for (const name of names())
      if (!keys.includes(name)) problems.push(`${where}.${name}: missing (a region of the parallel state "${node.key}")`);
  } else if (keys.length !== 1) {
    return [`${where}: expected exactly one state, got ${keys.length === 0 ? 'none' : keys.map((k) => JSON.stringify(k)).join(', ')}`];
  }
  for (const key of keys) {
    const child = known(key);
    const inner = (value as Record<string, unknown>)[key];
    if (!child) problems.push(`${where}: unknown state ${JSON.stringify(key)} (${expected()})`);
    else if (!hasChildren(child))
      problems.push(`${where}.${key}: state ${JSON.stringify(key)} has no child states, got ${describeValue(inner)}`);
    else problems.push(...childProblems(child, inner, `${where}.${key}`));
  }
  return problems;
}

function hasChildren(node: AnyStateNode): boolean {
  return Object.keys(node.states).length > 0;
}

/** A value read from outside, briefly, for a problem message: `null`, `an object`, `string "7"`. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  const text = JSON.stringify(value) ?? String(value);
  return `${typeof value} ${text.length > 40 ? `${text.slice(0, 40)}…` : text}`;
}
