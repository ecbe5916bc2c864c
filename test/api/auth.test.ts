import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { startApiServer } from '../../src/api/api-server.ts';
import {
  ApiAuth,
  ApiConfigError,
  constantTimeEqual,
  cookieValue,
  effectiveTokens,
  isLoopbackHost,
  tokenFingerprint,
  tokensFromEnv,
} from '../../src/api/auth.ts';
import { FleetView } from '../../src/api/fleet-view.ts';
import { ADMIN_TOKEN, READ_TOKEN, startApiFixture, type ApiFixture } from './api-harness.ts';

// Every crypto.timingSafeEqual call the API makes, passed through to the real one.
const compared = vi.hoisted(() => [] as [Buffer, Buffer][]);
vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:crypto')>();
  return {
    ...actual,
    timingSafeEqual: (a: Buffer, b: Buffer) => {
      compared.push([a, b]);
      return actual.timingSafeEqual(a, b);
    },
  };
});

let f: ApiFixture;

beforeAll(async () => {
  f = await startApiFixture({ pauses: [5_000] });
  await f.pausedAt(5_000);
});
afterAll(async () => {
  await f?.close();
});

const GETS = ['/api/v1/fleet', '/api/v1/accounts/alpha', '/api/v1/stopouts', '/openapi.json', '/api/v1/diagrams/account.svg?account=alpha'];
const POSTS: [string, unknown][] = [
  ['/api/v1/stopouts', { scope: 'account', id: 'beta', reason: 'manual' }],
  ['/api/v1/stopouts/reset', { scope: 'account', id: 'beta', reason: 'manual' }],
  ['/api/v1/start-time', { scope: 'account', id: 'beta' }],
];

