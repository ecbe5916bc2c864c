import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ACCOUNT_MODES, assessAccount, type AccountMode, type AssessmentInput } from '../../src/domain/assessment.ts';
import type { Budget } from '../../src/domain/budget.ts';
import { dec, str } from '../../src/domain/decimal.ts';
import type { LedgerBook, LedgerPosition } from '../../src/domain/ledger.ts';
import { riskMetrics, type RiskMetrics } from '../../src/domain/metrics.ts';
import { DEFAULT_PRODUCTS } from '../../src/domain/products.ts';
import type { Stopout } from '../../src/domain/stopout.ts';

/** The type of the values an arbitrary generates. */
type ValueOf<A> = A extends fc.Arbitrary<infer T> ? T : never;

const products = DEFAULT_PRODUCTS;

function book(collateral: string, positions: Record<string, LedgerPosition>): LedgerBook {
  return { collateral, realizedPnl: '0', feesPaid: '0', fundingReceived: '0', netTransfers: '0', positions };
}

/**
 * Metrics of `collateral` with long `size` ETHP @ 2000 at `mark` (defaults: 6 and 2000). At mark 2000:
 *   gross G = 6 × 2000 = 12000, maintenance margin MM = 12000 × 0.05 = 600 (0.15 / 3x = 0.05)
 *   MF = collateral / 12000, buffer = MF − 0.05 = (collateral − 600) / 12000
 */
function metrics(collateral: string, opts: { size?: string; mark?: string; sessionStartEquity?: string } = {}): RiskMetrics {
  const size = opts.size ?? '6';
  const positions: Record<string, LedgerPosition> = size === '0' ? {} : { ETHP: { size, avgEntry: '2000' } };
  return riskMetrics({
    ledger: book(collateral, positions),
    marks: { ETHP: opts.mark ?? '2000' },
    products,
    ...(opts.sessionStartEquity === undefined ? {} : { sessionStart: { equity: opts.sessionStartEquity, netTransfers: '0' } }),
  });
}

const BUDGET: Budget = { minMarginBuffer: '0.10', panicMarginBuffer: '0.03' };
const HOLD: Stopout = { scope: 'strategy', id: 'alpha', reason: 'day-equity-difference', closePositions: false };
const CLOSE: Stopout = { scope: 'portfolio', id: 'core', reason: 'week-balance-difference', closePositions: true };

function assess(m: RiskMetrics, over: Partial<AssessmentInput> = {}) {
  return assessAccount({ metrics: m, budget: BUDGET, hysteresis: '0.2', current: 'trading', stopouts: [], feedStale: false, ...over });
}

describe('margin figures the assessment reads', () => {
  it('MF = equity / gross, maintenance 0.05 at 3x, buffer = MF − 0.05', () => {
    const m = metrics('10000');
    expect(m.marginFraction).toBe('0.833333333333'); // 10000 / 12000 = 0.8333…, floored to 12 dp
    expect(m.maintenance).toBe('0.05'); // 600 / 12000
    expect(m.marginBuffer).toBe('0.783333333333'); // (10000 − 600) / 12000 = 0.78333…
    const thin = metrics('1560');
    expect([thin.marginFraction, thin.marginBuffer]).toEqual(['0.13', '0.08']); // 1560 / 12000; 0.13 − 0.05
  });
});

