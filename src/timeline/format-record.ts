import type { TimelineRecord } from './timeline-record.ts';

/** ANSI colours for a terminal; identity functions when colour is off. */
export interface Palette {
  dim(s: string): string;
  red(s: string): string;
  yellow(s: string): string;
  green(s: string): string;
  cyan(s: string): string;
  magenta(s: string): string;
  bold(s: string): string;
}

const wrap = (open: number, close: number) => (s: string) => `\u001b[${open}m${s}\u001b[${close}m`;

export const COLOURS: Palette = {
  dim: wrap(2, 22),
  red: wrap(31, 39),
  yellow: wrap(33, 39),
  green: wrap(32, 39),
  cyan: wrap(36, 39),
  magenta: wrap(35, 39),
  bold: wrap(1, 22),
};

export const PLAIN: Palette = {
  dim: (s) => s,
  red: (s) => s,
  yellow: (s) => s,
  green: (s) => s,
  cyan: (s) => s,
  magenta: (s) => s,
  bold: (s) => s,
};

const STATE_COLOUR: Record<string, keyof Palette> = {
  trading: 'green',
  'entries-blocked': 'yellow',
  'de-risking': 'magenta',
  'panic-exit': 'red',
  'stopped-out': 'red',
};

function time(t: number): string {
  const s = t / 1000;
  return `${s.toFixed(1).padStart(8)}s`;
}

function state(p: Palette, name: string): string {
  return p[STATE_COLOUR[name] ?? 'bold'](name);
}

/** One human-readable line per record (null for records too frequent to show, like every mark). */
export function formatRecord(record: TimelineRecord, p: Palette = PLAIN): string | null {
  const at = p.dim(time(record.t));
  switch (record.kind) {
    case 'mark':
      return null;
    case 'state':
      return `${at} ${p.bold(record.account)} ${state(p, record.from)} → ${state(p, record.to)} ${p.dim(`(${record.reason})`)}`;
    case 'decision': {
      const o = record.order;
      const what = `${o.side} ${o.amount} ${o.symbol} ${o.type}${o.price ? ` @ ${o.price}` : ''}`;
      return record.allowed
        ? `${at} ${p.bold(record.account)} entry allowed: ${what}`
        : `${at} ${p.bold(record.account)} ${p.yellow('entry blocked')}: ${what} ${p.dim(`[${record.rules.join(', ')}]`)}`;
    }
    case 'order':
      return `${at} ${p.bold(record.account)} ${p.cyan(`${record.purpose} order`)} ${record.orderId}: ${record.side} ${record.amount} ${record.symbol} ${record.type}${record.type === 'limit' ? ` @ ${record.price}` : ''}`;
    case 'cancel':
      return `${at} ${p.bold(record.account)} cancel ${record.orderId} ${p.dim(`(${record.reason})`)}`;
    case 'order-update':
      if (record.status === 'sequenced' || record.status === 'posted') return null;
      return `${at} ${p.bold(record.account)} ${record.orderId} ${record.status === 'rejected' ? p.red(record.status) : record.status}${record.status === 'filled' || record.status === 'partially-filled' ? ` ${record.filled}` : ''}${record.reason ? ` ${p.dim(`(${record.reason})`)}` : ''}`;
    case 'risk':
      return null;
    case 'stopout':
      return `${at} ${p.red(`stopout ${record.action}`)} ${record.scope} ${record.id}: ${record.reason}${record.closePositions ? ' (close positions)' : ''}`;
    case 'liquidation':
      return `${at} ${p.bold(record.account)} ${p.red(`LIQUIDATED ${record.symbol}`)}`;
    case 'operator':
      return `${at} operator ${record.action} ${record.scope} ${record.id}: ${record.result === 'ok' ? p.green('ok') : p.red(`refused — ${record.reason ?? ''}`)}`;
    case 'summary': {
      const states = Object.entries(record.finalStates)
        .map(([a, s]) => `${a} ${state(p, s)}`)
        .join(', ');
      return `${at} ${p.bold('summary')}: ${states}; liquidated: ${record.liquidated.length ? p.red(record.liquidated.join(', ')) : p.green('none')}`;
    }
  }
}
