import { describe, expect, it } from 'vitest';
import { formatProblems, parseConfigText } from '../../src/config/load.ts';

function problems(text: string): string[] {
  const r = parseConfigText(text, 'test.yaml');
  return r.ok ? [] : formatProblems(r.problems).sort();
}

describe('cross-field checks of a fleet', () => {
  it('duplicate ids, unknown members and targets, ambiguous ids', () => {
    const text = `
accounts: [ { id: alpha }, { id: beta }, { id: alpha } ]
portfolios:
  - { id: core, members: [ { account: alpha }, { account: zeta }, { account: alpha } ] }
  - { id: core, members: [] }
  - { id: beta, members: [] }
subscribers:
  - { id: fund-a, subscriptions: [ { target: core }, { target: nowhere }, { target: core } ] }
  - { id: fund-a, subscriptions: [] }
`;
    expect(problems(text)).toEqual([
      'accounts[2].id: duplicate account id "alpha" (also accounts[0].id)',
      'accounts[2].strategy: strategy "alpha" of the same trader is already used by accounts[0]',
      'portfolios[0].members[1].account: unknown account "zeta"',
      'portfolios[0].members[2].account: account "alpha" is listed twice',
      'portfolios[1].id: duplicate portfolio id "core" (also portfolios[0].id)',
      'portfolios[2].id: "beta" is also an account id; subscription targets would be ambiguous',
      'subscribers[0].subscriptions[1].target: unknown account or portfolio "nowhere"',
      'subscribers[0].subscriptions[2].target: "core" is subscribed twice',
      'subscribers[1].id: duplicate subscriber id "fund-a" (also subscribers[0].id)',
    ]);
  });

  it('two accounts on one venue strategy of the same trader', () => {
    const t1 = '0x1111111111111111111111111111111111111111';
    const t2 = '0x2222222222222222222222222222222222222222';
    expect(problems(`accounts: [ { id: a, trader: "${t1}", strategy: s }, { id: b, trader: "${t2}", strategy: s } ]`)).toEqual([]);
    expect(
      problems(
        `accounts: [ { id: a, trader: "${t1}", strategy: s }, { id: b, trader: "${t1.toUpperCase().replace('0X', '0x')}", strategy: s } ]`,
      ),
    ).toEqual(['accounts[1].strategy: strategy "s" of the same trader is already used by accounts[0]']);
  });

  it('symbols must be known products (ETHP, BTCP, or listed under products)', () => {
    const text = `
products: { SOLP: { tickSize: "0.01", minOrderSize: "0.1", maxOrderNotional: "100000", maxTakerPriceDeviation: "0.02", maxLeverage: 5 } }
defaults: { budget: { maxPositionSize: { DOGEP: "1" } } }
accounts: [ { id: alpha, budget: { maxPositionSize: { ETHP: "1", BTCP: "1", SOLP: "1", XRPP: "1" } } } ]
`;
    expect(problems(text)).toEqual([
      'accounts[0].budget.maxPositionSize.XRPP: unknown product "XRPP" (known: ETHP, BTCP, SOLP; add it under products)',
      'defaults.budget.maxPositionSize.DOGEP: unknown product "DOGEP" (known: ETHP, BTCP, SOLP; add it under products)',
    ]);
  });

  it('panicMarginBuffer must be below minMarginBuffer, also through defaults', () => {
    const text = `
defaults: { budget: { minMarginBuffer: "0.10", panicMarginBuffer: "0.03" } }
accounts:
  - { id: a }
  - { id: b, budget: { panicMarginBuffer: "0.10" } }
  - { id: c, budget: { minMarginBuffer: "0.02" } }
  - { id: d, budget: { minMarginBuffer: "0.05", panicMarginBuffer: "0.06" } }
  - { id: e, budget: { minMarginBuffer: "0.05", panicMarginBuffer: "0.01" } }
`;
    expect(problems(text)).toEqual([
      'accounts[1].budget.panicMarginBuffer: panicMarginBuffer (0.10) must be below minMarginBuffer (0.10) (one of them from defaults.budget)',
      'accounts[2].budget.minMarginBuffer: panicMarginBuffer (0.03) must be below minMarginBuffer (0.02) (one of them from defaults.budget)',
      'accounts[3].budget.panicMarginBuffer: panicMarginBuffer (0.06) must be below minMarginBuffer (0.05)',
    ]);
    expect(problems('defaults: { budget: { minMarginBuffer: "0.1", panicMarginBuffer: "0.2" } }\naccounts: [ { id: a } ]')).toEqual([
      'defaults.budget.panicMarginBuffer: panicMarginBuffer (0.2) must be below minMarginBuffer (0.1)',
    ]);
  });

  it('venue and redis combinations', () => {
    const text = `
accounts: [ { id: a } ]
venue: { kind: derivadex, keystorePasswordEnv: KS_PASSWORD }
redis: { url: "redis://r:6379", sentinels: [ { host: s1, port: 26379 } ], cluster: [ { host: c1, port: 7000 } ] }
`;
    expect(problems(text)).toEqual([
      'redis.cluster: use either cluster or sentinels, not both',
      'redis.sentinelName: required with sentinels',
      'redis.url: use either url or cluster, not both',
      'venue.keystorePasswordEnv: only meaningful with keystore',
      'venue.url: required when kind is derivadex',
    ]);
  });
});

