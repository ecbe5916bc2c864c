import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Budget } from '../../src/domain/budget.ts';
import { dec, str } from '../../src/domain/decimal.ts';
import { exposureEffect } from '../../src/domain/exposure.ts';
import type { LedgerBook, LedgerPosition } from '../../src/domain/ledger.ts';
import { projectedMetrics, riskMetrics, type RiskInput } from '../../src/domain/metrics.ts';
import type { OrderIntent } from '../../src/domain/order.ts';
import type { Product } from '../../src/domain/product.ts';
import { DEFAULT_PRODUCTS } from '../../src/domain/products.ts';
import { planReduction, type ReductionInput, type ReductionPlan } from '../../src/domain/reduction-plan.ts';
import { bandedLimitPrice, orderViolations, priceBand } from '../../src/domain/rounding.ts';

/** The type of the values an arbitrary generates. */
type ValueOf<A> = A extends fc.Arbitrary<infer T> ? T : never;

const ETHP = DEFAULT_PRODUCTS.ETHP!;
const BTCP = DEFAULT_PRODUCTS.BTCP!;
const products: Record<string, Product> = { ETHP, BTCP };

function book(collateral: string, positions: Record<string, LedgerPosition>): LedgerBook {
  return { collateral, realizedPnl: '0', feesPaid: '0', fundingReceived: '0', netTransfers: '0', positions };
}

/** collateral with long/short `size` ETHP @ 2000 at `mark` (default 2000). */
function ethRisk(collateral: string, size = '6', mark = '2000', productSet: Record<string, Product> = products): RiskInput {
  return { ledger: book(collateral, { ETHP: { size, avgEntry: '2000' } }), marks: { ETHP: mark }, products: productSet };
}

function plan(risk: RiskInput, over: Partial<ReductionInput> = {}): ReductionPlan {
  return planReduction({
    metrics: riskMetrics(risk),
    products: risk.products,
    budget: {},
    purpose: 'exit',
    flatten: false,
    fraction: '1',
    targetBuffer: '0.1',
    ...over,
  });
}

function orderOf(p: ReductionPlan): OrderIntent {
  if (p.kind !== 'order') throw new Error(`expected an order, got none: ${p.why}`);
  return p.order;
}

/** The account's metrics after the planned order fills at the mark (fill at mark: equity unchanged). */
function afterAtMark(risk: RiskInput, order: OrderIntent) {
  return projectedMetrics(risk, { ...order, price: risk.marks[order.symbol]! });
}

