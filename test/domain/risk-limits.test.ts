import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createDrawdownHistory, observe, pinAnchor, type ObservationInput } from '../../src/domain/drawdown.ts';
import { parseIsoTime, toIso } from '../../src/domain/periods.ts';
import {
  RISK_LIMIT_APPLY_TO,
  RISK_LIMIT_LEVELS,
  type ResolvedRiskLimit,
  type RiskLimit,
  type RiskLimitSource,
} from '../../src/domain/risk-limit.ts';
import {
  assertValidRiskLimit,
  canResetStopout,
  compareResolvedRiskLimits,
  evaluateRiskLimits,
  parseStopoutReason,
  resolveRiskLimits,
  riskLimitKey,
  stopoutReason,
  validateRiskLimit,
} from '../../src/domain/risk-limits.ts';

const ms = (iso: string): number => {
  const t = parseIsoTime(iso);
  if (t === null) throw new Error(`bad test time ${iso}`);
  return t;
};
const o = (iso: string, balance: string, equity: string = balance, netTransfers = '0'): ObservationInput => ({
  at: ms(iso),
  balance,
  equity,
  netTransfers,
});

const L = (l: Partial<RiskLimit>): RiskLimit => ({
  type: 'day',
  applyTo: 'balance-difference',
  closePositions: false,
  maxAbsoluteRisk: '100',
  ...l,
});

describe('validateRiskLimit', () => {
  it('accepts a limit with either or both risks', () => {
    expect(validateRiskLimit(L({}))).toEqual([]);
    expect(validateRiskLimit(L({ maxAbsoluteRisk: undefined, maxRelativeRisk: '0.05' }))).toEqual([]);
    expect(validateRiskLimit(L({ maxRelativeRisk: '0.05', startTime: '2026-01-05T00:00:00Z' }))).toEqual([]);
  });

  it('reports every problem, with the path when given', () => {
    expect(validateRiskLimit(L({ maxAbsoluteRisk: undefined }))).toEqual(['maxAbsoluteRisk or maxRelativeRisk is required']);
    expect(validateRiskLimit(L({ maxAbsoluteRisk: '-5' }))).toEqual(['maxAbsoluteRisk: must be greater than 0, got -5']);
    expect(validateRiskLimit(L({ maxAbsoluteRisk: '0' }))).toEqual(['maxAbsoluteRisk: must be greater than 0, got 0']);
    expect(validateRiskLimit(L({ maxRelativeRisk: '5%' }))).toEqual(['maxRelativeRisk: expected a decimal string, got "5%"']);
    expect(validateRiskLimit(L({ startTime: '2026-01-05 00:00' }))[0]).toMatch(/^startTime: expected an ISO 8601 time/);
    expect(validateRiskLimit(L({ startTime: '2026-01-05T00:00:00' }))[0]).toMatch(/^startTime: /); // no zone
    const bad = { type: 'fortnight', applyTo: 'margin', closePositions: 'yes' } as unknown as RiskLimit;
    expect(validateRiskLimit(bad, 'portfolios[0].riskLimits[1]')).toEqual([
      'portfolios[0].riskLimits[1].type: expected one of day, date, week, week-to-date, month, month-to-date, quarter, quarter-to-date, year, year-to-date, lifetime, got "fortnight"',
      'portfolios[0].riskLimits[1].applyTo: expected one of balance-difference, balance-minus-equity, equity-difference, got "margin"',
      'portfolios[0].riskLimits[1].closePositions: expected a boolean',
      'portfolios[0].riskLimits[1]: maxAbsoluteRisk or maxRelativeRisk is required',
    ]);
  });

  it('assertValidRiskLimit throws the problems', () => {
    expect(() => assertValidRiskLimit(L({ maxAbsoluteRisk: undefined }))).toThrow(
      'riskLimit: maxAbsoluteRisk or maxRelativeRisk is required',
    );
    expect(() => assertValidRiskLimit(L({}))).not.toThrow();
  });
});

describe('stopout reasons', () => {
  it('is <type>-<applyTo> and parses back', () => {
    expect(stopoutReason(L({ type: 'week-to-date', applyTo: 'balance-minus-equity' }))).toBe('week-to-date-balance-minus-equity');
    expect(parseStopoutReason('week-to-date-balance-minus-equity')).toEqual({ type: 'week-to-date', applyTo: 'balance-minus-equity' });
    expect(parseStopoutReason('day-equity-difference')).toEqual({ type: 'day', applyTo: 'equity-difference' });
    expect(parseStopoutReason('manual')).toBeNull();
    expect(parseStopoutReason('session-loss-limit')).toBeNull();
    expect(parseStopoutReason('hour-balance-difference')).toBeNull();
  });
});

