import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fleetResponseSchema } from '../../src/api/api-schemas.ts';
import { startCommand } from '../../src/cli/start-command.ts';
import { eventually } from '../supervisor/eventually.ts';
import { API_SCENARIO } from './api-harness.ts';

/* `riskwarden start` serves the API over the scenario it plays, prints where, and stops when done. */

describe('riskwarden start with the API', () => {
  it('serves the playing fleet, prints the dashboard URL with a generated token, and lingers only with --keep', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'riskwarden-api-start-'));
    const scenario = join(dir, 'scenario.json');
    writeFileSync(scenario, JSON.stringify({ ...API_SCENARIO, until: '70s' }));
    const err: string[] = [];
    const io = { out: () => {}, err: (line: string) => err.push(line) };
    const abort = new AbortController();
    const done = startCommand(
      { scenario, fast: true, report: join(dir, 'report.html'), tty: false, apiPort: 0, keepMs: 60_000, env: {}, signal: abort.signal },
      io,
    );

    const dashboard = await eventually(
      'the dashboard URL',
      10_000,
      () => err.map((l) => /dashboard: (http:\/\/127\.0\.0\.1:\d+)\/\?token=([A-Za-z0-9_-]{43})$/.exec(l)).find(Boolean) ?? undefined,
    );
    const [, url, token] = dashboard;
    await eventually('the linger', 30_000, () => (err.some((l) => l.includes('the API stays up')) ? true : undefined));
    const r = await fetch(`${url}/api/v1/fleet`, { headers: { authorization: `Bearer ${token}` } });
    expect(r.status).toBe(200);
    const fleet = fleetResponseSchema.parse(await r.json());
    // Read after the end: the final snapshot (stopped out by core's limit at 61 s).
    expect(fleet.at).toBe('2026-01-05T13:01:10.000Z');
    expect(fleet.accounts.map((a) => [a.id, a.state])).toEqual([
      ['alpha', 'stopped-out'],
      ['beta', 'stopped-out'],
    ]);
    expect((await fetch(`${url}/api/v1/fleet`)).status).toBe(401);

    abort.abort();
    expect(await done).toBe(0);
    // Closed once the command returns.
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
    // The token is printed once, in the dashboard line only.
    expect(err.filter((l) => l.includes(token!))).toHaveLength(1);
  });

  it('without --keep the command returns as soon as the scenario ends', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'riskwarden-api-start-'));
    const scenario = join(dir, 'scenario.json');
    writeFileSync(scenario, JSON.stringify({ ...API_SCENARIO, marks: { ETHP: [{ at: '0s', price: '2000' }] }, until: '25s' }));
    const err: string[] = [];
    expect(
      await startCommand(
        { scenario, fast: true, report: join(dir, 'report.html'), tty: false, apiPort: 0, env: {} },
        { out: () => {}, err: (l) => err.push(l) },
      ),
    ).toBe(0);
    expect(err.some((l) => l.includes('stays up'))).toBe(false);
  });
});
