import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { SimClock } from '../../src/clock/clock.ts';
import { createRedisStopoutStore, type RedisStopoutStore } from '../../src/store/redis-stopout-store.ts';
import type { StoreProblem } from '../../src/store/stopout-store.ts';
import { StoreUnavailableError } from '../../src/store/store-unavailable-error.ts';
import { startRedisProcess, type RedisProcess } from '../harness/redis-process.ts';
import { ChangeRecorder, until } from './change-recorder.ts';
import { CONTRACT_START } from './stopout-store-contract.ts';

/*
 * Issue 12, failures 3 and 6, against a redis-server of the test's own that is killed and restarted:
 * - a corrupt `<prefix>:seq:stopout` must not disable setting a stopout (the kill switch);
 * - a store that comes back EMPTY (its epoch marker gone) is data loss, not a reset: the stopouts this process
 *   holds are written back and the loss is reported;
 * - a supervisor's store (holdWritesWhileUnreachable) applies a kill switch at once while Redis is down and
 *   writes it when Redis is back.
 */

async function withClient<T>(url: string, use: (client: Redis) => Promise<T>): Promise<T> {
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    return await use(client);
  } finally {
    await client.quit();
  }
}

describe('RedisStopoutStore through faults of its data (a dedicated redis-server)', () => {
  const cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  async function serverAndStore(
    options: { holdWritesWhileUnreachable?: boolean; reconcileEveryMs?: number } = {},
  ): Promise<{ server: RedisProcess; store: RedisStopoutStore; problems: StoreProblem[] }> {
    const server = await startRedisProcess();
    cleanup.push(() => server.remove());
    const problems: StoreProblem[] = [];
    const store = await createRedisStopoutStore({
      url: server.url,
      prefix: 'rw',
      failClosedAfterMs: 200,
      reconcileEveryMs: options.reconcileEveryMs ?? 60_000,
      retryDelayMs: 50,
      clock: new SimClock(CONTRACT_START),
      onProblem: (p) => problems.push(p),
      ...(options.holdWritesWhileUnreachable ? { holdWritesWhileUnreachable: true } : {}),
    });
    cleanup.push(() => store.close());
    return { server, store, problems };
  }

  // Failure 6: `ERR value is not an integer` from INCR made `stopouts set` exit 1 and the API answer 409.
  it('repairs a corrupt sequence counter: re-seeded above the highest known sequence, reported, and the stopout is set', async () => {
    const { server, store, problems } = await serverAndStore();
    const first = await store.set({ scope: 'account', id: 'a', reason: 'manual', closePositions: false });
    const second = await store.set({ scope: 'account', id: 'b', reason: 'manual', closePositions: false });
    expect([first.sequence, second.sequence]).toEqual([1, 2]);

    await withClient(server.url, (c) => c.set('rw:seq:stopout', 'abc'));
    const killSwitch = await store.set({ scope: 'fleet', id: '*', reason: 'manual', closePositions: true });
    // Re-seeded at the highest known sequence (2), then INCR: 3.
    expect(killSwitch.sequence).toBe(3);
    expect(await withClient(server.url, (c) => c.hget('rw:stopout:fleet:*', 'manual'))).not.toBeNull();
    expect(problems.find((p) => p.where === 'rw:seq:stopout')?.message).toMatch(/held "abc".*re-seeded at 2, next 3/);
    expect(store.sequenceRepairs()).toBe(1);

    // Not a string at all (WRONGTYPE), and a counter below the highest known sequence: repaired the same way.
    await withClient(server.url, async (c) => {
      await c.del('rw:seq:stopout');
      await c.hset('rw:seq:stopout', 'x', '1');
    });
    expect((await store.set({ scope: 'account', id: 'c', reason: 'manual', closePositions: false })).sequence).toBe(4);
    await withClient(server.url, (c) => c.set('rw:seq:stopout', '1'));
    expect((await store.set({ scope: 'account', id: 'd', reason: 'manual', closePositions: false })).sequence).toBe(5);
    expect(store.sequenceRepairs()).toBe(3);
  });

  // Failure 3 (second half): a Redis restarted without its data read as "every stopout was reset".
  it('treats a store that comes back empty as data loss: the stopouts it held are written back, none is reported reset', async () => {
    const { server, store, problems } = await serverAndStore();
    const recorder = new ChangeRecorder(store);
    const manual = await store.set({ scope: 'account', id: 'a', reason: 'manual', closePositions: true, by: 'ops' });
    const drawdown = await store.set({ scope: 'strategy', id: 'a', reason: 'day-equity-difference', closePositions: false });
    await store.setStartTime('strategy', 'a', '2026-01-05T12:00:00.000Z');
    expect(await withClient(server.url, (c) => c.get('rw:epoch'))).toMatch(/^2026-01-05T13:00:00\.000Z\/[0-9a-f]{12}$/);

    const lost = recorder.next((c) => c.kind === 'data-loss', 5_000);
    await server.restart(); // nothing was saved: it comes back empty
    const alert = await lost;
    expect(alert.change).toMatchObject({ kind: 'data-loss', reasserted: 2 });
    await until(() => store.healthy() && store.pendingWrites() === 0, 5_000, 'the held stopouts to be written back');

    expect(recorder.kinds().filter((k) => k.startsWith('reset'))).toEqual([]);
    expect(store.snapshot()).toEqual([drawdown, manual]); // sorted by scope: strategy before account
    await withClient(server.url, async (c) => {
      expect(JSON.parse((await c.hget('rw:stopout:account:a', 'manual')) ?? 'null')).toMatchObject({
        closePositions: true,
        by: 'ops',
        sequence: 1,
      });
      expect(await c.hget('rw:stopout:strategy:a', 'day-equity-difference')).not.toBeNull();
      expect(await c.get('rw:start-time:strategy:a')).toBe('2026-01-05T12:00:00.000Z');
      // The counter is lifted above the sequences written back: the next stopout cannot reuse one.
      expect(Number(await c.get('rw:seq:stopout'))).toBeGreaterThan(2);
      expect(await c.get('rw:epoch')).not.toBeNull();
    });
    expect(store.dataLosses()).toBe(1);
    expect(problems.find((p) => p.where === 'rw:epoch')?.message).toMatch(/DATA LOSS: .*re-asserting the 2 stopouts and 1 start times/);

    // An explicit reset still releases a stopout.
    expect(await store.reset('account', 'a', 'manual')).toBe(true);
    expect(store.snapshot()).toEqual([drawdown]);
  });

  it('treats a FLUSHALL while connected as data loss too (found by the periodic reconciliation)', async () => {
    const { server, store } = await serverAndStore({ reconcileEveryMs: 100 });
    const recorder = new ChangeRecorder(store);
    await store.set({ scope: 'fleet', id: '*', reason: 'manual', closePositions: false });
    const lost = recorder.next((c) => c.kind === 'data-loss', 3_000);
    await withClient(server.url, (c) => c.flushall());
    await lost;
    await until(() => store.pendingWrites() === 0, 3_000, 'the kill switch to be written back');
    expect(await withClient(server.url, (c) => c.hget('rw:stopout:fleet:*', 'manual'))).not.toBeNull();
    expect(recorder.kinds().filter((k) => k.startsWith('reset'))).toEqual([]);
  });

  // Failure 3: a kill switch while Redis is down answered 409 and was not applied locally either.
  it('with holdWritesWhileUnreachable: a stopout set while Redis is down applies here at once and is written when it is back', async () => {
    const { server, store } = await serverAndStore({ holdWritesWhileUnreachable: true });
    const recorder = new ChangeRecorder(store);
    await withClient(server.url, (c) => c.save()); // the epoch marker survives the restart: no data loss here
    await server.kill();
    await until(() => !store.healthy(), 2_000, 'the loss to be noticed');

    const held = await store.set({ scope: 'fleet', id: '*', reason: 'manual', closePositions: true, by: 'api' });
    expect(held).toMatchObject({ scope: 'fleet', id: '*', reason: 'manual', closePositions: true, sequence: 0 });
    expect(recorder.kinds()).toContain('set fleet * manual');
    expect(store.pendingWrites()).toBe(1);
    // A reset is still refused while unreachable (fail closed).
    await expect(store.reset('fleet', '*', 'manual')).rejects.toBeInstanceOf(StoreUnavailableError);

    await server.restart();
    await until(() => store.healthy() && store.pendingWrites() === 0, 5_000, 'the held kill switch to be written');
    const written = JSON.parse((await withClient(server.url, (c) => c.hget('rw:stopout:fleet:*', 'manual'))) ?? 'null');
    expect(written).toMatchObject({ closePositions: true, by: 'api', sequence: 1 });
    expect(recorder.kinds().filter((k) => k.startsWith('reset') || k.startsWith('data-loss'))).toEqual([]);
    expect(store.snapshot()).toMatchObject([{ scope: 'fleet', id: '*', reason: 'manual', sequence: 1 }]);
  });

  it('without holdWritesWhileUnreachable (a CLI): a set while Redis is down is refused, as before', async () => {
    const { server, store } = await serverAndStore();
    await server.kill();
    await until(() => !store.healthy(), 2_000, 'the loss to be noticed');
    await expect(store.set({ scope: 'fleet', id: '*', reason: 'manual', closePositions: true })).rejects.toBeInstanceOf(
      StoreUnavailableError,
    );
  });
});
