import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RiskLimit } from '../../src/domain/risk-limit.ts';
import type { Budget } from '../../src/domain/budget.ts';
import {
  detectKind,
  formatProblems,
  loadConfigFile,
  loadConfigFileSync,
  parseConfigDocument,
  parseConfigText,
  type LoadResult,
} from '../../src/config/load.ts';

const CONFIG = new URL('../../config/', import.meta.url);

/** The problem lines of a document, sorted (the order is zod's, not the file's). */
function problems(text: string, fileName = 'test.yaml'): string[] {
  const r = parseConfigText(text, fileName);
  return r.ok ? [] : formatProblems(r.problems).sort();
}

function ok(r: LoadResult): Extract<LoadResult, { ok: true }> {
  if (!r.ok) throw new Error(`expected a valid document:\n${formatProblems(r.problems).join('\n')}`);
  return r;
}

const PRIVATE_KEY = 'private keys are never read from config files; use traderKeyEnv or keystore';
const HEX64 = `0x${'4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318'}`;

const SCENARIO = `
name: s
accounts: [ { id: alpha, collateral: "1000" } ]
marks: { ETHP: [ { at: 0, price: "2000" } ] }
until: "10s"
`;

describe('the committed examples', () => {
  it('config/fleet.example.yaml is a valid fleet with defaults filled in', async () => {
    const r = ok(await loadConfigFile(new URL('fleet.example.yaml', CONFIG).pathname));
    expect(r.kind).toBe('fleet');
    if (r.kind !== 'fleet') return;
    const fleet = r.value;
    expect(fleet.accounts.map((a) => a.id)).toEqual(['alpha', 'beta', 'gamma']);
    expect(fleet.accounts[0]!.strategy).toBe('alpha-eth');
    expect(fleet.accounts[1]!.strategy).toBe('beta'); // defaults to the id
    expect(fleet.venue.kind).toBe('simulator');
    expect(fleet.venue.staleFeedAfter).toBe(5000);
    expect(fleet.redis.failClosedAfter).toBe(2000);
    expect(fleet.defaults.reductionTimeout).toBe(15_000);
    expect(fleet.portfolios[0]!.members.map((m) => m.account)).toEqual(['alpha', 'beta']);
    expect(fleet.subscribers[0]!.subscriptions[0]!.target).toBe('core');
    // The parsed shapes are the domain's types.
    const limit: RiskLimit = fleet.accounts[0]!.riskLimits![0]!;
    expect(limit).toEqual({ type: 'day', applyTo: 'balance-difference', maxRelativeRisk: '0.05', closePositions: true });
    const budget: Budget = fleet.accounts[0]!.budget;
    expect(budget).toEqual({ maxPositionSize: { ETHP: '6' }, maxGrossNotional: '15000', sessionLossLimit: '600' });
  });

  it('config/scenarios/stress-pass.yaml is a valid scenario matching docs/contracts.md#scenario', () => {
    const r = ok(loadConfigFileSync(new URL('scenarios/stress-pass.yaml', CONFIG).pathname));
    expect(r.kind).toBe('scenario');
    if (r.kind !== 'scenario') return;
    const s = r.value;
    expect(s.name).toBe('stress-pass');
    expect(s.seed).toBe(7);
    expect(s.until).toBe(180_000);
    expect(s.marks.ETHP).toEqual([
      { at: 0, price: '2000', jump: false },
      { at: 60_000, price: '1880', jump: false },
      { at: 61_000, price: '1700', jump: true },
    ]);
    expect(s.accounts[0]!.signal).toEqual({
      kind: 'scripted',
      orders: [
        { at: 0, symbol: 'ETHP', side: 'buy', amount: '3', type: 'market' },
        { at: 20_000, symbol: 'ETHP', side: 'buy', amount: '3', type: 'limit', price: '1995' },
      ],
    });
    expect(s.accounts[1]!.signal).toEqual({ kind: 'none' });
    expect(s.faults[1]).toEqual({ at: 80_000, kind: 'drop-feed', feed: 'MARK_PRICE', duration: 10_000 });
    expect(s.operator[0]).toEqual({ at: 120_000, action: 'set-stopout', scope: 'fleet', id: '*', reason: 'manual', closePositions: false });
    expect(s.accounts[0]!.riskLimits![0]!.maxRelativeRisk).toBe('0.05'); // written as the number 0.05
  });
});

