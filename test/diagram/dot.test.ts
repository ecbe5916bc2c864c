/**
 * Graphviz DOT output, checked by the real `dot` binary (package graphviz; .ci/run installs it). The
 * account diagram is compared with test/diagram/golden/account.dot; regenerate it after an intended
 * change with `UPDATE_GOLDEN=1 npx vitest run test/diagram` (see golden.ts).
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { accountMachine } from '../../machines/account.ts';
import { quote, toDot } from '../../src/diagram/dot.ts';
import { statechartGraph } from '../../src/diagram/statechart-graph.ts';
import { featureMachine } from './feature-machine.ts';
import { expectGolden } from './golden.ts';
import { walkStates, walkTransitions } from './machine-walk.ts';

const account = statechartGraph(accountMachine);
const feature = statechartGraph(featureMachine);
const text = toDot(account);

/** Runs `dot -Tsvg`; a machine without Graphviz fails the test with the fix. */
function graphviz(dot: string): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync('dot', ['-Tsvg'], { input: dot, encoding: 'utf8' });
  if (run.error) {
    const missing = (run.error as NodeJS.ErrnoException).code === 'ENOENT';
    expect.fail(
      missing ? 'Graphviz `dot` is not on PATH: install graphviz (apt-get install graphviz)' : `dot failed to start: ${run.error.message}`,
    );
  }
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

function expectRendered(dot: string): void {
  const run = graphviz(dot);
  expect(run.stderr, 'dot printed errors or warnings').toBe('');
  expect(run.status).toBe(0);
  expect(run.stdout).toMatch(/<svg[\s>]/);
  expect(run.stdout.trimEnd()).toMatch(/<\/svg>$/);
}

describe('toDot on the account machine', () => {
  it('matches the golden file', () => {
    expectGolden('account.dot', text);
  });

  it('is a compound digraph', () => {
    expect(text.startsWith('digraph "account" {\n')).toBe(true);
    expect(text).toContain('  compound=true;\n');
    expect(text.endsWith('}\n')).toBe(true);
  });

  it('has every state: a node for a simple state, a cluster with an anchor for a composite one', () => {
    for (const state of walkStates(accountMachine)) {
      const node = account.nodes.find((n) => n.id === state.id)!;
      if (node.children.length === 0) expect(text).toContain(`${quote(state.id)} [label=${quote(state.key)}`);
      else {
        expect(text).toContain(
          `subgraph ${quote(`cluster_${state.id}`)} {\n${' '.repeat(2 * state.path.length + 2)}label=${quote(state.key)};`,
        );
        // A compound state's anchor is its initial pseudostate, pointing at the initial child.
        expect(text).toContain(`${quote(state.id)} -> ${quote(node.initial!)};`);
      }
    }
  });

  it('draws every transition with a target as an edge labelled `event [guard]`, once', () => {
    const edges = text.split('\n').filter((l) => / -> .*\[label=/.test(l));
    const expected = walkTransitions(accountMachine).filter((t) => t.targets.length > 0);
    expect(edges).toHaveLength(expected.reduce((n, t) => n + t.targets.length, 0));
    for (const t of expected) {
      for (const target of t.targets) {
        expect(edges.filter((l) => l.startsWith(`  ${quote(t.source)} -> ${quote(target)} [label=${quote(t.label)}`))).toHaveLength(1);
      }
    }
  });

  it('clips edges at the border of a composite state', () => {
    expect(text).toContain('"account.trading" -> "account.de-risking" [label="always [mustDeRisk]", lhead="cluster_account.de-risking"];');
    expect(text).toContain('"account.stopped-out" -> "account.trading" [label="always [released]", ltail="cluster_account.stopped-out"];');
    expect(text).toContain(
      '"account.stopped-out.holding" -> "account.stopped-out.reducing" [label="always [mustReduceWhileStopped]", lhead="cluster_account.stopped-out.reducing"];',
    );
  });

  it('lists every targetless transition in a comment by default, and draws them dashed as self-loops when asked', () => {
    const targetless = walkTransitions(accountMachine).filter((t) => t.targets.length === 0);
    const comments = text.split('\n').filter((l) => l.startsWith('  //   '));
    expect(comments).toHaveLength(targetless.length);
    targetless.forEach((t, i) => expect(comments[i]).toContain(`//   ${t.source}: ${t.label}`));

    const loops = toDot(account, { selfLoops: true });
    for (const t of targetless) expect(loops).toContain(`${quote(t.source)} -> ${quote(t.source)} [label=${quote(t.label)}`);
    expect(loops).toContain('"account.trading" -> "account.trading" [label="ENTRY_REQUEST [entryAllowed]", style=dashed];');
    expect(loops).toContain('subgraph "cluster_account" {');
    expectRendered(loops);
  });

  it('fills the active states', () => {
    const active = toDot(account, { active: { 'de-risking': 'awaiting' } });
    expect(active).toContain(
      '"account.de-risking.awaiting" [label="awaiting", style="rounded,filled", fillcolor="#ffd166", color="#9a6b00", penwidth=2];',
    );
    expect(active).toContain('    label="de-risking";\n    style="rounded,filled";\n    fillcolor="#fff3c4";');
    expect(active).not.toContain('"account.trading" [label="trading", style=');
    expectRendered(active);
  });

  it('renders with the real Graphviz `dot`, without a warning', () => {
    expectRendered(text);
  });
});

describe('toDot on every shape of state', () => {
  it('draws parallel regions dashed, final states doubled, history states as circles', () => {
    const d = toDot(feature, { selfLoops: true, actions: true, active: { running: { motor: 'fast', 'lamp-1': 'on' } } });
    expect(d).toContain('"feature.running" [shape=point, style=invis, width=0.01, label=""];');
    expect(d).toContain('subgraph "cluster_feature.running.lamp-1" {\n        label="lamp-1";\n        style="rounded,dashed,filled";');
    expect(d).toContain('"feature.done" [label="done", peripheries=2];');
    expect(d).toContain('"feature.running.hist" [label="H*", shape=circle, width=0.35, fixedsize=true];');
    expect(d).toContain('"feature.idle" -> "feature.idle" [label="NEXT / notify(ops)"];');
    expect(d).toContain('"feature" -> "feature" [label="PING / log", style=dashed];');
    expectRendered(d);
    expectRendered(toDot(feature));
  });

  it('escapes quotes and backslashes in ids and labels', () => {
    expect(quote('a "b" \\n c')).toBe('"a \\"b\\" \\\\n c"');
    expect(quote('two\nlines')).toBe('"two lines"');
  });
});
