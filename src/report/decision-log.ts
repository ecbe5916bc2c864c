import { escapeHtml } from './html-escape.ts';
import { renderTable, type Cell } from './html-table.ts';
import { seconds } from './report-format.ts';
import type { LogEntry } from './report-model.ts';

/**
 * The decision log: blocked entries with their rule codes, state changes with their reasons, stopouts,
 * operator actions (refused ones with the reason) and liquidations, in time order.
 */
export function renderDecisionLog(entries: readonly LogEntry[], options: { empty?: string } = {}): string {
  const rows = entries.map((e): Cell[] => {
    const [event, detail, tone] = describe(e);
    return [
      { html: escapeHtml(seconds(e.t)), class: 'num' },
      { html: event, class: tone ? `event ${tone}` : 'event' },
      { html: detail, class: 'wrap' },
    ];
  });
  return renderTable(['t (s)', 'event', 'details'], rows, {
    class: 'log',
    empty: options.empty ?? 'Nothing was blocked, stopped or done by an operator.',
  });
}

/** Event and detail markup of one entry, and a tone for its row. */
function describe(e: LogEntry): [string, string, string | undefined] {
  switch (e.kind) {
    case 'blocked': {
      const o = e.order;
      const price = o.type === 'market' || o.price === undefined || o.price === '0' ? 'market' : `limit ${o.price}`;
      const rules = e.rules.map((r) => `<code class="rule">${escapeHtml(r)}</code>`).join(' ');
      const reasons = e.reasons.length > 0 ? `<div class="why">${e.reasons.map(escapeHtml).join('<br>')}</div>` : '';
      return ['entry blocked', `${rules} ${escapeHtml(`${o.side} ${o.amount} ${o.symbol} ${price}`)}${reasons}`, 'warn'];
    }
    case 'state': {
      const numbers = e.numbers
        ? ` <span class="numbers">${Object.entries(e.numbers)
            .map(([k, v]) => `${escapeHtml(k)}=${escapeHtml(v)}`)
            .join(' ')}</span>`
        : '';
      const change = e.from === e.to ? escapeHtml(e.detail ?? e.to) : `${escapeHtml(e.from)} → <b>${escapeHtml(e.to)}</b>`;
      const detail =
        e.from !== e.to && e.detail !== undefined && e.detail !== e.to ? ` <span class="numbers">(${escapeHtml(e.detail)})</span>` : '';
      return ['state', `${change}${detail}: ${escapeHtml(e.reason)}${numbers}`, undefined];
    }
    case 'stopout': {
      const till = e.stoppedTill ? `, till ${escapeHtml(e.stoppedTill)}` : '';
      const close = e.closePositions ? ', closing positions' : '';
      return [
        `stopout ${escapeHtml(e.action)}`,
        `${escapeHtml(e.scope)} <code>${escapeHtml(e.id)}</code>: ${escapeHtml(e.reason)}${close}${till}`,
        e.action === 'set' ? 'bad' : 'good',
      ];
    }
    case 'operator': {
      const result =
        e.result === 'ok'
          ? '<b class="ok">ok</b>'
          : `<b class="refused">refused</b>${e.reason !== undefined ? `: ${escapeHtml(e.reason)}` : ''}`;
      return [
        `operator ${escapeHtml(e.action)}`,
        `${escapeHtml(e.scope)} <code>${escapeHtml(e.id)}</code> → ${result}`,
        e.result === 'refused' ? 'warn' : undefined,
      ];
    }
    case 'liquidation':
      return ['liquidation', `${escapeHtml(e.symbol)}${e.price !== undefined ? ` at ${escapeHtml(e.price)}` : ''}`, 'bad'];
  }
}
