import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dec, str } from '../../src/domain/decimal.ts';
import { applyLedgerEvent, createLedger, type LedgerEvent, type LedgerState } from '../../src/domain/ledger.ts';
import { grossNotionalAfter, MetricsError, projectedMetrics, riskMetrics, type RiskInput } from '../../src/domain/metrics.ts';
import { DEFAULT_PRODUCTS, productFromSpec } from '../../src/domain/products.ts';

const products = DEFAULT_PRODUCTS;

/** A ledger with `collateral` and the given fills (seq 1, 2, …). */
function ledger(collateral: string, fills: Array<[symbol: string, side: 'buy' | 'sell', amount: string, price: string]>): LedgerState {
  let s = createLedger(collateral);
  fills.forEach(([symbol, side, amount, price], i) => {
    const r = applyLedgerEvent(s, { kind: 'fill', id: `f${i}`, seq: i + 1, symbol, side, amount, price });
    if (r.outcome !== 'applied') throw new Error(`${r.outcome}: ${r.reason}`);
    s = r.state;
  });
  return s;
}

/** equity − maintenance margin with `symbol`'s mark moved to `price`. */
function headroomAt(input: RiskInput, symbol: string, price: string) {
  const m = riskMetrics({ ...input, marks: { ...input.marks, [symbol]: price } });
  return dec(m.equity).minus(m.maintenanceMargin);
}

