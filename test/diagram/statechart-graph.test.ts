import { describe, expect, it } from 'vitest';
import { accountMachine } from '../../machines/account.ts';
import { activeStateIds } from '../../src/diagram/active-states.ts';
import { guardLabel, paramsLabel } from '../../src/diagram/implementation-label.ts';
import { statechartGraph, transitionLabel, type StateGraphEdge } from '../../src/diagram/statechart-graph.ts';
import { featureMachine } from './feature-machine.ts';
import { walkStates, walkTransitions } from './machine-walk.ts';

const account = statechartGraph(accountMachine);
const feature = statechartGraph(featureMachine);

const find = (edges: StateGraphEdge[], source: string, event: string, candidate = 0): StateGraphEdge => {
  const edge = edges.find((e) => e.source === source && e.event === event && e.candidate === candidate);
  if (!edge) throw new Error(`no ${event} #${candidate} on ${source}`);
  return edge;
};

describe('statechartGraph', () => {
  it('has a node for the root and for every state of the account machine, in definition order', () => {
    expect(account.id).toBe('account');
    expect(account.nodes[0]).toMatchObject({ id: 'account', parent: null, kind: 'compound', initial: 'account.trading', path: [] });
    expect(account.nodes.slice(1).map((n) => n.id)).toEqual(walkStates(accountMachine).map((s) => s.id));
    expect(account.nodes.find((n) => n.id === 'account.stopped-out.reducing')).toEqual({
      id: 'account.stopped-out.reducing',
      label: 'reducing',
      path: ['stopped-out', 'reducing'],
      parent: 'account.stopped-out',
      kind: 'compound',
      initial: 'account.stopped-out.reducing.cancelling',
      children: [
        'account.stopped-out.reducing.cancelling',
        'account.stopped-out.reducing.deciding',
        'account.stopped-out.reducing.awaiting',
        'account.stopped-out.reducing.cancelling-reduction',
      ],
    });
  });

  it('has an edge for every transition of the account machine, with its source, targets and label', () => {
    const expected = walkTransitions(accountMachine).map((t) => ({ source: t.source, targets: t.targets, label: t.label }));
    expect(account.edges.map((e) => ({ source: e.source, targets: e.targets, label: transitionLabel(e) }))).toEqual(expected);
  });

  it('names guards, parameterised guards and actions as written, and keeps candidate order', () => {
    expect(find(account.edges, 'account.trading', 'always', 0)).toMatchObject({
      guard: 'mustPanic',
      targets: ['account.panic-exit'],
      eventless: true,
    });
    expect(find(account.edges, 'account.trading', 'always', 3)).toMatchObject({
      guard: 'budgetBinding',
      targets: ['account.entries-blocked'],
    });
    expect(find(account.edges, 'account.panic-exit.deciding', 'always', 1)).toMatchObject({
      guard: 'reductionDue(panic-exit)',
      actions: ['placeReduction(panic-exit)', 'sendOrder'],
    });
    const reset = account.edges.filter((e) => e.source === 'account' && e.event === 'STOPOUT_RESET');
    expect(reset.map((e) => [e.guard, e.internal, e.candidate])).toEqual([
      ['resetAccepted', true, 0],
      [null, true, 1],
    ]);
    expect(find(account.edges, 'account.de-risking.cancelling', 'TICK').actions).toEqual([
      'applyTick',
      'cancelWorkingOrders(which=all, again=true)',
      'cancelOrders',
    ]);
    expect(transitionLabel(find(account.edges, 'account', 'MARK'), true)).toBe('MARK / applyMark, checkRiskLimits, raiseStopouts');
  });

  it('marks targetless transitions internal and only those', () => {
    for (const e of account.edges) expect(e.internal).toBe(e.targets.length === 0);
    // As many as the machine has transitions without a target, counted straight off machine.root.
    let targetless = 0;
    const walk = (node: typeof accountMachine.root): void => {
      for (const list of node.transitions.values()) targetless += list.filter((t) => !t.target?.length).length;
      targetless += (node.always ?? []).filter((t) => !t.target?.length).length;
      Object.values(node.states).forEach(walk);
    };
    walk(accountMachine.root);
    expect(account.edges.filter((e) => e.internal)).toHaveLength(targetless);
  });

  it('is deterministic', () => {
    expect(statechartGraph(accountMachine)).toEqual(account);
    expect(JSON.stringify(statechartGraph(accountMachine))).toBe(JSON.stringify(account));
  });

  it('covers parallel, final and history states, combined guards, delays and targeted self transitions', () => {
    const kinds = Object.fromEntries(feature.nodes.map((n) => [n.id, n.kind]));
    expect(kinds).toMatchObject({
      feature: 'compound',
      'feature.running': 'parallel',
      'feature.done': 'final',
      'feature.running.hist': 'history',
    });
    expect(feature.nodes.find((n) => n.id === 'feature.running')?.initial).toBeNull();
    expect(feature.nodes.find((n) => n.id === 'feature.running.hist')?.label).toBe('H*');
    expect(find(feature.edges, 'feature.idle', 'GO', 0).guard).toBe('ready && !over.limit');
    expect(find(feature.edges, 'feature.idle', 'GO', 1).guard).toBe('armed || within(limit=3, unit=x)');
    expect(find(feature.edges, 'feature.idle', 'NEXT')).toMatchObject({
      targets: ['feature.idle'],
      internal: false,
      actions: ['notify(ops)'],
    });
    expect(find(feature.edges, 'feature.running.motor.slow', 'after 500ms').targets).toEqual(['feature.running.motor.fast']);
    expect(find(feature.edges, 'feature.running.motor.fast', 'after patience').targets).toEqual(['feature.running.motor.slow']);
    expect(find(feature.edges, 'feature', 'RESET').targets).toEqual(['feature.idle']);
  });
});

describe('guard and params labels', () => {
  it('shows one param by value, several as key=value, dynamic params as …', () => {
    expect(paramsLabel({ mode: 'de-risking' })).toBe('de-risking');
    expect(paramsLabel({ limit: 3, unit: 'x' })).toBe('limit=3, unit=x');
    expect(paramsLabel(() => ({}))).toBe('…');
    expect(guardLabel({ type: 'reductionDue', params: { mode: 'stopped-out' } })).toBe('reductionDue(stopped-out)');
    expect(guardLabel({ type: 'plain' })).toBe('plain');
    expect(guardLabel(function isOpen() {})).toBe('isOpen');
  });
});

describe('activeStateIds', () => {
  it('lists each named state and its ancestors', () => {
    expect(activeStateIds(account, 'trading')).toEqual(['account.trading']);
    expect(activeStateIds(account, { 'stopped-out': { reducing: 'awaiting' } })).toEqual([
      'account.stopped-out',
      'account.stopped-out.reducing',
      'account.stopped-out.reducing.awaiting',
    ]);
    expect(activeStateIds(feature, { running: { motor: 'fast', 'lamp-1': 'off' } })).toEqual([
      'feature.running',
      'feature.running.motor',
      'feature.running.motor.fast',
      'feature.running.lamp-1',
      'feature.running.lamp-1.off',
    ]);
  });

  it('names the place of a state the machine lacks', () => {
    expect(() => activeStateIds(account, { 'de-risking': 'waiting' })).toThrow(
      'state value de-risking.waiting: account.de-risking has no state waiting',
    );
    expect(() => activeStateIds(account, 'halted')).toThrow('state value halted: account has no state halted');
  });
});
