/**
 * Config documents are shallow (a dozen levels at most). A document nested thousands of levels deep is
 * refused before parsing: the YAML parser can exhaust the stack on it, and V8 may then abort the whole
 * process instead of throwing. Counts `[`/`{` nesting outside quotes and comments, and indentation.
 */
export const MAX_NESTING = 64;
const MAX_INDENT = 512;

/** Offset where the document gets too deep, or undefined when it is within the limits. */
export function tooDeepAt(text: string): number | undefined {
  let depth = 0;
  let quote: '"' | "'" | undefined;
  let comment = false;
  let lineStart = true;
  let indent = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '\n') {
      comment = false;
      lineStart = true;
      indent = 0;
      continue;
    }
    if (lineStart) {
      if (ch === ' ') {
        if (++indent > MAX_INDENT) return i;
        continue;
      }
      lineStart = false;
    }
    if (comment) continue;
    if (quote !== undefined) {
      if (ch === '\\' && quote === '"') i++;
      else if (ch === quote) quote = undefined;
      continue;
    }
    if (ch === '"' || ch === "'") {
      // A quote inside a plain scalar (don't) is not a string start; only after a separator.
      const prev = text[i - 1];
      if (prev === undefined || ' \t\n[{,:'.includes(prev)) quote = ch;
    } else if (ch === '#' && (i === 0 || ' \t'.includes(text[i - 1]!))) {
      comment = true;
    } else if (ch === '[' || ch === '{') {
      if (++depth > MAX_NESTING) return i;
    } else if (ch === ']' || ch === '}') {
      depth = Math.max(0, depth - 1);
    }
  }
  return undefined;
}
