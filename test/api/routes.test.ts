import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountResponseSchema, errorResponseSchema, fleetResponseSchema, stopoutsResponseSchema } from '../../src/api/api-schemas.ts';
import { ADMIN_TOKEN, startApiFixture, type ApiFixture } from './api-harness.ts';

/*
 * What each route answers on a real fleet, paused at 25 s: alpha holds 6 ETHP (two market buys of 3),
 * entries-blocked at its cap; beta holds nothing and trades.
 */

let f: ApiFixture;

beforeAll(async () => {
  f = await startApiFixture({ pauses: [25_000] });
  await f.pausedAt(25_000);
});
afterAll(async () => {
  await f?.close();
});

async function json(path: string): Promise<unknown> {
  const r = await f.get(path);
  expect(r.status, path).toBe(200);
  expect(r.headers.get('content-type')).toBe('application/json; charset=utf-8');
  expect(r.headers.get('cache-control')).toBe('no-store');
  return r.json();
}

describe('reading', () => {
  it('GET /api/v1/fleet: one row per account, on the simulated clock', async () => {
    const fleet = fleetResponseSchema.parse(await json('/api/v1/fleet'));
    // Paused after second 25 of a run that starts 2026-01-05T13:00:00Z.
    expect(fleet.at).toBe('2026-01-05T13:00:25.000Z');
    expect(fleet.portfolios).toEqual(['core']);
    expect(fleet.accounts.map((a) => a.id)).toEqual(['alpha', 'beta']);
    const [alpha, beta] = fleet.accounts;
    expect(alpha).toMatchObject({
      state: 'entries-blocked',
      detail: 'entries-blocked',
      portfolios: ['core'],
      position: { ETHP: '6' },
      minMarginBuffer: '0.10',
      panicMarginBuffer: '0.03',
      stopouts: [],
    });
    expect(Number(alpha!.grossNotional)).toBeGreaterThan(11_000); // 6 × ~1950
    expect(alpha!.marginBuffer).not.toBeNull();
    expect(beta).toMatchObject({ state: 'trading', position: {}, grossNotional: '0', marginBuffer: null, sessionPnl: '0' });
  });

  it('GET /api/v1/accounts/{id}: budget, every limit of its chain, decisions and a timeline with its marks', async () => {
    const alpha = accountResponseSchema.parse(await json('/api/v1/accounts/alpha'));
    expect(alpha.budget).toEqual({
      maxPositionSize: { ETHP: '6' },
      maxGrossNotional: '15000',
      minMarginBuffer: '0.10',
      panicMarginBuffer: '0.03',
    });
    expect(alpha.limits).toEqual([
      expect.objectContaining({
        type: 'day',
        applyTo: 'equity-difference',
        maxAbsoluteRisk: '1500',
        level: 'portfolio',
        sourceId: 'core',
        closePositions: false,
      }),
    ]);
    expect(alpha.decisions.map((d) => [d.t, d.allowed, d.order.amount])).toEqual([
      [0, true, '3'],
      [20_000, true, '3'],
    ]);
    expect(alpha.workingOrders).toEqual([]);
    const kinds = new Set(alpha.timeline.map((r) => r.kind));
    // The second buy, sent as the cap was reached, also drew a cancel (the venue filled it first).
    expect(kinds).toEqual(new Set(['mark', 'risk', 'decision', 'order', 'order-update', 'cancel', 'state']));
    const ts = alpha.timeline.map((r) => r.t);
    expect(ts).toEqual([...ts].sort((a, b) => a - b));
    expect(alpha.timeline.filter((r) => r.kind === 'mark').at(-1)).toMatchObject({ t: 25_000, symbol: 'ETHP' });
    expect(alpha.maintenance).not.toBe('0');
  });

  it('GET /api/v1/accounts/{id} of an unknown account is 404; ids are percent-decoded', async () => {
    for (const id of ['nobody', 'alpha%2F..', '%E2%9C%93']) {
      const r = await f.get(`/api/v1/accounts/${id}`);
      expect(r.status, id).toBe(404);
      expect(errorResponseSchema.parse(await r.json()).error).toMatch(/^unknown account/);
    }
    const bad = await f.get('/api/v1/accounts/%E0%A4%A');
    expect(bad.status).toBe(400);
  });

  it('GET /api/v1/stopouts lists the shared store', async () => {
    expect(stopoutsResponseSchema.parse(await json('/api/v1/stopouts'))).toEqual({ stopouts: [] });
  });

  it('GET /api/v1/diagrams/*.svg draws the statecharts with the active state marked', async () => {
    const svg = async (path: string): Promise<string> => {
      const r = await f.get(path);
      expect(r.status, path).toBe(200);
      expect(r.headers.get('content-type')).toBe('image/svg+xml; charset=utf-8');
      const text = await r.text();
      expect(text).toMatch(/<svg[\s>]/);
      return text;
    };
    // The DOT renderer fills active states with #ffd166 (atomic) and #fff3c4 (compound).
    const marked = /#ffd166|#fff3c4/i;
    const alpha = await svg('/api/v1/diagrams/account.svg?account=alpha');
    expect(alpha).toMatch(marked);
    expect(await svg('/api/v1/diagrams/account.svg')).not.toMatch(marked);
    expect(alpha).not.toBe(await svg('/api/v1/diagrams/account.svg?account=beta'));
    expect(await svg('/api/v1/diagrams/supervisor.svg')).toMatch(marked);
    // alpha's newest order (alpha-2) is filled.
    expect(await svg('/api/v1/diagrams/order.svg?account=alpha')).toMatch(marked);
    expect(await svg('/api/v1/diagrams/order.svg?account=beta')).not.toMatch(marked);
    expect(await svg('/api/v1/diagrams/order.svg?account=alpha&order=alpha-1')).toMatch(marked);
    expect((await f.get('/api/v1/diagrams/order.svg?account=alpha&order=nope')).status).toBe(404);
    expect((await f.get('/api/v1/diagrams/galaxy.svg')).status).toBe(404);
  });
});

