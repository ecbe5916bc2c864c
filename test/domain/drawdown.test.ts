import { describe, expect, it } from 'vitest';
import {
  MAX_DAY_OPENS,
  baselineAt,
  createDrawdownHistory,
  measureDrawdown,
  observe,
  pinAnchor,
  type DrawdownHistory,
  type ObservationInput,
} from '../../src/domain/drawdown.ts';
import { dec } from '../../src/domain/decimal.ts';
import { DAY_MS, parseIsoTime, toIso } from '../../src/domain/periods.ts';
import type { RiskLimit } from '../../src/domain/risk-limit.ts';

const ms = (iso: string): number => {
  const t = parseIsoTime(iso);
  if (t === null) throw new Error(`bad test time ${iso}`);
  return t;
};

/** An observation at `iso`: balance, equity, net transfers (default 0). */
const o = (iso: string, balance: string, equity: string = balance, netTransfers = '0'): ObservationInput => ({
  at: ms(iso),
  balance,
  equity,
  netTransfers,
});

const feed = (...obs: ObservationInput[]): DrawdownHistory => obs.reduce(observe, createDrawdownHistory());

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

const limit = (l: Partial<RiskLimit>): RiskLimit => ({ type: 'day', applyTo: 'balance-difference', closePositions: false, ...l });

describe('observe', () => {
  it('keeps the first observation, the first of each UTC day and the latest, as canonical strings', () => {
    const h = feed(
      o('2026-01-05T13:00:00Z', '10000.00'),
      o('2026-01-05T18:00:00Z', '9900'),
      o('2026-01-06T00:00:00Z', '9800'),
      o('2026-01-06T09:00:00Z', '9700', '9650.50'),
    );
    expect(h.first).toEqual({ at: ms('2026-01-05T13:00:00Z'), balance: '10000', equity: '10000', netTransfers: '0' });
    expect(h.dayOpens.map((x) => [toIso(x.at), x.balance])).toEqual([
      ['2026-01-05T13:00:00.000Z', '10000'],
      ['2026-01-06T00:00:00.000Z', '9800'],
    ]);
    expect(h.latest).toEqual({ at: ms('2026-01-06T09:00:00Z'), balance: '9700', equity: '9650.5', netTransfers: '0' });
    // JSON round trip is lossless.
    expect(JSON.parse(JSON.stringify(h))).toEqual(h);
  });

  it('accepts Decimal values', () => {
    const h = observe(createDrawdownHistory(), { at: 0, balance: dec('1.50'), equity: dec(2), netTransfers: dec('-0') });
    expect(h.latest).toEqual({ at: 0, balance: '1.5', equity: '2', netTransfers: '0' });
  });

  it('returns the same object when nothing changes, and ignores observations older than the latest', () => {
    const h = feed(o('2026-01-05T13:00:00Z', '10000'), o('2026-01-05T14:00:00Z', '9990'));
    expect(observe(h, o('2026-01-05T14:00:00Z', '9990.0'))).toBe(h);
    expect(observe(h, o('2026-01-05T13:30:00Z', '1'))).toBe(h);
    // Same instant, new values: latest changes, the day-open does not.
    const h2 = observe(h, o('2026-01-05T14:00:00Z', '9980'));
    expect(h2.latest?.balance).toBe('9980');
    expect(h2.dayOpens).toBe(h.dayOpens);
  });

  it('does not mutate its input', () => {
    const h = deepFreeze(feed(o('2026-01-05T13:00:00Z', '10000')));
    const next = observe(h, deepFreeze(o('2026-01-06T13:00:00Z', '9000')));
    expect(next.dayOpens).toHaveLength(2);
    expect(h.dayOpens).toHaveLength(1);
    expect(() => pinAnchor(h, ms('2026-01-06T00:00:00Z'))).not.toThrow();
  });

  it(`keeps at most ${MAX_DAY_OPENS} day-opens, dropping the oldest, but never the first observation`, () => {
    let h = createDrawdownHistory();
    const t0 = ms('2026-01-01T00:00:00Z');
    for (let day = 0; day < 405; day += 1)
      h = observe(h, { at: t0 + day * DAY_MS, balance: String(day), equity: String(day), netTransfers: '0' });
    expect(h.dayOpens).toHaveLength(400);
    // Days 0..404 observed; 405 − 400 = 5 dropped, so the oldest kept is day 5.
    expect(h.dayOpens[0]!.balance).toBe('5');
    expect(h.first?.balance).toBe('0');
  });

  it('refuses bad values, naming the field', () => {
    expect(() => observe(createDrawdownHistory(), { at: 0, balance: '1e3', equity: '1', netTransfers: '0' })).toThrow(
      /observation\.balance/,
    );
    expect(() => observe(createDrawdownHistory(), { at: Number.NaN, balance: '1', equity: '1', netTransfers: '0' })).toThrow(
      /observation\.at/,
    );
  });
});