describe('kind detection', () => {
  it('a top-level marks key makes a scenario; anything else is a fleet', () => {
    expect(detectKind({ marks: {} })).toBe('scenario');
    expect(detectKind({ accounts: [] })).toBe('fleet');
    expect(detectKind([])).toBe('fleet');
    expect(detectKind(null)).toBe('fleet');
  });

  it('expect: forces a kind', () => {
    const r = parseConfigText('accounts: [ { id: alpha } ]', 'f.yaml', { expect: 'scenario' });
    expect(r.ok).toBe(false);
    expect(r.ok ? [] : formatProblems(r.problems)).toContain('marks: required');
  });
});

describe('decimals as numbers', () => {
  it('accepts exact numbers (0.05) and refuses 1e-7 and non-exact floats', () => {
    const fleet = (v: string) => `accounts: [ { id: alpha, budget: { minMarginBuffer: ${v} } } ]`;
    const r = ok(parseConfigText(fleet('0.05'), 'f.yaml'));
    expect(r.kind === 'fleet' && r.value.accounts[0]!.budget.minMarginBuffer).toBe('0.05');
    expect(problems(fleet('1e-7'))).toEqual(['accounts[0].budget.minMarginBuffer: expected a decimal string']);
    expect(problems(fleet('0.30000000000000004'))).toEqual(['accounts[0].budget.minMarginBuffer: expected a decimal string']);
    expect(problems(fleet('"0.1 "'))).toEqual(['accounts[0].budget.minMarginBuffer: expected a decimal string']);
  });
});