describe('cross-field checks of a scenario', () => {
  it('marks start at 0s, strictly increase, stay within until; every traded symbol has marks', () => {
    const text = `
name: s
accounts:
  - id: alpha
    collateral: "1000"
    budget: { maxPositionSize: { SOLP: "1" } }
    signal:
      kind: scripted
      orders:
        - { at: "1s", symbol: ETHP, side: buy, amount: "1", type: market }
        - { at: "2s", symbol: BTCP, side: buy, amount: "1", type: market }
        - { at: "3s", symbol: XRPP, side: buy, amount: "1", type: market }
        - { at: "2m", symbol: ETHP, side: sell, amount: "1", type: market }
  - { id: beta, collateral: "1000", signal: { kind: ma-crossover, symbol: BTCP, fast: 2, slow: 5, amount: "1" } }
marks:
  ETHP: [ { at: "1s", price: "2000" }, { at: "30s", price: "1990" }, { at: "30s", price: "1980" }, { at: "20s", price: "1970" }, { at: "90s", price: "1960" } ]
  DOGEP: [ { at: 0, price: "0.1" } ]
until: "60s"
`;
    expect(problems(text)).toEqual([
      'accounts[0].budget.maxPositionSize.SOLP: unknown product "SOLP" (known: ETHP, BTCP; add it under products)',
      'accounts[0].signal.orders[1].symbol: no marks for "BTCP"',
      'accounts[0].signal.orders[2].symbol: unknown product "XRPP" (known: ETHP, BTCP; add it under products)',
      'accounts[0].signal.orders[3].at: 120s is after until (60s)',
      'accounts[1].signal.symbol: no marks for "BTCP"',
      'marks.DOGEP: unknown product "DOGEP" (known: ETHP, BTCP; add it under products)',
      'marks.ETHP[0].at: the first mark must be at "0s", got 1s',
      'marks.ETHP[2].at: expected a time after the previous mark (30s)',
      'marks.ETHP[3].at: expected a time after the previous mark (30s)',
      'marks.ETHP[4].at: 90s is after until (60s)',
    ]);
  });

  it('operator and fault references must exist', () => {
    const text = `
name: s
accounts: [ { id: alpha, collateral: "1" }, { id: beta, collateral: "1" } ]
portfolios: [ { id: core, members: [ { account: alpha } ] } ]
subscribers: [ { id: fund-a, subscriptions: [ { target: core } ] } ]
marks: { ETHP: [ { at: 0, price: "2000" } ] }
faults:
  - { at: "1s", kind: reject-next-order, account: gamma, reason: NoLiquidity }
  - { at: "2m", kind: disconnect }
operator:
  - { at: "1s", action: set-stopout, scope: fleet, id: all, reason: manual }
  - { at: "1s", action: set-stopout, scope: fleet, id: "*", reason: manual }
  - { at: "1s", action: set-stopout, scope: account, id: gamma, reason: manual }
  - { at: "1s", action: set-stopout, scope: strategy, id: beta, reason: manual }
  - { at: "1s", action: set-stopout, scope: portfolio, id: satellite, reason: manual }
  - { at: "1s", action: set-stopout, scope: member, id: core/beta, reason: manual }
  - { at: "1s", action: set-stopout, scope: member, id: core/alpha, reason: manual }
  - { at: "1s", action: reset-stopout, scope: subscription, id: fund-a/core, reason: manual }
  - { at: "1s", action: reset-stopout, scope: subscription, id: fund-a/alpha, reason: manual }
  - { at: "1s", action: move-start-time, scope: subscriber, id: fund-b }
  - { at: "1s", action: move-start-time, scope: subscriber, id: fund-a }
until: "60s"
`;
    expect(problems(text)).toEqual([
      'faults[0].account: unknown account "gamma"',
      'faults[1].at: 120s is after until (60s)',
      'operator[0].id: the fleet scope has id "*"',
      'operator[2].id: unknown account "gamma"',
      'operator[4].id: unknown portfolio "satellite"',
      'operator[5].id: expected "<portfolio>/<account>" naming a member, got "core/beta"',
      'operator[8].id: expected "<subscriber>/<target>" naming a subscription, got "fund-a/alpha"',
      'operator[9].id: unknown subscriber "fund-b"',
    ]);
  });
});
