/**
 * Mermaid output. The account diagram is compared with test/diagram/golden/account.mmd; regenerate it
 * after an intended change with `UPDATE_GOLDEN=1 npx vitest run test/diagram` (see golden.ts).
 */
import { describe, expect, it } from 'vitest';
import { accountMachine } from '../../machines/account.ts';
import { mermaidIds, toMermaid } from '../../src/diagram/mermaid.ts';
import { statechartGraph, type StateGraph } from '../../src/diagram/statechart-graph.ts';
import { featureMachine } from './feature-machine.ts';
import { expectGolden } from './golden.ts';
import { walkStates, walkTransitions } from './machine-walk.ts';
import { parseMermaid } from './mermaid-syntax.ts';

const account = statechartGraph(accountMachine);
const feature = statechartGraph(featureMachine);
const text = toMermaid(account);

const SAFE_ID = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Structural checks Mermaid's parser does not make: ids declared and safe, braces balanced, labels clean. */
function checkStructure(diagram: string): void {
  const lines = diagram.trimEnd().split('\n');
  expect(lines[0]).toBe('stateDiagram-v2');
  let depth = 0;
  const declared = new Set<string>();
  const used: string[] = [];
  for (const line of lines.slice(1).map((l) => l.trim())) {
    if (line.startsWith('%%') || line === '--' || line.startsWith('classDef ')) continue;
    const state = /^state "([^"]*)" as (\S+)( \{)?$/.exec(line);
    const arrow = /^(\S+) --> (\S+)(?: : (.+))?$/.exec(line);
    const klass = /^class (\S+) active$/.exec(line);
    if (state) {
      expect(state[1]!.replace(/#\w+;/g, ''), line).not.toMatch(/[;#{}<>]/);
      declared.add(state[2]!);
      if (state[3]) depth++;
    } else if (line === '}') {
      depth--;
      expect(depth, 'a } closes a block that was never opened').toBeGreaterThanOrEqual(0);
    } else if (arrow) {
      used.push(...[arrow[1]!, arrow[2]!].filter((id) => id !== '[*]'));
      // Label text may carry only entity codes (#59;), never bare syntax characters.
      expect(arrow[3]?.replace(/#\w+;/g, '') ?? '', line).not.toMatch(/[;#"{}<>]/);
    } else if (klass) {
      used.push(...klass[1]!.split(','));
    } else {
      expect.fail(`unexpected line: ${line}`);
    }
  }
  expect(depth, 'unbalanced braces').toBe(0);
  for (const id of declared) expect(id).toMatch(SAFE_ID);
  for (const id of used) expect(declared.has(id), `${id} is used but never declared`).toBe(true);
}

function arrowLines(diagram: string): string[] {
  return diagram
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => / --> /.test(l) && !l.startsWith('[*]') && !l.endsWith('--> [*]'));
}

function idOf(graph: StateGraph, stateId: string, includeRoot = false): string {
  const id = mermaidIds(graph, includeRoot).get(stateId);
  if (id === undefined) throw new Error(`no Mermaid id for ${stateId}`);
  return id;
}

describe('toMermaid on the account machine', () => {
  it('matches the golden file', () => {
    expectGolden('account.mmd', text);
  });

  it('declares every state with its key as label', () => {
    for (const state of walkStates(accountMachine)) {
      expect(text).toContain(`state "${state.key}" as ${idOf(account, state.id)}`);
    }
  });

  it('draws every transition with a target as an arrow labelled `event [guard]`, once', () => {
    const expected = walkTransitions(accountMachine)
      .filter((t) => t.targets.length > 0)
      .flatMap((t) => t.targets.map((target) => `${idOf(account, t.source)} --> ${idOf(account, target)} : ${t.label}`));
    expect(arrowLines(text).sort()).toEqual(expected.sort());
    expect(text).toContain('de_risking__deciding --> de_risking__awaiting : always [reductionDue(de-risking)]');
  });

  it('lists every targetless transition in a comment by default', () => {
    const targetless = walkTransitions(accountMachine).filter((t) => t.targets.length === 0);
    const comments = text.split('\n').filter((l) => /^ {2}%% {3}/.test(l));
    expect(comments).toHaveLength(targetless.length);
    targetless.forEach((t, i) => expect(comments[i]).toContain(`%%   ${t.source}: ${t.label}`));
  });

  it('draws targetless transitions as self-loops when asked, the machine-wide ones on the machine drawn as a state', () => {
    const loops = toMermaid(account, { selfLoops: true });
    const expected = walkTransitions(accountMachine).flatMap((t) =>
      (t.targets.length > 0 ? t.targets : [t.source]).map(
        (target) => `${idOf(account, t.source, true)} --> ${idOf(account, target, true)} : ${t.label}`,
      ),
    );
    expect(arrowLines(loops).sort()).toEqual(expected.sort());
    expect(loops).toContain('state "account" as account {');
    expect(loops).toContain('  account --> account : STOPOUT_RESET [resetAccepted]');
    expect(loops).toContain('trading --> trading : ENTRY_REQUEST [entryAllowed]');
    expect(loops).not.toContain('%%   ');
    checkStructure(loops);
    return expect(parseMermaid(loops)).resolves.toBe('stateDiagram');
  });

  it('appends actions to labels when asked', () => {
    expect(toMermaid(account, { actions: true })).toContain(
      'de_risking__deciding --> de_risking__awaiting : always [reductionDue(de-risking)] / placeReduction(de-risking), sendOrder',
    );
  });

  it('marks the active states with a class', () => {
    const active = toMermaid(account, { active: { 'stopped-out': 'holding' } });
    expect(active).toContain(
      '  classDef active fill:#ffd166,stroke:#9a6b00,stroke-width:2px\n  class stopped_out,stopped_out__holding active\n',
    );
    checkStructure(active);
    return expect(parseMermaid(active)).resolves.toBe('stateDiagram');
  });

  it('is a state diagram to Mermaid’s own parser', async () => {
    await expect(parseMermaid(text)).resolves.toBe('stateDiagram');
  });

  it('passes the structural checks', () => {
    checkStructure(text);
  });

  it('gives path-qualified ids to states that share a key', () => {
    expect(idOf(account, 'account.de-risking.cancelling')).toBe('de_risking__cancelling');
    expect(idOf(account, 'account.panic-exit.cancelling')).toBe('panic_exit__cancelling');
    expect(idOf(account, 'account.stopped-out.reducing.cancelling-reduction')).toBe('stopped_out__reducing__cancelling_reduction');
    const all = [...mermaidIds(account).values()];
    expect(new Set(all).size).toBe(all.length);
  });
});

describe('toMermaid on every shape of state', () => {
  const diagram = toMermaid(feature, { selfLoops: true, actions: true, active: { running: { motor: 'fast', 'lamp-1': 'on' } } });

  it('separates parallel regions, ends final states and draws history states', () => {
    expect(diagram).toContain('      }\n      --\n      state "lamp-1" as running__lamp_1 {');
    expect(diagram).toContain('      state "H*" as running__hist\n      state "motor" as running__motor {');
    expect(diagram).toContain('    done --> [*]');
    expect(diagram).toContain('idle --> running__hist : GO [armed || within(limit=3, unit=x)]');
    expect(diagram).toContain('running__motor__slow --> running__motor__fast : after 500ms');
  });

  it('parses and passes the structural checks in every option combination', async () => {
    for (const options of [{}, { selfLoops: true }, { actions: true, active: 'done' as const }]) {
      const d = toMermaid(feature, options);
      checkStructure(d);
      await expect(parseMermaid(d)).resolves.toBe('stateDiagram');
    }
    checkStructure(diagram);
    await expect(parseMermaid(diagram)).resolves.toBe('stateDiagram');
  });

  it('escapes syntax characters in labels as entity codes', () => {
    const graph: StateGraph = {
      id: 'odd',
      root: 'odd',
      nodes: [
        { id: 'odd', label: 'odd', path: [], parent: null, kind: 'compound', initial: 'odd.a', children: ['odd.a', 'odd.state'] },
        { id: 'odd.a', label: 'a "quoted" {x}', path: ['a'], parent: 'odd', kind: 'atomic', initial: null, children: [] },
        { id: 'odd.state', label: 'state', path: ['state'], parent: 'odd', kind: 'atomic', initial: null, children: [] },
      ],
      edges: [
        {
          source: 'odd.a',
          targets: ['odd.state'],
          event: 'GO;NOW',
          eventless: false,
          guard: 'x<#1>',
          actions: [],
          internal: false,
          candidate: 0,
        },
      ],
    };
    const d = toMermaid(graph);
    expect(d).toContain('state "a #34;quoted#34; #123;x#125;" as a');
    expect(d).toContain('state "state" as state_');
    expect(d).toContain('a --> state_ : GO#59;NOW [x#60;#35;1#62;]');
    checkStructure(d);
    return expect(parseMermaid(d)).resolves.toBe('stateDiagram');
  });

  it('rejects what Mermaid rejects (the parser is real)', async () => {
    await expect(parseMermaid('stateDiagram-v2\n  state "x" as y {\n  a --> b\n')).rejects.toThrow(/Parse error/);
  });
});
