import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/** The CLI as a user runs it: a real process through the `bin` entry, no build step. */
function riskwarden(...args: string[]) {
  const result = spawnSync(process.execPath, ['bin/riskwarden.js', ...args], { encoding: 'utf8', timeout: 30_000 });
  return { code: result.status, out: result.stdout, err: result.stderr };
}

describe('riskwarden CLI', () => {
  it('prints help and exits 0', () => {
    const { code, out } = riskwarden('--help');
    expect(code).toBe(0);
    expect(out).toContain('check');
  });

  it('exits 2 on an unknown command or option', () => {
    expect(riskwarden('frobnicate').code).toBe(2);
    expect(riskwarden('check').code).toBe(2);
  });

  it('check: 0 for the example fleet and the stress-pass scenario', () => {
    expect(riskwarden('check', 'config/fleet.example.yaml')).toMatchObject({ code: 0 });
    expect(riskwarden('check', 'config/scenarios/stress-pass.yaml')).toMatchObject({ code: 0 });
  });

  it('check: 2 with every problem listed by path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'riskwarden-cli-'));
    const file = join(dir, 'fleet.yaml');
    writeFileSync(
      file,
      [
        'accounts:',
        '  - id: alpha',
        '    budget: { minMarginBuffer: ten }',
        '  - id: beta',
        '    budget: { maxGrossNotional: -5 }',
        '    riskLimits: [ { type: fortnight, applyTo: balance-difference, closePositions: true, maxAbsoluteRisk: "1" } ]',
      ].join('\n'),
    );
    const { code, err } = riskwarden('check', file);
    expect(code).toBe(2);
    expect(err).toContain('accounts[0].budget.minMarginBuffer: expected a decimal string');
    expect(err).toContain('accounts[1].budget.maxGrossNotional');
    expect(err).toContain('accounts[1].riskLimits[0].type');
  });

  it('start: plays the stress-pass scenario, prints its timeline and writes the report', () => {
    const dir = mkdtempSync(join(tmpdir(), 'riskwarden-start-'));
    const report = join(dir, 'report.html');
    const { code, out, err } = riskwarden('start', '--fast', '--report', report);
    expect(code, err).toBe(0);
    expect(out).toMatch(/summary: .*liquidated: none/);
    expect(readFileSync(report, 'utf8')).toMatch(/^<!doctype html>/i);
  });
});
