import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ACCOUNT_MODES, assessAccount, type AccountMode } from '../../src/domain/assessment.ts';
import { assessmentBand, type BandInput } from '../../src/domain/assessment-band.ts';
import type { Budget } from '../../src/domain/budget.ts';
import { dec, str, type Decimal } from '../../src/domain/decimal.ts';
import { riskMetrics } from '../../src/domain/metrics.ts';
import { DEFAULT_PRODUCTS } from '../../src/domain/products.ts';

const products = { ETHP: DEFAULT_PRODUCTS.ETHP!, BTCP: DEFAULT_PRODUCTS.BTCP! };

interface Case {
  positions: Record<string, { size: string; avgEntry: string }>;
  collateral: string;
  marks: Record<string, string>;
  budget: Budget;
  hysteresis: string;
  current: AccountMode;
  sessionStart: { equity: string; netTransfers: string };
  equityLevels: string[];
}

function ledgerOf(c: Case) {
  return { collateral: c.collateral, realizedPnl: '0', feesPaid: '0', fundingReceived: '0', netTransfers: '0', positions: c.positions };
}

/** What the band promises to keep: the assessment's mode and rule, and each risk-limit level's breach. */
function outcome(c: Case, marks: Record<string, string>): string {
  const metrics = riskMetrics({ ledger: ledgerOf(c), marks, products, sessionStart: c.sessionStart });
  const a = assessAccount({ metrics, budget: c.budget, hysteresis: c.hysteresis, current: c.current, stopouts: [], feedStale: false });
  const breaches = c.equityLevels.map((l) => dec(metrics.equity).lte(l));
  return `${a.mode}/${a.reason.rule}/${breaches.join(',')}`;
}

function bandOf(c: Case) {
  const input: BandInput = {
    ledger: ledgerOf(c),
    marks: c.marks,
    products,
    budget: c.budget,
    hysteresis: c.hysteresis,
    sessionStart: c.sessionStart,
    equityLevels: c.equityLevels.map((l) => dec(l)),
    trading: c.current === 'trading',
  };
  return assessmentBand(input);
}

const price = (lo: number, hi: number) => fc.integer({ min: lo * 10, max: hi * 10 }).map((n) => str(dec(n).div(10)));
const size = fc
  .integer({ min: -400, max: 400 })
  .filter((n) => n !== 0)
  .map((n) => str(dec(n).div(100)));

const caseArb: fc.Arbitrary<Case> = fc
  .record({
    two: fc.boolean(),
    eth: fc.record({ size, avgEntry: price(1500, 2500) }),
    btc: fc.record({ size: size.map((s) => str(dec(s).div(10))), avgEntry: price(30000, 50000) }),
    ethMark: price(1500, 2500),
    btcMark: price(30000, 50000),
    collateral: fc.integer({ min: 500, max: 20000 }).map(String),
    min: fc.integer({ min: 5, max: 30 }).map((n) => str(dec(n).div(100))),
    panicShare: fc.integer({ min: 1, max: 9 }),
    maxGross: fc.option(fc.integer({ min: 2000, max: 30000 }).map(String), { nil: undefined }),
    sessionLoss: fc.option(fc.integer({ min: 50, max: 3000 }).map(String), { nil: undefined }),
    startShift: fc.integer({ min: -500, max: 500 }),
    hysteresis: fc.constantFrom('0', '0.1', '0.2', '0.25'),
    current: fc.constantFrom(...ACCOUNT_MODES.filter((m) => m !== 'stopped-out')),
    levels: fc.array(fc.integer({ min: 0, max: 20000 }).map(String), { maxLength: 2 }),
  })
  .map((r) => {
    const positions: Case['positions'] = { ETHP: r.eth };
    const marks: Record<string, string> = { ETHP: r.ethMark };
    if (r.two) {
      positions.BTCP = r.btc;
      marks.BTCP = r.btcMark;
    }
    const budget: Budget = {
      minMarginBuffer: r.min,
      panicMarginBuffer: str(dec(r.min).times(r.panicShare).div(10)),
      ...(r.maxGross ? { maxGrossNotional: r.maxGross } : {}),
      ...(r.sessionLoss ? { sessionLossLimit: r.sessionLoss } : {}),
    };
    const c: Case = {
      positions,
      collateral: r.collateral,
      marks,
      budget,
      hysteresis: r.hysteresis,
      current: r.current,
      sessionStart: { equity: '0', netTransfers: '0' },
      equityLevels: r.levels,
    };
    const equity = riskMetrics({ ledger: ledgerOf(c), marks, products }).equity;
    return { ...c, sessionStart: { equity: str(dec(equity).plus(r.startShift)), netTransfers: '0' } };
  });

/** A point strictly inside (lo, hi), or at the current mark when the band is empty. */
function inside(p0: string, lo: Decimal | null, hi: Decimal | null, t: number): string {
  const low = lo ?? dec(p0).times('0.5');
  const high = hi ?? dec(p0).times('1.5');
  if (!low.lt(high)) return p0;
  const p = low.plus(high.minus(low).times(t));
  return str(p.gt(low) && p.lt(high) ? p.toSignificantDigits(20) : p0);
}

