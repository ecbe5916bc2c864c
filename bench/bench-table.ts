/**
 * The bench's result (docs/contracts.md#bench), its goals (issue 13's table) and the table `npm run bench`
 * prints: figure | ours | naive | ratio | goal | met?
 */
import type { FleetCrashFigure } from './fleet-crash.ts';
import type { MemoryFigure } from './memory-footprint.ts';
import type { PropagationFigure } from './propagation.ts';
import type { RecoveryFigure } from './recovery-from-redis.ts';
import type { ScaleOutFigure } from './scale-out.ts';
import type { SteadyTickFigure } from './steady-tick.ts';
import type { TickToOrderFigure } from './tick-to-order.ts';

export interface BenchResult {
  machine: { cpus: number; node: string };
  fleetCrash: Omit<FleetCrashFigure, 'naive'> & {
    /** The fleet of the socket figures (see crash-on-socket.ts). */
    socketAccounts: number;
    allFirstReductionsSentMs: number | null;
    firstOnSocketMs: number;
    allFirstReductionsReceivedMs: number | null;
    onSocket: number;
    withinMs: number;
    naive: FleetCrashFigure['naive'];
  };
  steadyTick: SteadyTickFigure;
  propagation: PropagationFigure;
  memory: MemoryFigure;
  recovery: RecoveryFigure;
  tickToOrder: TickToOrderFigure;
  scaleOut: ScaleOutFigure;
}

interface Row {
  figure: string;
  /** null: not reached (`note` says how far it got). */
  ours: number | boolean | null;
  note?: string;
  naive?: number;
  unit: string;
  /** At most this (or exactly true). */
  goal?: number | true;
}

function rows(r: BenchResult): Row[] {
  const c = r.fleetCrash;
  return [
    {
      figure: 'steady mark, whole fleet',
      ours: r.steadyTick.usPerMark / 1000,
      naive: r.steadyTick.naive.usPerMark / 1000,
      unit: 'ms',
      goal: 0.1,
    },
    { figure: 'steady mark, per account', ours: r.steadyTick.usPerTick, naive: r.steadyTick.naive.usPerTick, unit: 'µs' },
    { figure: 'marks/s sustained (lag ≤ 10 ms)', ours: r.steadyTick.maxMarksPerSecond, unit: '/s' },
    { figure: 'crash: every account refuses entries', ours: c.allBlockedMs, naive: c.naive.allBlockedMs, unit: 'ms', goal: 25 },
    { figure: 'crash: first reduction signed', ours: c.firstReductionsSentMs, naive: c.naive.firstReductionsSentMs, unit: 'ms' },
    {
      figure: 'crash: 100th reduction signed',
      ours: c.top100ReductionsSentMs,
      naive: c.naive.top100ReductionsSentMs,
      unit: 'ms',
      goal: 50,
    },
    {
      figure: 'crash: first 100 are the thinnest buffers',
      ours: c.top100Thinnest,
      unit: '',
      goal: true,
      note: `${c.top100ThinnestCount} of 100`,
    },
    {
      figure: `crash: every account's first reduction on the socket (${c.socketAccounts} accounts)`,
      ours: c.allFirstReductionsSentMs,
      note: `${c.onSocket} of ${c.socketAccounts} in ${c.withinMs / 1000} s`,
      unit: 'ms',
      goal: 1500,
    },
    { figure: `recovery of ${r.recovery.accounts} accounts from Redis`, ours: r.recovery.ms, unit: 'ms', goal: 1000 },
    { figure: 'memory per account', ours: r.memory.bytesPerAccount, unit: 'B', goal: 8192 },
    { figure: 'tick to order, p50', ours: r.tickToOrder.p50Us, unit: 'µs' },
    { figure: 'tick to order, p99', ours: r.tickToOrder.p99Us, unit: 'µs', goal: 1000 },
    { figure: `stopout propagation, p50 (${r.propagation.processes} processes)`, ours: r.propagation.p50Ms, unit: 'ms' },
    { figure: `stopout propagation, p99 (${r.propagation.processes} processes)`, ours: r.propagation.p99Ms, unit: 'ms', goal: 5 },
    {
      figure: `scale-out (${r.scaleOut.processes} processes, ${r.scaleOut.accounts} accounts): every account refuses entries`,
      ours: r.scaleOut.total.allBlockedMs,
      note: `${r.scaleOut.total.blocked} of ${r.scaleOut.accounts} in ${r.scaleOut.withinMs / 1000} s`,
      unit: 'ms',
      goal: 25,
    },
    {
      figure: `scale-out (${r.scaleOut.processes} processes, ${r.scaleOut.accounts} accounts): every first reduction at the venue`,
      ours: r.scaleOut.total.allFirstReductionsMs,
      note: `${r.scaleOut.total.reduced} of ${r.scaleOut.accounts} in ${r.scaleOut.withinMs / 1000} s`,
      unit: 'ms',
      goal: 1500,
    },
  ];
}

const met = (row: Row): boolean | undefined =>
  row.goal === undefined ? undefined : row.goal === true ? row.ours === true : typeof row.ours === 'number' && row.ours <= row.goal;

/** Each figure that has a goal, by name: whether it met it. */
export function goalsMet(r: BenchResult): Record<string, boolean> {
  return Object.fromEntries(rows(r).flatMap((row) => (row.goal === undefined ? [] : [[row.figure, met(row)!]])));
}

function show(value: number | boolean | null | undefined, unit: string): string {
  if (value === undefined) return '';
  if (value === null) return 'not reached';
  if (typeof value === 'boolean') return String(value);
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 1 ? 1 : 3;
  return `${value.toLocaleString('en-US', { maximumFractionDigits: digits })}${unit ? ` ${unit}` : ''}`;
}

export function formatTable(r: BenchResult): string {
  const header = ['figure', 'ours', 'naive', 'ratio', 'goal', 'met?'];
  const body = rows(r).map((row) => {
    const ratio = row.naive !== undefined && typeof row.ours === 'number' && row.ours > 0 ? `${(row.naive / row.ours).toFixed(1)}×` : '';
    const goal = row.goal === undefined ? '' : row.goal === true ? 'true' : `≤ ${show(row.goal, row.unit)}`;
    const ok = met(row);
    const ours =
      row.ours === null && row.note
        ? `not reached (${row.note})`
        : `${show(row.ours, row.unit)}${typeof row.ours === 'boolean' && row.note ? ` (${row.note})` : ''}`;
    return [row.figure, ours, show(row.naive, row.unit), ratio, goal, ok === undefined ? '' : ok ? 'yes' : 'no'];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  const per = r.scaleOut.perProcess
    .map(
      (p, i) =>
        `  process ${i + 1}: ${p.accounts} accounts, blocked ${show(p.allBlockedMs, 'ms')}, first reductions ${show(p.allFirstReductionsMs, 'ms')}`,
    )
    .join('\n');
  return [
    `riskwarden bench: ${r.steadyTick.accounts} accounts, ${r.machine.cpus} cpus, node ${r.machine.node} (ratio: naive ÷ ours)`,
    '',
    line(header),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...body.map(line),
    '',
    'scale-out per process:',
    per,
  ].join('\n');
}
