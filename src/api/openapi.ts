import { z } from 'zod';
import { apiSchemaRegistry } from './api-schemas.ts';
import { TOKEN_COOKIE } from './auth.ts';

/**
 * The OpenAPI 3.1 document of the HTTP API (served at `/openapi.json`). The component schemas are
 * generated from the zod schemas the server validates requests with and the tests check answers with
 * (api-schemas.ts), so they cannot drift; the paths are written here, and a test checks that they are
 * exactly the routes the server answers and that every response code listed is one a test produces.
 */

type Json = Record<string, unknown>;

const ref = (name: string): Json => ({ $ref: `#/components/schemas/${name}` });
const jsonContent = (schema: Json): Json => ({ 'application/json': { schema } });
const reply = (description: string, schema: string): Json => ({ description, content: jsonContent(ref(schema)) });

const E401 = reply('No token, or a token the server does not know.', 'ErrorResponse');
const E403 = reply(
  'A read token on an admin call; or the login cookie on a call from another page, or without Content-Type: application/json.',
  'ErrorResponse',
);
const E400 = reply('The body is not JSON, or not a valid request: `problems` lists every problem by path.', 'ErrorResponse');
const E413 = reply('The body is larger than 64 KiB.', 'ErrorResponse');
const E404 = (what: string): Json => reply(`Unknown ${what}.`, 'ErrorResponse');

const scopeIdNote =
  'Scopes: fleet (id "*", the kill switch), portfolio, member ("<portfolio>/<account>"), strategy, account, subscription ("<subscriber>/<target>"), subscriber.';

function actingOperation(summary: string, description: string, request: string): Json {
  return {
    summary,
    description: `${description} Admin only. Every call is audited with the caller's role and token fingerprint. ${scopeIdNote}`,
    requestBody: { required: true, content: jsonContent(ref(request)) },
    responses: {
      200: reply('Done.', 'ActionResponse'),
      400: E400,
      401: E401,
      403: E403,
      409: reply('Refused, with the reason (e.g. a reset while the limit still breaches: move startTime first).', 'ActionResponse'),
      413: E413,
    },
  };
}

function diagramOperation(name: string): Json {
  const parameters: Json[] = [
    {
      name: 'account',
      in: 'query',
      required: false,
      schema: { type: 'string' },
      description:
        name === 'supervisor'
          ? 'Ignored but checked: an unknown account is 404.'
          : 'The account whose active state is marked; without it nothing is marked.',
    },
  ];
  if (name === 'order') {
    parameters.push({
      name: 'order',
      in: 'query',
      required: false,
      schema: { type: 'string' },
      description: "The account's order (client order id) whose lifecycle state is marked; default: its newest order.",
    });
  }
  return {
    summary: `The ${name} statechart as SVG${name === 'supervisor' ? ', its active state marked' : ", the account's active state marked"}`,
    parameters,
    responses: {
      200: { description: 'SVG drawn by Graphviz.', content: { 'image/svg+xml': { schema: { type: 'string' } } } },
      401: E401,
      404: E404(name === 'order' ? 'account or order' : 'account'),
    },
  };
}

/** Component schemas from the zod registry, without the per-schema `$schema`/`$id` that a document does not need. */
function componentSchemas(): Record<string, Json> {
  const generated = z.toJSONSchema(apiSchemaRegistry, { uri: (id) => `#/components/schemas/${id}` });
  const out: Record<string, Json> = {};
  for (const [name, schema] of Object.entries(generated.schemas)) {
    const { $schema: _schema, $id: _id, ...rest } = schema as Json;
    out[name] = rest;
  }
  return out;
}