describe('riskMetrics', () => {
  it('long ETHP after a drop', () => {
    const m = riskMetrics({ ledger: ledger('10000', [['ETHP', 'buy', '3', '2000']]), marks: { ETHP: '1880' }, products });
    expect(m).toEqual({
      positions: {
        ETHP: {
          symbol: 'ETHP',
          size: '3',
          direction: 'long',
          avgEntry: '2000',
          mark: '1880',
          notional: '5640', // 3 × 1880
          unrealizedPnl: '-360', // 3 × (1880 − 2000)
          maintenanceMargin: '282', // 5640 × 0.05
          // p = (0 − 9640 + 3 × 1880) / (3 − 3 × 0.05) = −4000 / 2.85 < 0: this symbol alone cannot liquidate it
          liquidationPrice: null,
        },
      },
      grossNotional: '5640',
      collateral: '10000',
      unrealizedPnl: '-360',
      equity: '9640', // 10000 − 360
      marginFraction: '1.709219858156', // 9640 / 5640 = 1.70921985815602836…, floored to 12 dp
      maintenance: '0.05', // 282 / 5640
      maintenanceMargin: '282',
      marginBuffer: '1.659219858156', // (9640 − 282) / 5640 = 1.65921985815602836…, floored
      sessionPnl: '0', // no session start
      liquidatable: false, // 1.709… ≥ 0.05
    });
  });

  it('long with a liquidation price, checked by plugging it back in', () => {
    const input: RiskInput = { ledger: ledger('200', [['ETHP', 'buy', '1', '2100']]), marks: { ETHP: '2100' }, products };
    const m = riskMetrics(input);
    // p = (0 − 200 + 1 × 2100) / (1 − 1 × 0.05) = 1900 / 0.95 = 2000
    expect(m.positions.ETHP!.liquidationPrice).toBe('2000');
    // at 2000: equity = 200 + 1 × (2000 − 2100) = 100; maintenance margin = 2000 × 0.05 = 100
    const at = riskMetrics({ ...input, marks: { ETHP: '2000' } });
    expect([at.equity, at.maintenanceMargin, at.marginFraction, at.marginBuffer]).toEqual(['100', '100', '0.05', '0']);
    expect(at.liquidatable).toBe(false); // MF = MMR is not below it
    expect(riskMetrics({ ...input, marks: { ETHP: '1999.9' } }).liquidatable).toBe(true);
  });

  it('short with a liquidation price above the mark', () => {
    const input: RiskInput = { ledger: ledger('205', [['ETHP', 'sell', '1', '2000']]), marks: { ETHP: '2000' }, products };
    const m = riskMetrics(input);
    expect(m.positions.ETHP).toMatchObject({
      size: '-1',
      direction: 'short',
      notional: '2000',
      unrealizedPnl: '0',
      maintenanceMargin: '100',
    });
    // MF = 205 / 2000 = 0.1025; buffer = (205 − 100) / 2000 = 0.0525
    expect([m.marginFraction, m.marginBuffer]).toEqual(['0.1025', '0.0525']);
    // p = (0 − 205 + (−1) × 2000) / (−1 − 1 × 0.05) = −2205 / −1.05 = 2100
    expect(m.positions.ETHP!.liquidationPrice).toBe('2100');
    // at 2100: equity = 205 − (2100 − 2000) = 105; maintenance margin = 2100 × 0.05 = 105
    expect(str(headroomAt(input, 'ETHP', '2100'))).toBe('0');
    expect(riskMetrics({ ...input, marks: { ETHP: '2100.1' } }).liquidatable).toBe(true);
  });

  it('two symbols, long and short', () => {
    const input: RiskInput = {
      ledger: ledger('10000', [
        ['ETHP', 'buy', '3', '2000'],
        ['BTCP', 'sell', '0.1', '60000'],
      ]),
      marks: { ETHP: '1880', BTCP: '62000' },
      products,
    };
    const m = riskMetrics(input);
    // BTCP: notional 0.1 × 62000 = 6200; uPnL −0.1 × (62000 − 60000) = −200; maintenance 6200 × 0.05 = 310
    expect(m.positions.BTCP).toMatchObject({ notional: '6200', unrealizedPnl: '-200', maintenanceMargin: '310' });
    expect(m.grossNotional).toBe('11840'); // 5640 + 6200
    expect(m.unrealizedPnl).toBe('-560'); // −360 − 200
    expect(m.equity).toBe('9440');
    expect(m.maintenanceMargin).toBe('592'); // 282 + 310
    expect(m.maintenance).toBe('0.05'); // 592 / 11840
    expect(m.marginFraction).toBe('0.797297297297'); // 9440 / 11840 = 0.797297297297297…
    expect(m.marginBuffer).toBe('0.747297297297'); // (9440 − 592) / 11840 = 0.747297297297297…
    // ETHP, BTCP fixed: (310 − 9440 + 5640) / 2.85 < 0 → null
    expect(m.positions.ETHP!.liquidationPrice).toBeNull();
    // BTCP, ETHP fixed: (282 − 9440 − 6200) / (−0.1 − 0.005) = −15358 / −0.105 = 146266.666…, floored to 8 dp
    expect(m.positions.BTCP!.liquidationPrice).toBe('146266.66666666');
    // Plugged back in: rounded towards the mark, so a hair of headroom is left, less than 0.1 × 1e-8 × 1.005.
    const h = headroomAt(input, 'BTCP', '146266.66666666');
    expect(h.gte(0) && h.lt('0.000000002')).toBe(true);
    expect(Object.keys(m.positions)).toEqual(['BTCP', 'ETHP']);
  });

  it('weights the maintenance requirement by notional when the mmrs differ', () => {
    const btc10 = productFromSpec({ ...DEFAULT_PRODUCTS.BTCP!, mmr: '0.1' });
    const m = riskMetrics({
      ledger: ledger('10000', [
        ['ETHP', 'buy', '3', '2000'],
        ['BTCP', 'sell', '0.1', '60000'],
      ]),
      marks: { ETHP: '1880', BTCP: '62000' },
      products: { ...products, BTCP: btc10 },
    });
    expect(m.maintenanceMargin).toBe('902'); // 5640 × 0.05 + 6200 × 0.1 = 282 + 620
    expect(m.maintenance).toBe(str(dec(902).div(11840))); // 0.0761824324…, not rounded
    expect(m.marginBuffer).toBe('0.721114864864'); // (9440 − 902) / 11840 = 0.7211148648648…
  });

  it('liquidatable, with the liquidation price on the far side of the mark', () => {
    const m = riskMetrics({ ledger: ledger('50', [['ETHP', 'buy', '1', '2000']]), marks: { ETHP: '2000' }, products });
    // equity 50 < maintenance margin 2000 × 0.05 = 100
    expect(m.liquidatable).toBe(true);
    // (−50 + 2000) / 0.95 = 2052.631578947368…, rounded up to 8 dp
    expect(m.positions.ETHP!.liquidationPrice).toBe('2052.63157895');
  });

  it('floors a negative margin fraction (towards more risk)', () => {
    const m = riskMetrics({ ledger: ledger('100', [['ETHP', 'buy', '1', '2000']]), marks: { ETHP: '1800' }, products });
    // equity 100 − 200 = −100; MF = −100 / 1800 = −0.0555…; buffer = (−100 − 90) / 1800 = −0.10555…
    expect([m.equity, m.marginFraction, m.marginBuffer]).toEqual(['-100', '-0.055555555556', '-0.105555555556']);
  });

  it('flat: no margin fraction or buffer', () => {
    const m = riskMetrics({ ledger: createLedger('1000'), marks: {}, products });
    expect(m).toEqual({
      positions: {},
      grossNotional: '0',
      collateral: '1000',
      unrealizedPnl: '0',
      equity: '1000',
      marginFraction: null,
      maintenance: '0',
      maintenanceMargin: '0',
      marginBuffer: null,
      sessionPnl: '0',
      liquidatable: false,
    });
  });

  it('session PnL leaves transfers out', () => {
    let s = createLedger('10000');
    const sessionStart = { equity: '10000', netTransfers: '0' };
    const events: LedgerEvent[] = [
      { kind: 'deposit', id: 'd', seq: 1, amount: '500' },
      { kind: 'fill', id: 'f', seq: 2, symbol: 'ETHP', side: 'buy', amount: '3', price: '2000', fee: '3' },
      { kind: 'withdrawal', id: 'w', seq: 3, amount: '200' },
    ];
    for (const e of events) s = applyLedgerEvent(s, e).state;
    const m = riskMetrics({ ledger: s, marks: { ETHP: '1880' }, products, sessionStart });
    // equity = 10000 + 500 − 3 − 200 − 360 = 9937; net transfers 300
    // session PnL = 9937 − 10000 − (300 − 0) = −363 = the fee and the uPnL only
    expect([m.equity, m.sessionPnl]).toEqual(['9937', '-363']);
    // From another start (equity 10297, net transfers 500): 9937 − 10297 − (300 − 500) = −160
    expect(
      riskMetrics({ ledger: s, marks: { ETHP: '1880' }, products, sessionStart: { equity: '10297', netTransfers: '500' } }).sessionPnl,
    ).toBe('-160');
  });

  it('names what is missing', () => {
    const l = ledger('1000', [['ETHP', 'buy', '1', '2000']]);
    expect(() => riskMetrics({ ledger: l, marks: {}, products })).toThrow(new MetricsError('marks.ETHP: no mark for held symbol ETHP'));
    expect(() => riskMetrics({ ledger: l, marks: { ETHP: '2000' }, products: {} })).toThrow(
      'products.ETHP: no product for held symbol ETHP',
    );
    expect(() => riskMetrics({ ledger: l, marks: { ETHP: '0' }, products })).toThrow('marks.ETHP: must be > 0, got "0"');
    expect(() => riskMetrics({ ledger: l, marks: { ETHP: '2000' }, products, sessionStart: { equity: 'x', netTransfers: '0' } })).toThrow(
      'sessionStart.equity: expected a decimal string, got "x"',
    );
  });
});

