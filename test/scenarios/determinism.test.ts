import { describe, expect, it } from 'vitest';
import { runScenarioFile, toJsonl } from './scenario-file.ts';
import { checkTimelineInvariants } from './timeline-invariants.ts';

// docs/contracts.md#cli: same scenario and seed ⇒ byte-identical timeline, although every message crosses a real
// socket. stress-pass has it all: entries, a refusal, reductions, a duplicated, a dropped and a
// disconnected feed, and operator actions. Another seed changes the keys, nonces and signatures on the
// wire (the order ids in the timeline are the account's own), not the guarantees.
describe('scenario determinism', () => {
  it('gives byte-identical JSONL for the same scenario and seed', async () => {
    const a = await runScenarioFile('stress-pass');
    const b = await runScenarioFile('stress-pass');
    expect(a.records.length).toBeGreaterThan(100);
    expect(toJsonl(b.records)).toBe(toJsonl(a.records));
  }, 60_000);

  it('keeps every invariant under another seed', async () => {
    const run = await runScenarioFile('gap-down', { seed: 4242 });
    checkTimelineInvariants(run.scenario, run.records);
    expect(run.records.at(-1)).toMatchObject({ kind: 'summary', liquidated: [], maxReductionsInFlight: { alpha: 1 } });
    expect(run.records.some((r) => r.kind === 'state' && r.to === 'panic-exit')).toBe(true);
  }, 60_000);
});