describe('planReduction: restoring the buffer', () => {
  // collateral 1000, long 6 ETHP @ 2000, mark 2000:
  //   G = 12000, E = 1000, MM = 600, buffer = (1000 − 600) / 12000 = 0.0333…
  const risk = ethRisk('1000');

  it('sizes the order by q ≥ (B·G − E + MM) / (m·(mmr + B)), rounded up to the increment', () => {
    expect(riskMetrics(risk).marginBuffer).toBe('0.033333333333');
    // B = 0.1: q ≥ (0.1 × 12000 − 1000 + 600) / (2000 × (0.05 + 0.1)) = 800 / 300 = 2.6666…
    const p = plan(risk);
    expect(p).toMatchObject({ kind: 'order', order: { symbol: 'ETHP', side: 'sell', type: 'limit', amount: '2.6667', price: '1960' } });
    if (p.kind !== 'order') return;
    expect(p.numbers.wanted!.startsWith('2.66666666666')).toBe(true);
    expect(p.numbers).toMatchObject({
      symbol: 'ETHP',
      position: '6',
      mark: '2000',
      amount: '2.6667',
      price: '1960',
      marginBuffer: '0.033333333333',
      targetBuffer: '0.1',
    });
    // After selling 2.6667 at the mark: size 3.3333, G = 6666.6, MM = 333.33, E = 1000
    //   buffer = (1000 − 333.33) / 6666.6 = 666.67 / 6666.6 = 0.1000015… ≥ 0.1
    expect(afterAtMark(risk, p.order).marginBuffer).toBe('0.100001500015');
    // One increment less would stop short: 3.3334 × 2000 = 6666.8, (1000 − 333.34) / 6666.8 = 0.09999400… < 0.1
    expect(dec(afterAtMark(risk, { ...p.order, amount: '2.6666' }).marginBuffer!).lt('0.1')).toBe(true);
  });

  it('a de-risking step is capped at fraction × |position|', () => {
    // fraction 0.25: 6 × 0.25 = 1.5 < 2.6667
    const p = plan(risk, { purpose: 'reduce', fraction: '0.25' });
    expect(orderOf(p).amount).toBe('1.5');
    // after: 4.5 ETHP, G = 9000, MM = 450, buffer = 550 / 9000 = 0.0611… (one step of several)
    expect(afterAtMark(risk, orderOf(p)).marginBuffer).toBe('0.061111111111');
    // fraction 0.5: the cap 3 is not binding, the step restores the buffer on its own
    const q = plan(risk, { purpose: 'reduce', fraction: '0.5' });
    expect(orderOf(q).amount).toBe('2.6667');
    expect(dec(afterAtMark(risk, orderOf(q)).marginBuffer!).gte('0.1')).toBe(true);
  });

  it('a de-risking step stays smaller than the position; a panic exit may close it all', () => {
    // collateral 500, mark 1900: E = 500 + 6 × (1900 − 2000) = −100, G = 11400, MM = 570
    //   q ≥ (0.1 × 11400 + 100 + 570) / (1900 × 0.15) = 1810 / 285 = 6.35… > 6: more than the position
    const under = ethRisk('500', '6', '1900');
    expect(riskMetrics(under).marginBuffer).toBe('-0.058771929825'); // −670 / 11400, floored
    expect(orderOf(plan(under, { purpose: 'reduce', fraction: '1' }))).toMatchObject({ amount: '5.9999', price: '1862' }); // 1900 × 0.98
    expect(orderOf(plan(under, { purpose: 'exit' })).amount).toBe('6');
    // A position of one increment cannot be split: the step is the whole of it
    expect(orderOf(plan(ethRisk('0.001', '0.0001'), { purpose: 'reduce', fraction: '0.25' })).amount).toBe('0.0001');
  });

  it('rounds a capped step down to a multiple of minOrderSize, and a step below one increment up to it', () => {
    // long 1.2345 @ 2000, collateral 150: G = 2469, MM = 123.45, buffer = 26.55 / 2469 = 0.0107…
    //   q ≥ (246.9 − 150 + 123.45) / 300 = 0.7345; fraction 0.25: 1.2345 × 0.25 = 0.308625 → 0.3086
    expect(orderOf(plan(ethRisk('150', '1.2345'), { purpose: 'reduce', fraction: '0.25' })).amount).toBe('0.3086');
    // long 0.0003, collateral 0.05: G = 0.6, MM = 0.03; q ≥ (0.06 − 0.05 + 0.03) / 300 = 0.000133…
    //   fraction 0.25: 0.000075 rounds down to 0 → one increment, 0.0001 (still < 0.0003)
    expect(orderOf(plan(ethRisk('0.05', '0.0003'), { purpose: 'reduce', fraction: '0.25' })).amount).toBe('0.0001');
  });

  it('nothing to do when the buffer is at the target and no cap is exceeded', () => {
    // collateral 10000: buffer 0.78333… ≥ 0.1
    expect(plan(ethRisk('10000'))).toMatchObject({ kind: 'none' });
    expect(plan(ethRisk('10000'), { purpose: 'reduce', fraction: '0.25' })).toMatchObject({ kind: 'none' });
    // Exactly at the target: collateral 1800 → buffer (1800 − 600) / 12000 = 0.1
    expect(plan(ethRisk('1800'))).toMatchObject({ kind: 'none' });
  });
});

