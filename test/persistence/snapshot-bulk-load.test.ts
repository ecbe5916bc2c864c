import type { Cluster, Redis } from 'ioredis';
import { MemorySnapshotStore } from '../../src/persistence/memory-snapshot-store.ts';
import { RedisSnapshotStore } from '../../src/persistence/redis-snapshot-store.ts';
import { testRedisCluster } from '../harness/redis-cluster-nodes.ts';
import { testRedis, uniquePrefix } from '../harness/redis.ts';
import { snapshotBulkLoadContract } from './snapshot-bulk-load-contract.ts';

const plainIds = (n: number): string[] => Array.from({ length: n }, (_, i) => `acct-${i}`);

snapshotBulkLoadContract(
  'MemorySnapshotStore',
  async () => {
    const store = new MemorySnapshotStore();
    return { store, putRaw: async (accountId, raw) => store.putRaw(accountId, raw), close: async () => {} };
  },
  plainIds,
);

snapshotBulkLoadContract(
  'RedisSnapshotStore',
  async () => {
    const client: Redis = testRedis();
    const store = new RedisSnapshotStore({ client, prefix: uniquePrefix('bulk') });
    return {
      store,
      putRaw: async (accountId, raw) => void (await client.set(store.keyOf(accountId), raw)),
      close: async () => void (await client.quit()),
    };
  },
  plainIds,
);

// On a Cluster one MGET names one slot: accounts of several portfolios (hash tags), one of them larger than
// one MGET holds, and accounts that are their own group.
const portfolioOf = (accountId: string): string => accountId.split('/')[0] ?? accountId;
snapshotBulkLoadContract(
  'RedisSnapshotStore on a 3-master Cluster',
  async () => {
    const client: Cluster = testRedisCluster();
    const store = new RedisSnapshotStore({ client, prefix: uniquePrefix('cluster-bulk'), groupOf: portfolioOf });
    return {
      store,
      putRaw: async (accountId, raw) => void (await client.set(store.keyOf(accountId), raw)),
      close: async () => void (await client.quit()),
    };
  },
  (n) => Array.from({ length: n }, (_, i) => (i % 5 === 0 ? `solo${i}` : i % 5 === 1 ? `p${i % 7}/a${i}` : `big/a${i}`)),
);