describe('assessmentBand', () => {
  it('inside the band the assessment, its rule and every risk-limit breach are those at the current marks', () => {
    fc.assert(
      fc.property(
        caseArb,
        fc.double({ min: 0.001, max: 0.999, noNaN: true }),
        fc.double({ min: 0.001, max: 0.999, noNaN: true }),
        (c, t1, t2) => {
          const band = bandOf(c);
          const marks = { ...c.marks };
          const ts = [t1, t2];
          Object.entries(band.symbols).forEach(([symbol, b], i) => {
            const p = inside(c.marks[symbol]!, b.lo, b.hi, ts[i]!);
            if ((b.lo === null || dec(p).gt(b.lo)) && (b.hi === null || dec(p).lt(b.hi))) marks[symbol] = p;
          });
          expect(outcome(c, marks)).toBe(outcome(c, c.marks));
        },
      ),
      { seed: 13, numRuns: 3000 },
    );
  });

  it('an edge is tight: just past it, the outcome can change (one symbol, the nearest root)', () => {
    let changed = 0;
    fc.assert(
      fc.property(caseArb, (c) => {
        if (Object.keys(c.positions).length !== 1) return;
        const { lo, hi } = bandOf(c).symbols.ETHP!;
        for (const edge of [lo, hi]) {
          if (edge === null || edge.eq(c.marks.ETHP!)) continue;
          const past = edge.lt(c.marks.ETHP!) ? edge.times('0.999999') : edge.times('1.000001');
          if (outcome(c, { ETHP: str(past.toSignificantDigits(20)) }) !== outcome(c, c.marks)) changed += 1;
        }
      }),
      { seed: 14, numRuns: 1500 },
    );
    expect(changed).toBeGreaterThan(200);
  });

  it('a mark strictly past a blocking level leaves a trading account out of trading, for the rule it names', () => {
    let checked = 0;
    fc.assert(
      fc.property(caseArb, (c0) => {
        const c = { ...c0, current: 'trading' as const };
        if (Object.keys(c.positions).length !== 1 || outcome(c, c.marks).split('/')[0] !== 'trading') return;
        const band = bandOf(c);
        for (const level of [band.blocking?.below, band.blocking?.above]) {
          if (!level) continue;
          const past = level.price.lt(c.marks.ETHP!) ? level.price.times('0.9999999') : level.price.times('1.0000001');
          const marks = { ETHP: str(past.toSignificantDigits(20)) };
          if (!past.isPos()) continue;
          checked += 1;
          const [mode] = outcome(c, marks).split('/');
          const metrics = riskMetrics({ ledger: ledgerOf(c), marks, products, sessionStart: c.sessionStart });
          const limitBreached = c.equityLevels.some((l) => dec(metrics.equity).lte(l));
          expect(mode !== 'trading' || (level.rule === 'risk-limit' && limitBreached)).toBe(true);
        }
      }),
      { seed: 15, numRuns: 3000 },
    );
    expect(checked).toBeGreaterThan(500);
  });

  it('a flat account has no band: no mark can change its assessment', () => {
    const band = assessmentBand({
      ledger: { collateral: '1000', realizedPnl: '0', feesPaid: '0', fundingReceived: '0', netTransfers: '0', positions: {} },
      marks: { ETHP: '2000' },
      products,
      budget: { minMarginBuffer: '0.1' },
      hysteresis: '0.2',
      sessionStart: null,
      equityLevels: [],
      trading: true,
    });
    expect(band.symbols).toEqual({});
  });

  it('a hand-worked long: 6 ETHP from 2000 on 4200, buffer levels 0.10 and 0.03', () => {
    // equity = 4200 + 6(p − 2000) = 6p − 7800; mmr = 0.05: buffer < T ⇔ 6p − 7800 − 0.05·6p − T·6p < 0
    // ⇔ p < 7800 / (6·(0.95 − T)): T = 0.10 → 1529.41…; T = 0.12 (relax) → 1566.26…; T = 0.03 → 1413.04…
    const band = assessmentBand({
      ledger: {
        collateral: '4200',
        realizedPnl: '0',
        feesPaid: '0',
        fundingReceived: '0',
        netTransfers: '0',
        positions: { ETHP: { size: '6', avgEntry: '2000' } as never },
      },
      marks: { ETHP: '2000' },
      products,
      budget: { minMarginBuffer: '0.10', panicMarginBuffer: '0.03' },
      hysteresis: '0.2',
      sessionStart: null,
      equityLevels: [],
      trading: true,
    });
    expect(Number(band.symbols.ETHP!.lo)).toBeCloseTo(7800 / (6 * 0.83), 6);
    expect(band.symbols.ETHP!.hi).toBeNull();
    expect(band.blocking?.below?.rule).toBe('min-margin-buffer');
    expect(Number(band.blocking?.below?.price)).toBeCloseTo(7800 / (6 * 0.85), 6);
  });
});