describe('planReduction: flatten', () => {
  it('closes the whole position, even a healthy one', () => {
    expect(orderOf(plan(ethRisk('10000'), { flatten: true }))).toEqual({
      symbol: 'ETHP',
      side: 'sell',
      amount: '6',
      type: 'limit',
      price: '1960',
    });
    // A short is bought back at the band high: 2000 × 1.02 = 2040
    expect(orderOf(plan(ethRisk('10000', '-6'), { flatten: true }))).toEqual({
      symbol: 'ETHP',
      side: 'buy',
      amount: '6',
      type: 'limit',
      price: '2040',
    });
  });

  it('is capped by maxOrderNotional / price', () => {
    const small = { ...ETHP, maxOrderNotional: '5000' };
    // 5000 / 1960 = 2.5510204… → 2.551 (2.551 × 1960 = 4999.96; 2.5511 × 1960 = 5000.156 > 5000)
    const o = orderOf(plan(ethRisk('10000', '6', '2000', { ETHP: small }), { flatten: true }));
    expect(o.amount).toBe('2.551');
    expect(dec(o.amount).times(o.price!).lte('5000')).toBe(true);
  });

  it('plans nothing when not even one increment fits in maxOrderNotional', () => {
    // 0.0001 × 1960 = 0.196 > 0.1
    const tiny = { ...ETHP, maxOrderNotional: '0.1' };
    expect(plan(ethRisk('10000', '6', '2000', { ETHP: tiny }), { flatten: true })).toMatchObject({ kind: 'none' });
  });
});

describe('planReduction: caps', () => {
  it('brings a size over maxPositionSize back to the cap', () => {
    // healthy buffer, |6| over the cap 4: reduce 6 − 4 = 2
    const risk = ethRisk('10000');
    const o = orderOf(plan(risk, { budget: { maxPositionSize: { ETHP: '4' } }, purpose: 'reduce', fraction: '1' }));
    expect(o).toMatchObject({ side: 'sell', amount: '2' });
    expect(afterAtMark(risk, o).positions.ETHP!.size).toBe('4');
    // as a measured step: 6 × 0.25 = 1.5
    expect(orderOf(plan(risk, { budget: { maxPositionSize: { ETHP: '4' } }, purpose: 'reduce', fraction: '0.25' })).amount).toBe('1.5');
    // a short over its cap is bought back at the band high, rounded down to the tick: 2000.05 × 1.02 = 2040.051 → 2040
    expect(orderOf(plan(ethRisk('10000', '-6', '2000.05'), { budget: { maxPositionSize: { ETHP: '4' } } }))).toMatchObject({
      side: 'buy',
      amount: '2',
      price: '2040',
    });
  });

  it('brings gross notional over maxGrossNotional back under it, rounding the needed amount up', () => {
    // mark 2000.3: G = 6 × 2000.3 = 12001.8, over 10000 by 2001.8 → q ≥ 2001.8 / 2000.3 = 1.000749887… → 1.0008
    const risk = ethRisk('10000', '6', '2000.3');
    const o = orderOf(plan(risk, { budget: { maxGrossNotional: '10000' } }));
    // sell at the band low rounded up to the tick: 2000.3 × 0.98 = 1960.294 → 1960.3
    expect(o).toMatchObject({ side: 'sell', amount: '1.0008', price: '1960.3' });
    // 4.9992 × 2000.3 = 9998.4 + 1.49976 = 9999.89976 ≤ 10000
    expect(afterAtMark(risk, o).grossNotional).toBe('9999.89976');
    // 1.0007 would leave 4.9993 × 2000.3 = 9998.6 + 1.49979 = 10000.09979, still over the cap
    expect(afterAtMark(risk, { ...o, amount: '1.0007' }).grossNotional).toBe('10000.09979');
  });

  it('reduces the symbol over its size cap first, else the largest notional', () => {
    // long 6 ETHP (12000) and short 0.2 BTCP (0.2 × 50000 = 10000)
    const risk: RiskInput = {
      ledger: book('100000', { BTCP: { size: '-0.2', avgEntry: '50000' }, ETHP: { size: '6', avgEntry: '2000' } }),
      marks: { ETHP: '2000', BTCP: '50000' },
      products,
    };
    // BTCP over its cap 0.1: buy 0.1 at the band high 51000
    expect(orderOf(plan(risk, { budget: { maxPositionSize: { BTCP: '0.1' } } }))).toEqual({
      symbol: 'BTCP',
      side: 'buy',
      amount: '0.1',
      type: 'limit',
      price: '51000',
    });
    // otherwise ETHP, the larger notional
    expect(orderOf(plan(risk, { flatten: true })).symbol).toBe('ETHP');
  });
});