describe('baselineAt and pinAnchor', () => {
  const h = feed(
    o('2026-01-05T13:00:00Z', '10000'),
    o('2026-01-05T20:00:00Z', '9900'),
    o('2026-01-06T00:00:01Z', '9800'),
    o('2026-01-06T15:00:00Z', '9300'),
  );

  it('the baseline is the first stored value observed at or after the period start', () => {
    expect(baselineAt(h, ms('2026-01-01T00:00:00Z'))?.balance).toBe('10000'); // the first observation
    expect(baselineAt(h, ms('2026-01-05T13:00:00Z'))?.balance).toBe('10000');
    // 20:00 is not stored: the next stored one is the Jan 6 day-open.
    expect(baselineAt(h, ms('2026-01-05T13:00:00.001Z'))?.balance).toBe('9800');
    expect(baselineAt(h, ms('2026-01-06T00:00:00Z'))?.balance).toBe('9800');
    expect(baselineAt(h, ms('2026-01-06T00:00:02Z'))).toBeNull();
  });

  it('pins the latest values when the latest observation is at the pinned time', () => {
    const pinned = pinAnchor(h, ms('2026-01-06T15:00:00Z'));
    expect(pinned.anchors).toEqual({ '2026-01-06T15:00:00.000Z': h.latest });
    expect(baselineAt(pinned, ms('2026-01-06T00:00:02Z'))?.balance).toBe('9300');
    expect(pinAnchor(pinned, ms('2026-01-06T15:00:00Z'))).toBe(pinned);
    expect(h.anchors).toEqual({}); // input untouched
  });

  it('a later pin stays pending until an observation at or after it fills it', () => {
    const pending = pinAnchor(h, ms('2026-01-06T15:30:00Z'));
    expect(pending.anchors).toEqual({ '2026-01-06T15:30:00.000Z': null });
    expect(baselineAt(pending, ms('2026-01-06T15:30:00Z'))).toBeNull();
    expect(pinAnchor(pending, ms('2026-01-06T15:30:00Z'))).toBe(pending);
    const filled = observe(observe(pending, o('2026-01-06T15:29:59Z', '1')), o('2026-01-06T15:30:05Z', '9250'));
    expect(filled.anchors['2026-01-06T15:30:00.000Z']).toEqual({
      at: ms('2026-01-06T15:30:05Z'),
      balance: '9250',
      equity: '9250',
      netTransfers: '0',
    });
    expect(baselineAt(filled, ms('2026-01-06T15:30:00Z'))?.balance).toBe('9250');
  });
});

