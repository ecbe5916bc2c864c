import { afterAll, describe, expect, it } from 'vitest';
import { testRedis, testRedisUrl, uniquePrefix } from './redis.ts';

describe('test harness redis', () => {
  const redis = testRedis();
  afterAll(() => redis.quit());

  it('talks to a real redis-server', async () => {
    expect(testRedisUrl()).toMatch(/^rediss?:\/\//);
    expect(await redis.ping()).toBe('PONG');
    const info = await redis.info('server');
    expect(info).toMatch(/redis_version:\d+/);
  });

  it('round-trips a hash and a pub/sub message', async () => {
    const key = `${uniquePrefix('harness')}:stopout:portfolio:core`;
    await redis.hset(key, 'manual', '{}');
    expect(await redis.hgetall(key)).toEqual({ manual: '{}' });

    const subscriber = redis.duplicate();
    const channel = `${key}:events`;
    const received = new Promise<string>((resolve) => subscriber.on('message', (_c, message) => resolve(message)));
    await subscriber.subscribe(channel);
    await redis.publish(channel, 'hello');
    expect(await received).toBe('hello');
    await subscriber.quit();
    await redis.del(key);
  });
});