describe('planReduction: prices and edge cases', () => {
  it('prices at bandedLimitPrice: a sell at the band low rounded up, a buy at the band high rounded down', () => {
    // mark 2000.05: band [1960.049, 2040.051]; sell → 1960.1, buy → 2040
    expect(orderOf(plan(ethRisk('10000', '6', '2000.05'), { flatten: true })).price).toBe('1960.1');
    expect(orderOf(plan(ethRisk('10000', '-6', '2000.05'), { flatten: true })).price).toBe('2040');
    expect(str(bandedLimitPrice(ETHP, '2000.05', 'sell'))).toBe('1960.1');
  });

  it('plans nothing with no position, no product, or a position below one increment', () => {
    expect(plan({ ledger: book('1000', {}), marks: {}, products })).toEqual({ kind: 'none', why: 'no position to reduce' });
    const risk = ethRisk('10');
    expect(
      planReduction({
        metrics: riskMetrics(risk),
        products: {},
        budget: {},
        purpose: 'exit',
        flatten: true,
        fraction: '1',
        targetBuffer: '0.1',
      }),
    ).toEqual({ kind: 'none', why: 'no product for ETHP' });
    expect(plan(ethRisk('0.001', '0.00005'), { flatten: true })).toMatchObject({ kind: 'none' });
  });
});

