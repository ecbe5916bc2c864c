import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createAccountContext, refreshed } from '../../machines/account-context.ts';
import { DEFAULT_PRODUCTS } from '../../src/domain/products.ts';
import { applyLedgerEvent } from '../../src/domain/ledger.ts';
import { startRecordingActor, T0 } from './account-fixture.ts';

describe('marks of a symbol the account does not touch', () => {
  it('leave every figure exactly as a full recomputation would', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 30000, max: 50000 }),
        fc.integer({ min: 1000, max: 3000 }),
        fc.integer({ min: 1, max: 20 }),
        (btc, eth, size) => {
          // Holds BTCP only; an ETHP mark arrives.
          let context = createAccountContext(
            {
              accountId: 'a',
              budget: { minMarginBuffer: '0.1', panicMarginBuffer: '0.03' },
              products: { ...DEFAULT_PRODUCTS },
              riskLimits: [],
              hysteresis: '0.2',
              reductionFraction: '0.25',
              reductionTimeoutMs: 15000,
            },
            { collateral: '100000', at: T0, marks: { BTCP: String(btc), ETHP: '2000' } },
          );
          context = refreshed({
            ...context,
            ledger: applyLedgerEvent(context.ledger, {
              kind: 'fill',
              id: 'f',
              seq: 1,
              symbol: 'BTCP',
              side: 'buy',
              amount: String(size / 100),
              price: String(btc),
            }).state,
          });
          const { actor } = startRecordingActor(context);
          actor.send({ type: 'MARK', symbol: 'ETHP', price: String(eth), at: T0 + 1000 });
          const skipped = actor.getSnapshot().context;
          const full = refreshed({ ...context, now: T0 + 1000, marks: { ...context.marks, ETHP: String(eth) } });
          expect(skipped.metrics).toEqual(full.metrics);
          expect(skipped.assessment).toEqual(full.assessment);
          expect(skipped.marks).toEqual(full.marks);
          actor.stop();
        },
      ),
      { seed: 7, numRuns: 200 },
    );
  });
});
