import { Decimal, str } from '../domain/decimal.ts';
import {
  FEEDS,
  PARAMS_SCHEMAS,
  type BookLevelRow,
  type ControlMessage,
  type Feed,
  type OrderUpdateFilter,
  type StrategyUpdateFilter,
} from '../derivadex/feed-messages.ts';
import { parseWire } from '../derivadex/wire-values.ts';
import { aggregateLevels } from './book-aggregation.ts';
import type { Exchange, ExchangeEvent, RowParty } from './exchange.ts';
import { levelChanges, type BookLevel } from './order-book.ts';

/**
 * WebSocket subscriptions: validation of a SUBSCRIBE's `feeds` (params per SDK realtime models, src/derivadex/
 * feed-messages.ts) and what each exchange event gives a subscription. One subscription per feed per
 * connection (§10.11): a second SUBSCRIBE of a feed replaces it.
 *
 * A subscription has one or more streams, each with its `subscriptionKey` (docs realtime examples show
 * `ORDER_BOOK_L2|symbol=ETHP|aggr=0.1`; the other formats are the simulator's, in the same style):
 * - MARK_PRICE: one stream, `MARK_PRICE|symbols=BTCP,ETHP` (sorted), or `MARK_PRICE` for every symbol;
 * - ORDER_BOOK_L2: one stream per filter, `ORDER_BOOK_L2|symbol=<symbol>|aggr=<aggregation>`; without
 *   filters one per product at its tick size;
 * - ORDER_UPDATE / STRATEGY_UPDATE: one stream per filter, `ORDER_UPDATE|traderAddress=<21-byte>` then
 *   `|strategyIdHash=…`, `|symbol=…`, `|reason=…` for the parts the filter has; without filters one stream
 *   `ORDER_UPDATE` with every row. A row is sent once per connection, under the first filter it matches.
 */

export interface Stream {
  key: string;
}

interface L2Stream extends Stream {
  symbol: string;
  aggregation: Decimal;
}

interface UserStream<F> extends Stream {
  filter: F | null;
}

export type Subscription =
  | { feed: 'MARK_PRICE'; streams: [Stream]; symbols: readonly string[] | null }
  | { feed: 'ORDER_BOOK_L2'; streams: L2Stream[] }
  | { feed: 'ORDER_UPDATE'; streams: UserStream<OrderUpdateFilter>[] }
  | { feed: 'STRATEGY_UPDATE'; streams: UserStream<StrategyUpdateFilter>[] };

/** Rows for one stream of a subscription. */
export interface StreamRows {
  key: string;
  data: unknown[];
}

export type SubscriptionParse = { ok: true; subscriptions: Subscription[] } | { ok: false; error: string };

type SubscribeFeeds = Extract<ControlMessage, { action: 'SUBSCRIBE' }>['feeds'];

function isServed(feed: string): feed is Feed {
  return (FEEDS as readonly string[]).includes(feed);
}

