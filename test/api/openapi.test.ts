import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { z } from 'zod';
import {
  accountResponseSchema,
  actionResponseSchema,
  entryCheckResponseSchema,
  errorResponseSchema,
  fleetResponseSchema,
  healthResponseSchema,
  liveMessageSchema,
  stopoutsResponseSchema,
} from '../../src/api/api-schemas.ts';
import { startApiServer, type ApiServer } from '../../src/api/api-server.ts';
import { FleetView } from '../../src/api/fleet-view.ts';
import { API_ROUTES } from '../../src/api/routes.ts';
import { ADMIN_TOKEN, READ_TOKEN, startApiFixture, type ApiFixture } from './api-harness.ts';

/*
 * The OpenAPI document against the server: it is served and parses; it declares every route the server
 * answers and nothing else; and every response it documents — path, method, status — is produced here by
 * a real request, its body checked against the schema the document names for it.
 */

let f: ApiFixture;
/** A server whose view has no fleet yet: acting calls are refused (409). */
let idle: ApiServer;
/** A server whose stopout store cannot be read (503). */
let broken: ApiServer;
let doc: OpenApi;

interface Operation {
  responses: Record<string, { content?: Record<string, { schema?: { $ref?: string } }> }>;
}
interface OpenApi {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown> };
}

/** The routes the server handles besides the route table: the browser login and the WebSocket upgrade. */
const SPECIAL_ROUTES = [{ method: 'GET', path: '/' }];

beforeAll(async () => {
  f = await startApiFixture({
    pauses: [25_000],
    server: {
      // Stands in for the dashboard: the server hands it authenticated paths it does not know.
      extraRoutes: (req, res) => {
        if (req.url !== '/') return false;
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end('<!doctype html><title>dashboard</title>');
        return true;
      },
    },
  });
  await f.pausedAt(25_000);
  idle = await startApiServer({ view: new FleetView(), port: 0, tokens: { read: READ_TOKEN, admin: ADMIN_TOKEN } });
  const source = f.source();
  broken = await startApiServer({
    view: new FleetView({ source: { ...source, store: { list: () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:6379')) } } }),
    port: 0,
    tokens: { read: READ_TOKEN, admin: ADMIN_TOKEN },
  });
  const r = await f.get('/openapi.json');
  expect(r.status).toBe(200);
  expect(r.headers.get('content-type')).toMatch(/^application\/json/);
  doc = JSON.parse(await r.text()) as OpenApi;
});

afterAll(async () => {
  await idle?.close();
  await broken?.close();
  await f?.close();
});

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

function ws(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { headers });
    socket.once('upgrade', (res) => {
      resolve(res.statusCode ?? 0);
      socket.close();
    });
    socket.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
    });
    socket.once('error', reject);
  });
}

/** What each response of the document needs to be seen: the request that produces it. */
function producers(): Record<string, () => Promise<Response | number>> {
  const url = f.api.url;
  const get = (path: string, token?: string, base = url) =>
    fetch(`${base}${path}`, { headers: token ? bearer(token) : {}, redirect: 'manual' });
  const post = (path: string, body: string, token?: string, base = url) =>
    fetch(`${base}${path}`, { method: 'POST', headers: { ...(token ? bearer(token) : {}), 'content-type': 'application/json' }, body });
  const big = JSON.stringify({ scope: 'fleet', id: '*', reason: 'x'.repeat(70_000) });
  const entry = '{"symbol":"ETHP","side":"buy","amount":"1","type":"market"}';
  const acting = (path: string, okBody: string, refusedOn: string, refusedBody: string) => ({
    [`post ${path} 200`]: () => post(path, okBody, ADMIN_TOKEN),
    [`post ${path} 400`]: () => post(path, '{"scope":"galaxy"}', ADMIN_TOKEN),
    [`post ${path} 401`]: () => post(path, okBody),
    [`post ${path} 403`]: () => post(path, okBody, READ_TOKEN),
    [`post ${path} 409`]: () => post(path, refusedBody, ADMIN_TOKEN, refusedOn),
    [`post ${path} 413`]: () => post(path, big, ADMIN_TOKEN),
  });
  return {
    'get /healthz 200': () => get('/healthz'),
    'get / 200': () => fetch(`${url}/`, { headers: { cookie: `riskwarden_token=${READ_TOKEN}` } }),
    'get / 302': () => get(`/?token=${READ_TOKEN}`),
    'get / 401': () => get('/?token=not-a-token'),
    'get /openapi.json 200': () => get('/openapi.json', READ_TOKEN),
    'get /openapi.json 401': () => get('/openapi.json'),
    'get /api/v1/fleet 200': () => get('/api/v1/fleet', READ_TOKEN),
    'get /api/v1/fleet 401': () => get('/api/v1/fleet', 'wrong'),
    'get /api/v1/accounts/{id} 200': () => get('/api/v1/accounts/alpha', READ_TOKEN),
    'get /api/v1/accounts/{id} 401': () => get('/api/v1/accounts/alpha'),
    'get /api/v1/accounts/{id} 404': () => get('/api/v1/accounts/nobody', READ_TOKEN),
    'post /api/v1/accounts/{id}/entry-check 200': () => post('/api/v1/accounts/beta/entry-check', entry, READ_TOKEN),
    'post /api/v1/accounts/{id}/entry-check 400': () => post('/api/v1/accounts/beta/entry-check', '{"symbol":"ETHP"}', READ_TOKEN),
    'post /api/v1/accounts/{id}/entry-check 401': () => post('/api/v1/accounts/beta/entry-check', entry),
    'post /api/v1/accounts/{id}/entry-check 404': () => post('/api/v1/accounts/nobody/entry-check', entry, READ_TOKEN),
    'post /api/v1/accounts/{id}/entry-check 413': () => post('/api/v1/accounts/beta/entry-check', big, READ_TOKEN),
    'get /api/v1/stopouts 200': () => get('/api/v1/stopouts', READ_TOKEN),
    'get /api/v1/stopouts 401': () => get('/api/v1/stopouts'),
    'get /api/v1/stopouts 503': () => get('/api/v1/stopouts', READ_TOKEN, broken.url),
    // Set then reset: the fleet is left as it was.
    ...acting('/api/v1/stopouts', '{"scope":"account","id":"beta","reason":"manual"}', idle.url, '{"scope":"fleet","id":"*"}'),
    ...acting(
      '/api/v1/stopouts/reset',
      '{"scope":"account","id":"beta","reason":"manual"}',
      url,
      '{"scope":"account","id":"beta","reason":"manual"}',
    ),
    ...acting('/api/v1/start-time', '{"scope":"account","id":"beta"}', idle.url, '{"scope":"account","id":"beta"}'),
    ...Object.fromEntries(
      ['account', 'supervisor', 'order'].flatMap((name) => [
        [`get /api/v1/diagrams/${name}.svg 200`, () => get(`/api/v1/diagrams/${name}.svg?account=alpha`, READ_TOKEN)],
        [`get /api/v1/diagrams/${name}.svg 401`, () => get(`/api/v1/diagrams/${name}.svg?account=alpha`)],
        [`get /api/v1/diagrams/${name}.svg 404`, () => get(`/api/v1/diagrams/${name}.svg?account=nobody`, READ_TOKEN)],
      ]),
    ),
    'get /api/v1/live 101': () => ws(`${url.replace('http', 'ws')}/api/v1/live`, bearer(READ_TOKEN)),
    'get /api/v1/live 401': () => ws(`${url.replace('http', 'ws')}/api/v1/live`),
    'get /api/v1/live 403': () =>
      ws(`${url.replace('http', 'ws')}/api/v1/live`, { cookie: `riskwarden_token=${READ_TOKEN}`, origin: 'http://127.0.0.1:1' }),
    'get /api/v1/live 426': () => get('/api/v1/live', READ_TOKEN),
  };
}

