import DOMPurify from 'dompurify';

/**
 * Mermaid's own parser, run in Node. `mermaid.parse` runs the real stateDiagram grammar and then
 * sanitises label text with DOMPurify, which needs a browser DOM that Node lacks. Sanitising has no
 * bearing on whether a diagram parses, so DOMPurify's two entry points are given identity functions
 * (only where missing, i.e. only in Node); the parsing itself is Mermaid's, unchanged.
 * (@mermaid-js/parser, the DOM-free parser package, does not cover state diagrams yet.)
 */
const purify = DOMPurify as unknown as Record<string, unknown>;
purify.addHook ??= () => {};
purify.sanitize ??= (text: string) => text;

const { default: mermaid } = await import('mermaid');

/** Resolves to the diagram type Mermaid recognised; rejects with Mermaid's parse error. */
export async function parseMermaid(text: string): Promise<string> {
  return (await mermaid.parse(text)).diagramType;
}