describe('errors', () => {
  it('invalid bodies are 400 with every problem listed by path', async () => {
    const r = await f.post('/api/v1/stopouts', { scope: 'galaxy', id: 7, closePositions: 'yes', colour: 'red' });
    expect(r.status).toBe(400);
    const body = errorResponseSchema.parse(await r.json());
    expect(body.problems).toEqual([
      'scope: expected one of "fleet", "portfolio", "member", "strategy", "account", "subscription", "subscriber", got "galaxy"',
      'id: expected a string, got 7',
      'closePositions: expected true or false, got "yes"',
      'colour: unknown key "colour"',
    ]);
    const ids = await f.post('/api/v1/stopouts/reset', { scope: 'fleet', id: 'all', reason: 'not a reason!' });
    expect(ids.status).toBe(400);
    expect(errorResponseSchema.parse(await ids.json()).problems).toEqual([
      'id: the fleet scope has id "*", got "all"',
      'reason: expected a reason of letters, digits, "_", "." and "-", starting with a letter or digit (e.g. "manual", "day-balance-difference"), got "not a reason!"',
    ]);
    const member = await f.post('/api/v1/start-time', { scope: 'member', id: 'core' });
    expect(errorResponseSchema.parse(await member.json()).problems).toEqual([
      'id: expected "<portfolio>/<account>" (each part letters, digits, "_", "." and "-", starting with a letter or digit), got "core"',
    ]);
    const empty = await f.post('/api/v1/start-time', '');
    expect(empty.status).toBe(400);
    expect(errorResponseSchema.parse(await empty.json()).problems).toEqual(['(root): required']);
    const list = await f.post('/api/v1/start-time', '[]');
    expect(errorResponseSchema.parse(await list.json()).problems).toEqual(['(root): expected a mapping (key: value), got a list']);
  });

  it('a body that is not JSON is 400', async () => {
    const r = await f.post('/api/v1/stopouts', '{"scope": "fleet",');
    expect(r.status).toBe(400);
    expect(await r.json()).toEqual({ error: 'request body is not valid JSON', problems: [expect.stringMatching(/^\(body\): /)] });
  });

  it('a body over 64 KiB is 413, declared or not', async () => {
    const big = JSON.stringify({ scope: 'fleet', id: '*', reason: 'x'.repeat(64 * 1024) });
    const r = await f.post('/api/v1/stopouts', big);
    expect(r.status).toBe(413);
    expect(await r.json()).toEqual({ error: 'request body larger than 65536 bytes' });
    // Chunked: no content-length to refuse early; the server stops reading past the cap.
    const chunks = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 40; i += 1) controller.enqueue(new TextEncoder().encode('x'.repeat(4096)));
        controller.close();
      },
    });
    const streamed = await fetch(`${f.api.url}/api/v1/stopouts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      body: chunks,
      duplex: 'half',
    } as RequestInit);
    expect(streamed.status).toBe(413);
    // Exactly 64 KiB of JSON is still read.
    const fits = JSON.stringify({ scope: 'fleet', id: '*', reason: 'manual', pad: '' });
    const padded = fits.replace('"pad":""', `"pad":"${'y'.repeat(64 * 1024 - fits.length)}"`);
    expect(Buffer.byteLength(padded)).toBe(64 * 1024);
    const ok = await f.post('/api/v1/stopouts', padded);
    expect(ok.status).toBe(400); // read and validated: "pad" is not a field
    expect((await ok.json()).problems).toEqual(['pad: unknown key "pad"']);
  });

  it('an unknown path is 404, a known path with the wrong method 405', async () => {
    for (const path of ['/api/v1/nothing', '/api/v2/fleet', '/nothing', '/api/v1/fleet/extra', '/api/v1/accounts/']) {
      const r = await f.get(path);
      expect(r.status, path).toBe(404);
      expect(errorResponseSchema.parse(await r.json()).error).toMatch(/^no such path/);
    }
    const wrong = await fetch(`${f.api.url}/api/v1/fleet`, { method: 'DELETE', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('GET');
    expect(errorResponseSchema.parse(await wrong.json()).error).toMatch(/not allowed/);
    const getOnPost = await f.get('/api/v1/stopouts/reset');
    expect(getOnPost.status).toBe(405);
    expect(getOnPost.headers.get('allow')).toBe('POST');
    const putOnStopouts = await fetch(`${f.api.url}/api/v1/stopouts`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(putOnStopouts.headers.get('allow')).toBe('GET, POST');
  });

  it('nothing was changed by any of these calls', async () => {
    expect(await (await f.get('/api/v1/stopouts')).json()).toEqual({ stopouts: [] });
    expect(f.written.filter((w) => w.record.kind === 'operator')).toEqual([]);
  });
});
