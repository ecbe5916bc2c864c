import type { SnapshotCheck, SnapshotRefusedError } from './snapshot-refusal.ts';

/** Who wrote a snapshot, when, and its place in the account's history. */
export interface SnapshotMeta {
  /** Owner id of the process holding the account's lease when it saved. */
  owner: string;
  /** Epoch milliseconds of the save. */
  at: number;
  /**
   * Strictly increasing per account across owners: `fencedVersion(epoch, counter)` (see fencing.ts), so a
   * new owner's writes always win over a slow write from an old one.
   */
  version: number;
}

export interface StoredSnapshot {
  /** The JSON value that was saved (a fresh copy on every load). */
  snapshot: unknown;
  meta: SnapshotMeta;
  /** The schema it was written under (`SNAPSHOT_SCHEMA` in stored-snapshot.ts; 1 when the value has none). */
  schema: number;
}

/** What `loadMany` found for one account: what `load` would have returned, or the refusal it would have thrown. */
export type SnapshotLoad =
  | { accountId: string; kind: 'loaded'; stored: StoredSnapshot }
  | { accountId: string; kind: 'missing' }
  | { accountId: string; kind: 'refused'; error: SnapshotRefusedError };

export interface SnapshotStoreStats {
  /** `save` calls. */
  saves: number;
  /** Writes that reached the backend (coalescing makes this at most `saves`). */
  writes: number;
  /** Writes the backend ignored because their version was not newer than the stored one. */
  stale: number;
  /** Loads that refused the stored value (`SnapshotRefusedError`). */
  refused: number;
}

/**
 * Persisted account actor snapshots, one per account.
 *
 * - `save` never moves an account backwards: a version lower than or equal to the stored one is ignored.
 * - `save` is meant to be called on every transition: saves for one account while a write is in flight are
 *   coalesced (only the latest waits), so the promise of a superseded save settles with the write that
 *   carried its successor. It rejects when that write fails — attach a handler when not awaiting it.
 *   The snapshot must not be mutated after `save` (it may be serialised later); XState's
 *   `getPersistedSnapshot()` returns a fresh object each time.
 * - `load` waits for this process's writes of that account, so a process reads its own saves. A stored
 *   value that is not JSON, not the stored form, of a schema this version does not read, or that `check`
 *   refuses is never returned: `load` throws `SnapshotRefusedError` naming each problem by path, and counts
 *   it in `stats().refused`. Any other error means the backend could not be read.
 * - `loadMany` is `load` for many accounts at once (a recovery): a few round trips for all of them, not one
 *   each. It answers every account asked, in the order asked (a repeated id is answered each time); a
 *   refused value is that account's answer (`kind: 'refused'`, counted like `load`'s), never the batch's
 *   failure. It rejects only when the backend could not be read (or an id has no valid key).
 * - `list` reports accounts with a written snapshot (`flush` first to include pending saves).
 */
export interface SnapshotStore {
  save(accountId: string, snapshot: unknown, meta: SnapshotMeta): Promise<void>;
  load(accountId: string, check?: SnapshotCheck): Promise<StoredSnapshot | null>;
  loadMany(accountIds: readonly string[], check?: SnapshotCheck): Promise<SnapshotLoad[]>;
  /** Drops pending saves of the account, waits for its write in flight, then removes the snapshot. */
  delete(accountId: string): Promise<void>;
  list(): Promise<string[]>;
  /** Resolves when every save made before the call has been written; rejects naming the accounts that failed. */
  flush(): Promise<void>;
  stats(): SnapshotStoreStats;
}

/** Checks `meta` before a save; errors name the account and field. */
export function checkSnapshotMeta(accountId: string, meta: SnapshotMeta): void {
  const at = `save(${JSON.stringify(accountId)}).meta`;
  if (accountId === '') throw new Error('save: accountId: expected a non-empty string');
  if (typeof meta.owner !== 'string' || meta.owner === '') throw new Error(`${at}.owner: expected a non-empty string`);
  if (typeof meta.at !== 'number' || !Number.isFinite(meta.at)) throw new Error(`${at}.at: expected epoch milliseconds`);
  if (!Number.isSafeInteger(meta.version) || meta.version < 0) {
    throw new Error(`${at}.version: expected a whole number from 0 to ${Number.MAX_SAFE_INTEGER}, got ${String(meta.version)}`);
  }
}
