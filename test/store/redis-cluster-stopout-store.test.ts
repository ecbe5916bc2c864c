import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { SimClock } from '../../src/clock/clock.ts';
import { createRedisStopoutStore, type RedisStopoutStore } from '../../src/store/redis-stopout-store.ts';
import { testRedisCluster, testRedisClusterNodes } from '../harness/redis-cluster-nodes.ts';
import { uniquePrefix } from '../harness/redis.ts';
import { ChangeRecorder, sleep } from './change-recorder.ts';
import { CONTRACT_START, stopoutStoreContract } from './stopout-store-contract.ts';

stopoutStoreContract('redis cluster (three masters)', async () => {
  const clock = new SimClock(CONTRACT_START);
  const store = await createRedisStopoutStore({ cluster: testRedisClusterNodes(), prefix: uniquePrefix('contract'), clock });
  return { store, clock, elapse: sleep, close: () => store.close() };
});

describe('RedisStopoutStore on a three-master Redis Cluster', () => {
  const raw = testRedisCluster();
  const opened: RedisStopoutStore[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
  });
  afterAll(() => raw.quit());

  async function open(prefix: string, reconcileEveryMs = 60_000): Promise<RedisStopoutStore> {
    const store = await createRedisStopoutStore({
      cluster: testRedisClusterNodes(),
      prefix,
      reconcileEveryMs,
      clock: new SimClock(CONTRACT_START),
    });
    opened.push(store);
    return store;
  }

  /** How many of the prefix's stopout keys each master holds. */
  async function keysPerMaster(prefix: string): Promise<number[]> {
    return Promise.all(raw.nodes('master').map(async (node) => (await node.keys(`${prefix}:stopout:*`)).length));
  }

  it('finds stopouts on every master when it reads from scratch', async () => {
    const prefix = uniquePrefix('spread');
    const writer = await open(prefix);
    const ids = Array.from({ length: 12 }, (_, i) => `acct${i}`);
    for (const id of ids) await writer.set({ scope: 'account', id, reason: 'manual', closePositions: false });
    const perMaster = await keysPerMaster(prefix);
    expect(perMaster).toHaveLength(3);
    expect(perMaster.every((n) => n > 0)).toBe(true);

    const reader = await open(prefix);
    expect((await reader.list()).map((s) => s.id)).toEqual([...ids].sort());
  });

  it('sees raw writes on every master by reconciliation, without a PUBLISH', async () => {
    const prefix = uniquePrefix('raw');
    // Short interval: this test is about scanning every master, not about the 1 s bound.
    const store = await open(prefix, 200);
    const recorder = new ChangeRecorder(store);
    const ids = Array.from({ length: 9 }, (_, i) => `p${i}`);
    const allSeen = Promise.all(ids.map((id) => recorder.next((c) => c.kind === 'set' && c.stopout.id === id, 2_000)));
    for (const id of ids) await raw.hset(`${prefix}:stopout:portfolio:${id}`, 'manual', '{}');
    expect((await keysPerMaster(prefix)).every((n) => n > 0)).toBe(true);
    await allSeen;
    expect(store.snapshot().map((s) => s.id)).toEqual(ids);
  });

  it('propagates between two stores through cluster pub/sub at once', async () => {
    const prefix = uniquePrefix('pubsub');
    const a = await open(prefix);
    const b = await open(prefix);
    const recorder = new ChangeRecorder(b);
    for (const id of ['x1', 'x2', 'x3', 'x4']) {
      const seen = recorder.next((c) => c.kind === 'set' && c.stopout.id === id, 1_000);
      await a.set({ scope: 'portfolio', id, reason: 'manual', closePositions: true });
      await seen;
    }
    const reset = recorder.next((c) => c.kind === 'reset', 1_000);
    await raw.hdel(`${prefix}:stopout:portfolio:x3`, 'manual');
    await raw.publish(`${prefix}:events`, '{"type":"stopout","scope":"portfolio","id":"x3"}');
    expect((await reset).change).toMatchObject({ kind: 'reset', stopout: { id: 'x3' } });
  });
});
