import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountResponseSchema } from '../../src/api/api-schemas.ts';
import { formatProblems, parseConfigDocument } from '../../src/config/load.ts';
import type { ScenarioConfig } from '../../src/config/scenario-schema.ts';
import { startApiFixture, type ApiFixture } from './api-harness.ts';

/*
 * Issue 12, failure 9: repeated rejections of reducing orders are reported. While alpha's exit keeps being
 * refused at the band (its MARK_PRICE feed paused while the mark climbs; test/domain/reduction-retry.test.ts
 * has the whole run), GET /api/v1/accounts/alpha shows the streak; once the exit fills, it is gone.
 */

function scenario(): ScenarioConfig {
  const loaded = parseConfigDocument(
    {
      name: 'band-edge-exit',
      seed: 5,
      accounts: [
        {
          id: 'alpha',
          collateral: '10000',
          budget: { maxPositionSize: { ETHP: '6' }, minMarginBuffer: '0.10', panicMarginBuffer: '0.03' },
          signal: { kind: 'scripted', orders: [{ at: '0s', symbol: 'ETHP', side: 'buy', amount: '3', type: 'market' }] },
        },
      ],
      marks: {
        ETHP: [
          { at: '0s', price: '2000' },
          { at: '10s', price: '2000' },
          { at: '20s', price: '2100' },
        ],
      },
      faults: [{ at: '10s', kind: 'pause-feed', feed: 'MARK_PRICE', duration: '20s' }],
      operator: [{ at: '12s', action: 'set-stopout', scope: 'account', id: 'alpha', reason: 'manual', closePositions: true }],
      until: '40s',
    },
    { expect: 'scenario' },
  );
  if (!loaded.ok) throw new Error(formatProblems(loaded.problems).join('\n'));
  return loaded.value as ScenarioConfig;
}

let f: ApiFixture;
beforeAll(async () => {
  f = await startApiFixture({ scenario: scenario(), pauses: [14_000, 37_000] });
});
afterAll(async () => {
  await f?.close();
});

describe('GET /api/v1/accounts/{id}: a streak of rejected reducing orders', () => {
  it('shows how many, why and when the next may go; and nothing once the exit filled', async () => {
    await f.pausedAt(14_000);
    const during = accountResponseSchema.parse(await (await f.get('/api/v1/accounts/alpha')).json());
    // Rejected at 12 s (twice), 13 s and 14 s: the fourth waits 2 s.
    expect(during.reductionRetry).toEqual({
      rejections: 4,
      reason: 'MaxTakerPriceDeviation',
      since: '2026-01-05T13:00:14.000Z',
      retryAt: '2026-01-05T13:00:16.000Z',
    });
    f.resume();
    await f.pausedAt(37_000);
    const after = accountResponseSchema.parse(await (await f.get('/api/v1/accounts/alpha')).json());
    expect(after.reductionRetry).toBeUndefined();
    expect(after.position).toEqual({});
  });
});