describe('resolveRiskLimits', () => {
  const strip = (r: ResolvedRiskLimit[]): string[] =>
    r.map(
      (x) => `${x.level}:${x.sourceId}:${x.type}-${x.applyTo}:${x.closePositions}:${x.maxAbsoluteRisk ?? ''}/${x.maxRelativeRisk ?? ''}`,
    );

  it('is additive across levels', () => {
    const out = resolveRiskLimits([
      { level: 'portfolio', id: 'core', limits: [L({ type: 'day', applyTo: 'equity-difference', maxAbsoluteRisk: '1500' })] },
      {
        level: 'strategy',
        id: 'alpha',
        limits: [
          L({ type: 'day', applyTo: 'balance-difference', maxAbsoluteRisk: undefined, maxRelativeRisk: '0.05', closePositions: true }),
        ],
      },
      {
        level: 'subscriber',
        id: 'fund-a',
        limits: [
          L({ type: 'month', applyTo: 'balance-minus-equity', maxAbsoluteRisk: undefined, maxRelativeRisk: '0.2', closePositions: true }),
        ],
      },
    ]);
    expect(strip(out)).toEqual([
      'strategy:alpha:day-balance-difference:true:/0.05',
      'portfolio:core:day-equity-difference:false:1500/',
      'subscriber:fund-a:month-balance-minus-equity:true:/0.2',
    ]);
  });

  it('a later level overrides the same (applyTo, type, closePositions), at every earlier level', () => {
    const out = resolveRiskLimits([
      { level: 'strategy', id: 'alpha', limits: [L({ maxAbsoluteRisk: '600' }), L({ type: 'week', maxAbsoluteRisk: '900' })] },
      { level: 'member', id: 'core/alpha', limits: [L({ maxAbsoluteRisk: '500' })] },
      { level: 'portfolio', id: 'core', limits: [L({ maxAbsoluteRisk: '800' })] },
    ]);
    // The portfolio's day-balance-difference/false replaces the member's and the strategy's; week stays.
    expect(strip(out)).toEqual(['strategy:alpha:week-balance-difference:false:900/', 'portfolio:core:day-balance-difference:false:800/']);
  });

  it('does not override when closePositions (or type, or applyTo) differs', () => {
    const out = resolveRiskLimits([
      { level: 'strategy', id: 'alpha', limits: [L({ closePositions: true, maxAbsoluteRisk: '600' })] },
      {
        level: 'portfolio',
        id: 'core',
        limits: [L({ closePositions: false, maxAbsoluteRisk: '800' }), L({ type: 'date', maxAbsoluteRisk: '700' })],
      },
      { level: 'member', id: 'core/alpha', limits: [L({ applyTo: 'equity-difference', maxAbsoluteRisk: '650' })] },
    ]);
    expect(strip(out)).toEqual([
      'strategy:alpha:day-balance-difference:true:600/',
      'member:core/alpha:day-equity-difference:false:650/',
      'portfolio:core:day-balance-difference:false:800/',
      'portfolio:core:date-balance-difference:false:700/',
    ]);
  });

  it('keeps every limit of one level, also from several sources (several subscriptions)', () => {
    const out = resolveRiskLimits([
      { level: 'subscription', id: 'fund-a/core', limits: [L({ maxAbsoluteRisk: '300' })] },
      { level: 'subscription', id: 'fund-a/alt', limits: [L({ maxAbsoluteRisk: '200' }), L({ maxAbsoluteRisk: '250' })] },
      { level: 'strategy', id: 'alpha', limits: [L({ maxAbsoluteRisk: '600' })] },
    ]);
    expect(strip(out)).toEqual([
      'subscription:fund-a/alt:day-balance-difference:false:200/',
      'subscription:fund-a/alt:day-balance-difference:false:250/',
      'subscription:fund-a/core:day-balance-difference:false:300/',
    ]);
  });

  it('copies only the known fields and names the place of invalid limits', () => {
    const extra = { ...L({}), note: 'x' } as RiskLimit;
    expect(resolveRiskLimits([{ level: 'strategy', id: 'alpha', limits: [extra] }])[0]).toEqual({
      type: 'day',
      applyTo: 'balance-difference',
      closePositions: false,
      maxAbsoluteRisk: '100',
      level: 'strategy',
      sourceId: 'alpha',
    });
    expect(() => resolveRiskLimits([{ level: 'strategy', id: 'alpha', limits: [L({}), L({ maxAbsoluteRisk: undefined })] }])).toThrow(
      'strategy alpha.limits[1]: maxAbsoluteRisk or maxRelativeRisk is required',
    );
    expect(() => resolveRiskLimits([{ level: 'account', id: 'x', limits: [] } as unknown as RiskLimitSource])).toThrow(
      'chain[0].level: expected one of strategy, member, portfolio, subscription, subscriber, got "account"',
    );
  });

  describe('properties', () => {
    const limitArb: fc.Arbitrary<RiskLimit> = fc
      .record(
        {
          type: fc.constantFrom('day', 'date', 'week'),
          applyTo: fc.constantFrom(...RISK_LIMIT_APPLY_TO),
          closePositions: fc.boolean(),
          maxAbsoluteRisk: fc.option(fc.constantFrom('100', '250', '250.0', '1000'), { nil: undefined }),
          maxRelativeRisk: fc.option(fc.constantFrom('0.05', '0.1'), { nil: undefined }),
          startTime: fc.option(fc.constantFrom('2026-01-05T00:00:00Z', '2026-01-05T01:00:00+01:00', '2026-01-06T00:00:00Z'), {
            nil: undefined,
          }),
        },
        { requiredKeys: ['type', 'applyTo', 'closePositions'] },
      )
      .filter((l) => l.maxAbsoluteRisk !== undefined || l.maxRelativeRisk !== undefined);
    const sourceArb: fc.Arbitrary<RiskLimitSource> = fc.record({
      level: fc.constantFrom(...RISK_LIMIT_LEVELS),
      id: fc.constantFrom('a', 'b', 'c'),
      limits: fc.array(limitArb, { maxLength: 4 }),
    });
    const chainArb = fc.array(sourceArb, { maxLength: 6 });
    const permutation = <T>(xs: readonly T[]): fc.Arbitrary<T[]> =>
      fc.shuffledSubarray([...xs], { minLength: xs.length, maxLength: xs.length });
    /** The chain and the same chain with its sources and each source's limits shuffled. */
    const chainAndShuffle = chainArb.chain((chain) =>
      fc.tuple(
        fc.constant(chain),
        permutation(chain).chain((sources) =>
          sources.length === 0
            ? fc.constant([] as RiskLimitSource[])
            : fc.tuple(...sources.map((s) => permutation(s.limits).map((limits) => ({ ...s, limits })))),
        ),
      ),
    );

    it('does not depend on the order of sources or of limits within a level', () => {
      fc.assert(
        fc.property(chainAndShuffle, ([chain, shuffled]) => {
          expect(resolveRiskLimits(shuffled)).toEqual(resolveRiskLimits(chain));
        }),
        { seed: 4242, numRuns: 400 },
      );
    });

    it('for each key only the latest level that has it survives, with all of its limits; output sorted', () => {
      fc.assert(
        fc.property(chainArb, (chain) => {
          const out = resolveRiskLimits(chain);
          const level = (l: string): number => RISK_LIMIT_LEVELS.indexOf(l as (typeof RISK_LIMIT_LEVELS)[number]);
          const input = chain.flatMap((s) => s.limits.map((l) => ({ ...l, level: s.level, sourceId: s.id })));
          // Independent oracle: a limit survives iff no limit with its key sits at a strictly later level.
          const expected = input.filter((a) => !input.some((b) => riskLimitKey(b) === riskLimitKey(a) && level(b.level) > level(a.level)));
          const canon = (xs: object[]): string[] => xs.map((x) => JSON.stringify(x, Object.keys(x).sort())).sort();
          expect(canon(out)).toEqual(canon(expected));
          for (let i = 1; i < out.length; i += 1) expect(compareResolvedRiskLimits(out[i - 1]!, out[i]!)).toBeLessThanOrEqual(0);
          const levelsByKey = new Map<string, Set<string>>();
          for (const l of out) levelsByKey.set(riskLimitKey(l), (levelsByKey.get(riskLimitKey(l)) ?? new Set()).add(l.level));
          for (const levels of levelsByKey.values()) expect(levels.size).toBe(1);
        }),
        { seed: 777, numRuns: 400 },
      );
    });
  });
});