describe('invalid fleets report every problem at its path', () => {
  it('type errors across several accounts', () => {
    const text = `
accounts:
  - id: alpha
    budget: { maxGrossNotional: "-5", sessionLossLimit: "1e3" }
  - id: beta
    budget: { minMarginBuffer: ten, maxPositionSize: { ETHP: 0 } }
    collateral: -1
  - { id: "gamma/1", strategy: "", trader: "0x12" }
`;
    expect(problems(text)).toEqual([
      'accounts[0].budget.maxGrossNotional: expected a decimal > 0',
      'accounts[0].budget.sessionLossLimit: expected a decimal string',
      'accounts[1].budget.maxPositionSize.ETHP: expected a decimal > 0',
      'accounts[1].budget.minMarginBuffer: expected a decimal string',
      'accounts[1].collateral: expected a decimal ≥ 0',
      'accounts[2].id: expected an id of letters, digits, "_", "." and "-" (no "/", ":" or "*"), starting with a letter or digit',
      'accounts[2].strategy: expected a strategy id',
      'accounts[2].trader: expected a 0x-prefixed 20-byte hex address',
    ]);
  });

  it('risk limits: enums, booleans, ranges and "maxAbsoluteRisk or maxRelativeRisk is required"', () => {
    const text = `
accounts:
  - id: alpha
    riskLimits:
      - { type: daily, applyTo: balance-difference, closePositions: yes }
      - { type: day, applyTo: equity, maxRelativeRisk: 1.5, closePositions: true, startTime: "2026-01-05" }
      - { type: day, applyTo: equity-difference, maxAbsoluteRisk: "100" }
`;
    expect(problems(text)).toEqual([
      'accounts[0].riskLimits[0].closePositions: expected true or false',
      'accounts[0].riskLimits[0].type: expected one of "day", "date", "week", "week-to-date", "month", "month-to-date", "quarter", "quarter-to-date", "year", "year-to-date", "lifetime", got "daily"',
      'accounts[0].riskLimits[0]: maxAbsoluteRisk or maxRelativeRisk is required',
      'accounts[0].riskLimits[1].applyTo: expected one of "balance-difference", "balance-minus-equity", "equity-difference", got "equity"',
      'accounts[0].riskLimits[1].maxRelativeRisk: expected a decimal fraction in (0, 1]',
      'accounts[0].riskLimits[1].startTime: expected an ISO 8601 timestamp like "2026-01-05T13:00:00Z"',
      'accounts[0].riskLimits[2].closePositions: required',
    ]);
  });

  it('missing and empty required parts', () => {
    expect(problems('venue: { kind: simulator }')).toEqual(['accounts: required']);
    expect(problems('accounts: []')).toEqual(['accounts: expected at least one account']);
    expect(problems('accounts: { alpha: {} }')).toEqual(['accounts: expected a list, got a mapping']);
    expect(problems('- 1')).toEqual(['(root): expected a mapping (key: value), got a list']);
    expect(problems('')).toEqual(['(root): expected a mapping (key: value), got null']);
    expect(problems('accounts: [ {} ]')).toEqual(['accounts[0].id: required']);
  });

  it('unknown keys are named, each at its own path, at every level', () => {
    const text = `
acounts: []
accounts:
  - id: alpha
    budjet: {}
    budget: { maxPosition: "1" }
    riskLimits: [ { type: day, applyTo: balance-difference, maxRelativeRisk: 0.1, closePositions: true, close: true } ]
venue: { kind: simulator, simulator: { liquidity: { depht: "5" } } }
redis: { prefix: rw, password: x }
`;
    expect(problems(text)).toEqual([
      'accounts[0].budget.maxPosition: unknown key "maxPosition"',
      'accounts[0].budjet: unknown key "budjet"',
      'accounts[0].riskLimits[0].close: unknown key "close"',
      'acounts: unknown key "acounts"',
      'redis.password: unknown key "password"',
      'venue.simulator.liquidity.depht: unknown key "depht"',
    ]);
  });

  it('venue, redis and api settings', () => {
    const text = `
accounts: [ { id: alpha } ]
venue: { kind: dydx, url: "ftp://x", chainId: 0, verifyingContract: "0x1", amountScaleDecimals: 8, traderKeyEnv: "MY KEY", staleFeedAfter: "5 seconds" }
redis: { url: "http://localhost", failClosedAfter: -1, sentinels: [ { host: a, port: 70000 } ] }
api: { port: "8377", tokensEnv: { admin: "$TOKEN" } }
`;
    expect(problems(text)).toEqual([
      'api.port: expected a port number from 0 to 65535',
      'api.tokensEnv.admin: expected the name of an environment variable, like RISKWARDEN_TRADER_KEY',
      'redis.failClosedAfter: expected a duration like "90s", "5m" or milliseconds',
      'redis.sentinels[0].port: expected a port number from 0 to 65535',
      'redis.url: expected a redis:// or rediss:// URL',
      'venue.amountScaleDecimals: expected 6 or 18',
      'venue.chainId: expected a whole number ≥ 1',
      'venue.kind: expected one of "simulator", "derivadex", got "dydx"',
      'venue.staleFeedAfter: expected a duration like "90s", "5m" or milliseconds',
      'venue.traderKeyEnv: expected the name of an environment variable, like RISKWARDEN_TRADER_KEY',
      'venue.url: expected an http:// or https:// URL',
      'venue.verifyingContract: expected a 0x-prefixed 20-byte hex address',
    ]);
  });

  it('products', () => {
    const text = `
accounts: [ { id: alpha } ]
products:
  SOLP: { tickSize: "0.01", minOrderSize: "0.1", maxOrderNotional: "1000000", maxTakerPriceDeviation: "0.02", maxLeverage: "3" }
  "SOL P": { tickSize: 0, minOrderSize: "0.1", maxOrderNotional: "1000000", maxTakerPriceDeviation: 2, maxLeverage: 3, mmr: "0.05" }
`;
    expect(problems(text)).toEqual([
      'products.SOLP.maxLeverage: expected a positive number',
      'products["SOL P"].maxTakerPriceDeviation: expected a decimal fraction in (0, 1]',
      'products["SOL P"].tickSize: expected a decimal > 0',
      'products["SOL P"]: expected a product symbol like "ETHP" (letters, digits, "_", "." and "-", at most 31 bytes)',
    ]);
  });

  it('a strategy id longer than 31 bytes (it becomes a bytes32)', () => {
    const long = 'a'.repeat(32);
    expect(problems(`accounts: [ { id: ${long} } ]`)).toEqual([
      `accounts[0].id: the strategy id defaults to the account id, which is longer than 31 bytes; set strategy`,
    ]);
    expect(problems(`accounts: [ { id: ${long}, strategy: s1 }, { id: b, strategy: "ééééééééééééééééé" } ]`)).toEqual([
      'accounts[1].strategy: expected at most 31 bytes of UTF-8 (it becomes a bytes32)', // 17 × 2 bytes
    ]);
  });
});

