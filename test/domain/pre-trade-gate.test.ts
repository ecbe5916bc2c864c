import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Budget } from '../../src/domain/budget.ts';
import { dec, str } from '../../src/domain/decimal.ts';
import { exposureEffect } from '../../src/domain/exposure.ts';
import type { LedgerBook, LedgerPosition } from '../../src/domain/ledger.ts';
import { riskMetrics, type RiskInput } from '../../src/domain/metrics.ts';
import type { OrderIntent, Side } from '../../src/domain/order.ts';
import { preTradeGate, sessionLossReached, type ActiveBreach, type GateInput } from '../../src/domain/pre-trade-gate.ts';
import { DEFAULT_PRODUCTS } from '../../src/domain/products.ts';
import { orderViolations, priceBand } from '../../src/domain/rounding.ts';
import type { Stopout } from '../../src/domain/stopout.ts';

/** The type of the values an arbitrary generates. */
type ValueOf<A> = A extends fc.Arbitrary<infer T> ? T : never;

const products = DEFAULT_PRODUCTS;

/** A ledger book holding `collateral` and the given positions (no history needed by the gate). */
function book(collateral: string, positions: Record<string, LedgerPosition> = {}, netTransfers = '0'): LedgerBook {
  return { collateral, realizedPnl: '0', feesPaid: '0', fundingReceived: '0', netTransfers, positions };
}

/**
 * The standard account: collateral 10000, long 6 ETHP @ 2000, mark 2000.
 *   gross = 6 × 2000 = 12000; equity = 10000; maintenance margin = 12000 × 0.05 = 600
 *   margin buffer = (10000 − 600) / 12000 = 0.78333… → "0.783333333333"
 */
function risk(overrides: Partial<RiskInput> = {}): RiskInput {
  return { ledger: book('10000', { ETHP: { size: '6', avgEntry: '2000' } }), marks: { ETHP: '2000' }, products, ...overrides };
}

const market = (side: Side, amount: string, symbol = 'ETHP'): OrderIntent => ({ symbol, side, amount, type: 'market' });
const limit = (side: Side, amount: string, price: string, symbol = 'ETHP'): OrderIntent => ({ symbol, side, amount, type: 'limit', price });

const BREACH: ActiveBreach = { reason: 'day-equity-difference', scope: 'strategy', id: 'alpha', drawdown: '1500', threshold: '1000' };
const STOP: Stopout = { scope: 'fleet', id: '*', reason: 'manual', closePositions: false };

