import { describe, expect, it } from 'vitest';
import { accountMachine } from '../../machines/account.ts';
import { toDot } from '../../src/diagram/dot.ts';
import { statechartGraph } from '../../src/diagram/statechart-graph.ts';
import { dotToSvg } from '../../src/diagram/svg.ts';
import { featureMachine } from './feature-machine.ts';
import { walkStates } from './machine-walk.ts';

/** Text of the SVG's <text> elements, entities decoded. */
function texts(svg: string): string[] {
  return [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) =>
    m[1]!
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&quot;/g, '"')
      .replace(/&#45;/g, '-')
      .replace(/&amp;/g, '&'),
  );
}

describe('dotToSvg (@viz-js/viz)', () => {
  it('renders the account diagram with every state labelled', async () => {
    const svg = await dotToSvg(toDot(statechartGraph(accountMachine), { active: 'trading' }));
    expect(svg).toMatch(/<svg[\s>]/);
    const labels = texts(svg);
    for (const state of walkStates(accountMachine)) expect(labels, state.id).toContain(state.key);
    expect(labels).toContain('always [reductionDue(stopped-out)]');
    expect(svg).toContain('fill="#ffd166"');
  });

  it('renders parallel, final and history states', async () => {
    const labels = texts(await dotToSvg(toDot(statechartGraph(featureMachine), { selfLoops: true })));
    for (const state of walkStates(featureMachine)) expect(labels, state.id).toContain(state.id.endsWith('.hist') ? 'H*' : state.key);
  });

  it('reports invalid DOT with Graphviz’s message', async () => {
    await expect(dotToSvg('digraph { a -> }')).rejects.toThrow(/^Graphviz could not render the diagram: .*syntax error/);
  });
});
