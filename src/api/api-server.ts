import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { OperatorAction } from '../runtime/fleet-runtime.ts';
import type { ActionResponse, ErrorResponse } from './api-types.ts';
import {
  allows,
  ApiAuth,
  crossOriginProblem,
  effectiveTokens,
  requestCredential,
  tokenCookie,
  tokenFingerprint,
  type ApiCaller,
  type ApiTokens,
} from './auth.ts';
import { DiagramCache } from './diagram-cache.ts';
import type { FleetView } from './fleet-view.ts';
import { sendError, sendJson, sendText } from './http-reply.ts';
import { LIVE_PATH, LiveSocket, refuseUpgrade, type LiveSocketOptions } from './live-socket.ts';
import { openApiDocument } from './openapi.ts';
import { MAX_BODY_BYTES, readJsonBody } from './request-body.ts';
import { actingRouteAt, matchRoute, type RouteReply } from './routes.ts';

/** One acting call, as the `audit` hook receives it. */
export interface ApiAuditEntry {
  /** ISO 8601, wall clock. */
  at: string;
  /** `<role>:<token fingerprint>`, e.g. `admin:3f2a09c1`; `unknown:<fingerprint>` (a token of no role) or `anonymous` on a 401. */
  who: string;
  action: OperatorAction['action'];
  /** The JSON body as sent (null when it was empty, too large or not JSON). */
  request: unknown;
  result: ActionResponse;
  /** The HTTP status answered (200, 409 by the fleet; 400, 401, 403, 405, 413, 500 before it). */
  status: number;
}

/**
 * Extra handlers (the dashboard's static files, observability's /metrics): called for an authenticated
 * request to a path outside `/api/` that no API route has; returns true when it answers.
 */
export type ExtraRoutes = (req: IncomingMessage, res: ServerResponse, caller: ApiCaller) => boolean;

export interface ApiServerOptions {
  view: FleetView;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 8377; 0 picks a free port. */
  port?: number;
  /** From the environment (auth.ts tokensFromEnv). With none, see effectiveTokens: loopback only. */
  tokens: ApiTokens;
  /** The variables the tokens come from, for messages (default RISKWARDEN_API_READ_TOKEN / _ADMIN_TOKEN). */
  tokenEnvNames?: { read?: string | undefined; admin?: string | undefined };
  /**
   * Every acting call (set/reset stopout, move startTime: any request but GET to their paths), whatever its
   * outcome, refusals before the handler included (401, 403, 400, 405, 413, 500).
   */
  audit?: (entry: ApiAuditEntry) => void;
  extraRoutes?: ExtraRoutes;
  onListen?: (url: string) => void;
  /** Receives the admin token generated when none is configured; without it, it is printed to stderr once. */
  onGeneratedToken?: (token: string) => void;
  /** Default 64 KiB. */
  maxBodyBytes?: number;
  live?: Omit<LiveSocketOptions, 'view'>;
  /** Wall clock of audit entries (default Date.now). */
  now?: () => number;
}

export interface ApiServer {
  /** http://host:port */
  url: string;
  host: string;
  port: number;
  /** The admin token made up for this run when none was configured (loopback only). */
  generatedToken?: string;
  live: LiveSocket;
  close(): Promise<void>;
}

/** Bytes of an over-large body the server still reads (and drops) so the client sees its 413. */
const DRAIN_LIMIT = 4 * 1024 * 1024;

/**
 * The HTTP API (node:http, `ws` for the live socket on the same port): routes.ts lists the routes, auth.ts
 * checks the tokens, the view reads and acts. Only `/healthz` answers without a token; every error is a
 * JSON `{error}`; no input can crash it.
 */