function gate(order: OrderIntent, budget: Budget, extra: Partial<GateInput> = {}) {
  return preTradeGate({ risk: risk(), budget, breaches: [], stopouts: [], order, ...extra });
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

describe('preTradeGate: each rule alone', () => {
  it('max-position-size: |position| after the order above the cap', () => {
    const d = gate(market('buy', '2'), { maxPositionSize: { ETHP: '7' } });
    // 6 + 2 = 8 > 7
    expect(d).toMatchObject({ allowed: false, purpose: 'entry', rules: ['max-position-size'] });
    expect(d.blocks[0]!.numbers).toEqual({ symbol: 'ETHP', position: '6', after: '8', limit: '7' });
    expect(d.blocks[0]!.message).toBe('|position| after the order 8 ETHP exceeds maxPositionSize 7');
    // 6 + 1 = 7 is at the cap, not above it
    expect(gate(market('buy', '1'), { maxPositionSize: { ETHP: '7' } }).allowed).toBe(true);
    // A cap on another symbol does not bind this one
    expect(gate(market('buy', '2'), { maxPositionSize: { BTCP: '0.001' } }).allowed).toBe(true);
  });

  it('max-gross-notional: gross after the order (at mark) above the cap', () => {
    const d = gate(market('buy', '2'), { maxGrossNotional: '15000' });
    // (6 + 2) × mark 2000 = 16000 > 15000 — notional is at the mark, not at the judged fill price 2040
    expect(d).toMatchObject({ allowed: false, rules: ['max-gross-notional'] });
    expect(d.blocks[0]!.numbers).toEqual({ grossNotional: '12000', after: '16000', limit: '15000' });
    // (6 + 1.5) × 2000 = 15000: at the cap is allowed
    expect(gate(market('buy', '1.5'), { maxGrossNotional: '15000' }).allowed).toBe(true);
  });

  it('min-margin-buffer: buffer after the order below the minimum', () => {
    // Market buy 2 judged at 2040: avg entry = (6 × 2000 + 2 × 2040) / 8 = 16080 / 8 = 2010
    //   unrealized = 8 × (2000 − 2010) = −80; equity = 10000 − 80 = 9920
    //   gross = 16000; maintenance margin = 800; buffer = (9920 − 800) / 16000 = 9120 / 16000 = 0.57
    const d = gate(market('buy', '2'), { minMarginBuffer: '0.6' });
    expect(d).toMatchObject({ allowed: false, rules: ['min-margin-buffer'] });
    expect(d.blocks[0]!.numbers).toEqual({ marginBuffer: '0.783333333333', after: '0.57', limit: '0.6' });
    // 0.57 is not below 0.57
    expect(gate(market('buy', '2'), { minMarginBuffer: '0.57' }).allowed).toBe(true);
  });

  it('min-margin-buffer from flat shows the current buffer as "none"', () => {
    // Flat, buy 1 at 2040: equity = 10000 + (2000 − 2040) = 9960; buffer = (9960 − 100) / 2000 = 4.93
    const d = preTradeGate({
      risk: risk({ ledger: book('10000') }),
      budget: { minMarginBuffer: '5' },
      breaches: [],
      stopouts: [],
      order: market('buy', '1'),
    });
    expect(d.blocks[0]!.numbers).toEqual({ marginBuffer: 'none', after: '4.93', limit: '5' });
  });

  it('session-loss-limit: the loss since the session start reached the limit', () => {
    // session PnL = equity 10000 − start equity 10500 − (transfers 0 − 0) = −500: a loss of 500
    const at = (limit: string) =>
      gate(
        market('buy', '0.1'),
        { sessionLossLimit: limit },
        {
          risk: risk({ sessionStart: { equity: '10500', netTransfers: '0' } }),
        },
      );
    const d = at('500');
    expect(d).toMatchObject({ allowed: false, rules: ['session-loss-limit'] });
    expect(d.blocks[0]!.numbers).toEqual({ sessionPnl: '-500', limit: '500' });
    expect(d.blocks[0]!.message).toBe('session loss 500 reached sessionLossLimit 500');
    expect(at('500.01').allowed).toBe(true); // 500 < 500.01
  });

  it('session-loss-limit discounts transfers: a withdrawal is not a loss', () => {
    // Withdrew 500 since the start: equity 10000 − 10500 − (−500 − 0) = 0
    const d = gate(
      market('buy', '0.1'),
      { sessionLossLimit: '1' },
      {
        risk: risk({
          ledger: book('10000', { ETHP: { size: '6', avgEntry: '2000' } }, '-500'),
          sessionStart: { equity: '10500', netTransfers: '0' },
        }),
      },
    );
    expect(d.allowed).toBe(true);
  });

  it('risk-limit: any active breach blocks, with its drawdown', () => {
    const d = gate(
      market('buy', '0.1'),
      {},
      { breaches: [BREACH, { reason: 'lifetime-balance-difference', scope: 'portfolio', id: 'core' }] },
    );
    expect(d).toMatchObject({ allowed: false, rules: ['risk-limit'] });
    expect(d.blocks[0]!.numbers).toEqual({
      'strategy:alpha:day-equity-difference': '1500',
      'portfolio:core:lifetime-balance-difference': 'breached', // no drawdown given
    });
    expect(d.blocks[0]!.message).toBe(
      'risk limit breached: day-equity-difference on strategy alpha, lifetime-balance-difference on portfolio core',
    );
  });

  it('stopout: any stopout blocks an entry', () => {
    const d = gate(market('buy', '0.1'), {}, { stopouts: [STOP] });
    expect(d).toMatchObject({ allowed: false, rules: ['stopout'] });
    expect(d.blocks[0]!.numbers).toEqual({ 'fleet:*': 'manual' });
    expect(d.blocks[0]!.message).toBe('stopped out: manual on fleet *');
  });
});

describe('preTradeGate: decisions', () => {
  const ALL_BINDING: Budget = {
    maxPositionSize: { ETHP: '6' },
    maxGrossNotional: '12000',
    minMarginBuffer: '0.6',
    sessionLossLimit: '1000',
  };
  const allBinding = (order: OrderIntent) =>
    gate(order, ALL_BINDING, {
      // session PnL = 10000 − 11000 = −1000
      risk: risk({ sessionStart: { equity: '11000', netTransfers: '0' } }),
      breaches: [BREACH],
      stopouts: [STOP, { scope: 'portfolio', id: 'core', reason: 'day-balance-difference', closePositions: true }],
    });

  it('lists every rule that blocks, not just the first', () => {
    // buy 2: |8| > 6; gross 16000 > 12000; buffer 0.57 < 0.6; loss 1000 ≥ 1000; a breach; two stopouts
    const d = allBinding(market('buy', '2'));
    expect(d.allowed).toBe(false);
    expect(d.purpose).toBe('entry');
    expect(d.rules).toEqual([
      'max-position-size',
      'max-gross-notional',
      'min-margin-buffer',
      'session-loss-limit',
      'risk-limit',
      'stopout',
    ]);
    expect(d.blocks.map((b) => b.rule)).toEqual(d.rules);
    expect(d.blocks[5]!.numbers).toEqual({ 'fleet:*': 'manual', 'portfolio:core': 'day-balance-difference' });
  });

  it('allows an entry within every rule', () => {
    const order = market('buy', '1');
    // |7| ≤ 10; 14000 ≤ 20000; buffer after: avg (12000 + 2040) / 7, equity 10000 − 40 = 9960,
    //   (9960 − 700) / 14000 = 0.66142… ≥ 0.5; session PnL 0
    const d = gate(order, { maxPositionSize: { ETHP: '10' }, maxGrossNotional: '20000', minMarginBuffer: '0.5', sessionLossLimit: '100' });
    expect(d).toEqual({ allowed: true, purpose: 'entry', rules: [], blocks: [], order });
    expect(d.order).toBe(order);
  });

  it('judges a market buy at the band high and a market sell at the band low (ETHP mark 2000, deviation 0.02)', () => {
    // band = 2000 × (1 ± 0.02) = [1960, 2040]
    expect(priceBand(products.ETHP!, '2000')).toEqual({ low: dec('1960'), high: dec('2040') });
    const flat = (order: OrderIntent) =>
      preTradeGate({ risk: risk({ ledger: book('10000') }), budget: { minMarginBuffer: '100' }, breaches: [], stopouts: [], order });
    // buy 1 at 2040: unrealized 1 × (2000 − 2040) = −40; equity 9960; buffer (9960 − 100) / 2000 = 4.93
    expect(flat(market('buy', '1')).blocks[0]!.numbers.after).toBe('4.93');
    // sell 1 at 1960: unrealized −1 × (2000 − 1960) = −40; the same 4.93
    expect(flat(market('sell', '1')).blocks[0]!.numbers.after).toBe('4.93');
    // Judged at the mark it would have been (10000 − 100) / 2000 = 4.95: the gate must not be that optimistic.
  });

  it('judges a marketable limit order at its limit price', () => {
    const flat = (order: OrderIntent) =>
      preTradeGate({ risk: risk({ ledger: book('10000') }), budget: { minMarginBuffer: '100' }, breaches: [], stopouts: [], order });
    // buy 1 at 2010: unrealized 1 × (2000 − 2010) = −10; equity 9990; buffer (9990 − 100) / 2000 = 4.945
    expect(flat(limit('buy', '1', '2010')).blocks[0]!.numbers.after).toBe('4.945');
    // sell 1 at 1990: unrealized −1 × (2000 − 1990) = −10: 4.945
    expect(flat(limit('sell', '1', '1990')).blocks[0]!.numbers.after).toBe('4.945');
    // buy 1 at 2040.0 is the band edge, the same as a market buy: 4.93
    expect(flat(limit('buy', '1', '2040.0')).blocks[0]!.numbers.after).toBe('4.93');
  });

  it('lets a reducing order through as a close even with every budget rule, a breach and stopouts binding', () => {
    for (const order of [market('sell', '6'), market('sell', '2'), limit('sell', '0.0001', '1999.9')]) {
      const d = allBinding(order);
      expect(d).toEqual({ allowed: true, purpose: 'close', rules: [], blocks: [], order });
    }
    // A short is reduced by a buy no larger than it
    const short = preTradeGate({
      risk: risk({ ledger: book('10000', { ETHP: { size: '-3', avgEntry: '2000' } }) }),
      budget: { maxPositionSize: { ETHP: '0.1' }, maxGrossNotional: '1', minMarginBuffer: '1000' },
      breaches: [BREACH],
      stopouts: [STOP],
      order: market('buy', '3'),
    });
    expect(short).toMatchObject({ allowed: true, purpose: 'close' });
  });

  it('gates a flipping order like an entry', () => {
    // Long 6, sell 8 market: judged at 1960. Closes 6 realizing (1960 − 2000) × 6 = −240 → collateral 9760;
    //   opens short 2 @ 1960; unrealized −2 × (2000 − 1960) = −80; equity 9680
    //   gross = 2 × 2000 = 4000; maintenance margin 200; buffer = (9680 − 200) / 4000 = 2.37
    const d = gate(market('sell', '8'), { maxPositionSize: { ETHP: '1' }, minMarginBuffer: '3' }, { stopouts: [STOP] });
    expect(d).toMatchObject({ allowed: false, purpose: 'entry', rules: ['max-position-size', 'min-margin-buffer', 'stopout'] });
    expect(d.blocks[0]!.numbers).toEqual({ symbol: 'ETHP', position: '6', after: '2', limit: '1' }); // |6 − 8| = 2 > 1
    expect(d.blocks[1]!.numbers).toEqual({ marginBuffer: '0.783333333333', after: '2.37', limit: '3' });
    // Within the budget a flip is an allowed entry, not a close
    expect(gate(market('sell', '8'), { maxPositionSize: { ETHP: '2' } })).toMatchObject({ allowed: true, purpose: 'entry' });
  });

  it('uses the metrics it is given as the current state', () => {
    const current = riskMetrics(risk());
    const order = market('buy', '2');
    expect(preTradeGate({ risk: risk(), current, budget: { maxGrossNotional: '15000' }, breaches: [], stopouts: [], order })).toEqual(
      gate(order, { maxGrossNotional: '15000' }),
    );
  });

  it('does not mutate its input', () => {
    const input = deepFreeze<GateInput>({
      risk: risk({ sessionStart: { equity: '11000', netTransfers: '0' } }),
      budget: { maxPositionSize: { ETHP: '6' }, maxGrossNotional: '12000', minMarginBuffer: '0.6', sessionLossLimit: '1000' },
      breaches: [BREACH],
      stopouts: [STOP],
      order: market('buy', '2'),
    });
    expect(preTradeGate(input).rules).toHaveLength(6);
  });

  it('refuses to judge a market order without a mark or product for its symbol', () => {
    expect(() => gate(market('buy', '1', 'SOLP'), {})).toThrow(/no mark or product for SOLP/);
  });
});

describe('sessionLossReached', () => {
  it('is reached when the loss (a negative PnL) is at or beyond the limit', () => {
    expect(sessionLossReached('-500', '500')).toBe(true); // loss 500 ≥ 500
    expect(sessionLossReached('-499.99', '500')).toBe(false);
    expect(sessionLossReached('200', '500')).toBe(false); // a gain is no loss
  });
});

describe('pre-trade gate properties', () => {
  const options = { seed: 42, numRuns: 400 };
  const decimal = (min: number, max: number, scale: number) => fc.integer({ min, max }).map((n) => str(dec(n).div(scale)));
  const STEPS: Record<string, number> = { ETHP: 10_000, BTCP: 100_000 }; // 1 / minOrderSize

  /** A position: signed size on the product's increment (never 0), entry and mark on the tick grid. */
  const ethp = fc.record({
    size: fc
      .integer({ min: 1, max: 1_000_000 })
      .chain((n) => fc.constantFrom(n, -n))
      .map((n) => str(dec(n).div(STEPS.ETHP!))),
    entry: decimal(1_000, 100_000, 10),
    mark: decimal(1_000, 100_000, 10),
  });
  const btcp = fc.record({
    size: fc
      .integer({ min: 1, max: 1_000_000 })
      .chain((n) => fc.constantFrom(n, -n))
      .map((n) => str(dec(n).div(STEPS.BTCP!))),
    entry: decimal(5_000, 200_000, 1),
    mark: decimal(5_000, 200_000, 1),
  });
  const account = fc.record({
    collateral: decimal(-100_000, 10_000_000, 1),
    eth: ethp,
    btc: fc.option(btcp, { nil: undefined }),
    sessionStart: fc.option(decimal(0, 10_000_000, 1), { nil: undefined }),
  });
  /** Budgets from loose to far below the current exposure, so that every rule binds in some runs. */
  const budget: fc.Arbitrary<Budget> = fc.record(
    {
      maxPositionSize: fc.record({ ETHP: decimal(1, 2_000_000, 10_000), BTCP: decimal(1, 2_000_000, 100_000) }),
      maxGrossNotional: decimal(1, 100_000_000, 1),
      minMarginBuffer: decimal(0, 10_000, 1_000),
      sessionLossLimit: decimal(1, 1_000_000, 1),
    },
    { requiredKeys: [] },
  );

  function riskOf(a: ValueOf<typeof account>): RiskInput {
    const positions: Record<string, LedgerPosition> = { ETHP: { size: a.eth.size, avgEntry: a.eth.entry } };
    const marks: Record<string, string> = { ETHP: a.eth.mark };
    if (a.btc) {
      positions.BTCP = { size: a.btc.size, avgEntry: a.btc.entry };
      marks.BTCP = a.btc.mark;
    }
    const r: RiskInput = { ledger: book(a.collateral, positions), marks, products };
    return a.sessionStart === undefined ? r : { ...r, sessionStart: { equity: a.sessionStart, netTransfers: '0' } };
  }

  it('a reducing order never fails the size, notional or buffer rules (nor any other): it passes as a close', () => {
    fc.assert(
      fc.property(
        account,
        budget,
        fc.boolean(),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.constantFrom('market', 'limit'),
        fc.integer({ min: -200, max: 200 }),
        fc.boolean(),
        fc.boolean(),
        (a, b, onBtc, part, type, offset, breached, stopped) => {
          const input = riskOf(a);
          const symbol = onBtc && a.btc ? 'BTCP' : 'ETHP';
          const held = dec(input.ledger.positions[symbol]!.size);
          const step = dec(1).div(STEPS[symbol]!);
          // amount: a whole number of increments in [1 step, |position|]
          const steps = held.abs().div(step).toNumber();
          const amount = str(step.times(Math.max(1, Math.ceil(part * steps))));
          const side: Side = held.isPos() ? 'sell' : 'buy';
          const mark = dec(input.marks[symbol]!);
          const tick = dec(products[symbol]!.tickSize);
          const price = str(mark.plus(tick.times(offset)));
          const order: OrderIntent = type === 'market' ? market(side, amount, symbol) : limit(side, amount, price, symbol);
          const d = preTradeGate({ risk: input, budget: b, breaches: breached ? [BREACH] : [], stopouts: stopped ? [STOP] : [], order });
          expect(d.rules).not.toContain('max-position-size');
          expect(d.rules).not.toContain('max-gross-notional');
          expect(d.rules).not.toContain('min-margin-buffer');
          expect(d.purpose).toBe('close');
          // Only the venue's own product rules (price band, notional) may refuse a close; the budget never does.
          const valid = orderViolations(products[symbol]!, order, mark).length === 0;
          if (valid) expect(d).toEqual({ allowed: true, purpose: 'close', rules: [], blocks: [], order });
          else expect(d).toMatchObject({ allowed: false, purpose: 'close', rules: ['order-invalid'] });
        },
      ),
      options,
    );
  });

  it('any order: allowed exactly when nothing blocks; a close exactly when it reduces; never allowed past a stopout unless it reduces', () => {
    fc.assert(
      fc.property(
        account,
        budget,
        fc.constantFrom<Side>('buy', 'sell'),
        decimal(1, 2_000_000, 10_000),
        fc.boolean(),
        (a, b, side, amount, stopped) => {
          const input = riskOf(a);
          const order = market(side, amount);
          const d = preTradeGate({ risk: input, budget: b, breaches: [], stopouts: stopped ? [STOP] : [], order });
          const reduces = exposureEffect(input.ledger.positions.ETHP!.size, order) === 'reduce';
          expect(d.allowed).toBe(d.rules.length === 0);
          expect(d.purpose).toBe(reduces ? 'close' : 'entry');
          if (stopped && !reduces) expect(d.rules).toContain('stopout');
          // The size rule blocks exactly when |position after| exceeds the cap
          const after = dec(input.ledger.positions.ETHP!.size)
            .plus(side === 'buy' ? amount : dec(amount).neg())
            .abs();
          const cap = b.maxPositionSize?.ETHP;
          expect(d.rules.includes('max-position-size')).toBe(!reduces && cap !== undefined && after.gt(cap));
        },
      ),
      options,
    );
  });
});

describe('passive limit orders', () => {
  it('are judged at the mark, so the gap to the limit is not counted as profit', async () => {
    const { preTradeGate: gate } = await import('../../src/domain/pre-trade-gate.ts');
    const { createLedger } = await import('../../src/domain/ledger.ts');
    const { DEFAULT_PRODUCTS } = await import('../../src/domain/products.ts');
    // Flat, collateral 100, buy 10 ETHP limit 1000 with the mark at 2000. Judged at 1000 it would look like
    // +10000 of profit; judged at the mark: equity 100, gross 20000, MF = 0.005, buffer = 0.005 − 0.05 < 0.1.
    const decision = gate({
      risk: { ledger: createLedger('100'), marks: { ETHP: '2000' }, products: { ETHP: DEFAULT_PRODUCTS.ETHP! } },
      budget: { minMarginBuffer: '0.1' },
      breaches: [],
      stopouts: [],
      order: { symbol: 'ETHP', side: 'buy', amount: '10', type: 'limit', price: '1000' },
    });
    expect(decision.allowed).toBe(false);
    expect(decision.rules).toContain('min-margin-buffer');
  });
});
