import { describe, expect, it } from 'vitest';
import { createActor, type InspectionEvent } from 'xstate';
import { createTestModel } from 'xstate/graph';
import { accountMachine } from '../../machines/account.ts';
import {
  accountContext,
  recordingMachine,
  restoreActor,
  sampleEvents,
  serializeSnapshot,
  type AccountSnapshot,
  type SentOrder,
} from './account-fixture.ts';
import { checkInvariants } from './account-invariants.ts';
import { machineInventory, transitionKey } from './account-transitions.ts';
import type { AccountEvent } from '../../machines/account-context.ts';

/**
 * Model-based test: xstate/graph walks the account statechart over a finite alphabet of events
 * (sampleEvents) and an abstraction of its context (serializeSnapshot); every generated path is replayed
 * against the machine running with the real domain code and a recording venue, checking the state at
 * each step and the invariants after it. The union of replayed paths must take every transition and
 * enter every state of the machine, so a new transition without a path fails this test.
 */
describe('account statechart, model-based', () => {
  const model = createTestModel(accountMachine, {
    events: (snapshot: AccountSnapshot) => sampleEvents(snapshot),
    serializeState: (snapshot: AccountSnapshot) => serializeSnapshot(snapshot),
    input: accountContext(),
  });
  const paths = model.getShortestPaths();

  it('generates paths to every stable state', () => {
    const reached = new Set(paths.map((p) => JSON.stringify(p.state.value)));
    for (const state of [
      '"trading"',
      '"entries-blocked"',
      '{"de-risking":"awaiting"}',
      '{"panic-exit":"awaiting"}',
      '{"stopped-out":"holding"}',
    ]) {
      expect(reached).toContain(state);
    }
  });

  it('replays every path with the invariants holding, covering every state and transition', async () => {
    const covered = new Set<string>();
    const entered = new Set<string>();
    const track = (event: InspectionEvent): void => {
      if (event.type !== '@xstate.microstep') return;
      for (const t of (event as unknown as { _transitions: Parameters<typeof transitionKey>[0][] })._transitions)
        covered.add(transitionKey(t));
      for (const node of (event.snapshot as AccountSnapshot)._nodes) entered.add(node.id);
    };
    for (const path of paths) {
      const log = { sent: [] as SentOrder[], cancels: [] as string[], decisions: 0, raised: 0, resets: [] as string[] };
      const sut = createActor(recordingMachine(log), {
        input: accountContext(),
        inspect: (event) => track(event),
      });
      sut.start();
      await path.test({
        states: {
          '*': (expected: AccountSnapshot) => {
            expect(sut.getSnapshot().value).toEqual(expected.value);
          },
        },
        events: Object.fromEntries(
          [
            'MARK',
            'LEDGER',
            'ORDER_UPDATE',
            'ENTRY_REQUEST',
            'STOPOUT_SET',
            'STOPOUT_RESET',
            'MOVE_START_TIME',
            'TICK',
            'FEED_STATUS',
            'RESYNC',
          ].map((type) => [
            type,
            ({ event }: { event: AccountEvent }) => {
              const before = sut.getSnapshot();
              const sentBefore = log.sent.length;
              sut.send(event);
              checkInvariants(before, sut.getSnapshot(), event, log.sent.slice(sentBefore));
            },
          ]),
        ),
      });
      // The edge tour: from the path's end, every event of the alphabet once, each on a copy of the
      // actor restored from its persisted snapshot (which also proves snapshots resume correctly).
      const persisted = JSON.parse(JSON.stringify(sut.getPersistedSnapshot()));
      sut.stop();
      for (const event of sampleEvents(sut.getSnapshot())) {
        const fork = restoreActor(log, persisted, track);
        fork.start();
        const before = fork.getSnapshot();
        expect(before.value).toEqual(path.state.value);
        const sentBefore = log.sent.length;
        fork.send(event);
        checkInvariants(before, fork.getSnapshot(), event, log.sent.slice(sentBefore));
        fork.stop();
      }
    }
    const inventory = machineInventory(accountMachine);
    expect(inventory.transitions.filter((t) => !covered.has(t))).toEqual([]);
    expect(inventory.states.filter((s) => !entered.has(s))).toEqual([]);
  }, 120_000);
});
