import { describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { RedisLeaseManager } from '../../src/persistence/redis-lease-manager.ts';
import { testRedis, testRedisUrl, uniquePrefix } from '../harness/redis.ts';
import { leaseManagerContract } from './lease-manager-contract.ts';

leaseManagerContract(
  'standalone Redis',
  async () => {
    const clients: Redis[] = [];
    const client = (): Redis => {
      const c = testRedis();
      clients.push(c);
      return c;
    };
    return { client, inspect: client(), close: async () => void (await Promise.all(clients.map((c) => c.quit()))) };
  },
  uniquePrefix,
);

describe('RedisLeaseManager when Redis cannot be reached', () => {
  // Issue 12, failure 3: past the deadline the lease was reported lost ("another process runs it now") and
  // the account stopped, de-risking included, though nobody else ran it.
  it('keeps a lease through its local deadline: past it uncertain (still owned), never lost on silence alone', async () => {
    const client = new Redis(testRedisUrl(), { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0 });
    await client.connect();
    let now = 1_000;
    const errors: string[] = [];
    const leases = new RedisLeaseManager({
      client,
      prefix: uniquePrefix('lease-offline'),
      ttlMs: 300,
      ownerId: 'host-a:1:aa',
      now: () => now,
      onError: (_error, accountId) => void errors.push(accountId),
    });
    expect(await leases.acquire('a1')).toBe(true); // sent at 1 000: ours until 1 300 at least
    client.disconnect();

    now = 1_299;
    expect(await leases.renewAll()).toEqual({ lost: [], uncertain: [], confirmed: [], reasserted: [] });
    expect(leases.uncertain('a1')).toBe(false);
    now = 1_300;
    expect(await leases.renewAll()).toEqual({ lost: [], uncertain: ['a1'], confirmed: [], reasserted: [] });
    now = 60_000;
    expect(await leases.renewAll()).toEqual({ lost: [], uncertain: [], confirmed: [], reasserted: [] }); // reported once
    expect(leases.owned()).toEqual(['a1']);
    expect(leases.uncertain('a1')).toBe(true);
    expect(leases.epoch('a1')).toBe(1);
    expect(errors).toEqual(['a1', 'a1', 'a1']);
  });

  it('refuses a ttl too short to renew', () => {
    const unused = new Redis(testRedisUrl(), { lazyConnect: true });
    expect(() => new RedisLeaseManager({ client: unused, ttlMs: 0 })).toThrow('ttlMs: expected a whole number of milliseconds ≥ 3, got 0');
  });
});