/** Validates the `feeds` of a SUBSCRIBE (already shaped by controlMessageSchema); every problem is named by its path. */
export function parseSubscriptions(feeds: SubscribeFeeds, products: Readonly<Record<string, { tickSize: string }>>): SubscriptionParse {
  const subscriptions: Subscription[] = [];
  for (const [i, entry] of feeds.entries()) {
    const at = `feeds[${i}]`;
    const feed = entry.feed;
    if (!isServed(feed)) return { ok: false, error: `${at}.feed: ${feed} is not served by the simulator (it serves ${FEEDS.join(', ')})` };
    const unknownSymbol = (symbol: string, path: string): SubscriptionParse | undefined =>
      Object.hasOwn(products, symbol) ? undefined : { ok: false, error: `${path}: unknown symbol ${JSON.stringify(symbol)}` };
    switch (feed) {
      case 'MARK_PRICE': {
        const parsed = parseWire(PARAMS_SCHEMAS.MARK_PRICE, entry.params ?? {}, `${at}.params`);
        if (!parsed.ok) return { ok: false, error: `${parsed.issue.path}: ${parsed.issue.message}` };
        const symbols = parsed.value.symbols;
        for (const [j, symbol] of (symbols ?? []).entries()) {
          const bad = unknownSymbol(symbol, `${at}.params.symbols[${j}]`);
          if (bad) return bad;
        }
        const sorted = symbols === undefined ? null : [...new Set(symbols)].sort();
        subscriptions.push({
          feed,
          symbols: sorted,
          streams: [{ key: sorted === null ? 'MARK_PRICE' : `MARK_PRICE|symbols=${sorted.join(',')}` }],
        });
        break;
      }
      case 'ORDER_BOOK_L2': {
        const parsed = parseWire(PARAMS_SCHEMAS.ORDER_BOOK_L2, entry.params ?? {}, `${at}.params`);
        if (!parsed.ok) return { ok: false, error: `${parsed.issue.path}: ${parsed.issue.message}` };
        const filters =
          parsed.value.orderBookL2Filters?.map((f) => ({ symbol: f.symbol, aggregation: new Decimal(String(f.aggregation)) })) ??
          Object.entries(products).map(([symbol, p]) => ({ symbol, aggregation: new Decimal(p.tickSize) }));
        const streams: L2Stream[] = [];
        for (const [j, f] of filters.entries()) {
          const bad = unknownSymbol(f.symbol, `${at}.params.orderBookL2Filters[${j}].symbol`);
          if (bad) return bad;
          const key = `ORDER_BOOK_L2|symbol=${f.symbol}|aggr=${str(f.aggregation)}`;
          if (!streams.some((s) => s.key === key)) streams.push({ key, ...f });
        }
        subscriptions.push({ feed, streams });
        break;
      }
      case 'ORDER_UPDATE': {
        const parsed = parseWire(PARAMS_SCHEMAS.ORDER_UPDATE, entry.params ?? {}, `${at}.params`);
        if (!parsed.ok) return { ok: false, error: `${parsed.issue.path}: ${parsed.issue.message}` };
        const filters = parsed.value.orderFilters;
        for (const [j, f] of (filters ?? []).entries()) {
          if (f.symbol !== undefined) {
            const bad = unknownSymbol(f.symbol, `${at}.params.orderFilters[${j}].symbol`);
            if (bad) return bad;
          }
        }
        subscriptions.push({ feed, streams: userStreams(feed, filters) });
        break;
      }
      case 'STRATEGY_UPDATE': {
        const parsed = parseWire(PARAMS_SCHEMAS.STRATEGY_UPDATE, entry.params ?? {}, `${at}.params`);
        if (!parsed.ok) return { ok: false, error: `${parsed.issue.path}: ${parsed.issue.message}` };
        subscriptions.push({ feed, streams: userStreams(feed, parsed.value.strategyFilters) });
        break;
      }
    }
  }
  return { ok: true, subscriptions };
}

function userStreams<F extends { traderAddress: string; strategyIdHash?: string; symbol?: string; reason?: number }>(
  feed: 'ORDER_UPDATE' | 'STRATEGY_UPDATE',
  filters: readonly F[] | undefined,
): UserStream<F>[] {
  if (filters === undefined) return [{ key: feed, filter: null }];
  const streams: UserStream<F>[] = [];
  for (const raw of filters) {
    const filter = {
      ...raw,
      traderAddress: raw.traderAddress.toLowerCase(),
      ...(raw.strategyIdHash === undefined ? {} : { strategyIdHash: raw.strategyIdHash.toLowerCase() }),
    };
    let key = `${feed}|traderAddress=${filter.traderAddress}`;
    if (filter.strategyIdHash !== undefined) key += `|strategyIdHash=${filter.strategyIdHash}`;
    if (filter.symbol !== undefined) key += `|symbol=${filter.symbol}`;
    if (filter.reason !== undefined) key += `|reason=${filter.reason}`;
    if (!streams.some((s) => s.key === key)) streams.push({ key, filter });
  }
  return streams;
}

