import { describe, expect, it } from 'vitest';
import { campaign } from '../../torture/campaigns/network-faults.ts';

/*
 * The short version of the network campaign (torture/campaigns/network-faults.ts): two real `riskwarden
 * run` processes, each behind TCP fault proxies of its own to the venue and to Redis; a fault on one of
 * them while an account it runs must reduce. After healing the account settles with no duplicate
 * reduction, no flip and no stopout lost, judged from the venue's order log and Redis.
 */
describe('network fault campaign, quick', () => {
  it('faults between a supervisor and the venue or Redis break no invariant', async () => {
    const lines: string[] = [];
    // Behaviour, not time: the campaign keeps its deadline itself (it stops its loop before it); here it must
    // return at all, with its counted work done, and the vitest timeout is the hang guard.
    const result = await campaign.run({ seed: 12, deadline: Date.now() + 14_000, quick: true, log: (line) => lines.push(line) });
    expect(result.failures, lines.join('\n')).toEqual([]);
    expect(result.figures.runs).toBeGreaterThanOrEqual(1);
    expect(result.figures['invariant violations']).toBe(0);
  }, 30_000);
});
