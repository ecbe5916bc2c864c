import { createHash } from 'node:crypto';
import type { ScenarioConfig } from '../src/config/scenario-schema.ts';
import type { AccountMode } from '../src/domain/assessment.ts';
import { runScenario } from '../src/scenario/scenario-runner.ts';
import type { TimelineRecord } from '../src/timeline/timeline-record.ts';
import { generateScenario } from './scenario-generator.ts';
import { checkTimeline } from './timeline-invariants.ts';

/** One generated scenario run through the real runner (simulator, venue client, supervisor over sockets). */
export interface ScenarioTrial {
  seed: number;
  index: number;
  /** The generator made a scenario the loader refused (a bug of the generator). */
  invalid?: string;
  /** The run itself threw (stuck, a crash): its message and stack. */
  error?: string;
  violations: string[];
  liquidations: number;
  reached: Partial<Record<AccountMode, number>>;
  orders: number;
  records: number;
  /** Problems the run survived and reported (failed requests under injected faults). */
  runProblems: number;
  ms: number;
  /** sha256 of the JSONL timeline. */
  hash: string;
  /** Set when the run was replayed: whether the second timeline was byte-identical. */
  identical?: boolean;
  replayHash?: string;
}

export function toJsonl(records: readonly TimelineRecord[]): string {
  return records.map((r) => `${JSON.stringify(r)}\n`).join('');
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** Runs the scenario once and returns its timeline as JSONL with the problems it reported. */
export async function timelineOf(scenario: ScenarioConfig): Promise<{ jsonl: string; records: TimelineRecord[]; problems: string[] }> {
  const problems: string[] = [];
  const { records } = await runScenario(scenario, { onProblem: (m) => problems.push(m), settleTimeoutMs: 20_000 });
  return { jsonl: toJsonl(records), records, problems };
}

/**
 * Generates scenario (seed, index), runs it, checks the timeline invariants; replays it when asked or
 * when anything failed, and compares the two timelines byte for byte.
 */
export async function runScenarioTrial(seed: number, index: number, replay: boolean): Promise<ScenarioTrial> {
  const started = performance.now();
  const base: ScenarioTrial = {
    seed,
    index,
    violations: [],
    liquidations: 0,
    reached: {},
    orders: 0,
    records: 0,
    runProblems: 0,
    ms: 0,
    hash: '',
  };
  const generated = generateScenario(seed, index);
  if (!generated.ok) {
    return { ...base, invalid: generated.problems.map((p) => `${p.path}: ${p.message}`).join('; '), ms: performance.now() - started };
  }
  let first: Awaited<ReturnType<typeof timelineOf>>;
  try {
    first = await timelineOf(generated.scenario);
  } catch (error) {
    return { ...base, error: error instanceof Error ? (error.stack ?? error.message) : String(error), ms: performance.now() - started };
  }
  const check = checkTimeline(generated.scenario, first.records);
  const trial: ScenarioTrial = {
    ...base,
    violations: check.violations,
    liquidations: check.liquidations,
    reached: check.reached,
    orders: check.orders,
    records: first.records.length,
    runProblems: first.problems.length,
    hash: sha256(first.jsonl),
  };
  if (replay || check.violations.length > 0) {
    try {
      const second = await timelineOf(generated.scenario);
      trial.replayHash = sha256(second.jsonl);
      trial.identical = second.jsonl === first.jsonl;
    } catch (error) {
      trial.error = `the replay threw: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`;
    }
  }
  trial.ms = performance.now() - started;
  return trial;
}
