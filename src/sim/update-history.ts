import { DEFAULT_PAGE_LIMIT } from '../derivadex/paths.ts';

/*
 * Paging of the history endpoints (`order_updates`, `strategy_updates`, `mark_prices`). Sources: the
 * get-order-update-history and get-strategy-update-history pages (`limit` default 500, `order` asc|desc,
 * default asc) and the SDK's market client (`globalOrdinal` cursor, `nextGlobalOrdinal` beside `value`).
 * The cursor's meaning is riskwarden's reading (docs/derivadex-sources.md §10.4): inclusive — ascending,
 * rows with `globalOrdinal >= G`; descending, rows with `globalOrdinal <= G` — and `nextGlobalOrdinal` is
 * the ordinal of the first row the page left out, or null when none is left.
 */

export type PageOrder = 'asc' | 'desc';

export interface PageQuery {
  globalOrdinal?: number;
  /** Default DEFAULT_PAGE_LIMIT (500). */
  limit?: number;
  /** Default 'asc'. */
  order?: PageOrder;
}

export interface HistoryPage<T> {
  value: T[];
  nextGlobalOrdinal: number | null;
}

/** One page of `rows` (ascending by globalOrdinal) that pass `keep`. */
export function pageOf<T extends { globalOrdinal: number }>(
  rows: readonly T[],
  keep: (row: T) => boolean,
  query: PageQuery,
): HistoryPage<T> {
  const limit = query.limit ?? DEFAULT_PAGE_LIMIT;
  const desc = query.order === 'desc';
  const cursor = query.globalOrdinal;
  const value: T[] = [];
  const step = desc ? -1 : 1;
  for (let i = desc ? rows.length - 1 : 0; i >= 0 && i < rows.length; i += step) {
    const row = rows[i]!;
    if (cursor !== undefined && (desc ? row.globalOrdinal > cursor : row.globalOrdinal < cursor)) continue;
    if (!keep(row)) continue;
    if (value.length === limit) return { value, nextGlobalOrdinal: row.globalOrdinal };
    value.push(row);
  }
  return { value, nextGlobalOrdinal: null };
}

/** Rows of several ascending lists, merged ascending by globalOrdinal. */
export function mergeByOrdinal<T extends { globalOrdinal: number }>(lists: ReadonlyArray<readonly T[]>): T[] {
  return lists.flat().sort((a, b) => a.globalOrdinal - b.globalOrdinal);
}