describe('assessAccount: each mode', () => {
  it('trading: the budget has room', () => {
    // buffer 0.78333… ≥ 0.10; |6| < 10; 12000 < 20000
    const a = assess(metrics('10000'), { budget: { ...BUDGET, maxPositionSize: { ETHP: '10' }, maxGrossNotional: '20000' } });
    expect(a).toEqual({
      mode: 'trading',
      flatten: false,
      reason: {
        rule: 'budget-has-room',
        message: 'the budget has room',
        numbers: { grossNotional: '12000', marginBuffer: '0.783333333333' },
      },
    });
    // Flat: no buffer to judge
    expect(assess(metrics('10000', { size: '0' })).reason.numbers).toEqual({ grossNotional: '0', marginBuffer: 'flat' });
  });

  it('panic-exit to flatten: a stopout with closePositions on a position', () => {
    const a = assess(metrics('10000'), { stopouts: [HOLD, CLOSE] });
    expect(a).toEqual({
      mode: 'panic-exit',
      flatten: true,
      reason: {
        rule: 'stopout',
        message: 'stopout week-balance-difference on portfolio core closes positions',
        numbers: { scope: 'portfolio', id: 'core', reason: 'week-balance-difference' },
      },
    });
  });

  it('panic-exit on the margin buffer: below panicMarginBuffer', () => {
    // collateral 840: buffer = (840 − 600) / 12000 = 0.02 < 0.03
    const a = assess(metrics('840'));
    expect(a).toEqual({
      mode: 'panic-exit',
      flatten: false,
      reason: {
        rule: 'panic-margin-buffer',
        message: 'margin buffer 0.02 below panicMarginBuffer 0.03',
        numbers: { marginBuffer: '0.02', limit: '0.03' },
      },
    });
    // A fall in the mark: collateral 2500, mark 1720: equity = 2500 + 6 × (1720 − 2000) = 820
    //   gross = 10320, MM = 516, MF = 820 / 10320 = 0.0794573…, buffer = 304 / 10320 = 0.0294573… < 0.03
    const fall = metrics('2500', { mark: '1720' });
    expect([fall.marginFraction, fall.marginBuffer]).toEqual(['0.079457364341', '0.029457364341']);
    expect(assess(fall).mode).toBe('panic-exit');
  });

  it('stopped-out: a stopout without closePositions', () => {
    const a = assess(metrics('10000'), { stopouts: [HOLD] });
    expect(a).toEqual({
      mode: 'stopped-out',
      flatten: false,
      reason: {
        rule: 'stopout',
        message: 'stopout day-equity-difference on strategy alpha',
        numbers: { scope: 'strategy', id: 'alpha', reason: 'day-equity-difference', count: '1' },
      },
    });
    // A closing stopout on a flat account has nothing to flatten: stopped out
    expect(assess(metrics('10000', { size: '0' }), { stopouts: [CLOSE] })).toMatchObject({ mode: 'stopped-out', flatten: false });
  });

  it('de-risking: buffer below minMarginBuffer', () => {
    // collateral 1560: buffer = 960 / 12000 = 0.08 < 0.10 (and ≥ 0.03)
    expect(assess(metrics('1560'))).toEqual({
      mode: 'de-risking',
      flatten: false,
      reason: {
        rule: 'min-margin-buffer',
        message: 'margin buffer 0.08 below minMarginBuffer 0.1',
        numbers: { marginBuffer: '0.08', limit: '0.10', threshold: '0.1' },
      },
    });
  });

  it('de-risking: size or gross notional over the cap', () => {
    expect(assess(metrics('10000'), { budget: { maxPositionSize: { ETHP: '5' } } }).reason).toEqual({
      rule: 'max-position-size',
      message: '|position| 6 ETHP above maxPositionSize 5',
      numbers: { symbol: 'ETHP', position: '6', limit: '5' },
    });
    expect(assess(metrics('10000'), { budget: { maxGrossNotional: '11999.99' } }).reason).toEqual({
      rule: 'max-gross-notional',
      message: 'gross notional 12000 above maxGrossNotional 11999.99',
      numbers: { grossNotional: '12000', limit: '11999.99' },
    });
    expect(assess(metrics('10000'), { budget: { maxGrossNotional: '11999.99' } }).mode).toBe('de-risking');
  });

  it('entries-blocked: at a cap, session loss reached, or a stale feed', () => {
    // |6| at maxPositionSize 6
    expect(assess(metrics('10000'), { budget: { maxPositionSize: { ETHP: '6' } } })).toMatchObject({
      mode: 'entries-blocked',
      reason: { rule: 'max-position-size', numbers: { symbol: 'ETHP', position: '6', limit: '6', threshold: '6' } },
    });
    // gross 12000 at maxGrossNotional 12000
    expect(assess(metrics('10000'), { budget: { maxGrossNotional: '12000' } })).toMatchObject({
      mode: 'entries-blocked',
      reason: { rule: 'max-gross-notional', numbers: { grossNotional: '12000', limit: '12000', threshold: '12000' } },
    });
    // session PnL = 10000 − 11000 = −1000: a loss of 1000 reaches the 1000 limit
    expect(assess(metrics('10000', { sessionStartEquity: '11000' }), { budget: { sessionLossLimit: '1000' } })).toMatchObject({
      mode: 'entries-blocked',
      reason: { rule: 'session-loss-limit', numbers: { sessionPnl: '-1000', limit: '1000', threshold: '1000' } },
    });
    expect(assess(metrics('10000'), { feedStale: true })).toMatchObject({ mode: 'entries-blocked', reason: { rule: 'feed-stale' } });
  });
});

