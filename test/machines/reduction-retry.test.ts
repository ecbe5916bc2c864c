import { describe, expect, it } from 'vitest';
import { refreshed, type AccountContext } from '../../machines/account-context.ts';
import { dec } from '../../src/domain/decimal.ts';
import { applyLedgerEvent } from '../../src/domain/ledger.ts';
import { retryBackoffMs } from '../../src/domain/reduction-retry.ts';
import { accountContext, startRecordingActor, T0, topState } from './account-fixture.ts';

/*
 * Regression (issue 12, failure 9): exits priced at the band's edge were rejected MaxTakerPriceDeviation six
 * times in half a second: on each rejection the account sent the same order again at once, priced from the
 * same mark, while the venue matched against a mark that had moved. Now rejections for price or book back
 * off (the first retry at once, then 500 ms doubling, on the account's clock: TICKs) and a band rejection
 * re-prices inside the band from the latest mark, further in each time; ONE reducing order in flight
 * throughout.
 *
 * Long 6 ETHP @ 2000 on 2500 collateral; the mark 1850 puts the buffer at 0.094 < 0.10: de-risking. The
 * band at 1850 is ±2 % = ±37, so the edge for a sell is 1813.
 */

function long6(): AccountContext {
  const context = accountContext();
  const fill = { kind: 'fill' as const, id: 'f0', seq: 1, symbol: 'ETHP', side: 'buy' as const, amount: '6', price: '2000' };
  return refreshed({ ...context, ledger: applyLedgerEvent(context.ledger, fill).state });
}

/** A venue whose mark runs `ahead` of the account's: a sell is refused below its band, mark × 0.98. */
function bandLow(venueMark: string): string {
  return dec(venueMark).times('0.98').toString();
}

