import { DIAGRAM_FORMATS, isDiagramFormat, renderDiagram } from '../diagram/diagram-format.ts';
import { DIAGRAM_MACHINE_NAMES, diagramMachine } from '../diagram/machines.ts';
import type { CliIo } from './io.ts';

/** What `riskwarden diagram` draws when not told. */
export const DEFAULT_DIAGRAM_MACHINE = 'account';
export const DEFAULT_DIAGRAM_FORMAT = 'mermaid';

/**
 * `riskwarden diagram [which] --format <format>`: prints a statechart (default `account`) as Mermaid,
 * Graphviz DOT or SVG. Exit 0 with the diagram on stdout; 2 with the accepted values on stderr when
 * `which` or `format` is unknown.
 */
export async function diagramCommand(which: string, format: string, io: CliIo): Promise<number> {
  const machine = diagramMachine(which);
  if (!machine) {
    io.err(`which: unknown statechart "${which}"; available: ${DIAGRAM_MACHINE_NAMES.join(', ')}`);
    return 2;
  }
  if (!isDiagramFormat(format)) {
    io.err(`--format: unknown diagram format "${format}"; expected one of ${DIAGRAM_FORMATS.join(', ')}`);
    return 2;
  }
  io.out((await renderDiagram(machine, format)).trimEnd());
  return 0;
}