describe('measureDrawdown', () => {
  it('a day limit breaches at 23:59 and resets at 00:00 UTC with the new day-open as baseline', () => {
    const dayLimit = limit({ type: 'day', maxAbsoluteRisk: '600' });
    const h = feed(o('2026-01-05T00:00:05Z', '10000'), o('2026-01-05T23:59:00Z', '9400'));
    // 10000 − 9400 = 600 >= 600.
    expect(measureDrawdown(h, dayLimit, o('2026-01-05T23:59:00Z', '9400'))).toEqual({
      periodStart: ms('2026-01-05T00:00:00Z'),
      periodEnd: ms('2026-01-06T00:00:00Z'),
      baseAt: ms('2026-01-05T00:00:05Z'),
      base: '10000',
      drawdown: '600',
      relative: '0.06', // 600 / 10000
      absoluteBreached: true,
      relativeBreached: false,
      breached: true,
    });
    expect(measureDrawdown(h, dayLimit, o('2026-01-05T23:59:59.999Z', '9400'))?.breached).toBe(true);
    // 00:00:00.000 the next day, not observed yet: the current value is the first of the day → 0.
    const midnight = measureDrawdown(h, dayLimit, o('2026-01-06T00:00:00.000Z', '9400'));
    expect(midnight?.drawdown).toBe('0');
    expect(midnight?.breached).toBe(false);
    // Observed: the day-open 9400 is the baseline; a further 100 loss is 9400 − 9300 = 100 < 600.
    const h2 = observe(h, o('2026-01-06T00:00:00.000Z', '9400'));
    const later = measureDrawdown(h2, dayLimit, o('2026-01-06T08:00:00Z', '9300'));
    expect(later).toMatchObject({ periodStart: ms('2026-01-06T00:00:00Z'), base: '9400', drawdown: '100', breached: false });
  });

  it('week and week-to-date differ on a Tuesday', () => {
    // Day-opens (equity = balance): Tue Dec 30 11000, Wed Dec 31 10000, Thu Jan 1 10200, Fri 10100,
    // Sat 10000, Sun 9900, Mon Jan 5 9800, Tue Jan 6 9700; now Tue Jan 6 15:00 at 9500.
    const h = feed(
      o('2025-12-30T00:00:00Z', '11000'),
      o('2025-12-31T00:00:00Z', '10000'),
      o('2026-01-01T00:00:00Z', '10200'),
      o('2026-01-02T00:00:00Z', '10100'),
      o('2026-01-03T00:00:00Z', '10000'),
      o('2026-01-04T00:00:00Z', '9900'),
      o('2026-01-05T00:00:00Z', '9800'),
      o('2026-01-06T00:00:00Z', '9700'),
    );
    const now = o('2026-01-06T15:00:00Z', '9500');
    const week = measureDrawdown(h, limit({ type: 'week', applyTo: 'equity-difference', maxAbsoluteRisk: '400' }), now);
    const wtd = measureDrawdown(h, limit({ type: 'week-to-date', applyTo: 'equity-difference', maxAbsoluteRisk: '400' }), now);
    // week: from Wed Dec 31 (Jan 6 − 6 days): 10000 − 9500 = 500 >= 400. Ends Jan 13.
    expect(week).toMatchObject({
      periodStart: ms('2025-12-31T00:00:00Z'),
      periodEnd: ms('2026-01-13T00:00:00Z'),
      base: '10000',
      drawdown: '500',
      breached: true,
    });
    // week-to-date: from Mon Jan 5: 9800 − 9500 = 300 < 400. Ends Mon Jan 12.
    expect(wtd).toMatchObject({
      periodStart: ms('2026-01-05T00:00:00Z'),
      periodEnd: ms('2026-01-12T00:00:00Z'),
      base: '9800',
      drawdown: '300',
      breached: false,
    });
  });

  it('lifetime never resets: its baseline is the first observation, across years and dropped day-opens', () => {
    let h = feed(o('2026-01-05T13:00:00Z', '10000'));
    for (let day = 1; day <= 450; day += 1) {
      h = observe(h, { at: ms('2026-01-05T13:00:00Z') + day * DAY_MS, balance: '9500', equity: '9500', netTransfers: '0' });
    }
    const m = measureDrawdown(h, limit({ type: 'lifetime', maxAbsoluteRisk: '1000' }), o('2027-04-01T00:00:00Z', '9000'));
    // 10000 − 9000 = 1000 >= 1000; no end.
    expect(m).toMatchObject({ periodStart: ms('2026-01-05T13:00:00Z'), periodEnd: null, base: '10000', drawdown: '1000', breached: true });
  });

  it('moving startTime forward (pin + startTime) ignores the history before it; a future startTime is not tracking', () => {
    const h = feed(o('2026-01-05T00:00:00Z', '10000'), o('2026-01-05T15:00:00Z', '9300'));
    const before = measureDrawdown(h, limit({ maxAbsoluteRisk: '600' }), o('2026-01-05T15:00:00Z', '9300'));
    expect(before?.drawdown).toBe('700'); // 10000 − 9300
    const pinned = pinAnchor(h, ms('2026-01-05T15:00:00Z'));
    const moved = limit({ maxAbsoluteRisk: '600', startTime: '2026-01-05T15:00:00Z' });
    expect(measureDrawdown(pinned, moved, o('2026-01-05T15:00:00Z', '9300'))).toMatchObject({
      periodStart: ms('2026-01-05T15:00:00Z'),
      base: '9300',
      drawdown: '0',
      breached: false,
    });
    // Later losses count from the new baseline: 9300 − 9200 = 100.
    const h2 = observe(pinned, o('2026-01-05T16:00:00Z', '9200'));
    expect(measureDrawdown(h2, moved, o('2026-01-05T16:00:00Z', '9200'))?.drawdown).toBe('100');
    // Not tracking before startTime.
    expect(
      measureDrawdown(h2, limit({ maxAbsoluteRisk: '600', startTime: '2026-01-05T17:00:00Z' }), o('2026-01-05T16:00:00Z', '9200')),
    ).toBeNull();
    // A startTime before the day start changes nothing: max(day start, startTime) = day start.
    expect(
      measureDrawdown(h2, limit({ maxAbsoluteRisk: '600', startTime: '2026-01-01T00:00:00Z' }), o('2026-01-05T16:00:00Z', '9200'))
        ?.drawdown,
    ).toBe('800');
  });

  it('deposits and withdrawals are not drawdown', () => {
    const h = feed(o('2026-01-05T00:00:00Z', '10000', '10000', '0'));
    const abs = limit({ maxAbsoluteRisk: '500', maxRelativeRisk: '0.03' });
    // Deposit 5000: balance 15000, net 5000. Baseline' = 10000 + (5000 − 0) = 15000; 15000 − 15000 = 0.
    expect(measureDrawdown(h, abs, o('2026-01-05T10:00:00Z', '15000', '15000', '5000'))).toMatchObject({
      base: '15000',
      drawdown: '0',
      breached: false,
    });
    // Then a 300 loss: 15000 − 14700 = 300, relative 300 / 15000 = 0.02.
    expect(measureDrawdown(h, abs, o('2026-01-05T11:00:00Z', '14700', '14700', '5000'))).toMatchObject({
      drawdown: '300',
      relative: '0.02',
      breached: false,
    });
    // Withdrawal 2000: balance 8000, net −2000. Baseline' = 10000 − 2000 = 8000; 8000 − 8000 = 0.
    expect(measureDrawdown(h, abs, o('2026-01-05T12:00:00Z', '8000', '8000', '-2000'))).toMatchObject({
      base: '8000',
      drawdown: '0',
      breached: false,
    });
    // Withdrawal 2000 and a 240 loss: 8000 − 7760 = 240; 240 / 8000 = 0.03 >= 0.03.
    expect(measureDrawdown(h, abs, o('2026-01-05T12:00:00Z', '7760', '7760', '-2000'))).toMatchObject({
      drawdown: '240',
      relative: '0.03',
      absoluteBreached: false,
      relativeBreached: true,
      breached: true,
    });
  });

  describe('the three measures, absolute and relative', () => {
    // Day open: balance 10000, equity 10200 (unrealized +200). Now: balance 9800 (200 realized loss),
    // equity 9500 (unrealized −300).
    const h = feed(o('2026-01-05T00:00:00Z', '10000', '10200'));
    const now = o('2026-01-05T12:00:00Z', '9800', '9500');

    it('balance-difference = baseBalance − balance', () => {
      // 10000 − 9800 = 200; 200 / 10000 = 0.02.
      const m = measureDrawdown(h, limit({ applyTo: 'balance-difference', maxAbsoluteRisk: '200' }), now);
      expect(m).toMatchObject({ base: '10000', drawdown: '200', relative: '0.02', absoluteBreached: true, breached: true });
      expect(measureDrawdown(h, limit({ applyTo: 'balance-difference', maxAbsoluteRisk: '200.0001' }), now)?.breached).toBe(false);
      expect(measureDrawdown(h, limit({ applyTo: 'balance-difference', maxRelativeRisk: '0.02' }), now)?.relativeBreached).toBe(true);
      expect(measureDrawdown(h, limit({ applyTo: 'balance-difference', maxRelativeRisk: '0.021' }), now)?.breached).toBe(false);
    });

    it('balance-minus-equity = baseBalance − equity', () => {
      // 10000 − 9500 = 500; 500 / 10000 = 0.05.
      const m = measureDrawdown(h, limit({ applyTo: 'balance-minus-equity', maxRelativeRisk: '0.05' }), now);
      expect(m).toMatchObject({
        base: '10000',
        drawdown: '500',
        relative: '0.05',
        absoluteBreached: false,
        relativeBreached: true,
        breached: true,
      });
      expect(measureDrawdown(h, limit({ applyTo: 'balance-minus-equity', maxAbsoluteRisk: '501' }), now)?.breached).toBe(false);
      expect(
        measureDrawdown(h, limit({ applyTo: 'balance-minus-equity', maxAbsoluteRisk: '500', maxRelativeRisk: '0.05' }), now),
      ).toMatchObject({ absoluteBreached: true, relativeBreached: true });
    });

    it('equity-difference = baseEquity − equity, relative to baseEquity', () => {
      // 10200 − 9500 = 700; 700 / 10200 = 0.068627450980392156862745098039215686… (40 digits kept).
      const m = measureDrawdown(h, limit({ applyTo: 'equity-difference', maxAbsoluteRisk: '700' }), now);
      expect(m).toMatchObject({ base: '10200', drawdown: '700', absoluteBreached: true });
      expect(m?.relative?.startsWith('0.0686274509803921568627')).toBe(true);
      // 0.068 × 10200 = 693.6 <= 700: breached; 0.07 × 10200 = 714 > 700: not (compared exactly, not on the quotient).
      expect(measureDrawdown(h, limit({ applyTo: 'equity-difference', maxRelativeRisk: '0.068' }), now)?.relativeBreached).toBe(true);
      expect(measureDrawdown(h, limit({ applyTo: 'equity-difference', maxRelativeRisk: '0.07' }), now)?.relativeBreached).toBe(false);
    });

    it('no relative check when the base is not positive', () => {
      const zero = feed(o('2026-01-05T00:00:00Z', '0', '0'));
      // 0 − (−50) = 50 against a base of 0.
      const m = measureDrawdown(
        zero,
        limit({ applyTo: 'balance-minus-equity', maxRelativeRisk: '0.1' }),
        o('2026-01-05T01:00:00Z', '0', '-50'),
      );
      expect(m).toMatchObject({ base: '0', drawdown: '50', relative: null, relativeBreached: false, breached: false });
      expect(
        measureDrawdown(
          zero,
          limit({ applyTo: 'balance-minus-equity', maxAbsoluteRisk: '50', maxRelativeRisk: '0.1' }),
          o('2026-01-05T01:00:00Z', '0', '-50'),
        )?.breached,
      ).toBe(true);
    });
  });

  it('a gain is a negative drawdown and never breaches', () => {
    const h = feed(o('2026-01-05T00:00:00Z', '10000'));
    expect(
      measureDrawdown(h, limit({ maxAbsoluteRisk: '1', maxRelativeRisk: '0.0001' }), o('2026-01-05T01:00:00Z', '10500')),
    ).toMatchObject({ drawdown: '-500', relative: '-0.05', breached: false });
  });

  it('uses the current observation as baseline when nothing is stored, and refuses a bad startTime', () => {
    const empty = createDrawdownHistory();
    expect(measureDrawdown(empty, limit({ type: 'lifetime', maxAbsoluteRisk: '1' }), o('2026-01-05T00:00:00Z', '100'))).toMatchObject({
      periodStart: ms('2026-01-05T00:00:00Z'),
      baseAt: ms('2026-01-05T00:00:00Z'),
      drawdown: '0',
      breached: false,
    });
    expect(() => measureDrawdown(empty, limit({ maxAbsoluteRisk: '1', startTime: 'yesterday' }), o('2026-01-05T00:00:00Z', '1'))).toThrow(
      /startTime/,
    );
  });
});
