import { afterAll, describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { RedisLeaseManager } from '../../src/persistence/redis-lease-manager.ts';
import type { RedisConnection } from '../../src/redis/connection.ts';

const calculateSlot = createRequire(import.meta.url)('cluster-key-slot') as (key: string) => number;

/** Short leases, real time: every wait below is bounded by a few ttls. */
export const TTL_MS = 300;

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * How long a wait may last before it fails naming what did not happen: a hang guard inside the test timeout,
 * not a requirement (Redis expires the keys; when is the server's business, not the machine's speed).
 */
export const HANG_GUARD_MS = 10_000;

/** Polls `check` every 10 ms until it holds; fails saying what did not happen within `withinMs`. */
export async function waitUntil(what: string, withinMs: number, check: () => Promise<boolean>): Promise<number> {
  const start = performance.now();
  while (!(await check())) {
    if (performance.now() - start > withinMs) throw new Error(`${what} did not happen within ${withinMs} ms`);
    await sleep(10);
  }
  return performance.now() - start;
}

export interface LeaseBackend {
  /** A client for one more "process". */
  client(): RedisConnection;
  /** Where the keys live, for inspection. */
  inspect: RedisConnection;
  close(): Promise<void>;
}

/** The behaviour of RedisLeaseManager against a standalone Redis or a Cluster. */
export function leaseManagerContract(name: string, open: () => Promise<LeaseBackend>, uniquePrefix: (name: string) => string): void {
  describe(`${name}: RedisLeaseManager contract`, () => {
    let backend!: LeaseBackend;
    const opening = open().then((b) => (backend = b));
    afterAll(async () => {
      await opening;
      await backend.close();
    });
    const portfolioOf = (accountId: string): string => accountId.split('/')[0] ?? accountId;
    const manager = (prefix: string, ownerId: string, ttlMs = TTL_MS): RedisLeaseManager =>
      new RedisLeaseManager({ client: backend.client(), prefix, ownerId, ttlMs, groupOf: portfolioOf });

    it('only one of two owners acquires; the other learns when the lease would expire', async () => {
      await opening;
      const prefix = uniquePrefix('lease-one');
      const a = manager(prefix, 'host-a:1:aa');
      const b = manager(prefix, 'host-b:2:bb');
      const [gotA, gotB] = await Promise.all([a.acquire('core/a1'), b.acquire('core/a1')]);
      expect([gotA, gotB].filter(Boolean)).toHaveLength(1);
      const [winner, loser] = gotA ? [a, b] : [b, a];
      expect(winner.owned()).toEqual(['core/a1']);
      expect(loser.owned()).toEqual([]);
      expect(await loser.owner('core/a1')).toBe(winner.ownerId);
      expect(winner.epoch('core/a1')).toBe(1);
      expect(loser.epoch('core/a1')).toBeUndefined();
      expect(loser.retryAfterMs('core/a1')).toBeGreaterThan(0);
      expect(loser.retryAfterMs('core/a1')).toBeLessThanOrEqual(TTL_MS);
      expect(await winner.acquire('core/a1')).toBe(true); // already ours: no new tenure
      expect(winner.epoch('core/a1')).toBe(1);
    });

    it('stores the owner id with a PX ttl and a non-expiring epoch, all in the group’s slot', async () => {
      await opening;
      const prefix = uniquePrefix('lease-keys');
      const a = manager(prefix, 'host-a:1:aa');
      await a.acquire('core/a1');
      const lease = `${prefix}:lease:{core}:core/a1`;
      const epoch = `${prefix}:lease-epoch:{core}:core/a1`;
      expect(a.leaseKey('core/a1')).toBe(lease);
      expect(a.epochKey('core/a1')).toBe(epoch);
      expect(await backend.inspect.get(lease)).toBe('host-a:1:aa');
      const pttl = await backend.inspect.pttl(lease);
      expect(pttl).toBeGreaterThan(0);
      expect(pttl).toBeLessThanOrEqual(TTL_MS);
      expect(await backend.inspect.get(epoch)).toBe('1');
      expect(await backend.inspect.pttl(epoch)).toBe(-1);
      expect(calculateSlot(lease)).toBe(calculateSlot(epoch));
      expect(calculateSlot(lease)).toBe(calculateSlot(`${prefix}:snapshot:{core}:core/a2`));
    });

    it('the other owner acquires once the first lease expires unrenewed, with a higher fencing token', async () => {
      await opening;
      const prefix = uniquePrefix('lease-expiry');
      const a = manager(prefix, 'host-a:1:aa');
      const b = manager(prefix, 'host-b:2:bb');
      expect(await a.acquire('core/a1')).toBe(true);
      expect(await b.acquire('core/a1')).toBe(false);
      // It was not free early. Behaviour, not time: Redis itself said the lease had time left when it refused b.
      expect(b.retryAfterMs('core/a1')).toBeGreaterThan(0);
      await waitUntil('takeover after expiry', HANG_GUARD_MS, () => b.acquire('core/a1'));
      expect(b.epoch('core/a1')).toBe(2);
      expect(await b.owner('core/a1')).toBe('host-b:2:bb');
    });

    it('renewing keeps the lease well past its ttl', async () => {
      await opening;
      const prefix = uniquePrefix('lease-renew');
      const a = manager(prefix, 'host-a:1:aa');
      const b = manager(prefix, 'host-b:2:bb');
      await a.acquire('core/a1');
      await a.acquire('core/a2');
      for (let i = 0; i < 6; i++) {
        await sleep(TTL_MS / 3); // 6 × 100 ms = 2 ttls
        expect((await a.renewAll()).lost).toEqual([]);
        expect(await b.acquire('core/a1')).toBe(false);
      }
      expect(a.owned().sort()).toEqual(['core/a1', 'core/a2']);
    });

    it('a renewal after an expiry nobody used takes the lease back in the same tenure (the epoch proves nobody acquired it)', async () => {
      await opening;
      const prefix = uniquePrefix('lease-late');
      const a = manager(prefix, 'host-a:1:aa');
      await a.acquire('core/a1');
      await waitUntil('lease expiry', HANG_GUARD_MS, async () => (await backend.inspect.exists(a.leaseKey('core/a1'))) === 0);
      expect(await a.renewAll()).toEqual({ lost: [], uncertain: [], confirmed: [], reasserted: [] });
      expect(a.owned()).toEqual(['core/a1']);
      expect(a.epoch('core/a1')).toBe(1);
      expect(await a.owner('core/a1')).toBe('host-a:1:aa');
    });

    it('a renewal after an expiry during which another owner held the lease (and released it) reports it lost', async () => {
      await opening;
      const prefix = uniquePrefix('lease-moved-on');
      const a = manager(prefix, 'host-a:1:aa');
      const b = manager(prefix, 'host-b:2:bb');
      await a.acquire('core/a1');
      await waitUntil('takeover', HANG_GUARD_MS, () => b.acquire('core/a1'));
      await b.release('core/a1');
      expect((await a.renewAll()).lost).toEqual(['core/a1']);
      expect(a.owned()).toEqual([]);
      expect(await a.owner('core/a1')).toBeNull(); // the late renewal did not bring it back
    });

    // Issue 12, failure 3: a Redis that came back empty.
    it('a renewal that finds the lease and its epoch gone (data loss) writes both back under the same epoch', async () => {
      await opening;
      const prefix = uniquePrefix('lease-lost-data');
      const a = manager(prefix, 'host-a:1:aa', 60_000);
      const b = manager(prefix, 'host-b:2:bb', 60_000);
      await a.acquire('core/a1');
      await a.release('core/a1');
      await a.acquire('core/a1'); // epoch 2
      await backend.inspect.del(a.leaseKey('core/a1'), a.epochKey('core/a1'));
      expect(await a.renewAll()).toEqual({ lost: [], uncertain: [], confirmed: [], reasserted: ['core/a1'] });
      expect(await backend.inspect.get(a.epochKey('core/a1'))).toBe('2');
      expect(await a.owner('core/a1')).toBe('host-a:1:aa');
      expect(await b.acquire('core/a1')).toBe(false);
      expect(a.epoch('core/a1')).toBe(2);
    });

    it('a renewal after another owner took over reports lost and leaves the new lease alone', async () => {
      await opening;
      const prefix = uniquePrefix('lease-taken');
      const a = manager(prefix, 'host-a:1:aa');
      const b = manager(prefix, 'host-b:2:bb');
      await a.acquire('core/a1');
      await waitUntil('takeover', HANG_GUARD_MS, () => b.acquire('core/a1'));
      expect((await a.renewAll()).lost).toEqual(['core/a1']);
      await a.release('core/a1'); // not ours any more: must not delete b's lease
      expect(await b.owner('core/a1')).toBe('host-b:2:bb');
      expect((await b.renewAll()).lost).toEqual([]);
    });

    it('release lets the other owner acquire at once; fencing tokens increase with every acquire', async () => {
      await opening;
      const prefix = uniquePrefix('lease-release');
      const a = manager(prefix, 'host-a:1:aa', 60_000);
      const b = manager(prefix, 'host-b:2:bb', 60_000);
      const epochs: number[] = [];
      for (const m of [a, b, a, b]) {
        expect(await m.acquire('core/a1')).toBe(true);
        epochs.push(m.epoch('core/a1')!);
        await m.release('core/a1');
        expect(m.owned()).toEqual([]);
      }
      expect(epochs).toEqual([1, 2, 3, 4]);
      expect(await backend.inspect.get(a.epochKey('core/a1'))).toBe('4');
      expect(await a.owner('core/a1')).toBeNull();
    });

    it('concurrent acquires of one account in one process start one tenure', async () => {
      await opening;
      const prefix = uniquePrefix('lease-dedupe');
      const a = manager(prefix, 'host-a:1:aa');
      expect(await Promise.all([a.acquire('core/a1'), a.acquire('core/a1'), a.acquire('core/a1')])).toEqual([true, true, true]);
      expect(await backend.inspect.get(a.epochKey('core/a1'))).toBe('1');
    });

    it('re-acquiring a lease still ours in Redis but forgotten locally starts a new tenure', async () => {
      await opening;
      const prefix = uniquePrefix('lease-forgot');
      const before = manager(prefix, 'host-a:1:aa');
      const after = manager(prefix, 'host-a:1:aa'); // same owner id, no local memory of the lease
      await before.acquire('core/a1');
      expect(await after.acquire('core/a1')).toBe(true);
      expect(after.epoch('core/a1')).toBe(2); // versions of the new tenure beat the old one's
    });
  });
}
