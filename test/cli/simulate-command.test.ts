import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

function riskwarden(...args: string[]) {
  const result = spawnSync(process.execPath, ['bin/riskwarden.js', ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: result.status, out: result.stdout, err: result.stderr };
}

describe('riskwarden simulate', () => {
  it('prints the same JSON Lines for the same scenario and seed, and writes them with --out', () => {
    const dir = mkdtempSync(join(tmpdir(), 'riskwarden-simulate-'));
    const out = join(dir, 'timeline.jsonl');
    const first = riskwarden('simulate', 'test/cli/fixtures/delayed-acks.yaml', '--json', '--out', out);
    const second = riskwarden('simulate', 'test/cli/fixtures/delayed-acks.yaml', '--json');
    expect(first.code, first.err).toBe(0);
    expect(second.out).toBe(first.out);
    expect(readFileSync(out, 'utf8')).toBe(first.out);
    const records = first.out
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { kind: string; t: number });
    expect(records.at(-1)?.kind).toBe('summary');
    // Records come in order of time.
    expect(records.every((r, i) => i === 0 || r.t >= records[i - 1]!.t)).toBe(true);
  });

  it('settles although the venue holds receipts back while orders execute (delay-acks)', () => {
    const { code, out, err } = riskwarden('simulate', 'test/cli/fixtures/delayed-acks.yaml');
    expect(code, err).toBe(0);
    expect(out).toMatch(/summary: alpha/);
  });

  it('exits 2 with every problem by path for an invalid scenario', () => {
    const dir = mkdtempSync(join(tmpdir(), 'riskwarden-simulate-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(
      file,
      ['name: bad', 'accounts: [ { id: a, collateral: lots } ]', 'marks: { ETHP: [ { at: 5s, price: "-1" } ] }', 'until: soon'].join('\n'),
    );
    const { code, err } = riskwarden('simulate', file);
    expect(code).toBe(2);
    expect(err).toContain('accounts[0].collateral');
    expect(err).toContain('marks.ETHP[0].price');
    expect(err).toContain('until');
  });

  it('refuses a bad --seed with exit 2', () => {
    expect(riskwarden('simulate', 'test/cli/fixtures/delayed-acks.yaml', '--seed', 'x').code).toBe(2);
  });
});
