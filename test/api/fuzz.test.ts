import fc from 'fast-check';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, READ_TOKEN, startApiFixture, type ApiFixture } from './api-harness.ts';

/*
 * Random requests over raw TCP — methods, paths, headers (malformed ones included) and bodies, a few
 * hundred per property, seeded — against the real fleet (paused). The server must answer every one,
 * every error as JSON `{error}`, and stay up.
 */

let f: ApiFixture;

beforeAll(async () => {
  f = await startApiFixture({ pauses: [10_000] });
  await f.pausedAt(10_000);
});
afterAll(async () => {
  await f?.close();
});

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Sends `request` as is, half-closes, and reads the (last non-100) response until the connection ends. */
function raw(port: number, request: Buffer): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        new Error(
          `no complete answer within 5 s to ${JSON.stringify(request.toString('latin1').slice(0, 200))}; got ${JSON.stringify(Buffer.concat(chunks).toString('latin1').slice(0, 200))}`,
        ),
      );
    }, 5_000);
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', () => {}); // a reset after the answer is fine; no answer fails below
    socket.on('close', () => {
      clearTimeout(timer);
      let text = Buffer.concat(chunks).toString('latin1');
      while (text.startsWith('HTTP/1.1 100 ')) text = text.slice(text.indexOf('\r\n\r\n') + 4);
      const end = text.indexOf('\r\n\r\n');
      const m = /^HTTP\/1\.1 (\d{3}) /.exec(text);
      if (!m || end < 0) {
        reject(
          new Error(`no HTTP answer to ${JSON.stringify(request.toString('latin1').slice(0, 200))}: ${JSON.stringify(text.slice(0, 200))}`),
        );
        return;
      }
      const headers: Record<string, string> = {};
      for (const line of text.slice(0, end).split('\r\n').slice(1)) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      // Bytes after a bodiless request's headers are a second (pipelined) request: read only the first answer.
      const length = headers['content-length'] === undefined ? undefined : Number(headers['content-length']);
      resolve({ status: Number(m[1]), headers, body: text.slice(end + 4, length === undefined ? undefined : end + 4 + length) });
    });
    socket.write(request, () => socket.end());
  });
}

const KNOWN_PATHS = [
  '/',
  '/healthz',
  '/openapi.json',
  '/api/v1/fleet',
  '/api/v1/accounts/alpha',
  '/api/v1/accounts/',
  '/api/v1/stopouts',
  '/api/v1/stopouts/reset',
  '/api/v1/start-time',
  '/api/v1/diagrams/account.svg',
  '/api/v1/diagrams/order.svg?account=beta&order=x',
  '/api/v1/live',
  '/?token=',
];

// Weighted towards requests that get past the parser and the token check, so the routes are reached too.
const method = fc.oneof(
  { arbitrary: fc.constantFrom('GET', 'POST'), weight: 6 },
  { arbitrary: fc.constantFrom('PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'), weight: 2 },
  { arbitrary: fc.stringMatching(/^[A-Z]{1,8}$/), weight: 1 },
  { arbitrary: fc.string({ maxLength: 6 }), weight: 1 },
);
const path = fc.oneof(
  { arbitrary: fc.constantFrom(...KNOWN_PATHS), weight: 6 },
  {
    arbitrary: fc.tuple(fc.constantFrom(...KNOWN_PATHS), fc.string({ maxLength: 20 })).map(([p, s]) => `${p}${encodeURIComponent(s)}`),
    weight: 2,
  },
  { arbitrary: fc.tuple(fc.constantFrom(...KNOWN_PATHS), fc.string({ maxLength: 12 })).map(([p, s]) => `${p}${s}`), weight: 1 },
  { arbitrary: fc.webPath(), weight: 1 },
  { arbitrary: fc.string({ maxLength: 30 }), weight: 1 },
);
const headerName = fc.oneof(
  {
    arbitrary: fc.constantFrom(
      'authorization',
      'cookie',
      'content-type',
      'content-length',
      'transfer-encoding',
      'expect',
      'upgrade',
      'connection',
      'sec-websocket-key',
      'sec-websocket-version',
      'host',
    ),
    weight: 3,
  },
  { arbitrary: fc.stringMatching(/^x-[a-z-]{1,12}$/), weight: 3 },
  { arbitrary: fc.string({ maxLength: 8 }), weight: 1 },
);
const headerValue = fc.oneof(
  {
    arbitrary: fc.constantFrom(
      `Bearer ${READ_TOKEN}`,
      `Bearer ${ADMIN_TOKEN}`,
      `riskwarden_token=${ADMIN_TOKEN}`,
      'application/json',
      '0',
      '100',
      'chunked',
      '100-continue',
      'websocket',
      'Upgrade',
      'dGhlIHNhbXBsZSBub25jZQ==',
      '13',
    ),
    weight: 3,
  },
  { arbitrary: fc.stringMatching(/^[ -~]{0,30}$/), weight: 2 },
  { arbitrary: fc.string({ maxLength: 40 }), weight: 1 },
  { arbitrary: fc.nat().map(String), weight: 1 },
);
const body = fc.oneof(
  fc.constant(''),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? ''),
  fc
    .record(
      {
        scope: fc.oneof(
          fc.constantFrom('fleet', 'portfolio', 'member', 'strategy', 'account', 'subscription', 'subscriber'),
          fc.string({ maxLength: 8 }),
        ),
        id: fc.oneof(fc.constantFrom('*', 'alpha', 'beta', 'core', 'core/alpha'), fc.string({ maxLength: 10 })),
        reason: fc.oneof(fc.constantFrom('manual', 'day-equity-difference'), fc.string({ maxLength: 10 })),
        closePositions: fc.boolean(),
      },
      { requiredKeys: [] },
    )
    .map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 80 }),
);

