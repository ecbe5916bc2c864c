import { describe, expect, it } from 'vitest';
import { MemoryStopoutStore } from '../../src/store/memory-stopout-store.ts';
import { IN_MEMORY_DESCRIPTION, openStopoutStore, resolveRedisTarget } from '../../src/store/open-store.ts';
import { RedisStopoutStore } from '../../src/store/redis-stopout-store.ts';
import { testRedisUrl, uniquePrefix } from '../harness/redis.ts';

describe('openStopoutStore', () => {
  it('is the in-memory store when nothing names a Redis, and says so', async () => {
    const opened = await openStopoutStore({ env: {} });
    expect(opened.store).toBeInstanceOf(MemoryStopoutStore);
    expect(opened).toMatchObject({ source: 'none', description: IN_MEMORY_DESCRIPTION });
    await opened.store.close();
  });

  it('takes --redis, then REDIS_URL, then the config (url, sentinels, cluster)', () => {
    const config = { url: 'redis://config:6379' };
    expect(resolveRedisTarget({ redisUrl: 'redis://option:1', env: { REDIS_URL: 'redis://env:2' }, config })).toEqual({
      target: { url: 'redis://option:1' },
      source: '--redis',
    });
    expect(resolveRedisTarget({ env: { REDIS_URL: 'redis://env:2' }, config })).toEqual({
      target: { url: 'redis://env:2' },
      source: 'REDIS_URL',
    });
    expect(resolveRedisTarget({ env: { REDIS_URL: '' }, config })).toEqual({
      target: { url: 'redis://config:6379' },
      source: 'config redis.url',
    });
    expect(resolveRedisTarget({ env: {}, config: { sentinels: [{ host: 's1', port: 26379 }], sentinelName: 'main' } })).toEqual({
      target: { sentinels: [{ host: 's1', port: 26379 }], sentinelName: 'main' },
      source: 'config redis.sentinels',
    });
    expect(resolveRedisTarget({ env: {}, config: { cluster: [{ host: 'c1', port: 7000 }] } })).toEqual({
      target: { cluster: [{ host: 'c1', port: 7000 }] },
      source: 'config redis.cluster',
    });
    expect(resolveRedisTarget({ env: {}, config: { prefix: 'x' } })).toBeNull();
  });

  it("opens Redis with the config's prefix and timings, --prefix winning", async () => {
    const prefix = uniquePrefix('open');
    const opened = await openStopoutStore({
      env: { REDIS_URL: testRedisUrl() },
      config: { prefix: 'ignored', failClosedAfter: 1_500, reconcileEvery: 500 },
      prefix,
    });
    try {
      expect(opened.store).toBeInstanceOf(RedisStopoutStore);
      expect(opened.source).toBe('REDIS_URL');
      expect(opened.description).toBe(`Redis ${testRedisUrl()} (from REDIS_URL), prefix ${prefix}`);
      await opened.store.set({ scope: 'fleet', id: '*', reason: 'manual', closePositions: false });
      expect((opened.store as RedisStopoutStore).layout.stopout('fleet', '*')).toBe(`${prefix}:stopout:fleet:*`);
    } finally {
      await opened.store.close();
    }
  });
});
