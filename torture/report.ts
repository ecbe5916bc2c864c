import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { CampaignResult } from './campaign.ts';

/** How one campaign of a torture run ended. */
export type CampaignOutcome =
  | { name: string; status: 'ran'; result: CampaignResult; elapsedMs: number; budgetMs: number }
  /** Its file does not exist (yet): listed, never given figures. */
  | { name: string; status: 'not run'; why: string }
  /** It threw or did not stop by its deadline: a failure of the campaign itself. */
  | { name: string; status: 'broke'; why: string; elapsedMs: number; budgetMs: number };

export interface TortureReport {
  /** The exact command that produced the figures (with the seed). */
  command: string;
  /** ISO 8601, when the run started. */
  startedAt: string;
  elapsedMs: number;
  /** `load`: the 1-minute load average, at the start and the end (other work on the machine slows every figure). */
  machine: { nproc: number; node: string; platform: string; cpu: string; load: string };
  seed: number;
  minutes: number;
  outcomes: CampaignOutcome[];
}

/** Every failure of the run, each prefixed with its campaign; empty when the run passed. */
export function reportFailures(report: TortureReport): string[] {
  return report.outcomes.flatMap((o) =>
    o.status === 'ran' ? o.result.failures.map((f) => `${o.name}: ${f}`) : o.status === 'broke' ? [`${o.name}: ${o.why}`] : [],
  );
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
const cell = (value: number | string): string =>
  (typeof value === 'number' ? value.toLocaleString('en-US') : value).replaceAll('|', '\\|').replaceAll('\n', ' ');

/** docs/reliability.md: the figures of one run, the command that produced them, and where it ran. */
export function renderReport(report: TortureReport): string {
  const failures = reportFailures(report);
  const notRun = report.outcomes.filter((o) => o.status === 'not run');
  const lines: string[] = [
    '# Reliability: the torture campaign',
    '',
    'Written by `npm run torture` (torture/run.ts); do not edit by hand — run the command below again.',
    'Every figure is what this run did, counted by the campaign that did it; a campaign that did not run',
    'has no figures. Each failure carries the seed and the command that reproduces it (torture/replay.ts',
    'for the seeded runs and the fuzz inputs; crashing inputs are saved under test-artifacts/torture/).',
    'Other work on the machine slows every rate: the load average is part of the record.',
    '',
    `- command: \`${report.command}\``,
    `- date: ${report.startedAt}, ${seconds(report.elapsedMs)} in all (budget ${report.minutes} min)`,
    `- machine: ${report.machine.nproc} CPU(s) (${report.machine.cpu}), Node ${report.machine.node}, ${report.machine.platform}; load average ${report.machine.load}`,
    `- seed: ${report.seed}`,
    `- verdict: ${failures.length === 0 ? `**passed** (0 failures)` : `**FAILED** (${failures.length} failure(s))`}${
      notRun.length > 0 ? `; ${notRun.length} campaign(s) not run: ${notRun.map((o) => o.name).join(', ')}` : ''
    }`,
    '',
    '| campaign | status | time | budget | failures |',
    '|---|---|---|---|---|',
    ...report.outcomes.map((o) =>
      o.status === 'ran'
        ? `| ${o.name} | ran | ${seconds(o.elapsedMs)} | ${seconds(o.budgetMs)} | ${o.result.failures.length} |`
        : o.status === 'broke'
          ? `| ${o.name} | **broke** | ${seconds(o.elapsedMs)} | ${seconds(o.budgetMs)} | 1 |`
          : `| ${o.name} | not run | — | — | — |`,
    ),
    '',
  ];
  for (const o of report.outcomes) {
    lines.push(`## ${o.name}`, '');
    if (o.status === 'not run') {
      lines.push(`Not run: ${o.why}`, '');
      continue;
    }
    if (o.status === 'broke') {
      lines.push(`The campaign itself failed: ${o.why}`, '');
      continue;
    }
    lines.push('| figure | value |', '|---|---|');
    for (const [key, value] of Object.entries(o.result.figures)) lines.push(`| ${cell(key)} | ${cell(value)} |`);
    lines.push('');
    if (o.result.failures.length > 0) {
      lines.push(`Failures (${o.result.failures.length}), each with what reproduces it:`, '');
      for (const f of o.result.failures.slice(0, 50)) lines.push(`- ${f.replaceAll('\n', '\n  ')}`);
      if (o.result.failures.length > 50) lines.push(`- … and ${o.result.failures.length - 50} more`);
      lines.push('');
    }
  }
  return `${lines.join('\n').trimEnd()}\n`;
}

export function writeReport(path: string, report: TortureReport): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, renderReport(report));
}