describe('private keys', () => {
  it('a privateKey field in the venue is refused with the key never echoed', () => {
    const r = parseConfigText(`venue: { privateKey: "${HEX64}" }\naccounts: [ { id: alpha } ]`, 'f.yaml');
    expect(r.ok ? [] : formatProblems(r.problems)).toEqual([`venue.privateKey: ${PRIVATE_KEY}`]);
    expect(JSON.stringify(r)).not.toContain(HEX64.slice(2));
  });

  it('any 32-byte hex string is refused, quoted or not, under any key', () => {
    expect(problems(`venue: { traderKeyEnv: ${HEX64} }\naccounts: [ { id: alpha } ]`)).toEqual([`venue.traderKeyEnv: ${PRIVATE_KEY}`]);
    expect(problems(`venue: { keystore: "${HEX64.slice(2)}" }\naccounts: [ { id: alpha } ]`)).toEqual([`venue.keystore: ${PRIVATE_KEY}`]);
    expect(problems(`venue: { signer: { key: "${HEX64}" } }\naccounts: [ { id: alpha } ]`)).toEqual([
      `venue.signer.key: ${PRIVATE_KEY}`,
      'venue.signer: unknown key "signer"',
    ]);
    expect(problems(`accounts: [ { id: alpha, secretKey: abc } ]`)).toEqual([`accounts[0].secretKey: ${PRIVATE_KEY}`]);
  });

  it('other venue problems are still reported next to it', () => {
    expect(problems(`venue: { private_key: x, kind: dex }\naccounts: [ { id: alpha } ]`)).toEqual([
      'venue.kind: expected one of "simulator", "derivadex", got "dex"',
      `venue.private_key: ${PRIVATE_KEY}`,
    ]);
  });

  it('an unquoted 0x address stays a string (YAML hex integers are off)', () => {
    const r = ok(parseConfigText('accounts: [ { id: alpha, trader: 0x00000000000000000000000000000000000000Ff } ]', 'f.yaml'));
    expect(r.kind === 'fleet' && r.value.accounts[0]!.trader).toBe('0x00000000000000000000000000000000000000Ff');
  });
});

