import { afterAll, describe, expect, it } from 'vitest';
import { createRedisConnection, type RedisConnection } from '../../src/redis/connection.ts';
import { scanKeys } from '../../src/redis/scan-keys.ts';
import { testRedisCluster, testRedisClusterNodes } from '../harness/redis-cluster-nodes.ts';
import { testRedis, uniquePrefix } from '../harness/redis.ts';

const OPTIONS = { retryDelayMs: 200, commandTimeoutMs: 5_000 };

describe('scanKeys on a plain server', () => {
  const redis = testRedis();
  afterAll(() => redis.quit());

  it('finds every matching key once, over several SCAN batches, and nothing else', async () => {
    const prefix = uniquePrefix('scan');
    // 2 500 keys: more than one batch of COUNT 1000, so the cursor has to be followed.
    const keys = Array.from({ length: 2_500 }, (_, i) => `${prefix}:k:${i}`);
    const write = redis.pipeline();
    for (const key of keys) write.set(key, '1', 'PX', 60_000);
    write.set(`${prefix}:other`, '1', 'PX', 60_000);
    await write.exec();
    try {
      const found = await scanKeys(redis, `${prefix}:k:*`);
      expect(found).toHaveLength(2_500);
      expect(found.sort()).toEqual([...keys].sort());
      expect(await scanKeys(redis, `${prefix}:none:*`)).toEqual([]);
    } finally {
      await redis.del(...keys, `${prefix}:other`);
    }
  });
});

describe('scanKeys on a three-master Redis Cluster', () => {
  const raw = testRedisCluster();
  const opened: RedisConnection[] = [];
  afterAll(async () => {
    for (const connection of opened) connection.disconnect();
    await raw.quit();
  });

  async function arrangeSpreadKeys(prefix: string): Promise<string[]> {
    const keys = Array.from({ length: 30 }, (_, i) => `${prefix}:k${i}`);
    for (const key of keys) await raw.set(key, '1', 'PX', 60_000);
    const perMaster = await Promise.all(raw.nodes('master').map(async (node) => (await node.keys(`${prefix}:*`)).length));
    // The point of the test: the keys really live on different masters.
    expect(perMaster).toHaveLength(3);
    expect(perMaster.every((n) => n > 0)).toBe(true);
    return keys;
  }

  it('finds the keys of every master', async () => {
    const prefix = uniquePrefix('cluster-scan');
    const keys = await arrangeSpreadKeys(prefix);
    const connection = createRedisConnection({ cluster: testRedisClusterNodes() }, OPTIONS);
    opened.push(connection);
    connection.on('error', () => {});
    await connection.connect();
    expect((await scanKeys(connection, `${prefix}:*`)).sort()).toEqual([...keys].sort());
    await Promise.all(keys.map((key) => raw.del(key)));
  });

  it('waits for a Cluster that is not ready yet instead of scanning no master', async () => {
    const prefix = uniquePrefix('cluster-scan-lazy');
    const keys = await arrangeSpreadKeys(prefix);
    const connection = createRedisConnection({ cluster: testRedisClusterNodes() }, OPTIONS);
    opened.push(connection);
    connection.on('error', () => {});
    // Never connected: it knows no masters until the PING inside scanKeys has made it ready.
    expect(connection.status).toBe('wait');
    expect((await scanKeys(connection, `${prefix}:*`)).sort()).toEqual([...keys].sort());
    await Promise.all(keys.map((key) => raw.del(key)));
  });
});