describe('assessAccount: severity order', () => {
  it('closing stopout > panic buffer > stopout > de-risking > entries-blocked > trading', () => {
    const caps: Budget = { ...BUDGET, maxPositionSize: { ETHP: '6' } };
    // Everything at once: buffer 0.02, a closing and a holding stopout, at the size cap, stale feed
    expect(assess(metrics('840'), { budget: caps, stopouts: [HOLD, CLOSE], feedStale: true })).toMatchObject({
      mode: 'panic-exit',
      flatten: true,
    });
    // Without the closing stopout the panic buffer still rules
    expect(assess(metrics('840'), { budget: caps, stopouts: [HOLD], feedStale: true })).toMatchObject({
      mode: 'panic-exit',
      flatten: false,
      reason: { rule: 'panic-margin-buffer' },
    });
    // buffer 0.08: a stopout outranks de-risking
    expect(assess(metrics('1560'), { budget: caps, stopouts: [HOLD], feedStale: true })).toMatchObject({ mode: 'stopped-out' });
    // no stopout: de-risking outranks the binding cap
    expect(assess(metrics('1560'), { budget: caps, feedStale: true })).toMatchObject({
      mode: 'de-risking',
      reason: { rule: 'min-margin-buffer' },
    });
    // size above the cap is de-risking even with a healthy buffer
    expect(assess(metrics('10000'), { budget: { ...BUDGET, maxPositionSize: { ETHP: '5.9999' } }, feedStale: true })).toMatchObject({
      mode: 'de-risking',
    });
    // healthy buffer, at the cap: entries-blocked; the stale feed is named first
    expect(assess(metrics('10000'), { budget: caps, feedStale: true })).toMatchObject({
      mode: 'entries-blocked',
      reason: { rule: 'feed-stale' },
    });
    expect(assess(metrics('10000'), { budget: caps })).toMatchObject({ mode: 'entries-blocked', reason: { rule: 'max-position-size' } });
    expect(assess(metrics('10000'))).toMatchObject({ mode: 'trading' });
  });
});

