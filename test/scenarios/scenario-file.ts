import { fileURLToPath } from 'node:url';
import { formatProblems, loadConfigFile } from '../../src/config/load.ts';
import type { ScenarioConfig } from '../../src/config/scenario-schema.ts';
import { runScenario, type ScenarioRunOptions } from '../../src/scenario/scenario-runner.ts';
import type { TimelineRecord } from '../../src/timeline/timeline-record.ts';

/** Where the scenario library lives: config/scenarios/<name>.yaml. */
export function scenarioPath(name: string): string {
  return fileURLToPath(new URL(`../../config/scenarios/${name}.yaml`, import.meta.url));
}

/** Loads a library scenario the way `riskwarden simulate` does; an invalid file fails with every problem. */
export async function loadScenario(name: string): Promise<ScenarioConfig> {
  const path = scenarioPath(name);
  const loaded = await loadConfigFile(path, { expect: 'scenario' });
  if (!loaded.ok)
    throw new Error(`${path} is not a valid scenario (run \`riskwarden check ${path}\`):\n${formatProblems(loaded.problems).join('\n')}`);
  return loaded.value as ScenarioConfig;
}

export interface ScenarioTimeline {
  scenario: ScenarioConfig;
  records: TimelineRecord[];
}

/** Runs a library scenario end to end (simulator, venue client, supervisor) and returns its timeline. */
export async function runScenarioFile(name: string, options: Omit<ScenarioRunOptions, 'onProblem'> = {}): Promise<ScenarioTimeline> {
  const scenario = await loadScenario(name);
  const problems: string[] = [];
  const { records } = await runScenario(scenario, { ...options, onProblem: (message) => problems.push(message) });
  // A request that failed or a store write that was refused is survived by the fleet, but a library
  // scenario is meant to run clean: show it rather than let a silent failure shape the timeline.
  if (problems.length > 0) throw new Error(`${name}: the run reported problems:\n${problems.join('\n')}`);
  return { scenario, records };
}

/** The timeline as `riskwarden simulate --json` prints it. */
export function toJsonl(records: readonly TimelineRecord[]): string {
  return records.map((r) => `${JSON.stringify(r)}\n`).join('');
}