describe('tokens over HTTP', () => {
  it('without a token only /healthz answers; everything else is 401 JSON', async () => {
    const health = await f.get('/healthz', null);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ ok: true });
    for (const path of [...GETS, '/', '/nothing-here', '/api/v1/nothing', '/metrics']) {
      const r = await f.get(path, null);
      expect(r.status, path).toBe(401);
      expect(r.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(await r.json()).toEqual({ error: expect.stringMatching(/^unauthorized/) });
    }
    for (const [path, body] of POSTS) expect((await f.post(path, body, null)).status, path).toBe(401);
  });

  it('an unknown or malformed token is 401', async () => {
    for (const authorization of [
      `Bearer ${READ_TOKEN}x`,
      `Bearer ${READ_TOKEN.slice(0, -1)}`,
      'Bearer',
      `Basic ${READ_TOKEN}`,
      `bearer  `,
      'Bearer a b',
    ]) {
      const r = await f.get('/api/v1/fleet', null, { headers: { authorization } });
      expect(r.status, authorization).toBe(401);
    }
  });

  it('a read token reads; its acting calls are 403', async () => {
    for (const path of GETS) expect((await f.get(path, READ_TOKEN)).status, path).toBe(200);
    for (const [path, body] of POSTS) {
      const r = await f.post(path, body, READ_TOKEN);
      expect(r.status, path).toBe(403);
      expect(await r.json()).toEqual({ error: expect.stringContaining('needs an admin token') });
    }
  });

  it('an admin token reads and acts', async () => {
    for (const path of GETS) expect((await f.get(path, ADMIN_TOKEN)).status, path).toBe(200);
    const [set, reset] = [POSTS[0]!, POSTS[1]!];
    expect((await f.post(set[0], set[1], ADMIN_TOKEN)).status).toBe(200);
    expect((await f.post(reset[0], reset[1], ADMIN_TOKEN)).status).toBe(200);
    expect((await f.post(POSTS[2]![0], POSTS[2]![1], ADMIN_TOKEN)).status).toBe(200);
  });

  it('the browser logs in with /?token=: an HttpOnly, SameSite=Strict cookie, then a redirect to /', async () => {
    const login = await f.get(`/?token=${encodeURIComponent(ADMIN_TOKEN)}`, null, { redirect: 'manual' });
    expect(login.status).toBe(302);
    expect(login.headers.get('location')).toBe('/');
    const cookie = login.headers.get('set-cookie')!;
    expect(cookie).toBe(`riskwarden_token=${ADMIN_TOKEN}; HttpOnly; SameSite=Strict; Path=/`);
    const jar = cookie.split(';')[0]!;
    const fleet = await f.get('/api/v1/fleet', null, { headers: { cookie: `theme=dark; ${jar}` } });
    expect(fleet.status).toBe(200);
    expect(await f.post('/api/v1/start-time', { scope: 'account', id: 'beta' }, null).then((r) => r.status)).toBe(401);
    const acted = await fetch(`${f.api.url}/api/v1/start-time`, {
      method: 'POST',
      headers: { cookie: jar, 'content-type': 'application/json' },
      body: JSON.stringify({ scope: 'account', id: 'beta' }),
    });
    expect(acted.status).toBe(200);
    // A bad token in the login URL sets nothing.
    const bad = await f.get('/?token=guess', null, { redirect: 'manual' });
    expect(bad.status).toBe(401);
    expect(bad.headers.get('set-cookie')).toBeNull();
    // ?token= is a login, not a way to call the API.
    expect((await f.get(`/api/v1/fleet?token=${READ_TOKEN}`, null)).status).toBe(401);
  });

  it("the login cookie acts only from the API's own pages, with JSON", async () => {
    const jar = `riskwarden_token=${ADMIN_TOKEN}`;
    const host = new URL(f.api.url).host;
    const call = (headers: Record<string, string>) =>
      fetch(`${f.api.url}/api/v1/start-time`, {
        method: 'POST',
        headers: { cookie: jar, ...headers },
        body: JSON.stringify({ scope: 'account', id: 'beta' }),
      });
    expect((await call({ 'content-type': 'application/json', origin: `http://${host}`, 'sec-fetch-site': 'same-origin' })).status).toBe(
      200,
    );
    const refused: Record<string, string>[] = [
      { 'content-type': 'application/json', origin: 'http://evil.example' },
      // Another port of 127.0.0.1 is the same site, so the browser sends the cookie: the origin tells.
      { 'content-type': 'application/json', origin: 'http://127.0.0.1:1' },
      { 'content-type': 'application/json', 'sec-fetch-site': 'same-site' },
      { 'content-type': 'application/json', origin: 'null' },
      { 'content-type': 'text/plain' },
      {},
    ];
    for (const headers of refused) {
      const r = await call(headers);
      expect(r.status, JSON.stringify(headers)).toBe(403);
      expect((await r.json()).error).toMatch(/login cookie/);
    }
    // The Authorization header is not a browser's ambient credential: no such checks.
    const bearer = await fetch(`${f.api.url}/api/v1/start-time`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, origin: 'http://elsewhere.example' },
      body: JSON.stringify({ scope: 'account', id: 'beta' }),
    });
    expect(bearer.status).toBe(200);
    // Reading with the cookie from a link elsewhere still works (the dashboard opened from a bookmark or chat).
    expect((await f.get('/api/v1/fleet', null, { headers: { cookie: jar, 'sec-fetch-site': 'cross-site' } })).status).toBe(200);
  });

  it('the live socket needs a token (header, cookie or ?token=); without one the upgrade is refused', async () => {
    const wsUrl = `${f.api.url.replace('http', 'ws')}/api/v1/live`;
    const attempt = (url: string, headers: Record<string, string> = {}): Promise<number> =>
      new Promise((resolve, reject) => {
        const socket = new WebSocket(url, { headers });
        socket.once('open', () => {
          resolve(101);
          socket.close();
        });
        socket.once('unexpected-response', (_req, res) => {
          resolve(res.statusCode ?? 0);
          res.resume();
        });
        socket.once('error', reject);
      });
    expect(await attempt(wsUrl)).toBe(401);
    expect(await attempt(`${wsUrl}?token=wrong`)).toBe(401);
    expect(await attempt(wsUrl, { authorization: 'Bearer wrong' })).toBe(401);
    expect(await attempt(`${wsUrl}?token=${READ_TOKEN}`)).toBe(101);
    expect(await attempt(wsUrl, { authorization: `Bearer ${ADMIN_TOKEN}` })).toBe(101);
    expect(await attempt(wsUrl, { cookie: `riskwarden_token=${READ_TOKEN}` })).toBe(101);
    expect(await attempt(`${f.api.url.replace('http', 'ws')}/api/v1/elsewhere?token=${READ_TOKEN}`)).toBe(404);
    // The cookie opens the socket only for the API's own pages.
    const host = new URL(f.api.url).host;
    expect(await attempt(wsUrl, { cookie: `riskwarden_token=${READ_TOKEN}`, origin: `http://${host}` })).toBe(101);
    expect(await attempt(wsUrl, { cookie: `riskwarden_token=${READ_TOKEN}`, origin: 'http://127.0.0.1:1' })).toBe(403);
    expect(await attempt(`${wsUrl}?token=${READ_TOKEN}`, { origin: 'http://127.0.0.1:1' })).toBe(101);
  });
});

