import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createActor, type Snapshot } from 'xstate';
import type { AccountContext } from '../../machines/account-context.ts';
import { accountMachine } from '../../machines/account.ts';
import { accountSnapshotProblems, persistedSnapshot } from '../../machines/restorable-account.ts';
import { stateValueProblems } from '../../machines/snapshot-state.ts';
import { sampleEvents, startRecordingActor, T0 } from './account-fixture.ts';

/*
 * Issue 12, failure 4: a snapshot with an unknown state crashed every supervisor (`State 'no-such-state'
 * does not exist`, thrown from inside the supervisor that spawned the account) — XState checks nothing on
 * restore. These tests hold the check that now runs before XState sees a snapshot.
 */

/** A persisted snapshot of an account in `{ 'de-risking': 'awaiting' }` with one reduction in flight. */
function deRiskingSnapshot(): Record<string, unknown> {
  const { actor, log } = startRecordingActor();
  // Long 6 @ 2000 on 2500 collateral, then 1850: buffer 0.094 < 0.10 → de-risking, one reduction (as in account-snapshot.test.ts).
  actor.send({ type: 'ENTRY_REQUEST', order: { symbol: 'ETHP', side: 'buy', amount: '6', type: 'limit', price: '2000' } });
  actor.send({
    type: 'LEDGER',
    at: T0 + 1000,
    event: { kind: 'fill', id: 'f1', seq: 1, symbol: 'ETHP', side: 'buy', amount: '6', price: '2000' },
  });
  actor.send({ type: 'ORDER_UPDATE', clientOrderId: log.sent[0]!.clientOrderId, status: 'filled', filled: '6', at: T0 + 1000 });
  actor.send({ type: 'MARK', symbol: 'ETHP', price: '1850', at: T0 + 2000 });
  expect(actor.getSnapshot().value).toEqual({ 'de-risking': 'awaiting' });
  const json = JSON.stringify(actor.getPersistedSnapshot());
  actor.stop();
  return JSON.parse(json) as Record<string, unknown>;
}

const root = accountMachine.root;

describe('stateValueProblems: a state value read back must be a complete state of the machine', () => {
  it('accepts every state XState writes, flat and nested', () => {
    for (const value of ['trading', 'entries-blocked', { 'de-risking': 'awaiting' }, { 'stopped-out': { reducing: 'cancelling' } }]) {
      expect(stateValueProblems(root, value, 'snapshot.value')).toEqual([]);
    }
    expect(stateValueProblems(root, { 'stopped-out': 'holding' }, 'v')).toEqual([]);
  });

  it('refuses an unknown state, at any depth, with its path', () => {
    expect(stateValueProblems(root, 'no-such-state', 'snapshot.value')).toEqual([
      'snapshot.value: unknown state "no-such-state" (expected one of "trading", "entries-blocked", "de-risking", "panic-exit", "stopped-out")',
    ]);
    expect(stateValueProblems(root, { 'de-risking': 'dozing' }, 'snapshot.value')[0]).toMatch(
      /^snapshot\.value\.de-risking: unknown state "dozing" \(expected one of "cancelling", "deciding", "awaiting", "cancelling-reduction"\)$/,
    );
    expect(stateValueProblems(root, { 'stopped-out': { reducing: 'nope' } }, 'v')[0]).toMatch(
      /^v\.stopped-out\.reducing: unknown state "nope"/,
    );
    expect(stateValueProblems(root, { nowhere: 'awaiting' }, 'v')[0]).toMatch(/^v: unknown state "nowhere"/);
    // Inherited names are not states.
    expect(stateValueProblems(root, 'toString', 'v')[0]).toMatch(/^v: unknown state "toString"/);
  });

  it('refuses a path that stops at a compound state, goes below a leaf, names two states or is not a value', () => {
    expect(stateValueProblems(root, 'de-risking', 'v')).toEqual([
      'v: state "de-risking" is not a leaf: expected {"de-risking": …} naming one of its states',
    ]);
    expect(stateValueProblems(root, { trading: 'deeper' }, 'v')).toEqual([
      'v.trading: state "trading" has no child states, got string "deeper"',
    ]);
    expect(stateValueProblems(root, { trading: 'x', 'de-risking': 'awaiting' }, 'v')).toEqual([
      'v: expected exactly one state, got "trading", "de-risking"',
    ]);
    expect(stateValueProblems(root, {}, 'v')).toEqual(['v: expected exactly one state, got none']);
    expect(stateValueProblems(root, 42, 'v')).toEqual(['v: expected a state name or an object {state: substate}, got number 42']);
    expect(stateValueProblems(root, null, 'v')).toEqual(['v: expected a state name or an object {state: substate}, got null']);
    expect(stateValueProblems(root, ['trading'], 'v')).toEqual(['v: expected a state name or an object {state: substate}, got an array']);
  });
});

