import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AccountEvent } from '../../machines/account-context.ts';
import { dec, str } from '../../src/domain/decimal.ts';
import { accountContext, startRecordingActor, T0, topState } from './account-fixture.ts';
import { checkInvariants } from './account-invariants.ts';

/** What the random driver can do next; the venue's answers refer to orders by their position in the log. */
type Step =
  | { kind: 'mark'; price: number }
  | { kind: 'entry'; side: 'buy' | 'sell'; amount: number; market: boolean; offsetTicks: number }
  | { kind: 'venue'; pick: number; outcome: 'fill' | 'partial' | 'reject' | 'cancel' | 'post' }
  | { kind: 'tick'; seconds: number }
  | { kind: 'stopout'; closePositions: boolean }
  | { kind: 'reset' }
  | { kind: 'feed'; stale: boolean };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('mark' as const), price: fc.integer({ min: 1600, max: 2400 }) }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('entry' as const),
      side: fc.constantFrom('buy' as const, 'sell' as const),
      amount: fc.integer({ min: 1, max: 40 }),
      market: fc.boolean(),
      offsetTicks: fc.integer({ min: -300, max: 300 }),
    }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('venue' as const),
      pick: fc.nat(),
      outcome: fc.constantFrom('fill' as const, 'partial' as const, 'reject' as const, 'cancel' as const, 'post' as const),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('tick' as const), seconds: fc.integer({ min: 1, max: 30 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('stopout' as const), closePositions: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('reset' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('feed' as const), stale: fc.boolean() }) },
);

describe('account statechart invariants under random sequences', () => {
  it('holds every statechart invariant (docs/contracts.md#invariants) for marks, fills, rejections, timeouts and entries', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 40 }), (steps) => {
        const { actor, log } = startRecordingActor(accountContext());
        let now = T0;
        let seq = 0;
        const open = new Map<string, { side: 'buy' | 'sell'; amount: string; filled: string; price: string; purpose: string }>();
        let venueReductionsOpen = 0;
        const send = (event: AccountEvent): void => {
          const before = actor.getSnapshot();
          const sentBefore = log.sent.length;
          actor.send(event);
          const fresh = log.sent.slice(sentBefore);
          for (const order of fresh) {
            if (order.purpose === 'reduce' || order.purpose === 'exit') {
              // The venue sees a second reducing order while one is still open: the invariant is broken.
              expect(venueReductionsOpen).toBe(0);
              venueReductionsOpen += 1;
            }
            const mark = actor.getSnapshot().context.marks.ETHP!;
            open.set(order.clientOrderId, {
              side: order.intent.side,
              amount: order.intent.amount,
              filled: '0',
              price: order.intent.price && order.intent.price !== '0' ? order.intent.price : mark,
              purpose: order.purpose,
            });
          }
          checkInvariants(before, actor.getSnapshot(), event, fresh);
        };
        const finish = (id: string, status: 'filled' | 'cancelled' | 'rejected', filled: string): void => {
          const o = open.get(id)!;
          open.delete(id);
          if (o.purpose === 'reduce' || o.purpose === 'exit') venueReductionsOpen -= 1;
          send({ type: 'ORDER_UPDATE', clientOrderId: id, status, filled, at: now });
        };
        for (const s of steps) {
          now += 1000;
          const ctx = actor.getSnapshot().context;
          switch (s.kind) {
            case 'mark':
              send({ type: 'MARK', symbol: 'ETHP', price: String(s.price), at: now });
              break;
            case 'entry': {
              const mark = dec(ctx.marks.ETHP!);
              const price = s.market ? undefined : str(mark.plus(dec(s.offsetTicks).times('0.1')).toDecimalPlaces(1));
              send({
                type: 'ENTRY_REQUEST',
                order: {
                  symbol: 'ETHP',
                  side: s.side,
                  amount: str(dec(s.amount).div(4)),
                  type: s.market ? 'market' : 'limit',
                  ...(price ? { price } : {}),
                },
              });
              break;
            }
            case 'venue': {
              const ids = [...open.keys()];
              if (ids.length === 0) break;
              const id = ids[s.pick % ids.length]!;
              const o = open.get(id)!;
              const remaining = dec(o.amount).minus(o.filled);
              const fillAmount =
                s.outcome === 'fill' ? remaining : s.outcome === 'partial' ? remaining.div(2).toDecimalPlaces(4, 1) : dec(0);
              if (fillAmount.gt(0)) {
                seq += 1;
                send({
                  type: 'LEDGER',
                  at: now,
                  event: { kind: 'fill', id: `fill-${seq}`, seq, symbol: 'ETHP', side: o.side, amount: str(fillAmount), price: o.price },
                });
                o.filled = str(dec(o.filled).plus(fillAmount));
              }
              if (s.outcome === 'fill' || dec(o.filled).gte(o.amount)) finish(id, 'filled', o.filled);
              else if (s.outcome === 'partial')
                send({ type: 'ORDER_UPDATE', clientOrderId: id, status: 'partially-filled', filled: o.filled, at: now });
              else if (s.outcome === 'reject') finish(id, 'rejected', o.filled);
              else if (s.outcome === 'cancel') finish(id, 'cancelled', o.filled);
              else send({ type: 'ORDER_UPDATE', clientOrderId: id, status: 'posted', filled: o.filled, at: now });
              break;
            }
            case 'tick':
              now += s.seconds * 1000;
              send({ type: 'TICK', at: now });
              break;
            case 'stopout':
              send({
                type: 'STOPOUT_SET',
                stopout: { scope: 'portfolio', id: 'core', reason: 'manual', closePositions: s.closePositions },
              });
              break;
            case 'reset': {
              const stop = ctx.stopouts[0];
              if (stop) send({ type: 'STOPOUT_RESET', scope: stop.scope, id: stop.id, reason: stop.reason, at: now });
              break;
            }
            case 'feed':
              send({ type: 'FEED_STATUS', stale: s.stale, at: now });
              break;
          }
          // The venue answers cancels the machine asked for.
          for (const id of log.cancels.splice(0)) if (open.has(id)) finish(id, 'cancelled', open.get(id)!.filled);
        }
        expect(['trading', 'entries-blocked', 'de-risking', 'panic-exit', 'stopped-out']).toContain(topState(actor.getSnapshot().value));
        actor.stop();
      }),
      { seed: 20260105, numRuns: 1500 },
    );
  }, 120_000);
});
