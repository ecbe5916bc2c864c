import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { INPUT_LIMITS } from '../../src/config/input-limits.ts';
import { formatProblems, loadConfigFile, parseConfigDocument } from '../../src/config/load.ts';

/*
 * Regression (issue 12, failure 8): `until: "9999d"` passed `check` and then ran `simulate` out of memory
 * (exit 134, a native stack: the mark schedule holds one entry a second up to `until`). Every dimension a
 * run allocates by is now bounded up front (src/config/input-limits.ts, docs/contracts.md#scenario-limits),
 * and check and simulate refuse the same documents with exit 2 and the path.
 */

const dir = mkdtempSync(join(tmpdir(), 'riskwarden-limits-'));

function scenario(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'limits',
    accounts: [{ id: 'alpha', collateral: '10000' }],
    marks: { ETHP: [{ at: '0s', price: '2000' }] },
    until: '60s',
    ...overrides,
  };
}

function problemsOf(document: unknown, expect: 'scenario' | 'fleet' = 'scenario'): string[] {
  const r = parseConfigDocument(document, { expect });
  return r.ok ? [] : formatProblems(r.problems);
}

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['bin/riskwarden.js', ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('scenario and config limits, validated up front', () => {
  it('until: "9999d" is refused by check and by simulate alike: exit 2, the path named, no crash', () => {
    const file = join(dir, 'forever.json');
    writeFileSync(file, JSON.stringify(scenario({ until: '9999d' })));
    const check = cli('check', file);
    expect(check.status).toBe(2); // was 0, and simulate then aborted with exit 134
    expect(`${check.stdout}${check.stderr}`).toContain('until: expected a duration of at most 7d');
    const simulate = cli('simulate', file);
    expect(simulate.status).toBe(2);
    expect(`${simulate.stdout}${simulate.stderr}`).toContain('until: expected a duration of at most 7d');
    expect(simulate.stderr).not.toMatch(/heap|FATAL|at .*\.ts:\d+/);
  });

  it('7 days is the longest duration, wherever a duration is', () => {
    expect(problemsOf(scenario({ until: '7d' }))).toEqual([]);
    expect(problemsOf(scenario({ until: '7.5d' }))).toEqual(['until: expected a duration of at most 7d']);
    expect(problemsOf(scenario({ until: INPUT_LIMITS.durationMs + 1 }))).toEqual(['until: expected a duration of at most 7d']);
    expect(problemsOf(scenario({ until: '1h', faults: [{ at: '0s', kind: 'drop-feed', feed: 'MARK_PRICE', duration: '8d' }] }))).toEqual([
      'faults[0].duration: expected a duration of at most 7d',
    ]);
    // A mark point far out is refused by its own limit, not by interpolating up to it first.
    expect(
      problemsOf(
        scenario({
          marks: {
            ETHP: [
              { at: '0s', price: '2000' },
              { at: '9999d', price: '1' },
            ],
          },
        }),
      ),
    ).toEqual(['marks.ETHP[1].at: expected a duration of at most 7d']);
  });

  it('(accounts + mark paths) × simulated seconds fit in memory: one account may run 7 days, ten may not', () => {
    expect(problemsOf(scenario({ until: '7d' }))).toEqual([]); // (1 + 1) × 604 800 = 1 209 600
    const accounts = Array.from({ length: 9 }, (_, i) => ({ id: `a${i}`, collateral: '1' }));
    // (9 + 1) × 200 001 s = 2 000 010 > 2 000 000.
    expect(problemsOf(scenario({ accounts, until: '200001s' }))).toEqual([
      'until: (9 accounts + 1 mark paths) × 200001 s is 2000010, more than the 2000000 a run may simulate: shorten until or use fewer accounts',
    ]);
    expect(problemsOf(scenario({ accounts, until: '200000s' }))).toEqual([]);
  });

  it('counts: accounts, mark points, faults, operator actions, scripted orders, groups, risk limits, symbols', () => {
    const many = (n: number, make: (i: number) => unknown) => Array.from({ length: n }, (_, i) => make(i));
    expect(problemsOf(scenario({ accounts: many(1001, (i) => ({ id: `a${i}`, collateral: '1' })), until: '1s' }))).toEqual([
      'accounts: expected at most 1000 accounts',
    ]);
    expect(problemsOf({ accounts: many(100_001, (i) => ({ id: `a${i}` })) }, 'fleet')).toEqual([
      'accounts: expected at most 100000 accounts',
    ]);
    expect(problemsOf(scenario({ until: '7d', marks: { ETHP: many(100_001, (i) => ({ at: i * 1000, price: '2000' })) } }))).toEqual([
      'marks.ETHP: expected at most 100000 mark points',
    ]);
    expect(problemsOf(scenario({ faults: many(10_001, () => ({ at: '1s', kind: 'disconnect' })) }))).toEqual([
      'faults: expected at most 10000 faults',
    ]);
    expect(
      problemsOf(scenario({ operator: many(10_001, () => ({ at: '1s', action: 'move-start-time', scope: 'fleet', id: '*' })) })),
    ).toEqual(['operator: expected at most 10000 operator actions']);
    const order = { at: '1s', symbol: 'ETHP', side: 'buy', amount: '1', type: 'market' };
    expect(
      problemsOf(
        scenario({ accounts: [{ id: 'alpha', collateral: '1', signal: { kind: 'scripted', orders: many(10_001, () => order) } }] }),
      ),
    ).toEqual(['accounts[0].signal.orders: expected at most 10000 scripted orders']);
    const limit = { type: 'day', applyTo: 'equity-difference', maxAbsoluteRisk: '1', closePositions: false };
    expect(problemsOf(scenario({ accounts: [{ id: 'alpha', collateral: '1', riskLimits: many(101, () => limit) }] }))).toEqual([
      'accounts[0].riskLimits: expected at most 100 risk limits',
    ]);
    expect(problemsOf(scenario({ portfolios: many(1001, (i) => ({ id: `p${i}`, members: [] })) }))).toEqual([
      'portfolios: expected at most 1000 portfolios',
    ]);
    const product = { tickSize: '1', minOrderSize: '1', maxOrderNotional: '1', maxTakerPriceDeviation: '0.1', maxLeverage: 1 };
    const products = Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`S${i}`, product]));
    expect(problemsOf(scenario({ products }))).toEqual(['products: expected at most 100 symbols, got 101']);
  });

  it('sizes a run allocates by: book levels, moving-average windows', () => {
    expect(problemsOf(scenario({ liquidity: { levels: 1e12 } }))).toEqual(['liquidity.levels: expected a whole number from 1 to 1000']);
    const signal = { kind: 'mean-reversion', symbol: 'ETHP', window: 1e9, threshold: '0.01', amount: '1' };
    expect(problemsOf(scenario({ accounts: [{ id: 'alpha', collateral: '1', signal }] }))).toEqual([
      'accounts[0].signal.window: expected a whole number from 2 to 100000',
    ]);
  });

  it('string lengths: ids, free text, decimals', () => {
    expect(problemsOf(scenario({ accounts: [{ id: 'a'.repeat(65), strategy: 's', collateral: '1' }] }))).toEqual([
      'accounts[0].id: expected an id of at most 64 characters',
    ]);
    expect(problemsOf(scenario({ name: 'n'.repeat(1025) }))).toEqual(['name: expected a scenario name of at most 1024 characters']);
    expect(problemsOf(scenario({ accounts: [{ id: 'alpha', collateral: `1${'0'.repeat(64)}` }] }))).toEqual([
      'accounts[0].collateral: expected a decimal of at most 64 characters',
    ]);
  });

  it('a file larger than 8 MiB is refused before it is read', async () => {
    const file = join(dir, 'big.yaml');
    writeFileSync(file, `# ${'x'.repeat(INPUT_LIMITS.fileBytes)}\n`);
    const r = await loadConfigFile(file);
    expect(r.ok ? [] : formatProblems(r.problems)).toEqual([
      `(file): ${INPUT_LIMITS.fileBytes + 3} bytes: larger than the 8388608 bytes a config may have`,
    ]);
  });
});