describe('syntax errors and files', () => {
  it('YAML syntax errors carry file:line:column', () => {
    const lines = problems('accounts:\n  - id: alpha\n    budget: { minMarginBuffer: "0.1"\n  - id: beta\n', 'fleet.yaml');
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line).toMatch(/^fleet\.yaml:\d+:\d+: YAML syntax error: /);
    expect(problems('a: 1\na: 2\n', 'dup.yaml')).toEqual(['dup.yaml:2:1: YAML syntax error: Map keys must be unique']);
    expect(problems('accounts:\n\t- id: alpha\n', 'tab.yaml')).toEqual([
      'tab.yaml:2:1: YAML syntax error: Tabs are not allowed as indentation',
    ]);
  });

  it('JSON is read by extension, with syntax errors located', () => {
    const r = ok(parseConfigText('{"accounts": [{"id": "alpha", "budget": {"minMarginBuffer": 0.1}}]}', 'fleet.json'));
    expect(r.kind === 'fleet' && r.value.accounts[0]!.budget.minMarginBuffer).toBe('0.1');
    // The wording is V8's and changes between Node versions; the place is ours.
    const [line, ...more] = problems('{\n  "accounts": [\n    {"id": "alpha",}\n  ]\n}', 'fleet.json');
    expect(more).toEqual([]);
    expect(line).toMatch(/^fleet\.json:3:20: JSON syntax error: \S/);
    expect(problems('{"accounts": [', 'x.json')).toEqual(['x.json:1:15: JSON syntax error: Unexpected end of JSON input']);
    // JSON content in a file with another extension is read as YAML, a superset of JSON.
    expect(ok(parseConfigText('{"accounts": [{"id": "alpha"}]}', 'fleet.conf')).kind).toBe('fleet');
  });

  it('a missing file is a problem at "(file)", never an exception', async () => {
    const r = await loadConfigFile('/nonexistent/fleet.yaml');
    expect(r).toEqual({ ok: false, problems: [{ path: '(file)', message: 'no such file: /nonexistent/fleet.yaml' }] });
    const dir = mkdtempSync(join(tmpdir(), 'riskwarden-config-'));
    expect((await loadConfigFile(dir)).ok).toBe(false);
  });

  it('reads JSON files from disk', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'riskwarden-config-'));
    const file = join(dir, 'scenario.json');
    writeFileSync(
      file,
      JSON.stringify({ name: 's', accounts: [{ id: 'alpha', collateral: 1000 }], marks: { ETHP: [{ at: 0, price: 2000 }] }, until: 10000 }),
    );
    const r = ok(await loadConfigFile(file));
    expect(r.kind).toBe('scenario');
    expect(r.kind === 'scenario' && r.value.accounts[0]!.collateral).toBe('1000');
  });
});

describe('scenarios', () => {
  it('the minimal scenario gets its defaults', () => {
    const r = ok(parseConfigText(SCENARIO, 's.yaml'));
    expect(r.kind).toBe('scenario');
    if (r.kind !== 'scenario') return;
    expect(r.value.seed).toBe(1);
    expect(r.value.start).toBe('2026-01-05T13:00:00Z');
    expect(r.value.liquidity).toEqual({ depth: '50', levels: 20, spreadTicks: 2 });
    expect(r.value.accounts[0]!.signal).toEqual({ kind: 'none' });
    expect(r.value.faults).toEqual([]);
  });

  it('signals, faults and operator actions report every problem', () => {
    const text = `
name: s
accounts:
  - id: alpha
    signal:
      kind: scripted
      orders:
        - { at: "1s", symbol: ETHP, side: long, amount: "1", type: market, price: "2000" }
        - { at: "2s", symbol: ETHP, side: buy, amount: "1", type: limit }
        - { at: "3s", symbol: ETHP, side: buy, amount: "1", type: stop }
  - id: beta
    signal: { kind: ma-crossover, symbol: ETHP, fast: 5, slow: 5, amount: "1" }
  - id: gamma
    collateral: "1"
    signal: { kind: mean-reversion, symbol: ETHP, window: 1, threshold: 0, amount: "1", every: 2 }
  - { id: delta, collateral: "1", signal: { kind: martingale } }
marks: { ETHP: [ { at: 0, price: "2000" } ], BTCP: [] }
faults:
  - { at: "1s", kind: reject-next-order, account: alpha, reason: Timeout }
  - { at: "1s", kind: drop-feed, feed: TRADES }
  - { at: "1s", kind: meteor }
operator:
  - { at: "1s", action: set-stopout, scope: galaxy, id: x }
  - { at: "1s", action: move-start-time, scope: portfolio, id: core, reason: x }
until: 10
`;
    expect(problems(text)).toEqual([
      'accounts[0].collateral: required',
      'accounts[0].signal.orders[0].price: a market order has no price: omit it or use "0"',
      'accounts[0].signal.orders[0].side: expected one of "buy", "sell", got "long"',
      'accounts[0].signal.orders[1].price: required',
      'accounts[0].signal.orders[2].type: expected one of "market", "limit", got "stop"',
      'accounts[1].collateral: required',
      'accounts[1].signal.slow: expected slow to be greater than fast',
      'accounts[2].signal.threshold: expected a decimal > 0',
      'accounts[2].signal.window: expected a whole number from 2 to 100000',
      'accounts[3].signal.kind: expected one of "scripted", "ma-crossover", "mean-reversion", "none", got "martingale"',
      'faults[0].reason: expected one of "SelfMatch", "SolvencyGuard", "MaxTakerPriceDeviation", "NoLiquidity", got "Timeout"',
      'faults[1].duration: required',
      'faults[1].feed: expected one of "MARK_PRICE", "ORDER_UPDATE", "STRATEGY_UPDATE", "ORDER_BOOK_L2", got "TRADES"',
      'faults[2].kind: expected one of "reject-next-order", "drop-feed", "pause-feed", "delay-acks", "drop-acks", "duplicate-messages", "reorder-messages", "disconnect", got "meteor"',
      'marks.BTCP: expected at least one mark point',
      'operator[0].reason: required',
      'operator[0].scope: expected one of "fleet", "portfolio", "member", "strategy", "account", "subscription", "subscriber", got "galaxy"',
      'operator[1].reason: unknown key "reason"',
    ]);
  });
});

