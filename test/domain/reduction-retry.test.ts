import { describe, expect, it } from 'vitest';
import { formatProblems, parseConfigDocument } from '../../src/config/load.ts';
import type { ScenarioConfig } from '../../src/config/scenario-schema.ts';
import type { LedgerBook } from '../../src/domain/ledger.ts';
import { riskMetrics } from '../../src/domain/metrics.ts';
import { DEFAULT_PRODUCTS } from '../../src/domain/products.ts';
import { planReduction } from '../../src/domain/reduction-plan.ts';
import { afterReductionOutcome, bandMargin, retryBackoffMs, retryDue, validRetry } from '../../src/domain/reduction-retry.ts';
import { runScenario } from '../../src/scenario/scenario-runner.ts';
import type { TimelineRecord } from '../../src/timeline/timeline-record.ts';

const ETHP = DEFAULT_PRODUCTS.ETHP!;

function book(size: string): LedgerBook {
  return {
    collateral: '10000',
    realizedPnl: '0',
    feesPaid: '0',
    fundingReceived: '0',
    netTransfers: '0',
    positions: { ETHP: { size, avgEntry: '2000' } },
  };
}

/** The exit price of a flatten at mark 2000 (band ±40: edges 1960 / 2040) with `bandMargin`. */
function exitPrice(size: string, margin: string, product = ETHP): string | undefined {
  const plan = planReduction({
    metrics: riskMetrics({ ledger: book(size), marks: { ETHP: '2000' }, products: { ETHP: product } }),
    products: { ETHP: product },
    budget: {},
    purpose: 'exit',
    flatten: true,
    fraction: '1',
    targetBuffer: '0.1',
    bandMargin: margin,
  });
  return plan.kind === 'order' ? plan.order.price : undefined;
}

describe('reduction retry: backoff and band margin', () => {
  it('backs off 0, then 500 ms doubling to 8 s; margins 0.1, 0.2, 0.4, then 0.5 of the half-width', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 100].map(retryBackoffMs)).toEqual([0, 500, 1000, 2000, 4000, 8000, 8000, 8000]);
    let retry = afterReductionOutcome(null, 'rejected', 'MaxTakerPriceDeviation', 1000);
    const margins = [bandMargin(retry)];
    for (let i = 0; i < 4; i++) {
      retry = afterReductionOutcome(retry, 'rejected', 'MaxTakerPriceDeviation', 2000);
      margins.push(bandMargin(retry));
    }
    expect(margins).toEqual(['0.1', '0.2', '0.4', '0.5', '0.5']);
    expect(retry).toMatchObject({ rejections: 5, bandRejections: 5, at: 2000, notBefore: 2000 + 4000 });
    expect(retryDue(retry, 5999)).toBe(false);
    expect(retryDue(retry, 6000)).toBe(true);
    // NoLiquidity counts for the backoff, not for the price; anything else ends the streak.
    expect(afterReductionOutcome(retry, 'rejected', 'NoLiquidity', 7000)).toMatchObject({ rejections: 6, bandRejections: 5 });
    expect(afterReductionOutcome(retry, 'filled', undefined, 7000)).toBeNull();
    expect(afterReductionOutcome(retry, 'rejected', 'SolvencyGuard', 7000)).toBeNull();
    // The request refused at the band before it was sequenced (a safety failure) is a band rejection too.
    expect(afterReductionOutcome(null, 'rejected', 'MaxTakerPriceDeviationBreached', 0)).toMatchObject({
      rejections: 1,
      bandRejections: 1,
    });
    expect(bandMargin(null)).toBe('0');
  });

  it('a streak read back from a snapshot of another version is data: anything malformed counts as none', () => {
    for (const garbage of [1, 'x', [], {}, { rejections: -1, bandRejections: 0, reason: 'x', at: 0, notBefore: 0 }, { rejections: 1 }])
      expect(validRetry(garbage)).toBeUndefined();
    expect(retryDue({ rejections: 'many' }, 0)).toBe(true);
    expect(bandMargin({ bandRejections: Number.NaN })).toBe('0');
  });

  it('prices inside the band from the mark: at least a tick, never past the mark', () => {
    // Long 3 → sell; edge 2000 × 0.98 = 1960. 0.1 × 40 = 4 → 1964; 0.5 × 40 = 20 → 1980.
    expect(['0', '0.1', '0.5'].map((m) => exitPrice('3', m))).toEqual(['1960', '1964', '1980']);
    // Short 3 → buy; edge 2040; 0.1 → 2036.
    expect(exitPrice('-3', '0.1')).toBe('2036');
    // A band narrower than a tick's worth of margin: one tick inside (1960 + 0.1), and no further than the mark.
    expect(exitPrice('3', '0.001')).toBe('1960.1');
    const narrow = { ...ETHP, maxTakerPriceDeviation: '0.00005' }; // ±0.1: edge 1999.9, one tick inside is the mark
    expect(exitPrice('3', '0.5', narrow)).toBe('2000');
  });
});

/*
 * Regression (issue 12, failure 9), end to end through the simulator: the MARK_PRICE feed pauses while the
 * mark climbs 2000 → 2100, so alpha's exit is priced from a mark the venue has left behind and lands below
 * its band. Before the fix the account sent the same 1960 sell again on every rejection, forever within one
 * simulated second (the run never got past 12 s: this test timed out). Now it re-prices inward, backs off
 * on the clock, and fills from the latest mark once the feed is back: 8 attempts in all, ONE in flight.
 */
describe('scenario: an exit priced at the band edge while the mark moves', () => {
  it('is re-priced and backed off, and fills', { timeout: 30_000 }, async () => {
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
        until: '45s',
      },
      { expect: 'scenario' },
    );
    if (!loaded.ok) throw new Error(formatProblems(loaded.problems).join('\n'));
    const problems: string[] = [];
    const { records } = await runScenario(loaded.value as ScenarioConfig, { onProblem: (m) => problems.push(m), settleTimeoutMs: 10_000 });
    expect(problems).toEqual([]);

    const exits = records.filter((r): r is Extract<TimelineRecord, { kind: 'order' }> => r.kind === 'order' && r.purpose === 'exit');
    const outcome = (id: string) =>
      records.find(
        (r): r is Extract<TimelineRecord, { kind: 'order-update' }> =>
          r.kind === 'order-update' && r.orderId === id && r.status !== 'sequenced' && r.status !== 'posted',
      );
    expect(exits.map((o) => [o.t / 1000, o.price, outcome(o.orderId)?.status])).toEqual([
      [12, '1960', 'rejected'], // the band edge at the stale 2000; the venue's mark is 2020 (band from 1979.6)
      [12, '1964', 'rejected'], // at once, 0.1 × 40 inside
      [13, '1968', 'rejected'], // +500 ms → the next TICK; 0.2 inside
      [14, '1976', 'rejected'], // +1 s; 0.4
      [16, '1980', 'rejected'], // +2 s; 0.5 (the most)
      [20, '1980', 'rejected'], // +4 s
      [28, '1980', 'rejected'], // +8 s (the most); the feed resumes at 30 s: the mark is 2100
      [36, '2079', 'filled'], //  +8 s, from the latest mark: 2100 × 0.98 + 0.5 × 42
    ]);
    expect(exits.slice(0, -1).every((o) => outcome(o.orderId)?.reason === 'MaxTakerPriceDeviation')).toBe(true);
    expect(records.at(-1)).toMatchObject({ kind: 'summary', maxReductionsInFlight: { alpha: 1 }, liquidated: [] });
  });
});
