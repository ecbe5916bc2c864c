import { describe, expect, it } from 'vitest';
import { SimClock } from '../../src/clock/clock.ts';
import { MemoryStopoutStore } from '../../src/store/memory-stopout-store.ts';
import { CONTRACT_START, stopoutStoreContract } from './stopout-store-contract.ts';

stopoutStoreContract('memory', async () => {
  const clock = new SimClock(CONTRACT_START);
  const store = new MemoryStopoutStore({ clock });
  return {
    store,
    clock,
    elapse: async (ms) => clock.advanceTo(clock.now() + ms),
    close: () => store.close(),
  };
});

describe('MemoryStopoutStore', () => {
  it('is deterministic: sequences count from 1 and times come from the clock', async () => {
    const run = async () => {
      const store = new MemoryStopoutStore({ clock: new SimClock(CONTRACT_START) });
      await store.set({ scope: 'fleet', id: '*', reason: 'manual', closePositions: true });
      await store.set({ scope: 'account', id: 'alpha', reason: 'manual', closePositions: false });
      return store.list();
    };
    const first = await run();
    expect(first.map((s) => s.sequence)).toEqual([1, 2]);
    expect(first[0]?.stoppedAt).toBe('2026-01-05T13:00:00.000Z');
    expect(await run()).toEqual(first);
  });

  it('expires a breach exactly at its TTL on the simulated clock', async () => {
    const clock = new SimClock(CONTRACT_START);
    const store = new MemoryStopoutStore({ clock });
    await store.recordBreach({ scope: 'portfolio', id: 'core', reason: 'day-balance-difference', message: 'm' }, 1_000);
    clock.advanceTo(CONTRACT_START + 999);
    expect(await store.breaches()).toHaveLength(1);
    clock.advanceTo(CONTRACT_START + 1_000);
    expect(await store.breaches()).toEqual([]);
  });

  it('still tells the other watchers, then throws, when a watcher throws', async () => {
    const store = new MemoryStopoutStore({ clock: new SimClock(CONTRACT_START) });
    const heard: string[] = [];
    store.watch(() => {
      throw new Error('listener bug');
    });
    store.watch((c) => heard.push(c.kind));
    await expect(store.set({ scope: 'fleet', id: '*', reason: 'manual', closePositions: false })).rejects.toThrow('listener bug');
    expect(heard).toEqual(['set']);
    expect(await store.list()).toHaveLength(1);
  });
});
