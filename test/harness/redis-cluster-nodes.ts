import { inject } from 'vitest';
import { Cluster } from 'ioredis';
import './redis-cluster.ts';

/** Seed nodes of the test run's three-master Redis Cluster (see redis-cluster.ts). */
export function testRedisClusterNodes(): Array<{ host: string; port: number }> {
  return inject('redisClusterNodes');
}

/** A raw Cluster client for arranging and inspecting keys in a test. */
export function testRedisCluster(): Cluster {
  return new Cluster(testRedisClusterNodes(), { redisOptions: { maxRetriesPerRequest: 2 } });
}
