import { activeStateIds } from './active-states.ts';
import type { DiagramOptions } from './diagram-options.ts';
import { drawnTransitions } from './drawn-transitions.ts';
import { isWithin, nodeById, transitionLabel, type StateGraph, type StateGraphEdge, type StateGraphNode } from './statechart-graph.ts';

/**
 * A statechart graph as Graphviz DOT.
 *
 * Node ids are the xstate ids, quoted. A compound or parallel state is a cluster holding an anchor node
 * with the state's own id: the initial pseudostate's dot for a compound state, an invisible point for a
 * parallel one. Arrows to and from a composite state attach to its anchor and are clipped at the
 * cluster's border (`compound=true` with `lhead`/`ltail`), so they read as touching the state itself.
 */
export function toDot(graph: StateGraph, options: DiagramOptions = {}): string {
  const { drawn, listed, drawsRoot } = drawnTransitions(graph, options);
  const active = new Set(options.active === undefined ? [] : activeStateIds(graph, options.active));
  const root = nodeById(graph, graph.root);
  const lines: string[] = [
    `digraph ${quote(graph.id)} {`,
    `  // statechart "${graph.id}": generated from the machine, do not edit`,
    '  compound=true;',
    '  newrank=true;',
    '  fontname="Helvetica";',
    ...(drawsRoot ? [] : [`  label=${quote(graph.id)};`, '  labelloc=t;']),
    '  node [shape=box, style=rounded, fontname="Helvetica", fontsize=11];',
    '  edge [fontname="Helvetica", fontsize=9];',
  ];

  const composite = (state: StateGraphNode): boolean => state.children.length > 0 || state.id === graph.root;

  const contents = (container: StateGraphNode, depth: number): void => {
    const pad = '  '.repeat(depth);
    if (container.initial !== null) {
      lines.push(`${pad}${quote(container.id)} [shape=point, width=0.12, label=""];`);
      lines.push(`${pad}${quote(container.id)} -> ${quote(container.initial)};`);
    } else if (container.id !== graph.root || drawsRoot) {
      lines.push(`${pad}${quote(container.id)} [shape=point, style=invis, width=0.01, label=""];`);
    }
    for (const childId of container.children) declare(nodeById(graph, childId), depth, container.kind === 'parallel');
  };

  const declare = (state: StateGraphNode, depth: number, region: boolean): void => {
    const pad = '  '.repeat(depth);
    const isActive = active.has(state.id);
    if (!composite(state)) {
      const attrs = [`label=${quote(state.label)}`];
      if (state.kind === 'final') attrs.push('peripheries=2');
      if (state.kind === 'history') attrs.push('shape=circle', 'width=0.35', 'fixedsize=true');
      if (isActive) attrs.push('style="rounded,filled"', 'fillcolor="#ffd166"', 'color="#9a6b00"', 'penwidth=2');
      lines.push(`${pad}${quote(state.id)} [${attrs.join(', ')}];`);
      return;
    }
    lines.push(`${pad}subgraph ${quote(cluster(state.id))} {`);
    const style = ['rounded', ...(region ? ['dashed'] : []), ...(isActive ? ['filled'] : [])].join(',');
    const label = state.id === graph.root ? graph.id : state.label;
    lines.push(`${pad}  label=${quote(label)};`, `${pad}  style=${quote(style)};`);
    if (isActive) lines.push(`${pad}  fillcolor="#fff3c4";`, `${pad}  color="#9a6b00";`, `${pad}  penwidth=2;`);
    contents(state, depth + 1);
    lines.push(`${pad}}`);
  };

  if (drawsRoot) declare(root, 1, false);
  else contents(root, 1);

  for (const edge of drawn) {
    for (const target of edge.targets) lines.push(`  ${arrow(graph, edge, target, options.actions ?? false)}`);
  }

  if (listed.length > 0) {
    lines.push('  // targetless transitions (they change context, not state; drawn with selfLoops):');
    for (const edge of listed) lines.push(`  //   ${oneLine(edge.source)}: ${oneLine(transitionLabel(edge, true))}`);
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;

  function arrow(g: StateGraph, edge: StateGraphEdge, target: string, withActions: boolean): string {
    const attrs = [`label=${quote(transitionLabel(edge, withActions))}`];
    const source = nodeById(g, edge.source);
    const head = nodeById(g, target);
    // Clip at a cluster's border only when the other end lies outside it (dot ignores it otherwise).
    if (composite(source) && !isWithin(g, target, source.id)) attrs.push(`ltail=${quote(cluster(source.id))}`);
    if (composite(head) && !isWithin(g, source.id, head.id)) attrs.push(`lhead=${quote(cluster(head.id))}`);
    if (edge.internal) attrs.push('style=dashed');
    return `${quote(edge.source)} -> ${quote(target)} [${attrs.join(', ')}];`;
  }
}

function cluster(id: string): string {
  return `cluster_${id}`;
}

/** A DOT quoted string; backslashes are escaped too, or `\n`, `\l`, `\N` in a name would be read as escapes. */
export function quote(text: string): string {
  return `"${oneLine(text).replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ');
}
