import type { AnyStateMachine } from 'xstate';
import type { DiagramOptions } from './diagram-options.ts';
import { toDot } from './dot.ts';
import { toMermaid } from './mermaid.ts';
import { statechartGraph } from './statechart-graph.ts';
import { dotToSvg } from './svg.ts';

/** The text formats a statechart can be drawn in. */
export const DIAGRAM_FORMATS = ['mermaid', 'dot', 'svg'] as const;
export type DiagramFormat = (typeof DIAGRAM_FORMATS)[number];

export function isDiagramFormat(name: string): name is DiagramFormat {
  return (DIAGRAM_FORMATS as readonly string[]).includes(name);
}

/** `machine` drawn in `format`; every format ends with a newline. */
export async function renderDiagram(machine: AnyStateMachine, format: DiagramFormat, options: DiagramOptions = {}): Promise<string> {
  const graph = statechartGraph(machine);
  switch (format) {
    case 'mermaid':
      return toMermaid(graph, options);
    case 'dot':
      return toDot(graph, options);
    case 'svg': {
      const svg = await dotToSvg(toDot(graph, options));
      return svg.endsWith('\n') ? svg : `${svg}\n`;
    }
  }
}
