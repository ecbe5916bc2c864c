import { afterAll, describe, expect, it } from 'vitest';
import type { Cluster } from 'ioredis';
import { fencedVersion } from '../../src/persistence/fencing.ts';
import { RedisLeaseManager } from '../../src/persistence/redis-lease-manager.ts';
import { RedisSnapshotStore } from '../../src/persistence/redis-snapshot-store.ts';
import { testRedisCluster } from '../harness/redis-cluster-nodes.ts';
import { uniquePrefix } from '../harness/redis.ts';
import { leaseManagerContract } from './lease-manager-contract.ts';
import { snapshotStoreContract } from './snapshot-store-contract.ts';

/** Cluster clients for one contract run, all closed at its end. */
function clusterClients() {
  const clients: Cluster[] = [];
  const client = (): Cluster => {
    const c = testRedisCluster();
    clients.push(c);
    return c;
  };
  return { client, close: async () => void (await Promise.all(clients.map((c) => c.quit()))) };
}

snapshotStoreContract('RedisSnapshotStore on a 3-master Cluster', async () => {
  const prefix = uniquePrefix('cluster-snapshots');
  const { client, close } = clusterClients();
  return { coalesces: true, writer: () => new RedisSnapshotStore({ client: client(), prefix }), close };
});

leaseManagerContract(
  '3-master Cluster',
  async () => {
    const { client, close } = clusterClients();
    return { client, inspect: client(), close };
  },
  uniquePrefix,
);

describe('persistence on a Redis Cluster', () => {
  const cluster = testRedisCluster();
  afterAll(() => cluster.quit());
  const portfolioOf = (accountId: string): string => accountId.split('/')[0] ?? accountId;
  const meta = (version: number) => ({ owner: 'host:1:aa', at: 1_767_618_000_000, version });

  it('keeps a portfolio’s snapshot, lease and epoch keys in one slot on one master', async () => {
    const prefix = uniquePrefix('cluster-slots');
    const store = new RedisSnapshotStore({ client: cluster, prefix, groupOf: portfolioOf });
    const leases = new RedisLeaseManager({ client: cluster, prefix, groupOf: portfolioOf, ttlMs: 60_000 });
    const accounts = ['core/a1', 'core/a2', 'core/a3'];
    for (const id of accounts) {
      await store.save(id, { id }, meta(fencedVersion(1, 1)));
      expect(await leases.acquire(id)).toBe(true); // a two-key script: CROSSSLOT if the tag failed
    }
    const keys = accounts.flatMap((id) => [store.keyOf(id), leases.leaseKey(id), leases.epochKey(id)]);
    const slots = new Set(await Promise.all(keys.map((key) => cluster.cluster('KEYSLOT', key))));
    expect(slots).toEqual(new Set([await cluster.cluster('KEYSLOT', 'core')]));
    const holders = await Promise.all(cluster.nodes('master').map((node) => node.keys(`${prefix}:*`)));
    expect(holders.filter((held) => held.length > 0)).toHaveLength(1);
    expect(holders.flat().sort()).toEqual([...keys].sort());
    for (const id of accounts) await leases.release(id);
  });

  it('list() gathers snapshots from every master', async () => {
    const prefix = uniquePrefix('cluster-list');
    const store = new RedisSnapshotStore({ client: cluster, prefix, groupOf: portfolioOf });
    const accounts = Array.from({ length: 24 }, (_, i) => `p${i}/acct`);
    await Promise.all(accounts.map((id) => store.save(id, {}, meta(1))));
    const perMaster = await Promise.all(cluster.nodes('master').map(async (node) => (await node.keys(`${prefix}:snapshot:*`)).length));
    expect(perMaster.filter((n) => n > 0).length).toBeGreaterThan(1); // the groups really are spread
    expect(await store.list()).toEqual([...accounts].sort());
  });

  it('list() works on a client that is not ready yet', async () => {
    const fresh = testRedisCluster();
    try {
      expect(await new RedisSnapshotStore({ client: fresh, prefix: uniquePrefix('cluster-cold') }).list()).toEqual([]);
    } finally {
      await fresh.quit();
    }
  });
});
