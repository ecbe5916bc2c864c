import { operatorRoutes } from '../app/operator-routes.ts';
import { launchApi } from '../api/api-launch.ts';
import type { ApiServer, ExtraRoutes } from '../api/api-server.ts';
import { FleetView } from '../api/fleet-view.ts';
import { simulateCommand } from './simulate-command.ts';
import { EXIT_FAILURE, type CliIo } from './io.ts';

export interface StartOptions {
  scenario: string;
  /** Full speed instead of the watchable pace. */
  fast: boolean;
  report: string;
  tty: boolean;
  /** Port of the API (0: a free one). Absent: 8377, or a free port when 8377 is taken. */
  apiPort?: number;
  /** Keep serving the API this long after the scenario ends (Ctrl-C stops earlier); absent: exit when done. */
  keepMs?: number;
  /** API tokens come from here (default process.env). */
  env?: Record<string, string | undefined>;
  /** Extra routes of the API server (the dashboard's files). */
  extraRoutes?: ExtraRoutes;
  /** Stops a `keepMs` linger early (tests). */
  signal?: AbortSignal;
}

/** Wall-clock milliseconds per simulated second at the watchable pace: a 3-minute scenario in ~20 s. */
export const WATCHABLE_PACE_MS = 100;

export const DEFAULT_API_PORT = 8377;

/**
 * The main job on embedded defaults: the exchange simulator, the supervisor with its in-memory stopout
 * store, and the stress-pass scenario played at a watchable pace, its timeline printed as it happens and
 * an HTML report written at the end — with the HTTP API (and the dashboard) serving the running fleet.
 */
export async function startCommand(options: StartOptions, io: CliIo): Promise<number> {
  const view = new FleetView();
  let api: ApiServer;
  try {
    api = await launchApi({
      view,
      host: '127.0.0.1',
      port: options.apiPort ?? DEFAULT_API_PORT,
      fallbackToFreePort: options.apiPort === undefined,
      env: options.env ?? process.env,
      note: (message) => io.err(`riskwarden: ${message}`),
      extraRoutes: operatorRoutes({ extra: options.extraRoutes }),
    });
  } catch (error) {
    io.err(`riskwarden: the API could not start: ${(error as Error).message}`);
    return EXIT_FAILURE;
  }
  try {
    io.err(`riskwarden: playing ${options.scenario}${options.fast ? '' : ' at a watchable pace (--fast for full speed)'}`);
    const code = await simulateCommand(
      {
        scenario: options.scenario,
        tty: options.tty,
        paceMs: options.fast ? 0 : WATCHABLE_PACE_MS,
        report: options.report,
        onRecord: (record) => view.record(record),
        onRuntime: (runtime, parts) => view.attach({ runtime, ...parts }),
      },
      io,
    );
    if (code === 0)
      io.err(`riskwarden: open ${options.report} for the charts; write your own scenario and run it with: npx riskwarden simulate <file>`);
    if (code === 0 && options.keepMs !== undefined) {
      io.err(`riskwarden: the scenario has ended; the API stays up for ${Math.round(options.keepMs / 1000)} s (read only; Ctrl-C stops)`);
      await linger(options.keepMs, options.signal);
    }
    return code;
  } finally {
    await api.close();
  }
}

function linger(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
    signal?.addEventListener('abort', done, { once: true });
  });
}