describe('assessAccount: hysteresis', () => {
  it('entries-blocked on size stays until |position| is below (1 − h) × cap', () => {
    // cap 7.5, h 0.2: enter at 7.5, leave below 7.5 × 0.8 = 6
    const budget: Budget = { maxPositionSize: { ETHP: '7.5' } };
    const from = (current: AccountMode, size: string) => assess(metrics('10000', { size }), { budget, current }).mode;
    expect(from('trading', '7')).toBe('trading'); // 7 < 7.5
    expect(from('trading', '7.5')).toBe('entries-blocked'); // at the cap
    expect(from('entries-blocked', '7')).toBe('entries-blocked'); // 7 ≥ 6
    expect(from('entries-blocked', '6')).toBe('entries-blocked'); // 6 is not below 6
    expect(from('entries-blocked', '5.9999')).toBe('trading'); // 5.9999 < 6
    expect(assess(metrics('10000', { size: '6' }), { budget, current: 'entries-blocked' }).reason.numbers.threshold).toBe('6');
  });

  it('entries-blocked on gross notional stays until gross is below (1 − h) × cap', () => {
    // maxGrossNotional 15000, h 0.2: leave below 12000. 6 ETHP at mark 2000 = 12000; at 1999.9 = 11999.4
    const budget: Budget = { maxGrossNotional: '15000' };
    expect(assess(metrics('10000'), { budget, current: 'trading' }).mode).toBe('trading');
    expect(assess(metrics('10000'), { budget, current: 'entries-blocked' }).mode).toBe('entries-blocked');
    expect(assess(metrics('10000', { mark: '1999.9' }), { budget, current: 'entries-blocked' }).mode).toBe('trading');
  });

  it('entries-blocked on session loss stays until the loss is below (1 − h) × limit', () => {
    // sessionLossLimit 1000, h 0.2: leave below a loss of 800
    const budget: Budget = { sessionLossLimit: '1000' };
    const from = (current: AccountMode, startEquity: string) =>
      assess(metrics('10000', { sessionStartEquity: startEquity }), { budget, current }).mode;
    expect(from('trading', '10999')).toBe('trading'); // loss 999 < 1000
    expect(from('trading', '11000')).toBe('entries-blocked'); // loss 1000
    expect(from('entries-blocked', '10800')).toBe('entries-blocked'); // loss 800 is not below 800
    expect(from('entries-blocked', '10799.99')).toBe('trading'); // loss 799.99
  });

  it('with no hysteresis an account at the cap stays blocked instead of flapping', () => {
    const budget: Budget = { maxPositionSize: { ETHP: '6' }, maxGrossNotional: '12000' };
    const first = assessAccount({ metrics: metrics('10000'), budget, hysteresis: '0', current: 'trading', stopouts: [], feedStale: false });
    expect(first.mode).toBe('entries-blocked');
    const second = assessAccount({
      metrics: metrics('10000'),
      budget,
      hysteresis: '0',
      current: first.mode,
      stopouts: [],
      feedStale: false,
    });
    expect(second.mode).toBe('entries-blocked');
  });

  it('de-risking stays until the buffer is back at minMarginBuffer × (1 + h)', () => {
    // min 0.10, h 0.2: recovery level 0.12
    // collateral 2000: buffer = 1400 / 12000 = 0.11666… (floored 0.116666666666)
    expect(assess(metrics('2000'), { current: 'trading' }).mode).toBe('trading');
    expect(assess(metrics('2000'), { current: 'de-risking' })).toMatchObject({
      mode: 'de-risking',
      reason: {
        message: 'margin buffer 0.116666666666 below the recovery level 0.12',
        numbers: { marginBuffer: '0.116666666666', threshold: '0.12' },
      },
    });
    // collateral 2040: buffer = 1440 / 12000 = 0.12: recovered
    expect(assess(metrics('2040'), { current: 'de-risking' }).mode).toBe('trading');
    // Entries-blocked does not carry the de-risking hysteresis: 0.1166… ≥ 0.10
    expect(assess(metrics('2000'), { current: 'entries-blocked' }).mode).toBe('trading');
  });

  it('panic-exit stays until the buffer is back at minMarginBuffer, then de-risking takes over', () => {
    // collateral 1560: buffer 0.08 — above panic 0.03, below min 0.10
    expect(assess(metrics('1560'), { current: 'trading' }).mode).toBe('de-risking');
    expect(assess(metrics('1560'), { current: 'panic-exit' })).toEqual({
      mode: 'panic-exit',
      flatten: false,
      reason: {
        rule: 'panic-margin-buffer',
        message: 'margin buffer 0.08 not yet back to minMarginBuffer 0.10',
        numbers: { marginBuffer: '0.08', limit: '0.10' },
      },
    });
    // collateral 1800: buffer = 1200 / 12000 = 0.1: out of panic, still below the 0.12 recovery level
    expect(assess(metrics('1800'), { current: 'panic-exit' }).mode).toBe('de-risking');
    expect(assess(metrics('1800'), { current: 'trading' }).mode).toBe('trading');
    // collateral 2040: buffer 0.12: straight back to trading
    expect(assess(metrics('2040'), { current: 'panic-exit' }).mode).toBe('trading');
    // A holding stopout waits until the panic is over, then rules
    expect(assess(metrics('1560'), { current: 'panic-exit', stopouts: [HOLD] }).mode).toBe('panic-exit');
    expect(assess(metrics('1800'), { current: 'panic-exit', stopouts: [HOLD] }).mode).toBe('stopped-out');
  });

  it('without minMarginBuffer panic-exit ends as soon as the buffer is back at the panic level', () => {
    expect(assess(metrics('960'), { budget: { panicMarginBuffer: '0.03' }, current: 'panic-exit' }).mode).toBe('trading'); // 360 / 12000 = 0.03
  });
});

