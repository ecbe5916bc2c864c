import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { SimClock } from '../../src/clock/clock.ts';
import { createRedisStopoutStore, type RedisStopoutStore } from '../../src/store/redis-stopout-store.ts';
import { StoreUnavailableError } from '../../src/store/store-unavailable-error.ts';
import { startRedisProcess, type RedisProcess } from '../harness/redis-process.ts';
import { ChangeRecorder, describeChange, until } from './change-recorder.ts';
import { CONTRACT_START } from './stopout-store-contract.ts';

/** Writes through a short-lived raw client (not a store). */
async function withClient<T>(url: string, use: (client: Redis) => Promise<T>): Promise<T> {
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    return await use(client);
  } finally {
    await client.quit();
  }
}

describe('RedisStopoutStore health (a dedicated redis-server, stopped and restarted)', () => {
  const cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  async function serverAndStore(failClosedAfterMs: number): Promise<{ server: RedisProcess; store: RedisStopoutStore }> {
    const server = await startRedisProcess();
    cleanup.push(() => server.remove());
    const store = await createRedisStopoutStore({
      url: server.url,
      prefix: 'rw',
      failClosedAfterMs,
      reconcileEveryMs: 60_000,
      retryDelayMs: 50,
      clock: new SimClock(CONTRACT_START),
    });
    cleanup.push(() => store.close());
    return { server, store };
  }

  it('fails closed when the server dies, reports it after failClosedAfterMs, and re-reads everything before reporting healthy again', async () => {
    const { server, store } = await serverAndStore(300);
    const recorder = new ChangeRecorder(store);
    const before = await store.set({ scope: 'portfolio', id: 'core', reason: 'manual', closePositions: false });
    await withClient(server.url, (c) => c.save()); // the server's persistence holds `before`

    await server.kill();
    await until(() => !store.healthy(), 5_000, 'healthy() turns false when the connection is lost');
    // Behaviour, not time: healthy() turns false at once, the report waits for the grace (none yet), and the
    // report itself says how long it waited ("for 300 ms").
    expect(recorder.changes.filter((r) => r.change.kind === 'health')).toEqual([]);
    await expect(store.set({ scope: 'fleet', id: '*', reason: 'manual', closePositions: true })).rejects.toBeInstanceOf(
      StoreUnavailableError,
    );
    await expect(store.reset('portfolio', 'core', 'manual')).rejects.toThrow(
      /stopout store unavailable: cannot reset a stopout: Redis redis:\/\/127\.0\.0\.1:\d+\/?, prefix rw is unreachable/,
    );

    const down = await recorder.next((c) => c.kind === 'health', 5_000);
    expect(down.change).toMatchObject({
      kind: 'health',
      healthy: false,
      reason: expect.stringMatching(/connection .* (closed|reconnecting).*\(for 300 ms\)/),
    });

    // While the store is away another process writes a fleet stopout: here into the data the server restarts
    // from, so it is there before the store can reconnect (no race with the store's reconnection).
    const other = await startRedisProcess({ dir: server.dir });
    await withClient(other.url, async (c) => {
      await c.hset('rw:stopout:fleet:*', 'manual', '{"closePositions":true,"by":"other-process"}');
      await c.save();
    });
    await other.kill();
    let snapshotWhenHealthy: string[] = [];
    store.watch((c) => {
      if (c.kind === 'health' && c.healthy) snapshotWhenHealthy = store.snapshot().map((s) => `${s.scope} ${s.id} ${s.reason}`);
    });
    const healthyAgain = recorder.next((c) => c.kind === 'health' && c.healthy, 5_000);
    await server.restart();

    await healthyAgain;
    expect(store.healthy()).toBe(true);
    const sinceDown = recorder.kinds().slice(recorder.changes.indexOf(down));
    expect(sinceDown).toEqual(['health false', 'set fleet * manual', 'health true']);
    expect(snapshotWhenHealthy).toEqual(['fleet * manual', 'portfolio core manual']);
    expect(store.snapshot()).toEqual([
      { scope: 'fleet', id: '*', reason: 'manual', closePositions: true, by: 'other-process', sequence: 0 },
      before,
    ]);
    // Writes work again.
    await store.set({ scope: 'account', id: 'alpha', reason: 'manual', closePositions: false });
  });

  it('does not report a blip shorter than failClosedAfterMs, but still re-reads what changed during it', async () => {
    const { server, store } = await serverAndStore(2_000);
    const recorder = new ChangeRecorder(store);
    const stored = await store.set({ scope: 'portfolio', id: 'core', reason: 'manual', closePositions: false });
    await withClient(server.url, (c) => c.save()); // with its data (and epoch marker): a blip, not a loss
    const changesBefore = recorder.changes.length;

    // While it is away another client resets the stopout in the data the server restarts from.
    await server.kill();
    await until(() => !store.healthy(), 1_000, 'the blip is noticed');
    const other = await startRedisProcess({ dir: server.dir });
    await withClient(other.url, async (c) => {
      await c.hdel('rw:stopout:portfolio:core', 'manual');
      await c.save();
    });
    await other.kill();
    await server.restart();
    await until(() => store.healthy(), 3_000, 'healthy again after the blip');
    expect(recorder.changes.slice(changesBefore).map((r) => describeChange(r.change))).toEqual(['reset portfolio core manual']);
    expect(recorder.changes.at(-1)?.change).toEqual({ kind: 'reset', stopout: stored });
  });

  // Issue 12, failure 3: before the epoch marker, a restart without data read as "every stopout was reset".
  it('a restart without data is a data loss, not a reset: the stopout is written back', async () => {
    const { server, store } = await serverAndStore(2_000);
    const recorder = new ChangeRecorder(store);
    await store.set({ scope: 'portfolio', id: 'core', reason: 'manual', closePositions: false });
    const changesBefore = recorder.changes.length;
    await server.restart();
    await until(() => !store.healthy(), 1_000, 'the blip is noticed');
    await until(() => store.healthy() && store.pendingWrites() === 0, 3_000, 'healthy again, the stopout written back');
    expect(recorder.changes.slice(changesBefore).map((r) => describeChange(r.change))).toEqual(['data-loss 1']);
    expect(await withClient(server.url, (c) => c.hget('rw:stopout:portfolio:core', 'manual'))).not.toBeNull();
  });
});