export function openApiDocument(options: { serverUrl?: string } = {}): Json {
  return {
    openapi: '3.1.0',
    info: {
      title: 'riskwarden API',
      version: '1.0.0',
      description: [
        'Read the supervised fleet, its stopouts and statecharts, act as an operator (kill switch, resets, startTime), and follow the timeline live.',
        'Every path but /healthz needs a token: `Authorization: Bearer <token>`, or the `riskwarden_token` cookie that `GET /?token=<token>` sets, or `?token=` on the WebSocket URL.',
        'Tokens come from RISKWARDEN_API_READ_TOKEN (read: GETs and the live socket) and RISKWARDEN_API_ADMIN_TOKEN (admin: everything), or the variables a fleet config names under api.tokensEnv.',
        'With no token configured the server starts only on loopback, with an admin token generated for the run and printed once.',
        'Decimals are strings. Errors are `{ "error": "...", "problems": ["path: message"] }`; a method a path does not have is 405, an unknown path 404.',
      ].join(' '),
    },
    ...(options.serverUrl ? { servers: [{ url: options.serverUrl }] } : {}),
    security: [{ bearerToken: [] }, { cookieToken: [] }],
    paths: {
      '/healthz': {
        get: {
          summary: 'Liveness; the only path answered without a token',
          security: [],
          responses: { 200: reply('Up.', 'HealthResponse') },
        },
      },
      '/': {
        get: {
          summary: 'Browser login: sets the token cookie and redirects to the dashboard',
          security: [],
          parameters: [{ name: 'token', in: 'query', required: false, schema: { type: 'string' }, description: 'A read or admin token.' }],
          responses: {
            200: {
              description: 'The dashboard (when the server serves one), for a browser that has the cookie.',
              content: { 'text/html': { schema: { type: 'string' } } },
            },
            302: {
              description: `A valid token: \`Set-Cookie: ${TOKEN_COOKIE}=<token>; HttpOnly; SameSite=Strict; Path=/\` and \`Location: /\`.`,
              headers: { 'Set-Cookie': { schema: { type: 'string' } }, Location: { schema: { type: 'string' } } },
            },
            401: E401,
          },
        },
      },
      '/openapi.json': {
        get: {
          summary: 'This document',
          responses: { 200: { description: 'OpenAPI 3.1.', content: jsonContent({ type: 'object' }) }, 401: E401 },
        },
      },
      '/api/v1/fleet': {
        get: { summary: 'One row per supervised account', responses: { 200: reply('The fleet.', 'FleetResponse'), 401: E401 } },
      },
      '/api/v1/accounts/{id}': {
        get: {
          summary: 'One account: row, budget, limits, working orders, recent decisions and timeline',
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
          responses: { 200: reply('The account.', 'AccountResponse'), 401: E401, 404: E404('account') },
        },
      },
      '/api/v1/accounts/{id}/entry-check': {
        post: {
          summary: "What the account's pre-trade gate answers to an order now; nothing is sent",
          description:
            'The decision an entry of this order would get at this moment (FleetRuntime.checkEntry): allowed or not, every rule checked, every block with its numbers. Nothing is sent to the venue and no decision record is written. A read token suffices.',
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
          requestBody: { required: true, content: jsonContent(ref('EntryCheckRequest')) },
          responses: {
            200: reply('The gate decision.', 'EntryCheckResponse'),
            400: E400,
            401: E401,
            404: E404('account'),
            413: E413,
          },
        },
      },
      '/api/v1/stopouts': {
        get: {
          summary: 'Every stopout in the shared store',
          responses: {
            200: reply('The stopouts.', 'StopoutsResponse'),
            401: E401,
            503: reply('The stopout store cannot be read.', 'ErrorResponse'),
          },
        },
        post: actingOperation(
          'Set a manual stopout',
          'Raises a stopout at any scope; fleet "*" stops every account (the kill switch).',
          'SetStopoutRequest',
        ),
      },
      '/api/v1/stopouts/reset': {
        post: actingOperation(
          'Reset a stopout',
          'Refused (409) while the CopyFactory limit that raised it still measures a breach: move startTime first.',
          'ResetStopoutRequest',
        ),
      },
      '/api/v1/start-time': {
        post: actingOperation(
          'Move startTime to now',
          'CopyFactory: history before now no longer counts for the limits of that level.',
          'MoveStartTimeRequest',
        ),
      },
      '/api/v1/diagrams/account.svg': { get: diagramOperation('account') },
      '/api/v1/diagrams/supervisor.svg': { get: diagramOperation('supervisor') },
      '/api/v1/diagrams/order.svg': { get: diagramOperation('order') },
      '/api/v1/live': {
        get: {
          summary: 'WebSocket: the timeline as it happens',
          description:
            'Sends `{type:"hello"}`, then `{type:"record", record}` for state, decision, order, order-update, cancel, stopout, operator, liquidation, risk and mark records (marks at most one per symbol per 250 ms) within 100 ms of the event. A client that does not keep up is disconnected. The token may be given as `?token=`.',
          security: [{ bearerToken: [] }, { cookieToken: [] }, { queryToken: [] }],
          parameters: [{ name: 'token', in: 'query', required: false, schema: { type: 'string' } }],
          responses: {
            101: {
              description: 'Switching to the WebSocket protocol; messages are LiveMessage.',
              content: jsonContent(ref('LiveMessage')),
            },
            401: E401,
            403: reply('The login cookie on a socket another page opens.', 'ErrorResponse'),
            426: reply('A plain HTTP request: this path speaks WebSocket only.', 'ErrorResponse'),
          },
        },
      },
    },
    components: {
      securitySchemes: {
        bearerToken: { type: 'http', scheme: 'bearer', description: 'A read or admin token.' },
        cookieToken: { type: 'apiKey', in: 'cookie', name: TOKEN_COOKIE, description: 'Set by GET /?token=.' },
        queryToken: { type: 'apiKey', in: 'query', name: 'token', description: 'WebSocket only.' },
      },
      schemas: componentSchemas(),
    },
  };
}
