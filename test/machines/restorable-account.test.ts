import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { accountMachine } from '../../machines/account.ts';
import { accountSnapshotProblems } from '../../machines/restorable-account.ts';
import { accountContext } from './account-fixture.ts';

function persisted(): Record<string, unknown> {
  const actor = createActor(accountMachine, { input: accountContext() }).start();
  const json = JSON.stringify(actor.getPersistedSnapshot());
  actor.stop();
  return JSON.parse(json) as Record<string, unknown>;
}

describe('accountSnapshotProblems: the trial restore', () => {
  it('leaves the value it checks as it was', () => {
    const snapshot = persisted();
    const before = structuredClone(snapshot);
    expect(accountSnapshotProblems(snapshot, 'snapshot')).toEqual([]);
    expect(snapshot).toEqual(before);
  });

  it('restores from a copy a value holding an actor reference (XState revives those in place)', () => {
    const snapshot = persisted();
    // A field the machine ignores, holding what XState reads as a reference to a child actor.
    (snapshot.context as Record<string, unknown>).extra = { nested: [{ xstate$$type: 1, id: 'ghost' }] };
    const before = structuredClone(snapshot);
    expect(accountSnapshotProblems(snapshot, 'snapshot')).toEqual([]);
    expect(snapshot).toEqual(before);
  });

  it('refuses, never throws, a value nested deeper than the call stack allows', () => {
    const snapshot = persisted();
    let deep: Record<string, unknown> = {};
    const top = deep;
    for (let i = 0; i < 200_000; i += 1) {
      const next = {};
      deep.next = next;
      deep = next;
    }
    (snapshot.context as Record<string, unknown>).extra = top;
    const problems = accountSnapshotProblems(snapshot, 'snapshot');
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^snapshot: XState cannot restore it: /);
  });
});
