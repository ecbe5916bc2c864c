import { loadConfigFile, formatProblems } from '../../src/config/load.ts';
import type { ScenarioConfig } from '../../src/config/scenario-schema.ts';
import { runScenario } from '../../src/scenario/scenario-runner.ts';
import type { TimelineRecord } from '../../src/timeline/timeline-record.ts';

/** Scenarios the report tests run for real: the reference stress pass (docs/contracts.md#scenario) and one that uses every part of the report. */
export const STRESS_PASS = 'config/scenarios/stress-pass.yaml';
export const SHOWCASE = 'test/report/fixtures/report-showcase.yaml';

export interface ReportRun {
  scenario: ScenarioConfig;
  records: TimelineRecord[];
}

export async function loadScenario(path: string): Promise<ScenarioConfig> {
  const loaded = await loadConfigFile(path, { expect: 'scenario' });
  if (!loaded.ok) throw new Error(`${path} is not a valid scenario:\n${formatProblems(loaded.problems).join('\n')}`);
  return loaded.value as ScenarioConfig;
}

const runs = new Map<string, Promise<ReportRun>>();

/**
 * Runs a scenario file through the real runner (simulator, venue client, supervisor), once per test file:
 * runs are deterministic, and the tests only read the records.
 */
export function runScenarioFile(path: string): Promise<ReportRun> {
  let run = runs.get(path);
  if (run === undefined) {
    run = loadScenario(path).then(async (scenario) => ({ scenario, records: (await runScenario(scenario)).records }));
    runs.set(path, run);
  }
  return run;
}
