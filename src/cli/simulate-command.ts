import { createWriteStream, type WriteStream } from 'node:fs';
import type { ScenarioConfig } from '../config/scenario-schema.ts';
import { formatProblems, loadConfigFile } from '../config/load.ts';
import { runScenario, type ScenarioRunOptions } from '../scenario/scenario-runner.ts';
import { openStopoutStore } from '../store/open-store.ts';
import { COLOURS, formatRecord, PLAIN } from '../timeline/format-record.ts';
import type { TimelineRecord } from '../timeline/timeline-record.ts';
import { EXIT_FAILURE, EXIT_INVALID_INPUT, EXIT_OK, type CliIo } from './io.ts';

export interface SimulateOptions {
  scenario: string;
  json?: boolean;
  out?: string;
  seed?: number;
  report?: string;
  /** A shared Redis instead of the embedded store. */
  redis?: string;
  /** Colours and a progress bar (a terminal). */
  tty?: boolean;
  /** Milliseconds of wall time per simulated second (0: full speed). */
  paceMs?: number;
  /** Each record as it is written (the dashboard). */
  onRecord?: (record: TimelineRecord) => void;
  /** The scenario's fleet runtime once it exists (the HTTP API reads it). */
  onRuntime?: ScenarioRunOptions['onRuntime'];
}

/**
 * `riskwarden simulate <scenario>`: runs a scenario deterministically and prints its timeline —
 * JSON Lines with `--json` (the contract), readable lines otherwise — optionally writing the JSONL to
 * `--out` and a self-contained HTML report to `--report`.
 */
export async function simulateCommand(options: SimulateOptions, io: CliIo): Promise<number> {
  const loaded = await loadConfigFile(options.scenario, { expect: 'scenario' });
  if (!loaded.ok) {
    for (const line of formatProblems(loaded.problems)) io.err(line);
    return EXIT_INVALID_INPUT;
  }
  const scenario = loaded.value as ScenarioConfig;
  const palette = options.tty ? COLOURS : PLAIN;
  let out: WriteStream | undefined;
  try {
    out = options.out ? createWriteStream(options.out) : undefined;
    const opened = options.redis ? await openStopoutStore({ redisUrl: options.redis }) : undefined;
    let progressShown = false;
    const clearProgress = (): void => {
      if (progressShown) io.progress?.('');
      progressShown = false;
    };
    const run = await runScenario(scenario, {
      ...(options.seed !== undefined ? { seed: options.seed } : {}),
      ...(opened ? { store: opened.store } : {}),
      ...(options.onRuntime ? { onRuntime: options.onRuntime } : {}),
      onRecord: (record) => {
        options.onRecord?.(record);
        out?.write(`${JSON.stringify(record)}\n`);
        if (options.json) io.out(JSON.stringify(record));
        else {
          const line = formatRecord(record, palette);
          if (line) {
            clearProgress();
            io.out(line);
          }
        }
      },
      onProblem: (message) => io.err(`riskwarden: ${message}`),
      onStep: async (t, until) => {
        if (options.tty && !options.json && io.progress) {
          io.progress(progressBar(t, until));
          progressShown = true;
        }
        if (options.paceMs) await new Promise((resolve) => setTimeout(resolve, options.paceMs));
      },
    });
    clearProgress();
    await opened?.store.close();
    if (options.report) {
      const { writeHtmlReport } = await import('../report/html-report.ts');
      await writeHtmlReport(options.report, scenario, run.records, { seed: options.seed ?? scenario.seed });
      if (!options.json) io.err(`riskwarden: report written to ${options.report}`);
    }
    return EXIT_OK;
  } catch (error) {
    io.err(`riskwarden: ${(error as Error).message}`);
    return EXIT_FAILURE;
  } finally {
    if (out) await new Promise<void>((resolve) => out!.end(resolve));
  }
}

function progressBar(t: number, until: number): string {
  const width = 30;
  const done = until === 0 ? width : Math.round((t / until) * width);
  return `[${'#'.repeat(done)}${'.'.repeat(width - done)}] ${(t / 1000).toFixed(0)}s / ${(until / 1000).toFixed(0)}s`;
}