function partyMatches(filter: { traderAddress: string; strategyIdHash?: string }, party: RowParty): boolean {
  return (
    filter.traderAddress === party.traderAddress && (filter.strategyIdHash === undefined || filter.strategyIdHash === party.strategyIdHash)
  );
}

/** The ORDER_BOOK_L2 row of a level (SDK `AggregatedOrder`). */
export function levelRow(symbol: string, level: BookLevel): BookLevelRow {
  return { symbol, side: level.side, amount: level.amount, price: level.price };
}

/** What `event` gives `subscription`: rows per stream (nothing when it does not concern it). */
export function eventRows(subscription: Subscription, event: ExchangeEvent): StreamRows[] {
  switch (subscription.feed) {
    case 'MARK_PRICE': {
      if (event.feed !== 'MARK_PRICE') return [];
      if (subscription.symbols !== null && !subscription.symbols.includes(event.row.symbol)) return [];
      return [{ key: subscription.streams[0].key, data: [event.row] }];
    }
    case 'ORDER_BOOK_L2': {
      if (event.feed !== 'ORDER_BOOK_L2') return [];
      const out: StreamRows[] = [];
      for (const stream of subscription.streams) {
        if (stream.symbol !== event.symbol) continue;
        const changes = levelChanges(aggregateLevels(event.before, stream.aggregation), aggregateLevels(event.after, stream.aggregation));
        if (changes.length > 0) out.push({ key: stream.key, data: changes.map((l) => levelRow(event.symbol, l)) });
      }
      return out;
    }
    case 'ORDER_UPDATE': {
      if (event.feed !== 'ORDER_UPDATE') return [];
      const row = event.row;
      const stream = subscription.streams.find(
        (s) =>
          s.filter === null ||
          ((s.filter.symbol === undefined || s.filter.symbol === row.symbol) &&
            (s.filter.reason === undefined || s.filter.reason === row.reason) &&
            event.parties.some((p) => partyMatches(s.filter!, p))),
      );
      return stream === undefined ? [] : [{ key: stream.key, data: [row] }];
    }
    case 'STRATEGY_UPDATE': {
      if (event.feed !== 'STRATEGY_UPDATE') return [];
      const row = event.row;
      const party = { traderAddress: row.traderAddress, strategyIdHash: row.strategyIdHash };
      const stream = subscription.streams.find(
        (s) => s.filter === null || ((s.filter.reason === undefined || s.filter.reason === row.reason) && partyMatches(s.filter, party)),
      );
      return stream === undefined ? [] : [{ key: stream.key, data: [row] }];
    }
  }
}

/**
 * The first message of each stream (§10.11): market feeds a populated PARTIAL (the latest mark of each
 * subscribed symbol; the aggregated book), user feeds an empty one (bootstrap from REST, docs connection model).
 */
export function partialRows(subscription: Subscription, exchange: Exchange): StreamRows[] {
  switch (subscription.feed) {
    case 'MARK_PRICE': {
      const symbols = subscription.symbols ?? Object.keys(exchange.products);
      const data = symbols.flatMap((symbol) => {
        const latest = exchange.latestMark(symbol);
        return latest === undefined ? [] : [latest];
      });
      return [{ key: subscription.streams[0].key, data }];
    }
    case 'ORDER_BOOK_L2':
      return subscription.streams.map((s) => ({
        key: s.key,
        data: aggregateLevels(exchange.bookLevels(s.symbol), s.aggregation).map((l) => levelRow(s.symbol, l)),
      }));
    case 'ORDER_UPDATE':
    case 'STRATEGY_UPDATE':
      return subscription.streams.map((s) => ({ key: s.key, data: [] }));
  }
}