describe('reduction-plan properties', () => {
  const options = { seed: 42, numRuns: 500 };
  const decimal = (min: number, max: number, scale: number) => fc.integer({ min, max }).map((n) => str(dec(n).div(scale)));
  const signed = (max: number, scale: number) =>
    fc
      .integer({ min: 1, max })
      .chain((n) => fc.constantFrom(n, -n))
      .map((n) => str(dec(n).div(scale)));

  const scenario = fc.record({
    collateral: decimal(-50_000, 2_000_000, 1),
    eth: fc.option(fc.record({ size: signed(2_000_000, 10_000), entry: decimal(1_000, 100_000, 10), mark: decimal(1_000, 100_000, 10) }), {
      nil: undefined,
    }),
    btc: fc.option(fc.record({ size: signed(1_000_000, 100_000), entry: decimal(5_000, 200_000, 1), mark: decimal(5_000, 200_000, 1) }), {
      nil: undefined,
    }),
    maxOrderNotional: fc.constantFrom('1000000', '50000', '5000'),
    budget: fc.record(
      {
        maxPositionSize: fc.record({ ETHP: decimal(1, 2_000_000, 10_000), BTCP: decimal(1, 1_000_000, 100_000) }, { requiredKeys: [] }),
        maxGrossNotional: decimal(1, 5_000_000, 1),
      },
      { requiredKeys: [] },
    ),
    purpose: fc.constantFrom('reduce' as const, 'exit' as const),
    flatten: fc.boolean(),
    fraction: decimal(1, 100, 100), // 0.01 … 1
    targetBuffer: decimal(0, 2_000, 1_000), // 0 … 2
  });

  function setup(s: ValueOf<typeof scenario>) {
    const productSet: Record<string, Product> = {
      ETHP: { ...ETHP, maxOrderNotional: s.maxOrderNotional },
      BTCP: { ...BTCP, maxOrderNotional: s.maxOrderNotional },
    };
    const positions: Record<string, LedgerPosition> = {};
    const marks: Record<string, string> = {};
    if (s.eth) {
      positions.ETHP = { size: s.eth.size, avgEntry: s.eth.entry };
      marks.ETHP = s.eth.mark;
    }
    if (s.btc) {
      positions.BTCP = { size: s.btc.size, avgEntry: s.btc.entry };
      marks.BTCP = s.btc.mark;
    }
    const risk: RiskInput = { ledger: book(s.collateral, positions), marks, products: productSet };
    const metrics = riskMetrics(risk);
    const input: ReductionInput = {
      metrics,
      products: productSet,
      budget: s.budget as Budget,
      purpose: s.purpose,
      flatten: s.flatten,
      fraction: s.fraction,
      targetBuffer: s.targetBuffer,
    };
    return { risk, metrics, input, result: planReduction(input) };
  }

  it('the order is a reduction the venue accepts: opposite side, ≤ |position|, on the grids, in the band, within maxOrderNotional', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const { risk, result, input } = setup(s);
        if (Object.keys(risk.ledger.positions).length === 0) expect(result.kind).toBe('none');
        if (result.kind !== 'order') return;
        const o = result.order;
        const product = input.products[o.symbol]!;
        const held = dec(risk.ledger.positions[o.symbol]!.size);
        const amount = dec(o.amount);
        const price = dec(o.price!);
        const step = dec(product.minOrderSize);
        const mark = risk.marks[o.symbol]!;
        expect(o.type).toBe('limit');
        expect(o.side).toBe(held.isPos() ? 'sell' : 'buy');
        expect(amount.gt(0)).toBe(true);
        expect(amount.lte(held.abs())).toBe(true); // never flips
        expect(exposureEffect(held, o)).toBe('reduce');
        expect(amount.mod(step).isZero()).toBe(true);
        expect(price.mod(product.tickSize).isZero()).toBe(true);
        const band = priceBand(product, mark);
        expect(price.gte(band.low) && price.lte(band.high)).toBe(true);
        expect(price.eq(bandedLimitPrice(product, mark, o.side))).toBe(true);
        expect(amount.times(price).lte(product.maxOrderNotional)).toBe(true);
        expect(orderViolations(product, o, mark)).toEqual([]);
        if (input.purpose === 'reduce' && !input.flatten) {
          // A measured step: at most the fraction (or one increment), and smaller than a splittable position
          expect(amount.lte(maxDec(held.abs().times(input.fraction), step))).toBe(true);
          if (held.abs().gt(step)) expect(amount.lt(held.abs())).toBe(true);
        }
        if (input.flatten) {
          // The whole position, unless one order's notional cannot hold it
          const byNotional = dec(product.maxOrderNotional).div(price).div(step).floor().times(step);
          expect(str(amount)).toBe(str(held.abs().lt(byNotional) ? held.abs() : byNotional));
        }
      }),
      options,
    );
  });

  it('an order not held back by a cap restores the target buffer and the size and gross caps, at the mark', () => {
    let checked = 0;
    fc.assert(
      fc.property(scenario, (s) => {
        const { risk, result, input } = setup({ ...s, flatten: false });
        if (result.kind !== 'order') return;
        const o = result.order;
        const product = input.products[o.symbol]!;
        const held = dec(risk.ledger.positions[o.symbol]!.size).abs();
        // Not held back: one more increment still fits every bound. Strictly inside the position, since a
        // de-risking step that would close it all is cut to one increment less.
        const next = dec(o.amount).plus(product.minOrderSize);
        const free =
          next.lt(held) &&
          next.times(o.price!).lte(product.maxOrderNotional) &&
          (input.purpose === 'exit' || next.lte(held.times(input.fraction)));
        if (!free) return;
        checked += 1;
        const after = afterAtMark(risk, o);
        if (after.marginBuffer !== null) expect(dec(after.marginBuffer).gte(input.targetBuffer)).toBe(true);
        const cap = input.budget.maxPositionSize?.[o.symbol];
        if (cap !== undefined)
          expect(
            dec(after.positions[o.symbol]?.size ?? '0')
              .abs()
              .lte(cap) || dec(held).lte(cap),
          ).toBe(true);
        const gross = input.budget.maxGrossNotional;
        if (gross !== undefined) expect(dec(after.grossNotional).lte(gross)).toBe(true);
      }),
      options,
    );
    expect(checked).toBeGreaterThan(20); // the property was not vacuous
  });

  it('nothing is planned when, short of flattening, the buffer meets the target and no cap is exceeded', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const { metrics, result, input } = setup({ ...s, flatten: false });
        const fine = metrics.marginBuffer === null || dec(metrics.marginBuffer).gte(input.targetBuffer);
        const withinSize = Object.entries(input.budget.maxPositionSize ?? {}).every(([sym, cap]) =>
          dec(metrics.positions[sym]?.size ?? '0')
            .abs()
            .lte(cap),
        );
        const withinGross = input.budget.maxGrossNotional === undefined || dec(metrics.grossNotional).lte(input.budget.maxGrossNotional);
        if (fine && withinSize && withinGross) expect(result.kind).toBe('none');
      }),
      options,
    );
  });
});

function maxDec(a: ReturnType<typeof dec>, b: ReturnType<typeof dec>) {
  return a.gt(b) ? a : b;
}
