import { ORDER_UPDATE_REASON, STRATEGY_UPDATE_REASON, codesOf } from '../derivadex/codes.ts';
import type { Eip712Venue } from '../derivadex/crypto/eip712.ts';
import { PATHS } from '../derivadex/paths.ts';
import { deploymentInfo } from './deployment.ts';
import { type Exchange, ExchangeError } from './exchange.ts';
import { QueryError, ReadQuery } from './read-query.ts';
import type { HistoryPage, PageQuery } from './update-history.ts';

/*
 * The simulator's REST reads, one per path of src/derivadex/paths.ts, with the bodies of rest-bodies.ts:
 * `{value, success, timestamp}` (unix seconds) for `/exchange/api/v1/*` and `/stats/api/v1/*`, plus
 * `nextGlobalOrdinal` beside `value` on the history endpoints; `/contract-server/addresses` and
 * `/v2/encryption-key` bare (docs/derivadex-sources.md §1–§3). A bad parameter answers 400
 * `{success: false, message, timestamp}` naming it (the read-error body is UNCONFIRMED, §2: the `success:
 * false` part is what a third-party capture shows).
 */

export interface ReadAnswer {
  status: number;
  body: unknown;
}

export interface ReadContext {
  exchange: Exchange;
  venue: Eip712Venue;
  operatorPublicKey: string;
  /** Unix seconds of the simulator's clock. */
  timestamp: () => number;
}

const ORDER_REASONS = codesOf(ORDER_UPDATE_REASON);
const STRATEGY_REASONS = codesOf(STRATEGY_UPDATE_REASON);

/** The answer to `GET <url>`, or undefined when no read lives at its path. */
export function answerRead(ctx: ReadContext, url: URL): ReadAnswer | undefined {
  const route = ROUTES[url.pathname];
  if (route === undefined) return undefined;
  try {
    return route(ctx, new ReadQuery(url));
  } catch (error) {
    if (error instanceof QueryError || error instanceof ExchangeError) return readFailure(ctx, 400, error.message);
    throw error;
  }
}

/** A read that failed: `{success: false, message, timestamp}`. */
export function readFailure(ctx: Pick<ReadContext, 'timestamp'>, status: number, message: string): ReadAnswer {
  return { status, body: { success: false, message, timestamp: ctx.timestamp() } };
}

type Route = (ctx: ReadContext, q: ReadQuery) => ReadAnswer;

const envelope = (ctx: ReadContext, value: unknown): ReadAnswer => ({
  status: 200,
  body: { value, success: true, timestamp: ctx.timestamp() },
});
const page = <T>(ctx: ReadContext, p: HistoryPage<T>): ReadAnswer => ({
  status: 200,
  body: { value: p.value, nextGlobalOrdinal: p.nextGlobalOrdinal, success: true, timestamp: ctx.timestamp() },
});

/** `globalOrdinal`, `limit` (default 500), `order` (default asc) and `since` (seconds; not with `order=desc`). */
function paging(q: ReadQuery): PageQuery & { sinceMs?: number } {
  const out: PageQuery & { sinceMs?: number } = {};
  const globalOrdinal = q.whole('globalOrdinal');
  const limit = q.whole('limit', 1);
  const order = q.oneOf('order', ['asc', 'desc'] as const);
  const since = q.whole('since');
  if (globalOrdinal !== undefined) out.globalOrdinal = globalOrdinal;
  if (limit !== undefined) out.limit = limit;
  if (order !== undefined) out.order = order;
  if (since !== undefined) {
    if (order === 'desc') throw new QueryError('since', 'not allowed with order=desc');
    out.sinceMs = since * 1000;
  }
  return out;
}

function defined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

const ROUTES: Readonly<Record<string, Route>> = {
  // SDK system_client `get_deployment_info`: the raw body is the model.
  [PATHS.deploymentInfo]: (ctx, q) => {
    q.text('contractDeployment', true);
    return { status: 200, body: deploymentInfo(ctx.venue) };
  },
  [PATHS.exchangeInfo]: (ctx) => envelope(ctx, ctx.exchange.exchangeInfo()),
  // SDK signed_client caches the raw body as the key.
  [PATHS.encryptionKey]: (ctx) => ({ status: 200, body: ctx.operatorPublicKey }),
  [PATHS.strategy]: (ctx, q) => envelope(ctx, ctx.exchange.strategy(q.trader('trader', true)!, q.text('strategyId', true)!)),
  [PATHS.positions]: (ctx, q) => {
    const symbols = Object.keys(ctx.exchange.products);
    const trader = q.trader('trader', true)!;
    const strategyId = q.text('strategyId', true)!;
    const symbol = q.symbol('symbol', symbols);
    const limit = q.whole('limit', 1) ?? 500;
    const offset = q.whole('offset') ?? 0;
    return envelope(ctx, ctx.exchange.positions(trader, strategyId, symbol).slice(offset, offset + limit));
  },
  [PATHS.strategyMetrics]: (ctx, q) => envelope(ctx, ctx.exchange.strategyMetrics(q.trader('trader', true)!, q.text('strategyId', true)!)),
  [PATHS.orderUpdates]: (ctx, q) =>
    page(
      ctx,
      ctx.exchange.orderUpdates(
        defined({
          trader: q.trader('trader'),
          strategyIdHash: q.strategyIdHash('strategyIdHash'),
          symbol: q.symbol('symbol', Object.keys(ctx.exchange.products)),
          orderHashes: q.orderHashes('orderHash'),
          reasons: q.codes('reason', ORDER_REASONS),
          ...paging(q),
        }),
      ),
    ),
  [PATHS.strategyUpdates]: (ctx, q) =>
    page(
      ctx,
      ctx.exchange.strategyUpdates(
        defined({
          trader: q.trader('trader'),
          strategyIdHash: q.strategyIdHash('strategyIdHash'),
          reasons: q.codes('reason', STRATEGY_REASONS),
          ...paging(q),
        }),
      ),
    ),
  [PATHS.orderBookL3]: (ctx, q) => {
    const side = q.codes('side', [0, 1]);
    if (side !== undefined && side.length > 1) throw new QueryError('side', 'expected one value');
    return envelope(
      ctx,
      ctx.exchange.orderBook(
        defined({
          trader: q.trader('trader'),
          strategyIdHash: q.strategyIdHash('strategyIdHash'),
          symbol: q.symbol('symbol', Object.keys(ctx.exchange.products)),
          side: side?.[0] as 0 | 1 | undefined,
          depth: q.whole('depth', 1),
        }),
      ),
    );
  },
  [PATHS.markPrices]: (ctx, q) =>
    page(ctx, ctx.exchange.markPrices(defined({ symbol: q.symbol('symbol', Object.keys(ctx.exchange.products)), ...paging(q) }))),
};
