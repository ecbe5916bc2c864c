import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkCommand } from '../../src/cli/check-command.ts';

// Lives with the config tests because `check` is a thin printer over src/config/load.ts.

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (s: string) => out.push(s), err: (s: string) => err.push(s) }, out, err };
}

const CONFIG = new URL('../../config/', import.meta.url).pathname;

describe('riskwarden check', () => {
  it('exit 0 for the example fleet and scenario', async () => {
    const fleet = capture();
    expect(await checkCommand(join(CONFIG, 'fleet.example.yaml'), fleet.io)).toBe(0);
    expect(fleet.out[0]).toBe(`ok: ${join(CONFIG, 'fleet.example.yaml')} is a valid fleet (3 accounts)`);
    // Then each account's resolved budget and CopyFactory limits.
    expect(fleet.out).toContain('account alpha (portfolio core)');
    expect(fleet.out).toContain('  risk limit [portfolio core] day equity-difference: max 1500');
    expect(fleet.err).toEqual([]);

    const scenario = capture();
    expect(await checkCommand(join(CONFIG, 'scenarios/stress-pass.yaml'), scenario.io)).toBe(0);
    expect(scenario.out[0]).toMatch(/^ok: .*stress-pass\.yaml is a valid scenario \(\d+ accounts?\)$/);
  });

  it('exit 2 with every problem on stderr as "<path>: <message>"', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'riskwarden-check-'));
    const file = join(dir, 'fleet.yaml');
    writeFileSync(file, 'accounts:\n  - id: alpha\n  - id: beta\n    budget: { minMarginBuffer: ten }\n    colour: blue\n');
    const c = capture();
    expect(await checkCommand(file, c.io)).toBe(2);
    expect(c.out).toEqual([]);
    expect(c.err.sort()).toEqual([
      'accounts[1].budget.minMarginBuffer: expected a decimal string',
      'accounts[1].colour: unknown key "colour"',
    ]);
  });

  it('exit 2 for a missing file', async () => {
    const c = capture();
    expect(await checkCommand('/nonexistent/fleet.yaml', c.io)).toBe(2);
    expect(c.err).toEqual(['(file): no such file: /nonexistent/fleet.yaml']);
  });
});