describe('projectedMetrics and grossNotionalAfter', () => {
  it('shows the metrics as if the order had filled, without touching the input', () => {
    const input: RiskInput = { ledger: ledger('10000', [['ETHP', 'buy', '3', '2040']]), marks: { ETHP: '2000' }, products };
    const before = JSON.stringify(input);
    const after = projectedMetrics(input, { symbol: 'ETHP', side: 'buy', amount: '3', price: '2000' });
    // 6 @ (3 × 2040 + 3 × 2000) / 6 = 2020; uPnL 6 × (2000 − 2020) = −120; equity 9880; gross 12000
    expect(after.positions.ETHP).toMatchObject({ size: '6', avgEntry: '2020', unrealizedPnl: '-120' });
    expect([after.equity, after.grossNotional]).toEqual(['9880', '12000']);
    expect(after.marginFraction).toBe('0.823333333333'); // 9880 / 12000 = 0.8233…
    expect(after.marginBuffer).toBe('0.773333333333'); // (9880 − 600) / 12000 = 0.7733…
    expect(JSON.stringify(input)).toBe(before);
    // An OrderIntent's extra fields are ignored.
    const asOrder = { symbol: 'ETHP', side: 'buy' as const, amount: '3', price: '2000', type: 'limit' as const };
    expect(projectedMetrics(input, asOrder)).toEqual(after);
  });

  it('projects a new symbol and a close', () => {
    const input: RiskInput = { ledger: createLedger('10000'), marks: { ETHP: '2000' }, products };
    const open = projectedMetrics(input, { symbol: 'ETHP', side: 'sell', amount: '3', price: '2000' });
    expect([open.grossNotional, open.marginFraction]).toEqual(['6000', '1.666666666666']); // 10000 / 6000
    const held: RiskInput = { ...input, ledger: ledger('10000', [['ETHP', 'sell', '3', '2000']]) };
    const close = projectedMetrics(held, { symbol: 'ETHP', side: 'buy', amount: '3', price: '1990' });
    // realize (1990 − 2000) × 3 × (−1) = 30
    expect([close.grossNotional, close.collateral, close.marginFraction]).toEqual(['0', '10030', null]);
    expect(() => projectedMetrics(input, { symbol: 'ETHP', side: 'buy', amount: '0', price: '2000' })).toThrow(MetricsError);
    expect(() => projectedMetrics(input, { symbol: 'SOLP', side: 'buy', amount: '1', price: '100' })).toThrow('marks.SOLP');
  });

  it("grossNotionalAfter replaces one symbol's notional", () => {
    const m = riskMetrics({
      ledger: ledger('10000', [
        ['ETHP', 'buy', '3', '2000'],
        ['BTCP', 'sell', '0.1', '60000'],
      ]),
      marks: { ETHP: '1880', BTCP: '62000' },
      products,
    });
    expect(str(grossNotionalAfter(m, 'ETHP', '-5', '1880'))).toBe('15600'); // 6200 + 5 × 1880
    expect(str(grossNotionalAfter(m, 'SOLP', '10', '100'))).toBe('12840'); // 11840 + 10 × 100
  });
});

