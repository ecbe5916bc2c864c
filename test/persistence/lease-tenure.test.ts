import { afterAll, describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import type { Redis } from 'ioredis';
import { MemoryLeaseManager } from '../../src/persistence/memory-lease-manager.ts';
import { RedisLeaseManager } from '../../src/persistence/redis-lease-manager.ts';
import { testRedis, uniquePrefix } from '../harness/redis.ts';
import { HANG_GUARD_MS, TTL_MS, waitUntil } from './lease-manager-contract.ts';

const calculateSlot = createRequire(import.meta.url)('cluster-key-slot') as (key: string) => number;

/*
 * Issue 12, "supervision through a store outage": a process that takes an account over must know whether the
 * previous holder's lease EXPIRED (that holder may be alive and cut off from Redis, still reducing) or was
 * released cleanly. Before `tenureStart`, nothing at acquisition told the two apart: both looked like a free
 * lease with an older epoch.
 */
describe('how a tenure began (RedisLeaseManager)', () => {
  const clients: Redis[] = [];
  const client = (): Redis => {
    const c = testRedis();
    clients.push(c);
    return c;
  };
  afterAll(async () => void (await Promise.all(clients.map((c) => c.quit()))));
  const manager = (prefix: string, ownerId: string, ttlMs = TTL_MS): RedisLeaseManager =>
    new RedisLeaseManager({ client: client(), prefix, ownerId, ttlMs, groupOf: (id) => id.split('/')[0] ?? id });

  it('fresh on the first acquire, after-release when the holder released it, after-expiry when its lease ran out', async () => {
    const prefix = uniquePrefix('tenure');
    const a = manager(prefix, 'host-a:1:aa');
    const b = manager(prefix, 'host-b:2:bb');
    expect(a.tenureStart('core/a1')).toBeUndefined();
    expect(await a.acquire('core/a1')).toBe(true);
    expect(a.tenureStart('core/a1')).toBe('fresh');
    await a.release('core/a1');
    expect(a.tenureStart('core/a1')).toBeUndefined();
    expect(await b.acquire('core/a1')).toBe(true);
    expect(b.tenureStart('core/a1')).toBe('after-release');
    expect(b.epoch('core/a1')).toBe(2);
    // b stops renewing (cut off, or dead): a takes over after the expiry and is told so.
    await waitUntil('takeover after expiry', HANG_GUARD_MS, () => a.acquire('core/a1')); // a hang guard, not a requirement
    expect(a.epoch('core/a1')).toBe(3);
    expect(a.tenureStart('core/a1')).toBe('after-expiry');
    // A clean release of that tenure again reads as one.
    await a.release('core/a1');
    expect(await b.acquire('core/a1')).toBe(true);
    expect(b.tenureStart('core/a1')).toBe('after-release');
  });

  it('keeps the released epoch in <prefix>:lease-released:{<group>}:<accountId>, in the lease’s slot, never expiring', async () => {
    const prefix = uniquePrefix('tenure-keys');
    const a = manager(prefix, 'host-a:1:aa', 60_000);
    const inspect = client();
    await a.acquire('core/a1');
    const released = `${prefix}:lease-released:{core}:core/a1`;
    expect(a.releasedKey('core/a1')).toBe(released);
    expect(await inspect.exists(released)).toBe(0);
    await a.release('core/a1');
    expect(await inspect.get(released)).toBe('1');
    expect(await inspect.pttl(released)).toBe(-1);
    expect(calculateSlot(released)).toBe(calculateSlot(a.leaseKey('core/a1')));
    // A release of a lease that is no longer ours records nothing.
    const b = manager(prefix, 'host-b:2:bb', 60_000);
    await b.acquire('core/a1'); // epoch 2
    await a.release('core/a1');
    expect(await inspect.get(released)).toBe('1');
  });

  it('a lease still ours in Redis but forgotten locally starts its new tenure after-release (nobody else held it)', async () => {
    const prefix = uniquePrefix('tenure-forgot');
    const before = manager(prefix, 'host-a:1:aa', 60_000);
    const after = manager(prefix, 'host-a:1:aa', 60_000);
    await before.acquire('core/a1');
    expect(await after.acquire('core/a1')).toBe(true);
    expect(after.tenureStart('core/a1')).toBe('after-release');
  });
});

describe('how a tenure began (MemoryLeaseManager)', () => {
  it('fresh first, after-release later: memory leases never expire', async () => {
    const leases = new MemoryLeaseManager({ ownerId: 'embedded' });
    await leases.acquire('a');
    expect(leases.tenureStart('a')).toBe('fresh');
    await leases.release('a');
    expect(leases.tenureStart('a')).toBeUndefined();
    await leases.acquire('a');
    expect(leases.tenureStart('a')).toBe('after-release');
  });
});