describe('robustness', () => {
  it('random JSON documents never throw; they are valid or every problem has a path', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), fc.constantFrom('f.json', 'f.yaml'), (value, fileName) => {
        const r = parseConfigText(JSON.stringify(value) ?? 'null', fileName);
        if (!r.ok) {
          expect(r.problems.length).toBeGreaterThan(0);
          for (const p of r.problems) {
            expect(p.path.length).toBeGreaterThan(0);
            expect(p.message.length).toBeGreaterThan(0);
          }
        }
      }),
      { seed: 20260105, numRuns: 400 },
    );
  });

  it('near-valid documents (random values in real fields) never throw', () => {
    const anyValue = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constant(undefined));
    fc.assert(
      fc.property(anyValue, anyValue, anyValue, anyValue, (collateral, budget, marks, signal) => {
        const doc = { name: 's', accounts: [{ id: 'alpha', collateral, budget, signal }], marks: { ETHP: marks }, until: '10s' };
        const r = parseConfigDocument(JSON.parse(JSON.stringify(doc)) as unknown);
        if (!r.ok) for (const p of r.problems) expect(p.path).toMatch(/\S/);
      }),
      { seed: 7, numRuns: 300 },
    );
  });

  it('refuses absurdly deep documents before parsing (the YAML parser could exhaust the stack)', () => {
    const deep = '['.repeat(10_000) + ']'.repeat(10_000);
    expect(problems(deep, 'd.yaml')).toEqual(['d.yaml:1:65: nested deeper than 64 levels or indented too far']);
    expect(problems(deep, 'd.json')).toEqual(['d.json:1:65: nested deeper than 64 levels or indented too far']);
    // Compact nested sequences carry no brackets; the parser's own stack error becomes a problem.
    expect(problems(`${'- '.repeat(5000)}x`, 'd.yaml')[0]).toMatch(/^d\.yaml:1:\d+: YAML syntax error: /);
    // Strings and comments do not count.
    expect(problems(`# ${'['.repeat(100)}\naccounts: [ { id: alpha, strategy: "${'{'.repeat(20)}" } ]`)).toEqual([]);
  });

  it('random text never throws', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), fc.constantFrom('f.json', 'f.yaml'), (text, fileName) => {
        const r = parseConfigText(text, fileName);
        if (!r.ok) for (const p of r.problems) expect(p.path.length).toBeGreaterThan(0);
      }),
      { seed: 42, numRuns: 400 },
    );
  });
});
