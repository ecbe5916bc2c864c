import { describe, expect, it } from 'vitest';
import { campaign } from '../../torture/campaigns/kills.ts';

/*
 * The short version of the kill campaign (torture/campaigns/kills.ts): two real `riskwarden run` processes
 * on one simulator and one Redis, the owner of a de-risking account SIGKILLed at a random point. Judged
 * from the venue's order log and Redis: no duplicate reduction, no flip, no stopout lost. It reproduces
 * issue 12's failure 1 (a duplicate reducing order on takeover) when the takeover sends again.
 */
describe('kill campaign, quick', () => {
  it('SIGKILLs mid-de-risk leave no duplicate reduction, no flip and no lost stopout', async () => {
    const lines: string[] = [];
    // Behaviour, not time: the campaign keeps its deadline itself (it stops its loop before it); here it must
    // return at all, with its counted work done, and the vitest timeout is the hang guard.
    const result = await campaign.run({ seed: 12, deadline: Date.now() + 13_000, quick: true, log: (line) => lines.push(line) });
    expect(result.failures, lines.join('\n')).toEqual([]);
    expect(result.figures.kills).toBeGreaterThanOrEqual(1);
    expect(result.figures).toMatchObject({ 'duplicate reductions': 0, flips: 0, 'stopouts lost': 0 });
  }, 30_000);
});