export async function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 8377;
  const { tokens, generated } = effectiveTokens(options.tokens, host, options.tokenEnvNames);
  const auth = new ApiAuth(tokens);
  const diagrams = new DiagramCache();
  const live = new LiveSocket({ view: options.view, ...options.live });
  const maxBody = options.maxBodyBytes ?? MAX_BODY_BYTES;
  const now = options.now ?? Date.now;
  let openapi: unknown;
  let url = '';

  /**
   * Audits an acting call once, whatever its outcome: the fleet's answer (200, 409) and every refusal before
   * it (401, 403, 400, 413, 405, 500). Only fingerprints of tokens, never tokens, reach the hook.
   */
  const audit = (call: ActingCall | undefined, reply: RouteReply): void => {
    if (!call || call.audited || !options.audit || !('json' in reply)) return;
    call.audited = true;
    const body = reply.json as ActionResponse & ErrorResponse;
    const result: ActionResponse =
      reply.status === 200 || reply.status === 409
        ? { result: body.result, ...(body.reason !== undefined ? { reason: body.reason } : {}) }
        : { result: 'refused', reason: [body.error, ...(body.problems ?? [])].join('; ') };
    try {
      options.audit({
        at: new Date(now()).toISOString(),
        who: call.who,
        action: call.action,
        request: call.request ?? null,
        result,
        status: reply.status,
      });
    } catch {
      // An audit sink failing must not fail the action that already happened.
    }
  };

  const answer = (res: ServerResponse, reply: RouteReply): void => {
    if ('svg' in reply) sendText(res, reply.status, 'image/svg+xml; charset=utf-8', reply.svg);
    else sendJson(res, reply.status, reply.json);
  };

  /** Answers an acting call's refusal with an ErrorResponse, audited first. */
  const refuse = (
    res: ServerResponse,
    call: ActingCall | undefined,
    status: number,
    error: string,
    headers?: Record<string, string>,
  ): void => {
    audit(call, { status, json: { error } });
    sendError(res, status, error, headers ? { headers } : {});
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, calls: { call?: ActingCall }): Promise<void> => {
    const method = req.method ?? 'GET';
    const target = parseTarget(req.url);
    if (!target) return sendError(res, 400, 'malformed request target');
    const { pathname, searchParams } = target;
    const match = matchRoute(method, pathname);
    // Any request but a read to an acting route's path is an acting call: audited from here on, refused or not.
    const actingRoute = method === 'GET' || method === 'HEAD' ? undefined : actingRouteAt(pathname);

    if (match.kind === 'found' && match.route.access === 'public') {
      const anonymous: ApiCaller = { role: 'read', who: 'anonymous' };
      return answer(
        res,
        await match.route.handle({
          view: options.view,
          caller: anonymous,
          params: match.params,
          query: searchParams,
          body: undefined,
          diagrams,
          openapi: () => undefined,
        }),
      );
    }
    // The browser login: the token in the URL once, then in an HttpOnly cookie.
    if (pathname === '/' && searchParams.has('token')) {
      if (method !== 'GET') return sendError(res, 405, `method ${method} not allowed on /?token=`, { headers: { allow: 'GET' } });
      if (!auth.caller(searchParams.get('token') ?? undefined)) return unauthorized(res, 'unknown token');
      res.writeHead(302, {
        location: '/',
        'set-cookie': tokenCookie(searchParams.get('token')!),
        'cache-control': 'no-store',
        'content-length': 0,
      });
      res.end();
      return;
    }
    const credential = requestCredential(req);
    const caller = auth.caller(credential?.token);
    const call: ActingCall | undefined = actingRoute?.action
      ? { action: actingRoute.action, who: caller?.who ?? unknownCaller(credential?.token), request: null, audited: false }
      : undefined;
    calls.call = call;
    if (!caller)
      return refuse(
        res,
        call,
        401,
        `unauthorized: ${credential === undefined ? 'a token is required' : 'unknown token'} (Authorization: Bearer <token>)`,
        {
          'www-authenticate': 'Bearer realm="riskwarden"',
        },
      );

    switch (match.kind) {
      case 'bad-path':
        return refuse(res, call, 400, `malformed path: ${match.problem}`);
      case 'wrong-method':
        return refuse(res, call, 405, `method ${method} not allowed on ${pathname}`, { allow: [...new Set(match.allowed)].join(', ') });
      case 'none':
        if (!pathname.startsWith('/api/') && pathname !== '/openapi.json' && options.extraRoutes?.(req, res, caller)) return;
        return sendError(res, 404, `no such path: ${pathname}`);
      case 'found':
        break;
    }
    const { route, params } = match;
    let body: unknown;
    const forbidden = !allows(caller.role, route.access as 'read' | 'admin')
      ? `${route.method} ${route.path} needs an admin token`
      : route.method === 'POST' && credential?.via === 'cookie'
        ? cookieActingProblem(req)
        : undefined;
    if (forbidden) return refuse(res, call, 403, forbidden);
    if (route.method === 'POST') {
      const read = await readJsonBody(req, maxBody);
      if (!read.ok) {
        const reply: RouteReply = {
          status: read.status,
          json: { error: read.error, ...(read.problems ? { problems: read.problems } : {}) },
        };
        audit(call, reply);
        if (read.status === 413) drainAndClose(req, res);
        return answer(res, reply);
      }
      body = read.value;
      if (call) call.request = body;
    }
    const reply = await route.handle({
      view: options.view,
      caller,
      params,
      query: searchParams,
      body,
      diagrams,
      openapi: () => (openapi ??= openApiDocument({ serverUrl: url })),
    });
    audit(call, reply);
    answer(res, reply);
  };

  // The Host header plays no part (tokens guard every path), so its absence is no reason for a non-JSON 400.
  const server: Server = createServer({ requireHostHeader: false }, (req, res) => {
    const calls: { call?: ActingCall } = {};
    handle(req, res, calls).catch((error: unknown) => {
      // Never crash on a request: a handler's failure is a 500 with no details beyond its message.
      const message = `internal error: ${(error as Error)?.message ?? String(error)}`;
      audit(calls.call, { status: 500, json: { error: message } });
      if (!res.headersSent) sendError(res, 500, message);
      else res.destroy();
    });
  });
  server.on('checkExpectation', (_req: IncomingMessage, res: ServerResponse) =>
    sendError(res, 417, 'only "Expect: 100-continue" is supported'),
  );
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    // As node's own handler: no answer over a response already on its way (it would corrupt it).
    const inFlight = (socket as Duplex & { _httpMessage?: ServerResponse })._httpMessage;
    if (error.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
      socket.destroy();
      return;
    }
    refuseUpgrade(socket, 400, 'Bad Request', `malformed HTTP request: ${error.code ?? error.message}`);
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const target = parseTarget(req.url);
    if (!target || target.pathname !== LIVE_PATH) {
      refuseUpgrade(socket, 404, 'Not Found', `no WebSocket at ${target?.pathname ?? 'that path'}; use ${LIVE_PATH}`);
      return;
    }
    const credential = requestCredential(req, target.searchParams);
    const problem = credential?.via === 'cookie' ? crossOriginProblem(req) : undefined;
    if (problem) {
      refuseUpgrade(socket, 403, 'Forbidden', problem);
      return;
    }
    live.upgrade(req, socket, head, auth.caller(credential?.token));
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error): void => {
      server.off('listening', onListening);
      reject(error);
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  }).catch((error: unknown) => {
    live.close();
    throw error;
  });

  const address = server.address() as AddressInfo;
  url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
  if (generated) {
    if (options.onGeneratedToken) options.onGeneratedToken(generated);
    else process.stderr.write(`riskwarden: no API token configured: admin token for this run (loopback only): ${generated}\n`);
  }
  options.onListen?.(url);

  return {
    url,
    host: address.address,
    port: address.port,
    ...(generated ? { generatedToken: generated } : {}),
    live,
    close: () =>
      new Promise<void>((resolve) => {
        live.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * Why a POST authenticated by the login cookie is refused, or undefined: it must come from the API's own
 * pages (crossOriginProblem) and be JSON — which a plain form on another page cannot send.
 */
function cookieActingProblem(req: IncomingMessage): string | undefined {
  const crossOrigin = crossOriginProblem(req);
  if (crossOrigin) return crossOrigin;
  const type = req.headers['content-type'] ?? '';
  return /^application\/json\s*(;|$)/i.test(type) ? undefined : 'a call with the login cookie must send Content-Type: application/json';
}

/** An acting call in progress: what it asks and who asks, audited once when it is answered. */
interface ActingCall {
  action: OperatorAction['action'];
  who: string;
  /** The parsed body once read (null before, or when it could not be). */
  request: unknown;
  audited: boolean;
}

/** `who` of a request without a valid token: `anonymous` with none, else the fingerprint of the token it sent. */
function unknownCaller(token: string | undefined): string {
  return token === undefined || token === '' ? 'anonymous' : `unknown:${tokenFingerprint(token)}`;
}

function unauthorized(res: ServerResponse, why: string): void {
  sendError(res, 401, `unauthorized: ${why} (Authorization: Bearer <token>)`, {
    headers: { 'www-authenticate': 'Bearer realm="riskwarden"' },
  });
}

/** The request target as a URL, or undefined when it is not one (`*`, garbage). */
function parseTarget(target: string | undefined): URL | undefined {
  try {
    const text = target ?? '/';
    // Origin-form (`/path?q`) is resolved against a dummy origin; `//x` must stay a path, not a host.
    return text.startsWith('/') ? new URL(`http://api.invalid${text}`) : new URL(text);
  } catch {
    return undefined;
  }
}

/** After a 413: read and drop what the client still sends (so it sees the answer), then close. */
function drainAndClose(req: IncomingMessage, res: ServerResponse): void {
  res.setHeader('connection', 'close');
  let drained = 0;
  req.on('data', (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > DRAIN_LIMIT) req.socket.destroy();
  });
  req.resume();
}
