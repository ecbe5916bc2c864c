import { describe, expect, it } from 'vitest';
import { campaign } from '../../torture/campaigns/redis-faults.ts';

/*
 * The short version of the Redis campaign (torture/campaigns/redis-faults.ts): two real `riskwarden run`
 * processes, their redis-server SIGKILLed and restarted without its data. Entries must be refused within
 * the grace period, the reduction of an account over its cap must go on at the venue while Redis is away,
 * the operator's kill switch through the API must be accepted, and no stopout may be lost when the store
 * returns empty. It reproduces issue 12's failure 3 (an outage longer than the lease TTL stops de-risking,
 * the API kill switch answers 409, a store that returns empty loses every stopout).
 */
describe('Redis fault campaign, quick', () => {
  it('a Redis restart without its data: entries refused in the grace period, reductions go on, no stopout lost', async () => {
    const lines: string[] = [];
    // Behaviour, not time: the campaign keeps its deadline itself (it stops its loop before it); here it must
    // return at all, with its counted work done, and the vitest timeout is the hang guard.
    const result = await campaign.run({ seed: 12, deadline: Date.now() + 14_000, quick: true, log: (line) => lines.push(line) });
    expect(result.failures, lines.join('\n')).toEqual([]);
    expect(result.figures).toMatchObject({
      'redis restarts without data': 1,
      'entries not refused within grace': 0,
      'reductions continued': 1,
      'kill switches accepted': 1,
      'stopouts lost': 0,
      recoveries: 1,
    });
  }, 30_000);
});
