import { instance, type Viz } from '@viz-js/viz';

/**
 * DOT → SVG with Graphviz compiled to WebAssembly (@viz-js/viz), so rendering needs no `dot` binary.
 * The instance is created once: compiling the module is the slow part.
 */
let viz: Promise<Viz> | undefined;

export async function dotToSvg(dot: string): Promise<string> {
  viz ??= instance();
  const result = (await viz).render(dot, { format: 'svg' });
  if (result.status === 'failure') {
    const why = result.errors.map((e) => e.message.trim()).join('; ');
    throw new Error(`Graphviz could not render the diagram: ${why || 'no reason given'}`);
  }
  return result.output;
}