describe('evaluateRiskLimits and canResetStopout', () => {
  const chain = (startTime?: string): RiskLimitSource[] => [
    {
      level: 'strategy',
      id: 'alpha',
      limits: [L({ type: 'day', applyTo: 'balance-difference', maxAbsoluteRisk: '600', closePositions: true, startTime })],
    },
    {
      level: 'portfolio',
      id: 'core',
      limits: [L({ type: 'lifetime', applyTo: 'equity-difference', maxAbsoluteRisk: undefined, maxRelativeRisk: '0.05' })],
    },
    { level: 'subscriber', id: 'fund-a', limits: [L({ type: 'week', applyTo: 'balance-difference', maxAbsoluteRisk: '5000' })] },
  ];
  // Tracking starts Jan 5 00:00 at 10000 (balance and equity); at 12:00 balance 9388, equity 9388.
  const history = observe(createDrawdownHistory(), o('2026-01-05T00:00:00Z', '10000'));
  const now = o('2026-01-05T12:00:00Z', '9388');

  it('raises a stopout per breached limit, on the scope of its level', () => {
    const breaches = evaluateRiskLimits(resolveRiskLimits(chain()), history, now);
    // day-balance-difference: 10000 − 9388 = 612 >= 600. lifetime equity-difference: 612 / 10000 = 0.0612 >= 0.05.
    // week balance-difference: 612 < 5000: no breach.
    expect(breaches.map((b) => b.stopout)).toEqual([
      {
        scope: 'strategy',
        id: 'alpha',
        reason: 'day-balance-difference',
        closePositions: true,
        stoppedAt: '2026-01-05T12:00:00.000Z',
        stoppedTill: '2026-01-06T00:00:00.000Z',
      },
      {
        scope: 'portfolio',
        id: 'core',
        reason: 'lifetime-equity-difference',
        closePositions: false,
        stoppedAt: '2026-01-05T12:00:00.000Z',
      },
    ]);
    expect('stoppedTill' in breaches[1]!.stopout).toBe(false);
    expect(breaches[0]!.measure).toMatchObject({ drawdown: '612', absoluteBreached: true });
    expect(breaches[1]!.measure).toMatchObject({ relative: '0.0612', relativeBreached: true });
  });

  it('maps every level to its stopout scope', () => {
    for (const level of RISK_LIMIT_LEVELS) {
      const [b] = evaluateRiskLimits(resolveRiskLimits([{ level, id: 'x', limits: [L({ maxAbsoluteRisk: '1' })] }]), history, now);
      expect(b?.stopout.scope).toBe(level);
    }
  });

  it('a limit whose startTime is in the future raises nothing', () => {
    expect(evaluateRiskLimits(resolveRiskLimits(chain('2026-01-05T13:00:00Z')).slice(0, 1), history, now)).toEqual([]);
  });

  it('refuses a reset while the limit still breaches, telling to move startTime first; allows it after', () => {
    const limits = resolveRiskLimits(chain());
    const [stopout] = evaluateRiskLimits(limits, history, now).map((b) => b.stopout);
    expect(canResetStopout(stopout!, limits, history, now)).toEqual({
      ok: false,
      reason:
        'day-balance-difference still breached: drawdown 612 >= maxAbsoluteRisk 600 since 2026-01-05T00:00:00.000Z; ' +
        'move startTime on strategy alpha to now first, then reset',
    });
    // Pinning alone does not clear it: the limit's startTime is what moves its period start.
    const pinned = pinAnchor(observe(history, now), now.at);
    expect(canResetStopout(stopout!, limits, pinned, now).ok).toBe(false);
    // Move startTime on strategy alpha to now: baseline 9388, drawdown 0.
    const moved = resolveRiskLimits(chain(toIso(now.at)));
    expect(canResetStopout(stopout!, moved, pinned, now)).toEqual({ ok: true });
    // And it stays clear at the next mark: 9388 − 9380 = 8 < 600.
    const next = o('2026-01-05T12:00:01Z', '9380');
    expect(evaluateRiskLimits(moved, observe(pinned, next), next).map((b) => b.stopout.reason)).toEqual(['lifetime-equity-difference']);
  });

  it('names the relative rule when that one is breached', () => {
    const limits = resolveRiskLimits(chain());
    const check = canResetStopout({ scope: 'portfolio', id: 'core', reason: 'lifetime-equity-difference' }, limits, history, now);
    expect(check).toEqual({
      ok: false,
      reason:
        'lifetime-equity-difference still breached: relative drawdown 0.0612 >= maxRelativeRisk 0.05 since 2026-01-05T00:00:00.000Z; ' +
        'move startTime on portfolio core to now first, then reset',
    });
  });

  it('manual, unknown and orphaned reasons, and other scopes, are always resettable', () => {
    const limits = resolveRiskLimits(chain());
    expect(canResetStopout({ scope: 'fleet', id: '*', reason: 'manual' }, limits, history, now)).toEqual({ ok: true });
    expect(canResetStopout({ scope: 'strategy', id: 'alpha', reason: 'session-loss-limit' }, limits, history, now)).toEqual({ ok: true });
    expect(canResetStopout({ scope: 'strategy', id: 'alpha', reason: 'month-balance-difference' }, limits, history, now)).toEqual({
      ok: true,
    });
    expect(canResetStopout({ scope: 'strategy', id: 'beta', reason: 'day-balance-difference' }, limits, history, now)).toEqual({
      ok: true,
    });
    expect(canResetStopout({ scope: 'member', id: 'alpha', reason: 'day-balance-difference' }, limits, history, now)).toEqual({ ok: true });
  });

  it('a day stopout is resettable once the day is over', () => {
    const limits = resolveRiskLimits(chain());
    const tomorrow = o('2026-01-06T00:00:00Z', '9388');
    expect(
      canResetStopout({ scope: 'strategy', id: 'alpha', reason: 'day-balance-difference' }, limits, observe(history, tomorrow), tomorrow),
    ).toEqual({ ok: true });
  });
});