function build(m: string, p: string, headers: [string, string][], b: string, withLength: boolean): Buffer {
  const lines = [`${m} ${p} HTTP/1.1`, 'Host: 127.0.0.1', ...headers.map(([k, v]) => `${k}: ${v}`)];
  if (withLength) lines.push(`Content-Length: ${Buffer.byteLength(b)}`);
  return Buffer.from(`${lines.join('\r\n')}\r\nConnection: close\r\n\r\n${b}`, 'utf8');
}

function expectJsonError(response: RawResponse, method: string, request: string): void {
  const where = `${response.status} to ${JSON.stringify(request.slice(0, 300))}`;
  expect(response.status, where).toBeGreaterThanOrEqual(100);
  expect(response.status, where).toBeLessThan(500);
  if (response.status < 400) return;
  expect(response.headers['content-type'], where).toMatch(/^application\/json/);
  if (method === 'HEAD') return;
  const parsed = JSON.parse(response.body) as { error?: unknown };
  expect(typeof parsed.error, where).toBe('string');
}

describe('fuzzing the API', () => {
  it('random methods, paths, headers and bodies: always an answer, every error JSON, never a crash', async () => {
    const seen = new Set<number>();
    await fc.assert(
      fc.asyncProperty(
        method,
        path,
        fc.constantFrom(undefined, READ_TOKEN, ADMIN_TOKEN),
        fc.array(fc.tuple(headerName, headerValue), { maxLength: 3 }),
        body,
        fc.boolean(),
        async (m, p, token, headers, b, withLength) => {
          const request = build(
            m,
            p,
            [...(token ? [['Authorization', `Bearer ${token}`] as [string, string]] : []), ...headers],
            b,
            withLength,
          );
          const response = await raw(f.api.port, request);
          seen.add(response.status);
          expectJsonError(response, m, request.toString('latin1'));
        },
      ),
      { seed: 20260105, numRuns: 400 },
    );
    // The requests reached far: past the parser, the tokens, the routes and the body checks.
    expect([...seen].sort()).toEqual(expect.arrayContaining([200, 400, 401, 403, 404, 405]));
  });

  it('authorised random bodies on the acting routes: 200, 400 or 409, always JSON', async () => {
    const acting = fc.constantFrom('/api/v1/stopouts', '/api/v1/stopouts/reset', '/api/v1/start-time');
    await fc.assert(
      fc.asyncProperty(acting, body, fc.constantFrom(ADMIN_TOKEN, READ_TOKEN), async (p, b, token) => {
        const response = await raw(
          f.api.port,
          build(
            'POST',
            p,
            [
              ['Authorization', `Bearer ${token}`],
              ['Content-Type', 'application/json'],
            ],
            b,
            true,
          ),
        );
        expect(response.headers['content-type']).toMatch(/^application\/json/);
        const parsed = JSON.parse(response.body) as Record<string, unknown>;
        if (token === READ_TOKEN) expect(response.status).toBe(403);
        else expect([200, 400, 409]).toContain(response.status);
        if (response.status === 400) expect(parsed.problems).toEqual(expect.arrayContaining([expect.any(String)]));
        if (response.status === 200 || response.status === 409) expect(['ok', 'refused']).toContain(parsed.result);
      }),
      { seed: 8377, numRuns: 300 },
    );
  });

  it('is still up and serving afterwards', async () => {
    expect((await f.get('/healthz', null)).status).toBe(200);
    expect((await f.get('/api/v1/fleet')).status).toBe(200);
  });
});
