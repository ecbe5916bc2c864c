import { simulateCommand } from './simulate-command.ts';
import type { CliIo } from './io.ts';

export interface StartOptions {
  scenario: string;
  /** Full speed instead of the watchable pace. */
  fast: boolean;
  report: string;
  tty: boolean;
}

/** Wall-clock milliseconds per simulated second at the watchable pace: a 3-minute scenario in ~20 s. */
export const WATCHABLE_PACE_MS = 100;

/**
 * The main job on embedded defaults: the exchange simulator, the supervisor with its in-memory stopout
 * store, and the stress-pass scenario played at a watchable pace, its timeline printed as it happens and
 * an HTML report written at the end.
 */
export async function startCommand(options: StartOptions, io: CliIo): Promise<number> {
  io.err(`riskwarden: playing ${options.scenario}${options.fast ? '' : ' at a watchable pace (--fast for full speed)'}`);
  const code = await simulateCommand(
    { scenario: options.scenario, tty: options.tty, paceMs: options.fast ? 0 : WATCHABLE_PACE_MS, report: options.report },
    io,
  );
  if (code === 0) io.err(`riskwarden: open ${options.report} for the charts; write your own scenario and run it with: npx riskwarden simulate <file>`);
  return code;
}
