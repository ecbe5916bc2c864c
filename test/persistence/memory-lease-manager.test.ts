import { describe, expect, it } from 'vitest';
import { MemoryLeaseManager } from '../../src/persistence/memory-lease-manager.ts';

describe('MemoryLeaseManager (one process)', () => {
  it('always acquires, never loses, and starts a new tenure after each release', async () => {
    const leases = new MemoryLeaseManager({ ownerId: 'embedded' });
    expect(await leases.acquire('a1')).toBe(true);
    expect(await leases.acquire('a1')).toBe(true);
    expect(leases.epoch('a1')).toBe(1);
    expect(await leases.owner('a1')).toBe('embedded');
    expect(await leases.renewAll()).toEqual({ lost: [], uncertain: [], confirmed: [], reasserted: [] });
    await leases.release('a1');
    expect(leases.owned()).toEqual([]);
    expect(await leases.owner('a1')).toBeNull();
    expect(await leases.acquire('a1')).toBe(true);
    expect(leases.epoch('a1')).toBe(2);
    expect(leases.retryAfterMs()).toBeUndefined();
    expect(leases.ttlMs).toBe(10_000);
  });
});
