import { describe, expect, it } from 'vitest';
import { runMachineStream } from '../../torture/machine-runs.ts';

/*
 * The machine-tier runs in which `npm run torture` found a statechart breaking an invariant, kept as
 * regression tests (docs/reliability.md). Each replays byte for byte from its seed and run number.
 */
const FOUND: Array<{ seed: number; run: number; what: string }> = [
  { seed: 20261203, run: 5559, what: 'a close larger than the position while the risk layer reduced it too' },
  { seed: 20261203, run: 12097, what: 'a close larger than the position while the risk layer reduced it too' },
  { seed: 20261203, run: 3077, what: 'a close counted against a working close that had become an increase after a flip' },
  { seed: 11, run: 4732, what: 'a close on a flat position (fills reach the ledger before their order updates)' },
  { seed: 20261203, run: 13624, what: 'an exit sized on the position alone while a strategy close was working' },
  { seed: 20261203, run: 3823, what: 'an exit sized on the position alone while a strategy close was working' },
  { seed: 20261203, run: 3076, what: 'a reduction left working after a stopout went, filling after the strategy flipped' },
];

describe('runs the torture campaign found', () => {
  it.each(FOUND)('seed $seed run $run ($what) keeps every invariant', ({ seed, run }) => {
    const first = runMachineStream(seed, run);
    expect(first.violations).toEqual([]);
    expect(runMachineStream(seed, run).hash).toBe(first.hash);
  });
});
