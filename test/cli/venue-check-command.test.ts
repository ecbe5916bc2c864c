import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import type { VenueCheckReport } from '../../src/app/venue-check.ts';
import { startSimulator } from '../../src/sim/server.ts';
import { closedPort, HOSTILE, type HostileAnswers, type HostileVenue, startHostileVenue } from '../harness/hostile-venue.ts';

/**
 * The CLI as a user runs it: a real process through the `bin` entry. Spawned asynchronously, because the
 * venue it probes is served by this test process.
 */
function riskwarden(...args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/riskwarden.js', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
    const timer = setTimeout(() => child.kill(), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}

const venues: HostileVenue[] = [];
afterEach(async () => {
  await Promise.all(venues.splice(0).map((v) => v.close()));
});

async function venue(overrides: Partial<HostileAnswers> = {}): Promise<HostileVenue> {
  const v = await startHostileVenue(overrides);
  venues.push(v);
  return v;
}

describe('riskwarden venue check', () => {
  it('prints one OK row per check and the verdict, exit 0, against a conforming venue', async () => {
    const v = await venue();
    const { code, out, err } = await riskwarden('venue', 'check', '--url', v.url, '--timeout', '5s');
    expect(err).toBe('');
    expect(code).toBe(0);
    const lines = out.trimEnd().split('\n');
    expect(lines[0]).toBe(`venue ${v.url}/ (realtime ${v.wsUrl}, deployment mainnet)`);
    expect(lines[1]).toMatch(/^check +endpoint \/ feed +result +detail$/);
    expect(lines.slice(2, -1).map((l) => l.split(/ {2,}/).slice(0, 3))).toEqual([
      ['deployment info', 'GET /contract-server/addresses?contractDeployment=mainnet', 'OK'],
      ['exchange info', 'GET /exchange/api/v1/exchange_info', 'OK'],
      ['encryption key', 'GET /v2/encryption-key', 'OK'],
      ['mark prices ETHP', 'GET /exchange/api/v1/mark_prices?symbol=ETHP&order=desc&limit=1', 'OK'],
      ['mark prices BTCP', 'GET /exchange/api/v1/mark_prices?symbol=BTCP&order=desc&limit=1', 'OK'],
      ['subscribe ack', 'WS /realtime-api SUBSCRIBE MARK_PRICE', 'OK'],
      ['mark price feed', 'WS /realtime-api MARK_PRICE', 'OK'],
    ]);
    expect(lines.at(-1)).toBe('venue conforms: all 7 checks OK');
    expect(new Set(v.requests.map((r) => r.method))).toEqual(new Set(['GET']));
  });

  it('names the failing row and its path, exit 1', async () => {
    const v = await venue({ ...HOSTILE.inventedExchangeInfo(), ...HOSTILE.numberPriceFrame() });
    const { code, out } = await riskwarden('venue', 'check', '--url', v.url, '--ws', v.wsUrl, '--deployment', 'testnet');
    expect(code).toBe(1);
    expect(out).toMatch(
      /^exchange info +GET \/exchange\/api\/v1\/exchange_info +FAIL +value\.symbols\[0\]\.kind: expected string, received undefined$/m,
    );
    expect(out).toMatch(/^mark price feed +WS \/realtime-api MARK_PRICE +FAIL +contents\.data\[0\]\.price: expected .+$/m);
    expect(out).toContain('contractDeployment=testnet');
    expect(out.trimEnd().split('\n').at(-1)).toBe('venue does NOT conform: 2 of 7 checks failed (exchange info, mark price feed)');
  });

  it('--json prints the same report as one JSON object', async () => {
    const v = await venue(HOSTILE.envelopedEncryptionKey());
    const { code, out } = await riskwarden('venue', 'check', '--url', v.url, '--symbol', 'ETHP', '--json');
    expect(code).toBe(1);
    const report = JSON.parse(out) as VenueCheckReport;
    expect(report).toMatchObject({ url: `${v.url}/`, ws: v.wsUrl, deployment: 'mainnet', ok: false });
    expect(report.rows.map((r) => [r.name, r.ok])).toEqual([
      ['deployment info', true],
      ['exchange info', true],
      ['encryption key', false],
      ['mark prices ETHP', true],
      ['subscribe ack', true],
      ['mark price feed', true],
    ]);
    expect(report.rows[2]).toMatchObject({ problem: { path: '', message: 'expected string, received object' } });
    expect(report.verdict).toBe('venue does NOT conform: 1 of 6 checks failed (encryption key)');
  });

  it('reports a timeout and an unreachable venue as failed rows, never a stack trace', async () => {
    const silent = await venue(HOSTILE.noFrame());
    const timedOut = await riskwarden('venue', 'check', '--url', silent.url, '--timeout', '300');
    expect(timedOut.code).toBe(1);
    expect(timedOut.out).toMatch(/^mark price feed +.* FAIL +no MARK_PRICE message within 300 ms$/m);

    const port = await closedPort();
    const { code, out, err } = await riskwarden('venue', 'check', '--url', `http://127.0.0.1:${port}`, '--timeout', '2s');
    expect(code).toBe(1);
    expect(err).toBe('');
    expect(out).toMatch(/^deployment info +.* FAIL +cannot connect: ECONNREFUSED$/m);
    expect(out).toMatch(/^subscribe ack +.* FAIL +cannot connect: ECONNREFUSED$/m);
    expect(out).not.toMatch(/\bat .*\.ts:\d+/);
  });

  it('exits 0 against the simulator started in-process on port 0', async () => {
    const sim = await startSimulator({ port: 0 });
    try {
      sim.setMark('ETHP', '2000');
      sim.setMark('BTCP', '60000');
      const { code, out, err } = await riskwarden('venue', 'check', '--url', sim.url, '--timeout', '5s');
      expect({ code, err }, out).toEqual({ code: 0, err: '' });
      expect(out.trimEnd().split('\n').at(-1)).toBe('venue conforms: all 7 checks OK');
    } finally {
      await sim.close();
    }
  });

  it('exits 2 with a message naming the flag for bad arguments', async () => {
    const badUrl = await riskwarden('venue', 'check', '--url', 'testnet.derivadex.io');
    expect(badUrl.code).toBe(2);
    expect(badUrl.err).toContain('--url: expected a URL starting http:// or https://, got "testnet.derivadex.io"');

    const badWs = await riskwarden(
      'venue',
      'check',
      '--url',
      'http://127.0.0.1:1',
      '--ws',
      'http://127.0.0.1:1/realtime-api',
      '--timeout',
      'soon',
    );
    expect(badWs.code).toBe(2);
    expect(badWs.err).toContain('--ws: expected a URL starting ws:// or wss://, got "http://127.0.0.1:1/realtime-api"');
    expect(badWs.err).toContain('--timeout: expected a duration');
    expect(badWs.out).toBe('');

    const missing = await riskwarden('venue', 'check');
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('--url');
  });
});
