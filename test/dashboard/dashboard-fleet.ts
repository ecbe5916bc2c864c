import { fileURLToPath } from 'node:url';
import { startApiServer, type ApiServer } from '../../src/api/api-server.ts';
import { FleetView } from '../../src/api/fleet-view.ts';
import { formatProblems, loadConfigFile } from '../../src/config/load.ts';
import type { ScenarioConfig } from '../../src/config/scenario-schema.ts';
import { dashboardRoutes } from '../../src/dashboard/static-files.ts';
import { runScenario } from '../../src/scenario/scenario-runner.ts';

/** The scenario the browser watches (see its comments): alpha goes trading → entries-blocked → de-risking. */
export const DASHBOARD_SCENARIO = fileURLToPath(new URL('./dashboard-scenario.yaml', import.meta.url));

export const ADMIN_TOKEN = 'dashboard-test-admin-token';
export const READ_TOKEN = 'dashboard-test-read-token';

/** Thrown from onStep to end the run early: the scenario is longer than any test needs. */
class RunStopped extends Error {}

export interface DashboardFleet {
  /** http://127.0.0.1:<port> */
  url: string;
  view: FleetView;
  /** Simulated ms reached (the last settled step). */
  readonly t: number;
  /** Wall-clock ms per simulated second from now on. */
  setPace(ms: number): void;
  /** Lets the run go past the step it was held at. */
  release(): void;
  /** Resolves once the run has settled the step at `t` ms (rejects if the run fails). */
  reached(t: number): Promise<void>;
  /** Problems the run survived (failed requests): a clean scenario has none. */
  problems: string[];
  stop(): Promise<void>;
}

export interface DashboardFleetOptions {
  /** Hold the run after settling this step (ms), until `release()`: the page loads before anything happens. */
  holdAt?: number;
  /** Initial wall-clock ms per simulated second. */
  paceMs: number;
}

/**
 * The real stack on loopback: the scenario runner (exchange simulator, venue client, supervisor) feeding a
 * FleetView, the HTTP API with its live socket, and the dashboard's files through `extraRoutes`.
 */
export async function startDashboardFleet(options: DashboardFleetOptions): Promise<DashboardFleet> {
  const loaded = await loadConfigFile(DASHBOARD_SCENARIO, { expect: 'scenario' });
  if (!loaded.ok) throw new Error(`${DASHBOARD_SCENARIO} is not a valid scenario:\n${formatProblems(loaded.problems).join('\n')}`);
  const scenario = loaded.value as ScenarioConfig;

  const view = new FleetView();
  const api: ApiServer = await startApiServer({
    view,
    host: '127.0.0.1',
    port: 0,
    tokens: { admin: ADMIN_TOKEN, read: READ_TOKEN },
    extraRoutes: dashboardRoutes(),
  });

  let pace = options.paceMs;
  let t = -1;
  let stopping = false;
  let hold: { at: number; release: () => void; promise: Promise<void> } | undefined;
  if (options.holdAt !== undefined) {
    let release!: () => void;
    const promise = new Promise<void>((resolve) => (release = resolve));
    hold = { at: options.holdAt, release, promise };
  }
  const waiters: Array<{ t: number; resolve: () => void; reject: (e: Error) => void }> = [];
  const problems: string[] = [];
  let failure: Error | undefined;

  const run = runScenario(scenario, {
    onRuntime: (runtime, parts) => view.attach({ runtime, store: parts.store, plan: parts.plan, clock: parts.clock }),
    onRecord: (record) => view.record(record),
    onProblem: (message) => problems.push(message),
    onStep: async (stepT) => {
      t = stepT;
      for (const w of waiters.filter((w) => w.t <= stepT)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
      if (stopping) throw new RunStopped('stopped by the test');
      if (hold && stepT >= hold.at) await hold.promise;
      if (stopping) throw new RunStopped('stopped by the test');
      await new Promise((resolve) => setTimeout(resolve, pace));
    },
  }).then(
    () => undefined,
    (error: Error) => {
      if (error instanceof RunStopped) return;
      failure = error;
      for (const w of waiters.splice(0)) w.reject(error);
    },
  );

  return {
    url: api.url,
    view,
    get t() {
      return t;
    },
    setPace: (ms) => {
      pace = ms;
    },
    release: () => hold?.release(),
    reached: (target) => {
      if (failure) return Promise.reject(failure);
      if (t >= target) return Promise.resolve();
      return new Promise((resolve, reject) => waiters.push({ t: target, resolve, reject }));
    },
    problems,
    stop: async () => {
      stopping = true;
      hold?.release();
      await api.close();
      await run;
      if (failure) throw failure;
    },
  };
}