describe('accountSnapshotProblems: what is checked before a persisted account is restored', () => {
  it('passes every snapshot the machine itself persists along random runs (seeded)', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(), { minLength: 1, maxLength: 25 }), (picks) => {
        const { actor } = startRecordingActor();
        for (const pick of picks) {
          const events = sampleEvents(actor.getSnapshot());
          actor.send(events[pick % events.length]!);
          const persisted = JSON.parse(JSON.stringify(actor.getPersistedSnapshot())) as unknown;
          expect(accountSnapshotProblems(persisted, 'snapshot')).toEqual([]);
        }
        actor.stop();
      }),
      { seed: 12, numRuns: 60 },
    );
  });

  it('refuses an unknown state (the snapshot that crashed every supervisor) before XState throws', () => {
    const snapshot: Record<string, unknown> = { ...deRiskingSnapshot(), value: 'no-such-state' };
    expect(accountSnapshotProblems(snapshot, 'snapshot')).toEqual([
      expect.stringMatching(/^snapshot\.value: unknown state "no-such-state"/),
    ]);
    expect(() => persistedSnapshot('snapshot of a1', snapshot)).toThrow(/^snapshot of a1\.value: unknown state "no-such-state"/);
    // What XState alone does with it: it throws the error that used to escape from the supervisor.
    const restore = () =>
      createActor(accountMachine, { snapshot: snapshot as unknown as Snapshot<unknown>, input: snapshot.context as AccountContext });
    expect(String(restore().getSnapshot().error)).toMatch("State 'no-such-state' does not exist");
  });

  it('refuses a wrong type inside the context, naming the path', () => {
    const cases: Array<[string, (c: Record<string, unknown>) => void, RegExp]> = [
      ['orderSeq', (c) => (c.orderSeq = '7'), /^snapshot\.context\.orderSeq: expected a whole number, got string "7"$/],
      [
        'products',
        (c) => ((c.settings as Record<string, unknown>).products = null),
        /^snapshot\.context\.settings\.products: expected an object, got null$/,
      ],
      [
        'collateral',
        (c) => ((c.ledger as Record<string, unknown>).collateral = 2500),
        /^snapshot\.context\.ledger\.collateral: expected a decimal string, got number 2500$/,
      ],
      ['marks', (c) => (c.marks = { ETHP: 'abc' }), /^snapshot\.context\.marks\["ETHP"\]: expected a decimal string, got string "abc"$/],
      [
        'stopouts',
        (c) => (c.stopouts = [{ scope: 'galaxy', id: '*', reason: 'manual', closePositions: false }]),
        /^snapshot\.context\.stopouts\[0\]\.scope: expected one of/,
      ],
      ['mode', (c) => (c.mode = 'trading'), /^snapshot\.context\.mode: "trading" disagrees with the state "de-risking"$/],
      ['reduction', (c) => (c.reduction = 'ghost'), /^snapshot\.context\.reduction: "ghost" is not one of the context's orders$/],
    ];
    for (const [name, spoil, expected] of cases) {
      const snapshot = deRiskingSnapshot();
      spoil(snapshot.context as Record<string, unknown>);
      const problems = accountSnapshotProblems(snapshot, 'snapshot');
      expect(problems, name).toHaveLength(1);
      expect(problems[0], name).toMatch(expected);
    }
  });

  it('refuses a snapshot that is not an active account with no children', () => {
    expect(accountSnapshotProblems('text', 'snapshot')).toEqual(['snapshot: expected a persisted actor snapshot (an object)']);
    expect(accountSnapshotProblems({ ...deRiskingSnapshot(), status: 'stopped' }, 's')).toEqual([
      's.status: expected "active" (a running account), got "stopped"',
    ]);
    expect(accountSnapshotProblems({ ...deRiskingSnapshot(), children: { x: { src: 'account' } } }, 's')).toEqual([
      's.children: expected {} (the account machine invokes no actors)',
    ]);
    expect(accountSnapshotProblems({ ...deRiskingSnapshot(), historyValue: { a: 1 } }, 's')).toEqual([
      's.historyValue: expected {} (the account machine has no history states)',
    ]);
    const { context: _context, ...contextless } = deRiskingSnapshot();
    expect(accountSnapshotProblems(contextless, 's')).toEqual(['s.context: expected an object, got nothing']);
  });
});
