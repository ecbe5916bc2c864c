import { afterAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { fencedVersion, MAX_EPOCH } from '../../src/persistence/fencing.ts';
import { RedisSnapshotStore } from '../../src/persistence/redis-snapshot-store.ts';
import { SnapshotRefusedError } from '../../src/persistence/snapshot-refusal.ts';
import { SNAPSHOT_SCHEMA } from '../../src/persistence/stored-snapshot.ts';
import { testRedis, uniquePrefix } from '../harness/redis.ts';
import { snapshotRefusalContract, snapshotStoreContract } from './snapshot-store-contract.ts';

const portfolioOf = (accountId: string): string => accountId.split('-')[0] ?? accountId;

snapshotStoreContract('RedisSnapshotStore', async () => {
  // Each writer has its own connection, as separate processes would.
  const prefix = uniquePrefix('snapshots');
  const clients: Redis[] = [];
  return {
    coalesces: true,
    writer: () => {
      const client = testRedis();
      clients.push(client);
      return new RedisSnapshotStore({ client, prefix });
    },
    close: async () => {
      await Promise.all(clients.map((c) => c.quit()));
    },
  };
});

snapshotRefusalContract('RedisSnapshotStore', async () => {
  const client = testRedis();
  const store = new RedisSnapshotStore({ client, prefix: uniquePrefix('refused') });
  return {
    store,
    putRaw: async (accountId, raw) => void (await client.set(store.keyOf(accountId), raw)),
    close: async () => void (await client.quit()),
  };
});

describe('RedisSnapshotStore, Redis specifics', () => {
  const redis = testRedis();
  afterAll(() => redis.quit());
  const meta = (version: number) => ({ owner: 'host:1:aa', at: 1_767_618_000_000, version });

  it('stores JSON {meta, snapshot} at <prefix>:snapshot:{<group>}:<accountId>', async () => {
    const prefix = uniquePrefix('snapshot-keys');
    const store = new RedisSnapshotStore({ client: redis, prefix, groupOf: portfolioOf });
    await store.save('core-a1', { value: 'trading' }, meta(fencedVersion(1, 1)));
    expect(store.keyOf('core-a1')).toBe(`${prefix}:snapshot:{core}:core-a1`);
    const raw = await redis.get(`${prefix}:snapshot:{core}:core-a1`);
    // version first (the save script's anchored match), then owner, at and the schema.
    expect(raw).toBe(
      `{"meta":{"version":1000000001,"owner":"host:1:aa","at":1767618000000,"schema":${SNAPSHOT_SCHEMA}},"snapshot":{"value":"trading"}}`,
    );
    expect(await redis.pttl(`${prefix}:snapshot:{core}:core-a1`)).toBe(-1); // snapshots do not expire
    expect(await store.list()).toEqual(['core-a1']);
  });

  it('list() sees only its own prefix, even one with glob characters', async () => {
    const prefix = `${uniquePrefix('glob')}*[x]`;
    const store = new RedisSnapshotStore({ client: redis, prefix });
    const neighbour = new RedisSnapshotStore({ client: redis, prefix: `${prefix}y` });
    await store.save('a1', {}, meta(1));
    await neighbour.save('b1', {}, meta(1));
    expect(await store.list()).toEqual(['a1']);
    expect(await neighbour.list()).toEqual(['b1']);
  });

  it('compares versions of values written by hand too (meta not first), and overwrites unreadable ones', async () => {
    const prefix = uniquePrefix('foreign');
    const store = new RedisSnapshotStore({ client: redis, prefix });
    await redis.set(store.keyOf('a1'), JSON.stringify({ snapshot: { by: 'hand' }, meta: { at: 1, owner: 'ops', version: 2_000_000_005 } }));
    await store.save('a1', { by: 'old owner' }, meta(2_000_000_004));
    expect((await store.load('a1'))!.snapshot).toEqual({ by: 'hand' });
    await store.save('a1', { by: 'new owner' }, meta(3_000_000_001));
    expect((await store.load('a1'))!.snapshot).toEqual({ by: 'new owner' });

    await redis.set(store.keyOf('a2'), 'not json');
    await expect(store.load('a2')).rejects.toThrow(`Redis value at ${prefix}:snapshot:{a2}:a2: not valid JSON`);
    await expect(store.load('a2')).rejects.toBeInstanceOf(SnapshotRefusedError);
    await store.save('a2', { fresh: true }, meta(1));
    expect((await store.load('a2'))!.snapshot).toEqual({ fresh: true });
  });

  it('compares the largest versions exactly (one apart, near 2^53)', async () => {
    const store = new RedisSnapshotStore({ client: redis, prefix: uniquePrefix('big-versions') });
    await store.save('a1', { n: 5 }, meta(fencedVersion(MAX_EPOCH, 5))); // 9_007_198_000_000_005
    await store.save('a1', { n: 4 }, meta(fencedVersion(MAX_EPOCH, 4)));
    expect((await store.load('a1'))!.snapshot).toEqual({ n: 5 });
    await store.save('a1', { n: 6 }, meta(fencedVersion(MAX_EPOCH, 6)));
    expect(await store.load('a1')).toEqual({ snapshot: { n: 6 }, meta: meta(9_007_198_000_000_006), schema: SNAPSHOT_SCHEMA });
  });

  it('load() reports a malformed stored value with its key and field', async () => {
    const prefix = uniquePrefix('malformed');
    const store = new RedisSnapshotStore({ client: redis, prefix });
    await redis.set(store.keyOf('a1'), JSON.stringify({ meta: { owner: 'x', at: 1, version: 'seven' }, snapshot: {} }));
    await expect(store.load('a1')).rejects.toThrow(`Redis value at ${prefix}:snapshot:{a1}:a1: meta.version: expected a whole number ≥ 0`);
  });

  it('refuses a group that would break the hash tag', async () => {
    const store = new RedisSnapshotStore({ client: redis, prefix: uniquePrefix('tag'), groupOf: () => 'a}b' });
    await expect(store.save('a1', {}, meta(1))).rejects.toThrow('group of account "a1": "a}b" must not contain "{" or "}"');
  });

  it('flush() rejects naming the account whose write failed; the save promise rejects too', async () => {
    const { Redis } = await import('ioredis');
    const offline = new Redis({ port: 1, lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0 });
    const store = new RedisSnapshotStore({ client: offline, prefix: uniquePrefix('offline') });
    const saving = store.save('a1', {}, meta(1));
    await expect(store.flush()).rejects.toThrow('snapshot writes failed for a1');
    await expect(saving).rejects.toThrow();
    offline.disconnect();
  });

  it('delete() drops pending saves, so nothing reappears after it', async () => {
    const prefix = uniquePrefix('delete');
    const store = new RedisSnapshotStore({ client: redis, prefix });
    const saves = [1, 2, 3].map((v) => store.save('a1', { v }, meta(v)));
    await store.delete('a1');
    await Promise.all(saves);
    await store.flush();
    expect(await store.load('a1')).toBeNull();
    expect(await store.list()).toEqual([]);
  });
});
