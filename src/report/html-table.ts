/** A cell: markup that is already escaped, and an optional class (e.g. "num" to right-align). */
export interface Cell {
  html: string;
  class?: string;
}

/** A plain HTML table; cells must already be escaped. An empty table says so instead. */
export function renderTable(
  headers: readonly (string | Cell)[],
  rows: readonly (readonly (string | Cell)[])[],
  options: { class?: string; empty?: string } = {},
): string {
  if (rows.length === 0) return `<p class="empty">${options.empty ?? 'None.'}</p>`;
  const cell = (tag: 'th' | 'td', c: string | Cell): string =>
    typeof c === 'string' ? `<${tag}>${c}</${tag}>` : `<${tag}${c.class ? ` class="${c.class}"` : ''}>${c.html}</${tag}>`;
  const head = `<thead><tr>${headers.map((h) => cell('th', h)).join('')}</tr></thead>`;
  const body = `<tbody>${rows.map((r) => `<tr>${r.map((c) => cell('td', c)).join('')}</tr>`).join('')}</tbody>`;
  return `<table${options.class ? ` class="${options.class}"` : ''}>${head}${body}</table>`;
}
