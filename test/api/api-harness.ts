import { startApiServer, type ApiAuditEntry, type ApiServer, type ApiServerOptions } from '../../src/api/api-server.ts';
import { FleetView, type FleetSource } from '../../src/api/fleet-view.ts';
import { parseConfigDocument } from '../../src/config/load.ts';
import type { ScenarioConfig } from '../../src/config/scenario-schema.ts';
import { runScenario, type ScenarioRun } from '../../src/scenario/scenario-runner.ts';
import type { TimelineRecord } from '../../src/timeline/timeline-record.ts';

/*
 * A real fleet behind a real API server: a scenario runs through runScenario (simulator, venue client and
 * FleetRuntime over loopback sockets) with its records feeding a FleetView, and pauses at chosen seconds
 * so a test can talk to the API while the fleet stands still between two simulated seconds.
 */

export const READ_TOKEN = 'read-token-for-tests-0123456789';
export const ADMIN_TOKEN = 'admin-token-for-tests-9876543210';

/**
 * alpha buys 3 ETHP at 0 s and 3 more at 20 s (its position cap is 6: entries-blocked from then on);
 * beta holds nothing. ETHP falls 2000 → 1880 over a minute and gaps to 1700 at 61 s: alpha loses
 * 6 × (2000 − 1700) = 1800 > 1500, so portfolio core's day equity-difference limit stops both out.
 */
export const API_SCENARIO = {
  name: 'api-test',
  seed: 11,
  start: '2026-01-05T13:00:00Z',
  accounts: [
    {
      id: 'alpha',
      collateral: '10000',
      budget: { maxPositionSize: { ETHP: '6' }, maxGrossNotional: '15000', minMarginBuffer: '0.10', panicMarginBuffer: '0.03' },
      signal: {
        kind: 'scripted',
        orders: [
          { at: '0s', symbol: 'ETHP', side: 'buy', amount: '3', type: 'market' },
          { at: '20s', symbol: 'ETHP', side: 'buy', amount: '3', type: 'market' },
        ],
      },
    },
    { id: 'beta', collateral: '10000', budget: { maxPositionSize: { ETHP: '4' }, minMarginBuffer: '0.10', panicMarginBuffer: '0.03' } },
  ],
  portfolios: [
    {
      id: 'core',
      members: [{ account: 'alpha' }, { account: 'beta' }],
      riskLimits: [{ type: 'day', applyTo: 'equity-difference', maxAbsoluteRisk: '1500', closePositions: false }],
    },
  ],
  marks: {
    ETHP: [
      { at: '0s', price: '2000' },
      { at: '60s', price: '1880' },
      { at: '61s', price: '1700', jump: true },
    ],
  },
  until: '90s',
};

export function apiScenario(overrides: Record<string, unknown> = {}): ScenarioConfig {
  const loaded = parseConfigDocument({ ...API_SCENARIO, ...overrides }, { expect: 'scenario' });
  if (!loaded.ok) throw new Error(`test scenario invalid: ${loaded.problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
  return loaded.value as ScenarioConfig;
}

export interface ApiFixture {
  api: ApiServer;
  view: FleetView;
  /** The scenario's runtime and what it runs on, once the run has started. */
  source(): FleetSource;
  audits: ApiAuditEntry[];
  /** Every record with performance.now() when it was written. */
  written: { record: TimelineRecord; at: number }[];
  /** Resolves once the run is paused after simulated second `t` (ms). */
  pausedAt(t: number): Promise<void>;
  /** Lets the run go on to the next pause (or the end). */
  resume(): void;
  /** Resumes to the end and waits for the run. */
  finish(): Promise<ScenarioRun>;
  close(): Promise<void>;
  get(path: string, token?: string | null, init?: RequestInit): Promise<Response>;
  post(path: string, body: unknown, token?: string | null): Promise<Response>;
}

export interface FixtureOptions {
  /** Simulated seconds (ms) after which the run waits for resume(). */
  pauses?: number[];
  scenario?: ScenarioConfig;
  server?: Partial<ApiServerOptions>;
  /** Runs once the server listens, before the scenario starts (e.g. connect a live client that must see every record). */
  beforeRun?: (api: ApiServer) => Promise<void>;
}

export async function startApiFixture(options: FixtureOptions = {}): Promise<ApiFixture> {
  const view = new FleetView();
  const audits: ApiAuditEntry[] = [];
  const written: { record: TimelineRecord; at: number }[] = [];
  const api = await startApiServer({
    view,
    port: 0,
    tokens: { read: READ_TOKEN, admin: ADMIN_TOKEN },
    audit: (e) => audits.push(e),
    ...options.server,
  });
  await options.beforeRun?.(api);
  const pauses = new Set(options.pauses ?? []);
  const reached = new Map<number, () => void>();
  const reachedPromises = new Map<number, Promise<void>>();
  for (const t of pauses) reachedPromises.set(t, new Promise((resolve) => reached.set(t, resolve)));
  let release: (() => void) | undefined;
  let source: FleetSource | undefined;
  let finishing = false;

  const run = runScenario(options.scenario ?? apiScenario(), {
    onRecord: (record) => {
      written.push({ record, at: performance.now() });
      view.record(record);
    },
    onRuntime: (runtime, parts) => {
      source = { runtime, ...parts };
      view.attach(source);
    },
    onStep: async (t) => {
      if (!pauses.has(t) || finishing) return;
      await new Promise<void>((resolve) => {
        release = resolve;
        reached.get(t)!();
      });
    },
  });
  run.catch(() => {});

  const headers = (token: string | null | undefined): Record<string, string> => (token ? { authorization: `Bearer ${token}` } : {});
  const fixture: ApiFixture = {
    api,
    view,
    audits,
    written,
    source: () => {
      if (!source) throw new Error('the scenario has not started its runtime yet');
      return source;
    },
    pausedAt: (t) => {
      const p = reachedPromises.get(t);
      if (!p) throw new Error(`no pause at ${t} ms: add it to the fixture's pauses`);
      return Promise.race([
        p,
        run.then(() => {
          throw new Error(`the run ended before pausing at ${t} ms`);
        }),
      ]);
    },
    resume: () => {
      const r = release;
      release = undefined;
      r?.();
    },
    finish: async () => {
      finishing = true;
      fixture.resume();
      return run;
    },
    close: async () => {
      finishing = true;
      fixture.resume();
      await run.catch(() => {});
      await api.close();
    },
    get: (path, token = READ_TOKEN, init = {}) =>
      fetch(`${api.url}${path}`, { ...init, headers: { ...headers(token), ...(init.headers as Record<string, string> | undefined) } }),
    post: (path, body, token = ADMIN_TOKEN) =>
      fetch(`${api.url}${path}`, {
        method: 'POST',
        headers: { ...headers(token), 'content-type': 'application/json' },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      }),
  };
  return fixture;
}
