import { afterAll, describe, expect, inject, it } from 'vitest';
import { startTestRedisCluster } from './redis-cluster.ts';
import { testRedisCluster, testRedisClusterNodes } from './redis-cluster-nodes.ts';
import { uniquePrefix } from './redis.ts';

describe('test harness redis cluster', () => {
  const cluster = testRedisCluster();
  afterAll(() => cluster.quit());

  it('is a real three-master Redis Cluster with every slot assigned', async () => {
    expect(testRedisClusterNodes().length).toBeGreaterThanOrEqual(3);
    const info = await cluster.cluster('INFO');
    expect(info).toContain('cluster_state:ok');
    expect(info).toContain('cluster_slots_assigned:16384');
    await new Promise<void>((resolve) => (cluster.status === 'ready' ? resolve() : cluster.once('ready', () => resolve())));
    expect(cluster.nodes('master')).toHaveLength(3);
  });

  it('spreads keys over the masters and routes each to its slot', async () => {
    const prefix = uniquePrefix('cluster');
    const keys = Array.from({ length: 30 }, (_, i) => `${prefix}:k${i}`);
    for (const key of keys) await cluster.set(key, key);
    const holders = await Promise.all(cluster.nodes('master').map(async (node) => (await node.keys(`${prefix}:*`)).length));
    expect(holders.every((n) => n > 0)).toBe(true);
    expect(holders.reduce((a, b) => a + b, 0)).toBe(30);
    expect(await cluster.get(keys[7] as string)).toBe(keys[7]);
    await Promise.all(keys.map((key) => cluster.del(key)));
  });

  it('fails with a message that says how to fix it when REDIS_CLUSTER_NODES names no cluster', async () => {
    await expect(startTestRedisCluster({ REDIS_CLUSTER_NODES: '127.0.0.1:1' }, 200)).rejects.toThrow(
      /REDIS_CLUSTER_NODES=127\.0\.0\.1:1: .*Install redis-server/,
    );
    await expect(startTestRedisCluster({ REDIS_CLUSTER_NODES: 'nonsense' })).rejects.toThrow(/expected host:port/);
  });

  it('was started by the global setup with a 1 s node timeout, which keeps its start-up short', async () => {
    const startupMs = inject('redisClusterStartupMs');
    console.info(`redis cluster start-up: ${startupMs} ms`);
    // Behaviour, not time: the node timeout also bounds the rejoin delay a master serves while the nodes
    // meet (what made start-up take seconds), so the setting is asserted, not the machine's speed. A cluster
    // named by REDIS_CLUSTER_NODES keeps its own settings.
    if (process.env.REDIS_CLUSTER_NODES !== undefined) {
      expect(startupMs).toBe(0);
    } else {
      const timeouts = await Promise.all(cluster.nodes('master').map((node) => node.config('GET', 'cluster-node-timeout')));
      expect(timeouts).toEqual(Array(3).fill(['cluster-node-timeout', '1000']));
    }
  });
});
