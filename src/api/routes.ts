import type { z } from 'zod';
import type { StateValue } from 'xstate';
import { issueMessage, problemsFromZod, formatProblems } from '../config/problems.ts';
import { DIAGRAM_MACHINES } from '../diagram/machines.ts';
import type { OperatorAction } from '../runtime/fleet-runtime.ts';
import { entryCheckRequestSchema, moveStartTimeRequestSchema, resetStopoutRequestSchema, setStopoutRequestSchema } from './api-schemas.ts';
import type { ActionResponse, ErrorResponse } from './api-types.ts';
import type { ApiCaller, ApiRole } from './auth.ts';
import type { DiagramCache } from './diagram-cache.ts';
import { StoreReadError, type FleetView } from './fleet-view.ts';

/** What a route handler gets: the view, who asks, the path parameters, the query and the parsed body. */
export interface RouteContext {
  view: FleetView;
  caller: ApiCaller;
  params: Record<string, string>;
  query: URLSearchParams;
  /** The parsed JSON body (POST); undefined when empty. */
  body: unknown;
  diagrams: DiagramCache;
  /** The OpenAPI document (built once by the server). */
  openapi: () => unknown;
}

export type RouteReply = { status: number; json: unknown } | { status: number; svg: string };

/** `public`: answered without a token (`/healthz` only). */
export type RouteAccess = ApiRole | 'public';

export interface ApiRoute {
  method: 'GET' | 'POST';
  /** OpenAPI path template, e.g. `/api/v1/accounts/{id}`. */
  path: string;
  access: RouteAccess;
  /** Acting routes (admin): the operator action, audited on every answer. */
  action?: OperatorAction['action'];
  handle(ctx: RouteContext): Promise<RouteReply> | RouteReply;
}

const json = (status: number, body: unknown): RouteReply => ({ status, json: body });
const error = (status: number, message: string, problems?: string[]): RouteReply => {
  const body: ErrorResponse = { error: message, ...(problems && problems.length > 0 ? { problems } : {}) };
  return json(status, body);
};

/** The body validated by `schema`, or the 400 reply listing every problem by path. */
function validated<S extends z.ZodType>(schema: S, body: unknown): { ok: true; value: z.output<S> } | { ok: false; reply: RouteReply } {
  const parsed = schema.safeParse(body, { error: issueMessage });
  if (parsed.success) return { ok: true, value: parsed.data };
  const problems = formatProblems(problemsFromZod(parsed.error));
  return { ok: false, reply: error(400, `invalid request body: ${problems.length} problem${problems.length === 1 ? '' : 's'}`, problems) };
}

/** An acting route: validate, act through the view (FleetRuntime.operate), 200 ok or 409 refused. */
function acting<S extends z.ZodType>(
  path: string,
  action: OperatorAction['action'],
  schema: S,
  toAction: (body: z.output<S>) => Omit<OperatorAction, 'action' | 'by'>,
): ApiRoute {
  return {
    method: 'POST',
    path,
    access: 'admin',
    action,
    async handle(ctx) {
      const body = validated(schema, ctx.body);
      if (!body.ok) return body.reply;
      const outcome: ActionResponse = await ctx.view.operate({ action, ...toAction(body.value), by: `api ${ctx.caller.who}` });
      return json(outcome.result === 'ok' ? 200 : 409, outcome);
    },
  };
}

/** The diagram of `name`, the active state of the account (`?account=`) marked. */
function diagramRoute(name: string): ApiRoute {
  return {
    method: 'GET',
    path: `/api/v1/diagrams/${name}.svg`,
    access: 'read',
    async handle(ctx) {
      const machine = DIAGRAM_MACHINES[name]!;
      const accountId = ctx.query.get('account');
      if (accountId !== null && !ctx.view.accountIds().includes(accountId))
        return error(404, `unknown account ${JSON.stringify(accountId)}`);
      let active: StateValue | undefined;
      if (name === 'supervisor') active = ctx.view.supervisorState();
      else if (accountId !== null && name === 'account') active = ctx.view.activeState(accountId);
      else if (accountId !== null && name === 'order') {
        const orderId = ctx.query.get('order') ?? undefined;
        active = ctx.view.orderState(accountId, orderId);
        if (orderId !== undefined && active === undefined)
          return error(404, `unknown order ${JSON.stringify(orderId)} of account ${JSON.stringify(accountId)}`);
      }
      return { status: 200, svg: await ctx.diagrams.svg(name, machine, active) };
    },
  };
}

