import { describe, expect, it } from 'vitest';
import { QUICK_FUZZ_INPUTS, runFuzz } from '../../torture/fuzz.ts';
import { QUICK_SEEDED, runSeeded } from '../../torture/seeded-runs.ts';

/*
 * The short version of `npm run torture` (issue 12: "a short version runs in npm test"): the same
 * campaigns with `quick`, bounded by count so a slow machine runs the same inputs as a fast one —
 * 800 machine-tier runs and 4 generated scenarios over real sockets (the first replayed byte for byte),
 * and 8,000 fuzzed inputs over the six targets; about 25 s on two cores. Fixed seed: a failure here is
 * reproduced by the command it prints. The full campaign (10 minutes, ≥ 10,000 runs, ≥ 100,000 inputs)
 * is `npm run torture`; its figures are in docs/reliability.md.
 */
const SEED = 20261203;
const log = (): void => {};

describe('npm run torture, short version', () => {
  it(`${QUICK_SEEDED.machineRuns} machine runs and ${QUICK_SEEDED.scenarioRuns} generated scenarios keep every invariant`, async () => {
    const result = await runSeeded({ seed: SEED, deadline: Date.now() + 45_000, log, quick: true });
    expect(result.failures).toEqual([]);
    expect(result.figures['machine tier: runs']).toBe(QUICK_SEEDED.machineRuns);
    expect(result.figures['scenario tier: runs']).toBe(QUICK_SEEDED.scenarioRuns);
    expect(result.figures['scenario tier: replayed, byte-identical']).toBe('1 of 1');
  }, 60_000);

  it(`${QUICK_FUZZ_INPUTS} fuzzed frames, bodies, requests, snapshots, configs and scenarios: 0 crashes, each rejection typed`, async () => {
    const result = await runFuzz({ seed: SEED, deadline: Date.now() + 45_000, log, quick: true });
    expect(result.failures).toEqual([]);
    expect(result.figures.inputs).toBe(QUICK_FUZZ_INPUTS);
    expect(result.figures.crashes).toBe(0);
    expect(result.figures['rejected without a typed error']).toBe(0);
  }, 60_000);
});