describe('assessment properties', () => {
  const options = { seed: 42, numRuns: 1000 };
  const decimal = (min: number, max: number, scale: number) => fc.integer({ min, max }).map((n) => str(dec(n).div(scale)));

  /** A cap placed relative to a value v so that the hysteresis edges are hit exactly. */
  const placement = fc.constantFrom('none', 'at', 'release-edge', 'between', 'below', 'above', 'far-above');
  function place(kind: string, v: string, h: string, random: string): string | undefined {
    const value = dec(v);
    const scale = dec(1).minus(h);
    switch (kind) {
      case 'none':
        return undefined;
      case 'at':
        return str(value);
      case 'release-edge':
        return str(value.div(scale)); // value = (1 − h) × cap
      case 'between':
        return str(value.div(scale.plus(1).div(2)));
      case 'below':
        return str(value.times('0.9'));
      case 'above':
        return str(value.times('1.1'));
      default:
        return random;
    }
  }

  const scenario = fc.record({
    collateral: decimal(-1_000, 30_000, 1),
    size: fc.integer({ min: -1_000, max: 1_000 }).map((n) => str(dec(n).div(100))), // −10 … 10, 0 included
    entry: decimal(15_000, 25_000, 10),
    mark: decimal(15_000, 25_000, 10),
    btc: fc.option(
      fc.record({ size: fc.integer({ min: -100, max: 100 }).map((n) => str(dec(n).div(1000))), mark: decimal(40_000, 60_000, 1) }),
      { nil: undefined },
    ),
    sessionPnl: decimal(-5_000, 1_000, 1),
    hysteresis: fc.oneof(fc.constantFrom('0', '0.2', '0.5'), decimal(0, 999, 1000)),
    sizeCap: placement,
    grossCap: placement,
    lossLimit: placement,
    minBuffer: placement,
    panic: fc.constantFrom('none', 'half', 'equal'),
    random: decimal(1, 100_000, 100),
    stopouts: fc.subarray([HOLD, CLOSE]),
    feedStale: fc.boolean(),
    current: fc.constantFrom(...ACCOUNT_MODES),
  });

  function inputOf(s: ValueOf<typeof scenario>): Omit<AssessmentInput, 'current'> & { current: AccountMode } {
    const positions: Record<string, LedgerPosition> = {};
    if (s.size !== '0') positions.ETHP = { size: s.size, avgEntry: s.entry };
    if (s.btc && s.btc.size !== '0') positions.BTCP = { size: s.btc.size, avgEntry: '50000' };
    const base = riskMetrics({ ledger: book(s.collateral, positions), marks: { ETHP: s.mark, BTCP: s.btc?.mark ?? '50000' }, products });
    // Session start chosen so that sessionPnl = s.sessionPnl
    const m = riskMetrics({
      ledger: book(s.collateral, positions),
      marks: { ETHP: s.mark, BTCP: s.btc?.mark ?? '50000' },
      products,
      sessionStart: { equity: str(dec(base.equity).minus(s.sessionPnl)), netTransfers: '0' },
    });
    const budget: Budget = {};
    const sizeCap = place(s.sizeCap, str(dec(s.size).abs().isZero() ? '1' : dec(s.size).abs()), s.hysteresis, s.random);
    if (sizeCap !== undefined && dec(sizeCap).gt(0)) budget.maxPositionSize = { ETHP: sizeCap };
    const grossCap = place(s.grossCap, m.grossNotional === '0' ? '1000' : m.grossNotional, s.hysteresis, s.random);
    if (grossCap !== undefined && dec(grossCap).gt(0)) budget.maxGrossNotional = grossCap;
    const loss = dec(s.sessionPnl).neg();
    const lossLimit = place(s.lossLimit, loss.gt(0) ? str(loss) : '100', s.hysteresis, s.random);
    if (lossLimit !== undefined && dec(lossLimit).gt(0)) budget.sessionLossLimit = lossLimit;
    // minMarginBuffer placed around the buffer (kept ≥ 0, as the schema requires), panic below it
    const buffer = m.marginBuffer === null ? '0.1' : m.marginBuffer;
    const recovery = dec(1).plus(s.hysteresis);
    const minRaw =
      s.minBuffer === 'release-edge'
        ? str(dec(buffer).div(recovery))
        : place(s.minBuffer, buffer, s.hysteresis, str(dec(s.random).div(10_000)));
    if (minRaw !== undefined && dec(minRaw).gte(0)) {
      budget.minMarginBuffer = minRaw;
      if (s.panic === 'half') budget.panicMarginBuffer = str(dec(minRaw).div(2));
      if (s.panic === 'equal') budget.panicMarginBuffer = minRaw;
    }
    return { metrics: m, budget, hysteresis: s.hysteresis, current: s.current, stopouts: s.stopouts, feedStale: s.feedStale };
  }

  it('never flaps: assessing again from the mode it gives gives the same mode', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const input = inputOf(s);
        const first = assessAccount(input);
        const again = assessAccount({ ...input, current: first.mode });
        expect(again.mode).toBe(first.mode);
        expect(again.flatten).toBe(first.flatten);
      }),
      options,
    );
  });

  it('hysteresis only holds an account back: with no stopout, a stricter current mode never yields a milder one than trading does', () => {
    const severity: Record<AccountMode, number> = {
      trading: 0,
      'entries-blocked': 1,
      'de-risking': 2,
      'panic-exit': 3,
      'stopped-out': 2.5,
    };
    fc.assert(
      fc.property(scenario, (s) => {
        const input = { ...inputOf(s), stopouts: [] };
        const fresh = assessAccount({ ...input, current: 'trading' });
        const held = assessAccount(input);
        expect(severity[held.mode]).toBeGreaterThanOrEqual(severity[fresh.mode]);
      }),
      options,
    );
  });

  it('a closing stopout on a position always means panic-exit to flatten, whatever the rest', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const input = inputOf(s);
        const a = assessAccount({ ...input, stopouts: [CLOSE] });
        if (Object.keys(input.metrics.positions).length > 0) expect(a).toMatchObject({ mode: 'panic-exit', flatten: true });
        else expect(a).toMatchObject({ mode: 'stopped-out', flatten: false });
      }),
      options,
    );
  });
});