/**
 * Every route the server answers besides `GET /?token=` (the browser login) and the WebSocket upgrade of
 * `/api/v1/live`, which the server handles itself. The OpenAPI document describes exactly these.
 */
export const API_ROUTES: readonly ApiRoute[] = [
  { method: 'GET', path: '/healthz', access: 'public', handle: () => json(200, { ok: true }) },
  { method: 'GET', path: '/openapi.json', access: 'read', handle: (ctx) => json(200, ctx.openapi()) },
  { method: 'GET', path: '/api/v1/fleet', access: 'read', handle: (ctx) => json(200, ctx.view.fleet()) },
  {
    method: 'GET',
    path: '/api/v1/accounts/{id}',
    access: 'read',
    handle(ctx) {
      const account = ctx.view.account(ctx.params.id!);
      return account ? json(200, account) : error(404, `unknown account ${JSON.stringify(ctx.params.id)}`);
    },
  },
  {
    // A question, not an action: a read token may ask, nothing is sent, nothing is audited as acting.
    method: 'POST',
    path: '/api/v1/accounts/{id}/entry-check',
    access: 'read',
    handle(ctx) {
      const body = validated(entryCheckRequestSchema, ctx.body);
      if (!body.ok) return body.reply;
      const { price, ...rest } = body.value;
      const answer = ctx.view.checkEntry(ctx.params.id!, price === undefined ? rest : { ...rest, price });
      return answer ? json(200, answer) : error(404, `unknown account ${JSON.stringify(ctx.params.id)}`);
    },
  },
  {
    method: 'GET',
    path: '/api/v1/stopouts',
    access: 'read',
    async handle(ctx) {
      try {
        return json(200, await ctx.view.stopouts());
      } catch (e) {
        if (e instanceof StoreReadError) return error(503, e.message);
        throw e;
      }
    },
  },
  acting('/api/v1/stopouts', 'set-stopout', setStopoutRequestSchema, (b) => ({
    scope: b.scope,
    id: b.id,
    reason: b.reason ?? 'manual',
    closePositions: b.closePositions ?? false,
  })),
  acting('/api/v1/stopouts/reset', 'reset-stopout', resetStopoutRequestSchema, (b) => ({ scope: b.scope, id: b.id, reason: b.reason })),
  acting('/api/v1/start-time', 'move-start-time', moveStartTimeRequestSchema, (b) => ({ scope: b.scope, id: b.id })),
  diagramRoute('account'),
  diagramRoute('supervisor'),
  diagramRoute('order'),
  {
    method: 'GET',
    path: '/api/v1/live',
    access: 'read',
    handle: () => error(426, 'a WebSocket endpoint: connect with Upgrade: websocket'),
  },
];

/** The regular expression of a path template; `{name}` matches one non-empty segment. */
function templateRegex(path: string): { regex: RegExp; names: string[] } {
  const names: string[] = [];
  const source = path
    .split(/(\{[^}]+\})/)
    .map((part) => {
      const m = /^\{([^}]+)\}$/.exec(part);
      if (!m) return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      names.push(m[1]!);
      return '([^/]+)';
    })
    .join('');
  return { regex: new RegExp(`^${source}$`), names };
}

const COMPILED = API_ROUTES.map((route) => ({ route, ...templateRegex(route.path) }));

export type RouteMatch =
  | { kind: 'found'; route: ApiRoute; params: Record<string, string> }
  | { kind: 'wrong-method'; allowed: string[] }
  | { kind: 'bad-path'; problem: string }
  | { kind: 'none' };

/** The acting route whose path is `pathname`, whatever the method (a PUT to it is an acting call refused 405). */
export function actingRouteAt(pathname: string): ApiRoute | undefined {
  return COMPILED.find(({ route, regex }) => route.action !== undefined && regex.test(pathname))?.route;
}

/** The route for `method` and `pathname` (percent-encoded, as on the wire). */
export function matchRoute(method: string, pathname: string): RouteMatch {
  const allowed: string[] = [];
  for (const { route, regex, names } of COMPILED) {
    const m = regex.exec(pathname);
    if (!m) continue;
    if (route.method !== method) {
      allowed.push(route.method);
      continue;
    }
    const params: Record<string, string> = {};
    for (const [i, name] of names.entries()) {
      try {
        params[name] = decodeURIComponent(m[i + 1]!);
      } catch {
        return { kind: 'bad-path', problem: `${name}: not valid percent-encoding` };
      }
    }
    return { kind: 'found', route, params };
  }
  return allowed.length > 0 ? { kind: 'wrong-method', allowed } : { kind: 'none' };
}