const SCHEMAS: Record<string, z.ZodType> = {
  HealthResponse: healthResponseSchema,
  FleetResponse: fleetResponseSchema,
  AccountResponse: accountResponseSchema,
  StopoutsResponse: stopoutsResponseSchema,
  ActionResponse: actionResponseSchema,
  EntryCheckResponse: entryCheckResponseSchema,
  ErrorResponse: errorResponseSchema,
  LiveMessage: liveMessageSchema,
};

describe('the OpenAPI document', () => {
  it('is OpenAPI 3.1 with every $ref resolvable', () => {
    expect(doc.openapi).toBe('3.1.0');
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1]!);
    expect(refs.length).toBeGreaterThan(10);
    for (const name of new Set(refs)) expect(doc.components.schemas, name).toHaveProperty(name);
  });

  it('declares exactly the routes the server answers', () => {
    const served = [...API_ROUTES.map((r) => ({ method: r.method, path: r.path })), ...SPECIAL_ROUTES].map(
      (r) => `${r.method.toLowerCase()} ${r.path}`,
    );
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method} ${path}`));
    expect(new Set(documented)).toEqual(new Set(served));
  });

  it('every documented response is produced, with the documented body', async () => {
    const table = producers();
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops).flatMap(([method, op]) =>
        Object.keys(op.responses).map((code) => ({ key: `${method} ${path} ${code}`, op, code })),
      ),
    );
    expect(documented.map((d) => d.key).filter((k) => !(k in table))).toEqual([]);
    const codes = new Set<string>();
    for (const { key, op, code } of documented) {
      const result = await table[key]!();
      const status = typeof result === 'number' ? result : result.status;
      expect(status, key).toBe(Number(code));
      codes.add(code);
      if (typeof result === 'number') continue;
      const ref = op.responses[code]!.content?.['application/json']?.schema?.$ref?.split('/').pop();
      const text = await result.text();
      if (ref) {
        expect(result.headers.get('content-type'), key).toMatch(/^application\/json/);
        const schema = SCHEMAS[ref];
        expect(schema, `${key}: a test schema for ${ref}`).toBeDefined();
        const parsed = schema!.safeParse(JSON.parse(text));
        expect(parsed.success ? [] : parsed.error.issues, key).toEqual([]);
      }
      if (op.responses[code]!.content?.['image/svg+xml']) {
        expect(result.headers.get('content-type'), key).toMatch(/^image\/svg\+xml/);
        expect(text).toContain('<svg');
      }
    }
    for (const code of ['200', '400', '401', '403', '404', '409']) expect(codes.has(code), code).toBe(true);
  });

  it('the document lists the tokens and where they go', () => {
    const text = JSON.stringify(doc);
    expect(text).toContain('RISKWARDEN_API_READ_TOKEN');
    expect(text).toContain('RISKWARDEN_API_ADMIN_TOKEN');
    expect(doc.paths['/healthz']!.get).toMatchObject({ security: [] });
  });
});
