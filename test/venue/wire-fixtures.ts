import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  orderUpdateHistoryRowSchema,
  orderUpdateRowSchema,
  type OrderUpdateHistoryRow,
  type OrderUpdateRow,
} from '../../src/derivadex/order-update.ts';
import {
  strategyUpdateHistoryRowSchema,
  strategyUpdateRowSchema,
  type StrategyUpdateHistoryRow,
  type StrategyUpdateRow,
} from '../../src/derivadex/strategy-update.ts';

/*
 * The golden DerivaDEX messages of test/fixtures/derivadex/ (shapes from the SDK and docs, values made up;
 * sources in SOURCES.md) and small builders that vary them, so every venue test speaks the real shapes.
 */

const DIR = fileURLToPath(new URL('../fixtures/derivadex/', import.meta.url));

/** A fixture as parsed JSON (a fresh copy on every call). */
export function fixture(name: string): unknown {
  return JSON.parse(readFileSync(`${DIR}${name}.json`, 'utf8')) as unknown;
}

/** A JSON object: a fixture's frame, row or intent, to read and vary. */
export type Json = Record<string, unknown>;

export function asObject(value: unknown, what: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`${what}: expected a JSON object`);
  return value as Json;
}

/** The first row of a feed-frame fixture. */
export function fixtureRow(name: string): Json {
  const frame = asObject(fixture(name), name);
  const contents = asObject(frame.contents, `${name}.contents`);
  const data = contents.data;
  if (!Array.isArray(data) || data.length === 0) throw new Error(`${name}: no rows`);
  return asObject(data[0], `${name}.contents.data[0]`);
}

/** The fixtures' own trader (21-byte), the counterparty and strategy `main`. */
export const FIXTURE_TRADER = '0x00a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';
export const FIXTURE_COUNTERPARTY = '0x00c0ffee00112233445566778899aabbccddeeff00';
export const MAIN_HASH = '0x2576ebd1';

/** A feed frame in the real envelope (§5.4). */
export function frame(
  feed: string,
  messageType: 'PARTIAL' | 'UPDATE',
  data: unknown[],
  ordinal = 0,
  subscriptionKey = `${feed}|test`,
): Json {
  return { sequence: 1_000 + ordinal, ordinal, feed, subscriptionKey, contents: { messageType, data } };
}

/** An order intent like the fixtures', for `trader` (21-byte), with the given fields replaced. */
export function intent(trader: string, fields: Json = {}): Json {
  const base = asObject(fixtureRow('ws-order-update-post').makerOrderIntent, 'intent');
  return { ...base, traderAddress: trader, ...fields };
}

/** A realtime ORDER_UPDATE row built from a fixture row with fields replaced. */
export function orderRow(fixtureName: string, fields: Json): Json {
  return { ...fixtureRow(fixtureName), ...fields };
}

/** A realtime STRATEGY_UPDATE row built from a fixture row with fields replaced. */
export function strategyRow(fixtureName: string, fields: Json): Json {
  return { ...fixtureRow(fixtureName), ...fields };
}

/** A realtime ORDER_UPDATE row: a fixture's first row with `fields` replaced, checked by the protocol schema. */
export function orderUpdate(fixtureName: string, fields: Json = {}): OrderUpdateRow {
  return orderUpdateRowSchema.parse(orderRow(fixtureName, fields));
}

/** A realtime STRATEGY_UPDATE row, the same way. */
export function strategyUpdate(fixtureName: string, fields: Json = {}): StrategyUpdateRow {
  return strategyUpdateRowSchema.parse(strategyRow(fixtureName, fields));
}

/** A REST history row of `/exchange/api/v1/order_updates`: the realtime row without its realtime-only fields, plus txOrdinal. */
export function orderUpdateHistory(fixtureName: string, fields: Json = {}): OrderUpdateHistoryRow {
  const row = orderRow(fixtureName, fields);
  for (const key of REALTIME_ONLY) delete row[key];
  return orderUpdateHistoryRowSchema.parse({ txOrdinal: 0, ...row });
}

/** A REST history row of `/exchange/api/v1/strategy_updates` (positions without `balance`). */
export function strategyUpdateHistory(fixtureName: string, fields: Json = {}): StrategyUpdateHistoryRow {
  const row = strategyRow(fixtureName, fields);
  if (Array.isArray(row.positions)) row.positions = row.positions.map((p) => ({ ...asObject(p, 'position'), balance: undefined }));
  return strategyUpdateHistoryRowSchema.parse({ txOrdinal: 0, ordinal: 0, ...row });
}

const REALTIME_ONLY = [
  'orderMatchOrdinal',
  'lastExecutedAmount',
  'lastExecutedPrice',
  'cumulativeFilledAmount',
  'cumulativeQuoteAssetTransactedAmount',
  'lastQuoteAssetTransactedAmount',
];
