import type { DiagramOptions } from './diagram-options.ts';
import type { StateGraph, StateGraphEdge } from './statechart-graph.ts';

/** Which transitions a diagram draws as arrows, and which it only lists (see DiagramOptions.selfLoops). */
export interface DrawnTransitions {
  /** Arrows; a targetless transition drawn as a self-loop has `targets: [source]`. */
  drawn: StateGraphEdge[];
  /** Targetless transitions not drawn: the renderers list them in comments. */
  listed: StateGraphEdge[];
  /** Whether the machine itself must be drawn as a state: a self-loop on it is drawn. */
  drawsRoot: boolean;
}

export function drawnTransitions(graph: StateGraph, options: DiagramOptions = {}): DrawnTransitions {
  const drawn: StateGraphEdge[] = [];
  const listed: StateGraphEdge[] = [];
  for (const edge of graph.edges) {
    if (!edge.internal) drawn.push(edge);
    else if (options.selfLoops) drawn.push({ ...edge, targets: [edge.source] });
    else listed.push(edge);
  }
  return { drawn, listed, drawsRoot: drawn.some((e) => e.source === graph.root || e.targets.includes(graph.root)) };
}
