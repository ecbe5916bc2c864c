import { Cluster } from 'ioredis';
import type { RedisConnection } from '../redis/connection.ts';
import { LuaScript } from '../redis/lua-script.ts';
import { scanKeys } from '../redis/scan-keys.ts';
import { accountIdOfKey, accountKey, DEFAULT_PREFIX, groupByAccount, keyPattern, type GroupOf } from './persistence-keys.ts';
import { SaveCoalescer } from './save-coalescer.ts';
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
 * Compare-and-set on version: KEYS[1] snapshot key; ARGV[1] version, ARGV[2] stored JSON. Returns 1 when
 * written, 0 when the stored version is the same or newer. The stored version is read with an anchored
 * match (our encoding puts it first); a value written by someone else is decoded instead, and one that
 * cannot be read at all is overwritten — the lease owner's latest snapshot is better than garbage.
 */
const SAVE = new LuaScript(`
local current = redis.call('GET', KEYS[1])
if current then
  local stored = tonumber(string.match(current, '^{"meta":{"version":(%d+)[,}]'))
  if stored == nil then
    local ok, decoded = pcall(cjson.decode, current)
    if ok and type(decoded) == 'table' and type(decoded.meta) == 'table' and type(decoded.meta.version) == 'number' then
      stored = decoded.meta.version
    end
  end
  if stored ~= nil and tonumber(ARGV[1]) <= stored then return 0 end
end
redis.call('SET', KEYS[1], ARGV[2])
return 1
`);

export interface RedisSnapshotStoreOptions {
  client: RedisConnection;
  /** Key prefix, `riskwarden` by default. */
  prefix?: string;
  /** The hash tag of an account's keys: its portfolio id, so a portfolio lives in one Cluster slot. */
  groupOf?: GroupOf;
}

/**
 * Keys per MGET of `loadMany`: large enough that 10,000 accounts take ten round trips (sent at once, so
 * pipelined on the connection), small enough that no reply holds the server up for long.
 */
const KEYS_PER_MGET = 1_000;

interface PendingSave {
  snapshot: unknown;
  meta: SnapshotMeta;
}

/** Snapshots in Redis at `<prefix>:snapshot:{<group>}:<accountId>`, JSON `{meta, snapshot}` (stored-snapshot.ts), no TTL. */
export class RedisSnapshotStore implements SnapshotStore {
  readonly #client: RedisConnection;
  readonly #prefix: string;
  readonly #groupOf: GroupOf;
  readonly #coalescer: SaveCoalescer<PendingSave>;
  readonly #stats: SnapshotStoreStats = { saves: 0, writes: 0, stale: 0, refused: 0 };

  constructor(options: RedisSnapshotStoreOptions) {
    this.#client = options.client;
    this.#prefix = options.prefix ?? DEFAULT_PREFIX;
    this.#groupOf = options.groupOf ?? groupByAccount;
    this.#coalescer = new SaveCoalescer(
      (accountId, pending) => this.#write(accountId, pending),
      // The store would ignore a lower version anyway; keeping it pending would lose the higher one.
      (pending, next) => (next.meta.version > pending.meta.version ? next : pending),
    );
  }

  /** The Redis key of an account's snapshot. */
  keyOf(accountId: string): string {
    return accountKey(this.#prefix, 'snapshot', this.#groupOf, accountId);
  }

  async save(accountId: string, snapshot: unknown, meta: SnapshotMeta): Promise<void> {
    this.#stats.saves++;
    checkSnapshotMeta(accountId, meta);
    this.keyOf(accountId); // a bad group fails here, at the caller, not in a later write
    return this.#coalescer.submit(accountId, { snapshot, meta: { ...meta } });
  }

  async load(accountId: string, check?: SnapshotCheck): Promise<StoredSnapshot | null> {
    const key = this.keyOf(accountId);
    await this.#coalescer.settled(accountId);
    const raw = await this.#client.get(key);
    if (raw === null) return null;
    try {
      return decodeStoredSnapshot(accountId, `Redis value at ${key}`, raw, check);
    } catch (error) {
      if (error instanceof SnapshotRefusedError) this.#stats.refused++;
      throw error;
    }
  }

  /**
   * MGETs of up to `KEYS_PER_MGET` keys, all sent at once. On a Cluster one MGET may only name keys of one
   * slot, so keys are batched per group (their hash tag): a portfolio is one MGET.
   */
  async loadMany(accountIds: readonly string[], check?: SnapshotCheck): Promise<SnapshotLoad[]> {
    const keys = accountIds.map((accountId) => this.keyOf(accountId));
    await Promise.all(accountIds.map((accountId) => this.#coalescer.settled(accountId)));
    const batches: number[][] = [];
    if (this.#client instanceof Cluster) {
      const byGroup = new Map<string, number[]>();
      accountIds.forEach((accountId, i) => {
        const group = this.#groupOf(accountId);
        const batch = byGroup.get(group);
        if (batch && batch.length < KEYS_PER_MGET) batch.push(i);
        else {
          if (batch) batches.push(batch);
          byGroup.set(group, [i]);
        }
      });
      batches.push(...byGroup.values());
    } else {
      for (let i = 0; i < keys.length; i += KEYS_PER_MGET)
        batches.push(Array.from({ length: Math.min(KEYS_PER_MGET, keys.length - i) }, (_, k) => i + k));
    }
    // Each batch is decoded as its reply arrives, while Redis still answers the others.
    const loads = new Array<SnapshotLoad>(keys.length);
    const refused = (): void => void this.#stats.refused++;
    await Promise.all(
      batches.map(async (batch) => {
        const values = await this.#client.mget(...batch.map((i) => keys[i]!));
        batch.forEach((i, k) => {
          loads[i] = decodedLoad(accountIds[i]!, `Redis value at ${keys[i]}`, values[k] ?? null, refused, check);
        });
      }),
    );
    return loads;
  }

  async delete(accountId: string): Promise<void> {
    const key = this.keyOf(accountId);
    this.#coalescer.drop(accountId);
    await this.#coalescer.settled(accountId);
    await this.#client.del(key);
  }

  async list(): Promise<string[]> {
    const keys = await scanKeys(this.#client, keyPattern(this.#prefix, 'snapshot'));
    return keys
      .map((key) => accountIdOfKey(this.#prefix, 'snapshot', key))
      .filter((id): id is string => id !== null)
      .sort();
  }

  flush(): Promise<void> {
    return this.#coalescer.flush();
  }

  stats(): SnapshotStoreStats {
    return { ...this.#stats };
  }

  async #write(accountId: string, { snapshot, meta }: PendingSave): Promise<void> {
    const json = encodeStoredSnapshot(accountId, snapshot, meta);
    this.#stats.writes++;
    const written = await SAVE.run(this.#client, [this.keyOf(accountId)], [meta.version, json]);
    if (written === 0) this.#stats.stale++;
  }
}
