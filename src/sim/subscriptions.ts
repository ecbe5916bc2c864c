import { getAddress, isAddress } from 'ethers';
import { FEEDS, type Feed } from '../venue/protocol.ts';
import type { ExchangeEvent } from './exchange.ts';

/**
 * WebSocket subscriptions: validation of a SUBSCRIBE's `feeds` and which exchange events each one gets.
 *
 * Keys (`subscriptionKey` on every frame):
 * - `MARK_PRICE:<symbol>`, `ORDER_BOOK_L2:<symbol>` — one subscription per symbol in `params.symbols`;
 * - `ORDER_UPDATE:<trader>:<strategyIdHash>`, `STRATEGY_UPDATE:<trader>:<strategyIdHash>` — the trader
 *   as a checksummed address (as in the rows), the hash lower-case; without `strategyIdHash` the key is
 *   `ORDER_UPDATE:<trader>` and covers every strategy of the trader.
 */
export interface Subscription {
  key: string;
  feed: Feed;
  symbol?: string;
  trader?: string;
  strategyIdHash?: string;
}

export type SubscriptionParse = { ok: true; subscriptions: Subscription[] } | { ok: false; error: string };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Validates `feeds` of a SUBSCRIBE/UNSUBSCRIBE; every problem is named by its path. */
export function parseSubscriptions(feeds: unknown, knownSymbols: readonly string[]): SubscriptionParse {
  if (!Array.isArray(feeds) || feeds.length === 0) return { ok: false, error: 'feeds: expected a non-empty array' };
  const subscriptions: Subscription[] = [];
  for (const [i, entry] of feeds.entries()) {
    const at = `feeds[${i}]`;
    if (!isRecord(entry)) return { ok: false, error: `${at}: expected an object {feed, params}` };
    const feed = entry.feed;
    if (typeof feed !== 'string' || !(FEEDS as readonly string[]).includes(feed)) {
      return { ok: false, error: `${at}.feed: unknown feed ${JSON.stringify(feed)} (expected one of ${FEEDS.join(', ')})` };
    }
    const params = entry.params ?? {};
    if (!isRecord(params)) return { ok: false, error: `${at}.params: expected an object` };
    if (feed === 'MARK_PRICE' || feed === 'ORDER_BOOK_L2') {
      const symbols = params.symbols;
      if (!Array.isArray(symbols) || symbols.length === 0)
        return { ok: false, error: `${at}.params.symbols: expected a non-empty array of symbols` };
      for (const [j, symbol] of symbols.entries()) {
        if (typeof symbol !== 'string' || !knownSymbols.includes(symbol)) {
          return { ok: false, error: `${at}.params.symbols[${j}]: unknown symbol ${JSON.stringify(symbol)}` };
        }
        subscriptions.push({ key: `${feed}:${symbol}`, feed, symbol });
      }
    } else {
      const trader = params.trader;
      if (typeof trader !== 'string' || !isAddress(trader)) return { ok: false, error: `${at}.params.trader: expected an address` };
      const hash = params.strategyIdHash;
      if (hash !== undefined && (typeof hash !== 'string' || !/^0x[0-9a-fA-F]{8}$/.test(hash))) {
        return { ok: false, error: `${at}.params.strategyIdHash: expected 4 bytes (0x and 8 hex digits)` };
      }
      const checksummed = getAddress(trader);
      subscriptions.push(
        hash === undefined
          ? { key: `${feed}:${checksummed}`, feed: feed as Feed, trader: checksummed }
          : {
              key: `${feed}:${checksummed}:${hash.toLowerCase()}`,
              feed: feed as Feed,
              trader: checksummed,
              strategyIdHash: hash.toLowerCase(),
            },
      );
    }
  }
  return { ok: true, subscriptions };
}

/** True when `event` belongs to `subscription`. */
export function matches(subscription: Subscription, event: ExchangeEvent): boolean {
  if (subscription.feed !== event.feed) return false;
  if (event.feed === 'MARK_PRICE' || event.feed === 'ORDER_BOOK_L2') return subscription.symbol === event.symbol;
  return (
    subscription.trader === event.trader &&
    (subscription.strategyIdHash === undefined || subscription.strategyIdHash === event.strategyIdHash.toLowerCase())
  );
}

/** The rows an UPDATE for `event` carries. */
export function eventRows(event: ExchangeEvent): unknown[] {
  return event.feed === 'ORDER_BOOK_L2' ? event.rows : [event.row];
}
