import { describe, expect, it } from 'vitest';
import { resolveRiskLimits } from '../../src/domain/risk-limits.ts';
import { effectiveBudget, knownSymbols, portfoliosOf, riskLimitChain, stopoutScopesOf } from '../../src/config/resolve.ts';
import { formatProblems, parseConfigText } from '../../src/config/load.ts';
import type { FleetConfig } from '../../src/config/fleet-schema.ts';

function fleet(text: string): FleetConfig {
  const r = parseConfigText(text, 'fleet.yaml');
  if (!r.ok) throw new Error(formatProblems(r.problems).join('\n'));
  if (r.kind !== 'fleet') throw new Error('expected a fleet');
  return r.value;
}

const FLEET = fleet(`
defaults: { budget: { minMarginBuffer: "0.1", panicMarginBuffer: "0.03", maxPositionSize: { ETHP: "10", BTCP: "1" } } }
accounts:
  - id: alpha
    budget: { maxPositionSize: { ETHP: "6" }, sessionLossLimit: "600" }
    riskLimits: [ { type: day, applyTo: balance-difference, maxRelativeRisk: 0.05, closePositions: true } ]
  - id: beta
  - id: gamma
portfolios:
  - id: core
    members:
      - { account: alpha, riskLimits: [ { type: day, applyTo: balance-minus-equity, maxAbsoluteRisk: "800", closePositions: true } ] }
      - { account: beta }
    riskLimits: [ { type: day, applyTo: equity-difference, maxAbsoluteRisk: "1500", closePositions: false } ]
  - id: growth
    members: [ { account: alpha } ]
subscribers:
  - id: fund-a
    riskLimits: [ { type: month, applyTo: balance-minus-equity, maxRelativeRisk: 0.2, closePositions: true } ]
    subscriptions:
      - { target: core, riskLimits: [ { type: day, applyTo: balance-difference, maxRelativeRisk: 0.04, closePositions: true } ] }
      - { target: alpha }
  - id: fund-b
    subscriptions: [ { target: gamma } ]
`);

describe('riskLimitChain (CopyFactory levels)', () => {
  it('an account in two portfolios with a subscriber to one of them and to the account itself', () => {
    expect(riskLimitChain(FLEET, 'alpha')).toEqual([
      {
        level: 'strategy',
        id: 'alpha',
        limits: [{ type: 'day', applyTo: 'balance-difference', maxRelativeRisk: '0.05', closePositions: true }],
      },
      {
        level: 'member',
        id: 'core/alpha',
        limits: [{ type: 'day', applyTo: 'balance-minus-equity', maxAbsoluteRisk: '800', closePositions: true }],
      },
      { level: 'member', id: 'growth/alpha', limits: [] },
      {
        level: 'portfolio',
        id: 'core',
        limits: [{ type: 'day', applyTo: 'equity-difference', maxAbsoluteRisk: '1500', closePositions: false }],
      },
      { level: 'portfolio', id: 'growth', limits: [] },
      {
        level: 'subscription',
        id: 'fund-a/core',
        limits: [{ type: 'day', applyTo: 'balance-difference', maxRelativeRisk: '0.04', closePositions: true }],
      },
      { level: 'subscription', id: 'fund-a/alpha', limits: [] },
      {
        level: 'subscriber',
        id: 'fund-a',
        limits: [{ type: 'month', applyTo: 'balance-minus-equity', maxRelativeRisk: '0.2', closePositions: true }],
      },
    ]);
  });

  it('a member without own limits, and an account outside every portfolio', () => {
    expect(riskLimitChain(FLEET, 'beta').map((s) => `${s.level}:${s.id}:${s.limits.length}`)).toEqual([
      'strategy:beta:0',
      'member:core/beta:0',
      'portfolio:core:1',
      'subscription:fund-a/core:1',
      'subscriber:fund-a:1',
    ]);
    expect(riskLimitChain(FLEET, 'gamma').map((s) => `${s.level}:${s.id}`)).toEqual([
      'strategy:gamma',
      'subscription:fund-b/gamma',
      'subscriber:fund-b',
    ]);
  });

  it('feeds the domain resolver: the subscription limit overrides the strategy limit of the same key', () => {
    const resolved = resolveRiskLimits(riskLimitChain(FLEET, 'alpha'));
    // day|balance-difference|true: strategy 0.05 is replaced by subscription fund-a/core 0.04.
    const dayBalance = resolved.filter((l) => l.type === 'day' && l.applyTo === 'balance-difference');
    expect(dayBalance).toEqual([
      {
        type: 'day',
        applyTo: 'balance-difference',
        maxRelativeRisk: '0.04',
        closePositions: true,
        level: 'subscription',
        sourceId: 'fund-a/core',
      },
    ]);
  });

  it('returns copies: the config is not shared with the caller', () => {
    const chain = riskLimitChain(FLEET, 'alpha');
    chain[0]!.limits[0]!.maxRelativeRisk = '0.99';
    expect(FLEET.accounts[0]!.riskLimits![0]!.maxRelativeRisk).toBe('0.05');
  });

  it('throws for an unknown account', () => {
    expect(() => riskLimitChain(FLEET, 'nobody')).toThrow('unknown account "nobody"');
  });
});

describe('other resolution', () => {
  it('portfoliosOf lists the portfolios in file order', () => {
    expect(portfoliosOf(FLEET, 'alpha')).toEqual(['core', 'growth']);
    expect(portfoliosOf(FLEET, 'gamma')).toEqual([]);
  });

  it('stopoutScopesOf: fleet, account and every level of the chain', () => {
    expect(stopoutScopesOf(FLEET, 'beta')).toEqual([
      { scope: 'fleet', id: '*' },
      { scope: 'account', id: 'beta' },
      { scope: 'strategy', id: 'beta' },
      { scope: 'member', id: 'core/beta' },
      { scope: 'portfolio', id: 'core' },
      { scope: 'subscription', id: 'fund-a/core' },
      { scope: 'subscriber', id: 'fund-a' },
    ]);
  });

  it('effectiveBudget: the account overrides defaults rule by rule, maxPositionSize per symbol', () => {
    expect(effectiveBudget(FLEET, 'alpha')).toEqual({
      minMarginBuffer: '0.1',
      panicMarginBuffer: '0.03',
      sessionLossLimit: '600',
      maxPositionSize: { ETHP: '6', BTCP: '1' },
    });
    expect(effectiveBudget(FLEET, 'beta')).toEqual({
      minMarginBuffer: '0.1',
      panicMarginBuffer: '0.03',
      maxPositionSize: { ETHP: '10', BTCP: '1' },
    });
  });

  it('knownSymbols: defaults plus configured products', () => {
    expect(knownSymbols(FLEET)).toEqual(['ETHP', 'BTCP']);
    expect(knownSymbols({ products: { SOLP: {}, ETHP: {} } })).toEqual(['ETHP', 'BTCP', 'SOLP']);
  });
});