describe('token checks', () => {
  it('compares in constant time: both sides hashed to 32 bytes, then crypto.timingSafeEqual', () => {
    compared.length = 0;
    // Different lengths never reach timingSafeEqual with unequal buffers (it would throw).
    expect(constantTimeEqual('short', 'a much longer secret value')).toBe(false);
    expect(constantTimeEqual('', 'x')).toBe(false);
    expect(constantTimeEqual('same-token', 'same-token')).toBe(true);
    expect(constantTimeEqual('same-token', 'same-tokeN')).toBe(false);
    expect(constantTimeEqual('ü', 'u')).toBe(false);
    expect(compared).toHaveLength(5);
    for (const [a, b] of compared) {
      expect(a.length).toBe(32);
      expect(b.length).toBe(32);
    }
  });

  it('ApiAuth checks a candidate against both roles every time, whatever its length', () => {
    const auth = new ApiAuth({ read: 'r-token', admin: 'a-token' });
    compared.length = 0;
    expect(auth.roleOf('a-token')).toBe('admin');
    expect(auth.roleOf('r-token')).toBe('read');
    expect(auth.roleOf('x'.repeat(1000))).toBeUndefined();
    expect(auth.roleOf('a')).toBeUndefined();
    // Two comparisons per check (admin and read), 32 bytes each, match or not.
    expect(compared).toHaveLength(8);
    for (const [a, b] of compared) expect([a.length, b.length]).toEqual([32, 32]);
    expect(auth.roleOf(undefined)).toBeUndefined();
    expect(auth.roleOf('')).toBeUndefined();
    // An unset role matches nothing, not even the empty string.
    expect(new ApiAuth({ admin: 'only-admin' }).roleOf('')).toBeUndefined();
    expect(new ApiAuth({ admin: 'only-admin' }).caller('only-admin')).toEqual({
      role: 'admin',
      who: `admin:${tokenFingerprint('only-admin')}`,
    });
  });

  it('fingerprints are the first 8 hex digits of sha256', () => {
    // sha256("abc") = ba7816bf 8f01cfea …
    expect(tokenFingerprint('abc')).toBe('ba7816bf');
  });

  it('tokens come from RISKWARDEN_API_READ_TOKEN / RISKWARDEN_API_ADMIN_TOKEN, or the names the config gives', () => {
    expect(tokensFromEnv({ RISKWARDEN_API_READ_TOKEN: 'r', RISKWARDEN_API_ADMIN_TOKEN: 'a' })).toEqual({ read: 'r', admin: 'a' });
    expect(tokensFromEnv({ RISKWARDEN_API_READ_TOKEN: '', RISKWARDEN_API_ADMIN_TOKEN: 'a' })).toEqual({ admin: 'a' });
    expect(tokensFromEnv({ MY_READ: 'r', RISKWARDEN_API_ADMIN_TOKEN: 'a' }, { read: 'MY_READ', admin: 'MY_ADMIN' })).toEqual({ read: 'r' });
  });

  it('cookies are read by name', () => {
    expect(cookieValue('a=1; riskwarden_token=t%3D1; b=2', 'riskwarden_token')).toBe('t=1');
    expect(cookieValue('riskwarden_tokenx=1', 'riskwarden_token')).toBeUndefined();
    expect(cookieValue('riskwarden_token=%E0%A4%A', 'riskwarden_token')).toBe('%E0%A4%A');
  });

  it('with no tokens configured: loopback gets a generated admin token, anything else refuses to start', async () => {
    expect(isLoopbackHost('127.0.0.1')).toBe(true);
    expect(isLoopbackHost('127.8.9.10')).toBe(true);
    expect(isLoopbackHost('::1')).toBe(true);
    expect(isLoopbackHost('[::1]')).toBe(true);
    expect(isLoopbackHost('localhost')).toBe(true);
    expect(isLoopbackHost('0.0.0.0')).toBe(false);
    expect(isLoopbackHost('::')).toBe(false);
    expect(isLoopbackHost('10.0.0.1')).toBe(false);
    expect(isLoopbackHost('127.example.com')).toBe(false);

    const generated = effectiveTokens({}, '127.0.0.1');
    expect(generated.generated).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(generated.tokens).toEqual({ admin: generated.generated });
    expect(effectiveTokens({ read: 'r' }, '0.0.0.0')).toEqual({ tokens: { read: 'r' } });
    expect(() => effectiveTokens({}, '0.0.0.0')).toThrow(ApiConfigError);
    await expect(startApiServer({ view: new FleetView(), host: '0.0.0.0', port: 0, tokens: {} })).rejects.toThrow(/needs tokens/);

    let announced: string | undefined;
    const api = await startApiServer({
      view: new FleetView(),
      port: 0,
      tokens: {},
      onGeneratedToken: (t) => {
        announced = t;
      },
    });
    try {
      expect(announced).toBe(api.generatedToken);
      const fleet = await fetch(`${api.url}/api/v1/fleet`, { headers: { authorization: `Bearer ${announced}` } });
      expect(fleet.status).toBe(200);
      expect(await fleet.json()).toEqual({ at: expect.any(String), accounts: [], portfolios: [] });
      expect((await fetch(`${api.url}/api/v1/fleet`)).status).toBe(401);
    } finally {
      await api.close();
    }
  });
});
