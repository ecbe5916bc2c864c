import { describe, expect, it } from 'vitest';
import { createActor, type Snapshot } from 'xstate';
import { accountMachine } from '../../machines/account.ts';
import { accountSnapshotProblems, persistedAccountSnapshot, restorableAccount } from '../../machines/restorable-account.ts';
import { accountContext, recordingMachine, sampleEvents } from './account-fixture.ts';

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
    expect(problems[0]).toBe('snapshot: nested deeper than 256 levels');
  });
});

describe('persistedAccountSnapshot and the restore without the context walk', () => {
  it("are XState's own getPersistedSnapshot and restore, in every state the sample events reach", () => {
    const log = { sent: [], cancels: [], decisions: 0, raised: 0, resets: [] };
    const logic = recordingMachine(log);
    const restorable = restorableAccount(logic);
    const actor = createActor(logic, { input: accountContext() }).start();
    const seen = new Set<string>();
    for (let round = 0; round < 6; round += 1) {
      for (const event of sampleEvents(actor.getSnapshot())) {
        actor.send(event);
        const snapshot = actor.getSnapshot();
        const ours = persistedAccountSnapshot(snapshot);
        expect(JSON.stringify(ours)).toBe(JSON.stringify(actor.getPersistedSnapshot()));
        seen.add(JSON.stringify(snapshot.value));
        const json = JSON.parse(JSON.stringify(ours)) as Snapshot<unknown>;
        const scope = { self: undefined } as unknown as Parameters<typeof logic.restoreSnapshot>[1];
        const theirs = logic.restoreSnapshot(structuredClone(json), scope);
        const mine = restorable.getInitialSnapshot(scope, { persisted: json });
        expect(mine.value).toEqual(theirs.value);
        expect(mine.context).toEqual(theirs.context);
        expect(mine.status).toBe(theirs.status);
      }
    }
    actor.stop();
    expect(seen.size).toBeGreaterThanOrEqual(4);
  });
});
