import {
  checkSnapshotMeta,
  type SnapshotLoad,
  type SnapshotMeta,
  type SnapshotStore,
  type SnapshotStoreStats,
  type StoredSnapshot,
} from './snapshot-store.ts';
import { SnapshotRefusedError, type SnapshotCheck } from './snapshot-refusal.ts';
import { decodedLoad, decodeStoredSnapshot, encodeStoredSnapshot } from './stored-snapshot.ts';

/**
 * Snapshots in this process's memory (the embedded single-process default). Values are kept as their
 * stored JSON, so a snapshot that would not survive Redis does not survive here either, and every load
 * returns a fresh copy. Writes are synchronous, so there is nothing to coalesce.
 */
export class MemorySnapshotStore implements SnapshotStore {
  readonly #values = new Map<string, { version: number; json: string }>();
  readonly #stats: SnapshotStoreStats = { saves: 0, writes: 0, stale: 0, refused: 0 };

  async save(accountId: string, snapshot: unknown, meta: SnapshotMeta): Promise<void> {
    this.#stats.saves++;
    checkSnapshotMeta(accountId, meta);
    const json = encodeStoredSnapshot(accountId, snapshot, meta);
    this.#stats.writes++;
    const stored = this.#values.get(accountId);
    if (stored && meta.version <= stored.version) {
      this.#stats.stale++;
      return;
    }
    this.#values.set(accountId, { version: meta.version, json });
  }

  async load(accountId: string, check?: SnapshotCheck): Promise<StoredSnapshot | null> {
    const stored = this.#values.get(accountId);
    if (!stored) return null;
    try {
      return decodeStoredSnapshot(accountId, `memory snapshot ${JSON.stringify(accountId)}`, stored.json, check);
    } catch (error) {
      if (error instanceof SnapshotRefusedError) this.#stats.refused++;
      throw error;
    }
  }

  async loadMany(accountIds: readonly string[], check?: SnapshotCheck): Promise<SnapshotLoad[]> {
    const refused = (): void => void this.#stats.refused++;
    return accountIds.map((accountId) =>
      decodedLoad(accountId, `memory snapshot ${JSON.stringify(accountId)}`, this.#values.get(accountId)?.json ?? null, refused, check),
    );
  }

  /** Stores `raw` as the account's stored value, as another writer (another version, a hand) might have. */
  putRaw(accountId: string, raw: string, version = 0): void {
    this.#values.set(accountId, { version, json: raw });
  }

  async delete(accountId: string): Promise<void> {
    this.#values.delete(accountId);
  }

  async list(): Promise<string[]> {
    return [...this.#values.keys()];
  }

  async flush(): Promise<void> {}

  stats(): SnapshotStoreStats {
    return { ...this.#stats };
  }
}
