import { escapeHtml } from './html-escape.ts';
import { renderTable, type Cell } from './html-table.ts';
import { PURPOSE_MARKERS } from './report-palette.ts';
import { seconds } from './report-format.ts';
import type { OrderRow } from './report-model.ts';

const GOOD = new Set(['filled']);
const BAD = new Set(['rejected', 'liquidated', 'cancelled']);

/** Every order of an account with its final status from the venue's updates. */
export function renderOrderTable(orders: readonly OrderRow[]): string {
  const rows = orders.map((o): Cell[] => {
    const status = o.status ?? 'no update';
    const tone = GOOD.has(status) ? 'good' : BAD.has(status) ? 'bad' : 'warn';
    return [
      { html: escapeHtml(seconds(o.t)), class: 'num' },
      { html: `<code>${escapeHtml(o.orderId)}</code>` },
      { html: escapeHtml(o.symbol) },
      { html: `<span class="swatch purpose-${escapeHtml(o.purpose)}"></span>${escapeHtml(o.purpose)}` },
      { html: escapeHtml(o.side), class: o.side },
      { html: escapeHtml(o.amount), class: 'num' },
      { html: escapeHtml(o.type === 'market' ? 'market' : o.price), class: 'num' },
      { html: escapeHtml(status), class: `status ${tone}` },
      { html: escapeHtml(o.filled), class: 'num' },
      { html: reasons(o), class: 'wrap' },
    ];
  });
  return renderTable(['t (s)', 'orderId', 'symbol', 'purpose', 'side', 'amount', 'price', 'status', 'filled', 'reason'], rows, {
    class: 'orders',
    empty: 'No orders.',
  });
}

function reasons(o: OrderRow): string {
  const parts: string[] = [];
  if (o.reason !== null) parts.push(escapeHtml(o.reason));
  if (o.cancel !== null) parts.push(`cancel requested at ${escapeHtml(seconds(o.cancel.t))} s: ${escapeHtml(o.cancel.reason)}`);
  return parts.join('<br>');
}

/** Swatch colours of the purposes, for the stylesheet. */
export function purposeSwatchCss(): string {
  return Object.entries(PURPOSE_MARKERS)
    .map(([purpose, m]) => `.swatch.purpose-${purpose}{background:${m.colour}}`)
    .join('\n');
}
