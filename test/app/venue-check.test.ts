import { afterEach, describe, expect, it } from 'vitest';
import { checkVenue, defaultRealtimeUrl, type VenueCheckReport } from '../../src/app/venue-check.ts';
import { startSimulator } from '../../src/sim/server.ts';
import { closedPort, HOSTILE, type HostileAnswers, type HostileVenue, startHostileVenue } from '../harness/hostile-venue.ts';

const venues: HostileVenue[] = [];
afterEach(async () => {
  await Promise.all(venues.splice(0).map((v) => v.close()));
});

async function venue(overrides: Partial<HostileAnswers> = {}): Promise<HostileVenue> {
  const v = await startHostileVenue(overrides);
  venues.push(v);
  return v;
}

async function check(v: HostileVenue, timeoutMs = 2000): Promise<VenueCheckReport> {
  return checkVenue({ url: new URL(v.url), timeoutMs });
}

function row(report: VenueCheckReport, name: string) {
  const found = report.rows.find((r) => r.name === name);
  if (found === undefined) throw new Error(`no row ${name} in ${report.rows.map((r) => r.name).join(', ')}`);
  return found;
}

/** Every row but these is OK. */
function expectOnlyFailing(report: VenueCheckReport, ...names: string[]): void {
  expect(report.rows.filter((r) => !r.ok).map((r) => r.name)).toEqual(names);
  expect(report.ok).toBe(false);
  expect(report.verdict).toContain(`${names.length} of ${report.rows.length} checks failed`);
}