describe('a reducing order rejected at the band edge', () => {
  it('re-prices inside the band from the latest mark and backs off: fills at the fourth attempt, retries 0, 0.5 and 1 s apart', () => {
    const { actor, log } = startRecordingActor(long6());
    actor.send({ type: 'MARK', symbol: 'ETHP', price: '1850', at: T0 + 1000 });
    expect(topState(actor.getSnapshot().value)).toBe('de-risking');
    expect(log.sent.map((o) => [o.purpose, o.intent.side, o.intent.price])).toEqual([['reduce', 'sell', '1813']]);

    // The venue matches against 1860 (the mark moved after pricing): its band starts at 1822.8.
    const venueLow = dec(bandLow('1860'));
    const sentAt: number[] = [T0 + 1000];
    let filled: string | undefined;
    // TICKs every 100 ms for 10 s: the venue answers each order 100 ms after it was sent.
    for (let t = T0 + 1100; t <= T0 + 11_000 && !filled; t += 100) {
      const pending = log.sent.at(-1)!;
      const inFlight = actor.getSnapshot().context.reduction === pending.clientOrderId;
      if (inFlight && t === sentAt.at(-1)! + 100) {
        const accepted = dec(pending.intent.price!).gte(venueLow);
        actor.send({
          type: 'ORDER_UPDATE',
          clientOrderId: pending.clientOrderId,
          status: accepted ? 'filled' : 'rejected',
          filled: accepted ? pending.intent.amount : '0',
          ...(accepted ? {} : { reason: 'MaxTakerPriceDeviation' }),
          at: t,
        });
        if (accepted) filled = pending.clientOrderId;
        else {
          const retry = actor.getSnapshot().context.reductionRetry!;
          if (retry.rejections === 1) {
            // The first retry goes at once, but re-priced: before the fix it went at the same price.
            expect(log.sent.at(-1)!.intent.price).not.toBe(pending.intent.price);
            sentAt.push(t);
          } else {
            // Before the fix the same order went out again right here, each time.
            expect(log.sent.at(-1)).toBe(pending);
          }
        }
        continue;
      }
      const before = log.sent.length;
      actor.send({ type: 'TICK', at: t });
      if (log.sent.length > before) sentAt.push(t);
      // Never two reducing orders in flight.
      expect(Object.values(actor.getSnapshot().context.orders).filter((o) => o.purpose === 'reduce').length).toBeLessThanOrEqual(1);
    }

    // (The test's venue fills without a ledger event, so the account plans the same step again: a new streak.)
    const prices = log.sent.slice(0, 4).map((o) => o.intent.price);
    // Inset 0, then 0.1, 0.2, 0.4 of the half-width 37 (3.7, 7.4, 14.8): 1813, 1816.7, 1820.4, 1827.8 ≥ 1822.8.
    expect(prices).toEqual(['1813', '1816.7', '1820.4', '1827.8']);
    expect(filled).toBe(log.sent[3]!.clientOrderId);
    // Each rejection answered 100 ms after sending; the next order waits its backoff from the rejection.
    const gaps = sentAt.slice(1, 4).map((at, i) => at - (sentAt[i]! + 100));
    expect(gaps).toEqual([retryBackoffMs(1), retryBackoffMs(2), retryBackoffMs(3)]); // 0, 500, 1000
    expect(gaps).toEqual([0, 500, 1000]);
    expect(actor.getSnapshot().context.reductionRetry).toBeNull();
    actor.stop();
  });

  it('reports the streak in the context while it lasts; NoLiquidity backs off without moving the price', () => {
    const { actor, log } = startRecordingActor(long6());
    actor.send({ type: 'MARK', symbol: 'ETHP', price: '1850', at: T0 + 1000 });
    let t = T0 + 1000;
    // The first rejection: retried at once.
    actor.send({
      type: 'ORDER_UPDATE',
      clientOrderId: log.sent[0]!.clientOrderId,
      status: 'rejected',
      filled: '0',
      reason: 'NoLiquidity',
      at: t,
    });
    expect(log.sent.length).toBe(2);
    for (let i = 2; i <= 5; i++) {
      const pending = log.sent.at(-1)!;
      actor.send({
        type: 'ORDER_UPDATE',
        clientOrderId: pending.clientOrderId,
        status: 'rejected',
        filled: '0',
        reason: 'NoLiquidity',
        at: t + 1,
      });
      expect(actor.getSnapshot().context.reductionRetry).toMatchObject({
        rejections: i,
        reason: 'NoLiquidity',
        notBefore: t + 1 + retryBackoffMs(i),
      });
      actor.send({ type: 'TICK', at: t + retryBackoffMs(i) }); // 1 ms early
      expect(log.sent.length).toBe(i);
      t += retryBackoffMs(i) + 1;
      actor.send({ type: 'TICK', at: t });
      expect(log.sent.length).toBe(i + 1);
    }
    expect([2, 3, 4, 5].map(retryBackoffMs)).toEqual([500, 1000, 2000, 4000]);
    // The band edge every time: a price further in cannot find more liquidity.
    expect(new Set(log.sent.map((o) => o.intent.price))).toEqual(new Set(['1813']));
    // The backoff is bounded: 8 s at most, however long the streak.
    expect(retryBackoffMs(50)).toBe(8_000);
    actor.stop();
  });

  it('other rejections keep the next plan immediate, and a settled account starts afresh', () => {
    const { actor, log } = startRecordingActor(long6());
    actor.send({ type: 'MARK', symbol: 'ETHP', price: '1850', at: T0 + 1000 });
    const first = log.sent.at(-1)!;
    actor.send({
      type: 'ORDER_UPDATE',
      clientOrderId: first.clientOrderId,
      status: 'rejected',
      filled: '0',
      reason: 'SolvencyGuard',
      at: T0 + 1100,
    });
    expect(log.sent.length).toBe(2);
    expect(actor.getSnapshot().context.reductionRetry).toBeNull();
    const second = log.sent.at(-1)!;
    actor.send({
      type: 'ORDER_UPDATE',
      clientOrderId: second.clientOrderId,
      status: 'rejected',
      filled: '0',
      reason: 'MaxTakerPriceDeviation',
      at: T0 + 1200,
    });
    expect(actor.getSnapshot().context.reductionRetry).toMatchObject({ rejections: 1, bandRejections: 1 });
    expect(log.sent.at(-1)!.intent.price).toBe('1816.7'); // re-priced at once: 1813 + 0.1 × 37
    const third = log.sent.at(-1)!;
    actor.send({
      type: 'ORDER_UPDATE',
      clientOrderId: third.clientOrderId,
      status: 'rejected',
      filled: '0',
      reason: 'NoLiquidity',
      at: T0 + 1250,
    });
    expect(actor.getSnapshot().context.reductionRetry).toMatchObject({ rejections: 2, bandRejections: 1, notBefore: T0 + 1750 });
    expect(log.sent.length).toBe(3); // waiting out the backoff, nothing in flight
    // The mark recovers: the account settles (entries-blocked: 6 is its cap), and the streak is forgotten.
    actor.send({ type: 'MARK', symbol: 'ETHP', price: '2000', at: T0 + 1300 });
    expect(topState(actor.getSnapshot().value)).toBe('entries-blocked');
    expect(actor.getSnapshot().context.reductionRetry).toBeNull();
    actor.stop();
  });
});
