import { activeStateIds } from './active-states.ts';
import type { DiagramOptions } from './diagram-options.ts';
import { drawnTransitions } from './drawn-transitions.ts';
import { isWithin, nodeById, transitionLabel, type StateGraph, type StateGraphEdge, type StateGraphNode } from './statechart-graph.ts';

/**
 * A statechart graph as a Mermaid `stateDiagram-v2`.
 *
 * Mermaid state ids are global to the diagram, while xstate keys repeat (`cancelling` lives in
 * de-risking, panic-exit and stopped-out.reducing), so every state is declared as
 * `state "<key>" as <path_with__between_keys>`: the label is the key, the id is path-qualified and
 * Mermaid-safe. Each arrow is written in the block of the innermost state enclosing its source and
 * targets, as Mermaid expects.
 */
export function toMermaid(graph: StateGraph, options: DiagramOptions = {}): string {
  const { drawn, listed, drawsRoot } = drawnTransitions(graph, options);
  const ids = mermaidIds(graph, drawsRoot);
  const idOf = (stateId: string): string => {
    const id = ids.get(stateId);
    if (id === undefined) throw new Error(`statechart graph ${graph.id}: state ${stateId} has no Mermaid id`);
    return id;
  };

  // Each arrow goes into the block of the innermost proper ancestor of its source and its targets.
  const byBlock = new Map<string, StateGraphEdge[]>();
  for (const edge of drawn) {
    const block = enclosingBlock(graph, edge);
    byBlock.set(block, [...(byBlock.get(block) ?? []), edge]);
  }

  const lines: string[] = ['stateDiagram-v2', `  %% statechart "${comment(graph.id)}": generated from the machine, do not edit`];
  const root = nodeById(graph, graph.root);

  const block = (container: StateGraphNode, depth: number): void => {
    const pad = '  '.repeat(depth);
    if (container.initial !== null) lines.push(`${pad}[*] --> ${idOf(container.initial)}`);
    // A parallel state's regions are separated by `--`; its history states are not regions, so they go first.
    const children = container.children.map((id) => nodeById(graph, id));
    const ordered =
      container.kind === 'parallel'
        ? [...children.filter((c) => c.kind === 'history'), ...children.filter((c) => c.kind !== 'history')]
        : children;
    let regions = 0;
    for (const child of ordered) {
      if (container.kind === 'parallel' && child.kind !== 'history' && regions++ > 0) lines.push(`${pad}--`);
      declare(child, depth);
    }
    for (const childId of container.children) {
      if (nodeById(graph, childId).kind === 'final') lines.push(`${pad}${idOf(childId)} --> [*]`);
    }
    for (const edge of byBlock.get(container.id) ?? []) {
      for (const target of edge.targets)
        lines.push(`${pad}${idOf(edge.source)} --> ${idOf(target)} : ${label(transitionLabel(edge, options.actions))}`);
    }
  };
  const declare = (state: StateGraphNode, depth: number): void => {
    const pad = '  '.repeat(depth);
    const head = `${pad}state "${label(state.label)}" as ${idOf(state.id)}`;
    if (state.children.length === 0) {
      lines.push(head);
      return;
    }
    lines.push(`${head} {`);
    block(state, depth + 1);
    lines.push(`${pad}}`);
  };

  if (drawsRoot) {
    lines.push(`  [*] --> ${idOf(root.id)}`);
    declare(root, 1);
    for (const edge of byBlock.get(TOP) ?? []) {
      for (const target of edge.targets)
        lines.push(`  ${idOf(edge.source)} --> ${idOf(target)} : ${label(transitionLabel(edge, options.actions))}`);
    }
  } else {
    block(root, 1);
  }

  if (listed.length > 0) {
    lines.push('  %% targetless transitions (they change context, not state; drawn with selfLoops):');
    for (const edge of listed) lines.push(`  %%   ${comment(edge.source)}: ${comment(transitionLabel(edge, true))}`);
  }

  if (options.active !== undefined) {
    const active = activeStateIds(graph, options.active);
    lines.push('  classDef active fill:#ffd166,stroke:#9a6b00,stroke-width:2px');
    if (active.length > 0) lines.push(`  class ${active.map(idOf).join(',')} active`);
  }
  return `${lines.join('\n')}\n`;
}

/** xstate state id → Mermaid id, for every state drawn (the root only when it is drawn as a state). */
export function mermaidIds(graph: StateGraph, includeRoot = false): Map<string, string> {
  const ids = new Map<string, string>();
  const taken = new Set<string>();
  for (const node of graph.nodes) {
    const isRoot = node.id === graph.root;
    if (isRoot && !includeRoot) continue;
    const base = mermaidSafe(isRoot ? [graph.id] : node.path);
    let id = base;
    for (let n = 2; taken.has(id); n++) id = `${base}_${n}`;
    taken.add(id);
    ids.set(node.id, id);
  }
  return ids;
}

/** Parent block for arrows between states in the top level when the root is drawn as a state. */
const TOP = '';

function enclosingBlock(graph: StateGraph, edge: StateGraphEdge): string {
  for (let at = nodeById(graph, edge.source).parent; at !== null; at = nodeById(graph, at).parent) {
    const container = at;
    if (edge.targets.every((t) => t !== container && isWithin(graph, t, container))) return container;
  }
  return TOP;
}

// Words of Mermaid's state diagram grammar; an id equal to one of them gets a trailing `_`.
const RESERVED = new Set([
  'state',
  'note',
  'class',
  'classdef',
  'direction',
  'end',
  'as',
  'style',
  'click',
  'hide',
  'scale',
  'left',
  'right',
  'of',
  'default',
]);

function mermaidSafe(path: readonly string[]): string {
  let id = path.map((key) => key.replace(/[^A-Za-z0-9_]/g, '_')).join('__');
  if (id === '' || /^[0-9]/.test(id)) id = `s_${id}`;
  return RESERVED.has(id.toLowerCase()) ? `${id}_` : id;
}

/** Text inside a label: characters Mermaid reads as syntax become its entity codes. */
function label(text: string): string {
  return text.replace(/\s+/g, ' ').replace(/[#;"{}<>]/g, (c) => `#${c.charCodeAt(0)};`);
}

function comment(text: string): string {
  return text.replace(/\s+/g, ' ');
}
