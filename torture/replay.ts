/**
 * Reproduces one failure the torture campaign printed, from its seed alone:
 *
 *   node --import tsx torture/replay.ts machine <seed> <run>          a machine-tier event stream, twice
 *   node --import tsx torture/replay.ts scenario <seed> <scenario>    a generated scenario, twice
 *   node --import tsx torture/replay.ts fuzz <target> <seed> <input>  one fuzzed input
 *
 * Prints what was checked and whether the two runs were byte-identical; writes the scenario and its
 * timeline under test-artifacts/torture/scenarios/. Exits 1 when the failure reproduces.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { FUZZ_TARGETS } from './fuzz-targets.ts';
import { fuzzOne } from './fuzz.ts';
import { runMachineStream } from './machine-runs.ts';
import { generateScenario } from './scenario-generator.ts';
import { SCENARIO_ARTIFACTS } from './seeded-runs.ts';
import { timelineOf } from './scenario-trial.ts';
import { checkTimeline } from './timeline-invariants.ts';

const [what, ...rest] = process.argv.slice(2);
const whole = (s: string | undefined, name: string): number => {
  const n = Number(s);
  if (!Number.isSafeInteger(n) || n < 0) {
    console.error(`replay: ${name}: expected a whole number, got ${JSON.stringify(s)}`);
    process.exit(2);
  }
  return n;
};

if (what === 'machine') {
  const seed = whole(rest[0], 'seed');
  const index = whole(rest[1], 'run');
  const a = runMachineStream(seed, index);
  const b = runMachineStream(seed, index);
  console.log(a.log);
  console.log(
    `\nmachine run seed ${seed} #${index}: ${a.events} events, ${a.orders} orders; byte-identical replay: ${a.log === b.log ? 'yes' : 'NO'}`,
  );
  for (const v of a.violations) console.log(`VIOLATION ${v}`);
  process.exit(a.violations.length > 0 || a.log !== b.log ? 1 : 0);
} else if (what === 'scenario') {
  const seed = whole(rest[0], 'seed');
  const index = whole(rest[1], 'scenario');
  const generated = generateScenario(seed, index);
  mkdirSync(SCENARIO_ARTIFACTS, { recursive: true });
  const file = `${SCENARIO_ARTIFACTS}/${seed}-${index}.json`;
  writeFileSync(file, `${JSON.stringify(generated.document, null, 2)}\n`);
  if (!generated.ok) {
    console.log(`${file}: invalid:\n${generated.problems.map((p) => `  ${p.path}: ${p.message}`).join('\n')}`);
    process.exit(1);
  }
  const a = await timelineOf(generated.scenario);
  const b = await timelineOf(generated.scenario);
  writeFileSync(`${SCENARIO_ARTIFACTS}/${seed}-${index}.jsonl`, a.jsonl);
  const check = checkTimeline(generated.scenario, a.records);
  console.log(`scenario ${file}: ${a.records.length} records (timeline: ${SCENARIO_ARTIFACTS}/${seed}-${index}.jsonl)`);
  console.log(`byte-identical replay: ${a.jsonl === b.jsonl ? 'yes' : 'NO'}; problems the run survived: ${a.problems.length}`);
  for (const p of a.problems) console.log(`  problem: ${p}`);
  for (const v of check.violations) console.log(`VIOLATION ${v}`);
  process.exit(check.violations.length > 0 || a.jsonl !== b.jsonl ? 1 : 0);
} else if (what === 'fuzz') {
  const target = FUZZ_TARGETS.find((t) => t.name === rest[0]);
  if (!target) {
    console.error(`replay: fuzz target: expected one of ${FUZZ_TARGETS.map((t) => t.name).join(', ')}, got ${JSON.stringify(rest[0])}`);
    process.exit(2);
  }
  const outcome = await fuzzOne(target, whole(rest[1], 'seed'), whole(rest[2], 'input'));
  console.log(outcome.trial.show());
  if ('crash' in outcome) {
    console.log(`\nCRASH: ${outcome.crash.stack ?? outcome.crash.message}`);
    process.exit(1);
  }
  console.log(`\nverdict: ${JSON.stringify(outcome.verdict)}`);
  process.exit(outcome.verdict.kind === 'untyped' ? 1 : 0);
} else {
  console.error('usage: replay.ts machine <seed> <run> | scenario <seed> <scenario> | fuzz <target> <seed> <input>');
  process.exit(2);
}