describe('metrics properties', () => {
  const options = { seed: 42, numRuns: 500 };
  const decimal = (min: number, max: number, scale: number) => fc.integer({ min, max }).map((n) => str(dec(n).div(scale)));

  it('at the liquidation price equity meets the maintenance margin (within the 8-dp rounding, on the safe side)', () => {
    fc.assert(
      fc.property(
        decimal(1, 100_000_00, 100), // collateral 0.01 … 100000
        fc.constantFrom('buy' as const, 'sell' as const),
        decimal(1, 100_000, 10_000), // size 0.0001 … 10
        decimal(10_000, 40_000, 10), // entry
        decimal(10_000, 40_000, 10), // mark
        decimal(1, 50_000, 100_000), // BTCP size 0.00001 … 0.5 (short), held fixed
        (collateral, side, size, entry, mark, btc) => {
          const input: RiskInput = {
            ledger: ledger(collateral, [
              ['ETHP', side, size, entry],
              ['BTCP', 'sell', btc, '60000'],
            ]),
            marks: { ETHP: mark, BTCP: '61000' },
            products,
          };
          const m = riskMetrics(input);
          const p = m.positions.ETHP!.liquidationPrice;
          if (p === null) {
            // No positive price liquidates it: even at the worst end (a long at 0+) headroom stays ≥ 0, or a
            // short's solution is not positive. Check the long case at the smallest price.
            if (side === 'buy') expect(headroomAt(input, 'ETHP', '0.00000001').gte(0)).toBe(true);
            return;
          }
          const h = headroomAt(input, 'ETHP', p);
          // Rounded towards the mark by < 1e-8: headroom ≥ 0, and less than |s| × 1e-8 × (1 + mmr).
          expect(h.gte(0)).toBe(true);
          expect(h.lte(dec(size).times('0.00000001').times('1.05'))).toBe(true);
          // One step further it is liquidatable.
          const beyond = side === 'buy' ? dec(p).minus('0.00000001') : dec(p).plus('0.00000001');
          if (beyond.gt(0)) expect(riskMetrics({ ...input, marks: { ...input.marks, ETHP: str(beyond) } }).liquidatable).toBe(true);
        },
      ),
      options,
    );
  });

  it('margin fraction and buffer are floored: never above the exact ratio, never 1e-12 below it', () => {
    fc.assert(
      fc.property(
        decimal(-100_000, 10_000_000, 100),
        decimal(1, 100_000, 10_000),
        decimal(10_000, 40_000, 10),
        decimal(10_000, 40_000, 10),
        (collateral, size, entry, mark) => {
          const m = riskMetrics({ ledger: ledger(collateral, [['ETHP', 'buy', size, entry]]), marks: { ETHP: mark }, products });
          const exactMf = dec(m.equity).div(m.grossNotional);
          const exactBuffer = dec(m.equity).minus(m.maintenanceMargin).div(m.grossNotional);
          for (const [shown, exact] of [
            [m.marginFraction!, exactMf],
            [m.marginBuffer!, exactBuffer],
          ] as const) {
            expect(dec(shown).lte(exact)).toBe(true);
            expect(exact.minus(shown).lt('0.000000000001')).toBe(true);
            expect(dec(shown).decimalPlaces()).toBeLessThanOrEqual(12);
          }
          expect(m.liquidatable).toBe(exactMf.lt(m.maintenance));
        },
      ),
      options,
    );
  });
});