describe('venue check', () => {
  it('passes a venue that serves the golden shapes, reading only', async () => {
    const v = await venue();
    const report = await check(v);
    expect(report.rows.map((r) => [r.name, r.target, r.ok])).toEqual([
      ['deployment info', 'GET /contract-server/addresses?contractDeployment=mainnet', true],
      ['exchange info', 'GET /exchange/api/v1/exchange_info', true],
      ['encryption key', 'GET /v2/encryption-key', true],
      ['mark prices ETHP', 'GET /exchange/api/v1/mark_prices?symbol=ETHP&order=desc&limit=1', true],
      ['mark prices BTCP', 'GET /exchange/api/v1/mark_prices?symbol=BTCP&order=desc&limit=1', true],
      ['subscribe ack', 'WS /realtime-api SUBSCRIBE MARK_PRICE', true],
      ['mark price feed', 'WS /realtime-api MARK_PRICE', true],
    ]);
    expect(report.ok).toBe(true);
    expect(report.verdict).toBe('venue conforms: all 7 checks OK');
    expect(row(report, 'deployment info').detail).toBe('chainId 11155111, DerivaDEX 0x5d1a3b4181d3cad422f404f28e9e972d0ba4dad6');
    expect(row(report, 'exchange info').detail).toBe('2 symbols: ETHP, BTCP');
    expect(row(report, 'mark price feed').detail).toBe('PARTIAL, 2 rows: ETHP 2451.3, BTCP 94210');
    expect(report.ws).toBe(v.wsUrl);

    // Read-only: GETs only, and one SUBSCRIBE in the SDK's form.
    expect(new Set(v.requests.map((r) => r.method))).toEqual(new Set(['GET']));
    expect(v.received.map((m) => JSON.parse(m) as unknown)).toEqual([
      { action: 'SUBSCRIBE', nonce: '0', feeds: [{ feed: 'MARK_PRICE', params: { symbols: ['ETHP', 'BTCP'] } }] },
    ]);
  });

  it('asks for the given deployment and symbols', async () => {
    const v = await venue();
    const report = await checkVenue({ url: new URL(v.url), deployment: 'testnet', symbols: ['BTCP'], timeoutMs: 2000 });
    expect(report.ok).toBe(true);
    expect(report.rows.map((r) => r.name)).toEqual([
      'deployment info',
      'exchange info',
      'encryption key',
      'mark prices BTCP',
      'subscribe ack',
      'mark price feed',
    ]);
    expect(row(report, 'deployment info').target).toBe('GET /contract-server/addresses?contractDeployment=testnet');
    expect(row(report, 'mark price feed').detail).toBe('PARTIAL, 1 row: BTCP 94210');
  });

  it('fails the invented exchange_info (no kind), and still checks the marks of its symbols', async () => {
    const report = await check(await venue(HOSTILE.inventedExchangeInfo()));
    expectOnlyFailing(report, 'exchange info');
    expect(row(report, 'exchange info').problem).toEqual({ path: 'value.symbols[0].kind', message: 'expected string, received undefined' });
    expect(row(report, 'exchange info').detail).toBe('value.symbols[0].kind: expected string, received undefined');
    expect(report.rows.map((r) => r.name)).toContain('mark prices BTCP');
  });

  it('fails an enveloped encryption key', async () => {
    const report = await check(await venue(HOSTILE.envelopedEncryptionKey()));
    expectOnlyFailing(report, 'encryption key');
    expect(row(report, 'encryption key').problem).toEqual({ path: '', message: 'expected string, received object' });
  });

  it('fails an acknowledgement without result', async () => {
    const report = await check(await venue(HOSTILE.ackWithoutResult()));
    expectOnlyFailing(report, 'subscribe ack');
    expect(row(report, 'subscribe ack').detail).toBe('result: expected object, received undefined');
  });

  it('fails a refused subscription without waiting for a frame', async () => {
    const report = await check(
      await venue({ ack: (nonce) => ({ json: { action: 'SUBSCRIBE', nonce, result: { error: 'Unexpected error.' } } }) }),
    );
    expectOnlyFailing(report, 'subscribe ack', 'mark price feed');
    expect(row(report, 'subscribe ack').detail).toBe('result.error: subscription refused: "Unexpected error."');
    expect(row(report, 'mark price feed').detail).toBe('not checked: the SUBSCRIBE was refused');
  });

  it('passes an acknowledgement with error null (the SDK test server form)', async () => {
    const report = await check(await venue({ ack: (nonce) => ({ json: { action: 'SUBSCRIBE', nonce, result: { error: null } } }) }));
    expect(report.ok).toBe(true);
    expect(row(report, 'subscribe ack').detail).toBe('result {"error": null}');
  });

  it('fails a MARK_PRICE frame whose price is a number', async () => {
    const report = await check(await venue(HOSTILE.numberPriceFrame()));
    expectOnlyFailing(report, 'mark price feed');
    // The message is the schema's (src/derivadex/wire-values.ts); the path is this check's.
    expect(row(report, 'mark price feed').problem).toEqual({
      path: 'contents.data[0].price',
      message: expect.stringMatching(/^expected /),
    });
  });

  it('fails when no frame comes within the timeout', async () => {
    const report = await check(await venue(HOSTILE.noFrame()), 300);
    expectOnlyFailing(report, 'mark price feed');
    expect(row(report, 'mark price feed').detail).toBe('no MARK_PRICE message within 300 ms');
  });

  it('fails an HTTP 500 and a body that is not JSON', async () => {
    const report = await check(await venue({ ...HOSTILE.deploymentInfo500(), ...HOSTILE.markPricesNotJson() }));
    expectOnlyFailing(report, 'deployment info', 'mark prices ETHP', 'mark prices BTCP');
    expect(row(report, 'deployment info').detail).toBe('HTTP 500 Internal Server Error: "{\\"success\\":false}"');
    expect(row(report, 'mark prices ETHP').detail).toBe('body is not valid JSON (starts "<html><body>Bad gateway</body></html>")');
  });

  it('fails a page of another symbol than the one asked for', async () => {
    const golden = await venue();
    const page = (await (await fetch(`${golden.url}/exchange/api/v1/mark_prices?symbol=ETHP`)).json()) as unknown;
    const report = await check(await venue({ markPrices: () => ({ json: page }) }));
    expectOnlyFailing(report, 'mark prices BTCP');
    expect(row(report, 'mark prices BTCP').detail).toBe('value[0].symbol: expected "BTCP" (the symbol asked for), got "ETHP"');
  });

  it('reports an unreachable venue as failed rows, without throwing', async () => {
    const port = await closedPort();
    const report = await checkVenue({ url: new URL(`http://127.0.0.1:${port}`), timeoutMs: 2000 });
    expect(report.ok).toBe(false);
    expect(report.rows.every((r) => !r.ok)).toBe(true);
    expect(row(report, 'deployment info').detail).toBe('cannot connect: ECONNREFUSED');
    // No symbols could be learnt: one mark prices row says why.
    expect(row(report, 'mark prices').detail).toBe('not checked: exchange info listed no symbol to ask for (give --symbol)');
    expect(row(report, 'subscribe ack').detail).toBe('cannot connect: ECONNREFUSED');
    expect(row(report, 'mark price feed').detail).toBe('cannot connect: ECONNREFUSED');
  });

  it('passes the simulator (`riskwarden sim`), started in-process on port 0', async () => {
    const sim = await startSimulator({ port: 0 });
    try {
      sim.setMark('ETHP', '2000');
      sim.setMark('BTCP', '60000');
      const report = await checkVenue({ url: new URL(sim.url), timeoutMs: 5000 });
      expect(report.rows.filter((r) => !r.ok)).toEqual([]);
      expect(report.ok).toBe(true);
      expect(report.rows.map((r) => r.name).sort()).toEqual(
        [
          'deployment info',
          'exchange info',
          'encryption key',
          'mark prices BTCP',
          'mark prices ETHP',
          'subscribe ack',
          'mark price feed',
        ].sort(),
      );
    } finally {
      await sim.close();
    }
  });

  it('derives the realtime URL from the REST base', () => {
    expect(defaultRealtimeUrl(new URL('https://testnet.derivadex.io')).href).toBe('wss://testnet.derivadex.io/realtime-api');
    expect(defaultRealtimeUrl(new URL('http://127.0.0.1:8380/?x=1')).href).toBe('ws://127.0.0.1:8380/realtime-api');
    expect(defaultRealtimeUrl(new URL('http://proxy.test/ddx/')).href).toBe('ws://proxy.test/ddx/realtime-api');
  });
});
