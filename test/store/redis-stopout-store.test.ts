import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { SimClock } from '../../src/clock/clock.ts';
import { createRedisStopoutStore, type RedisStopoutStore, type RedisStopoutStoreOptions } from '../../src/store/redis-stopout-store.ts';
import type { StoreProblem } from '../../src/store/stopout-store.ts';
import { StoreUnavailableError } from '../../src/store/store-unavailable-error.ts';
import { freeLoopbackPort } from '../harness/redis-process.ts';
import { testRedis, testRedisUrl, uniquePrefix } from '../harness/redis.ts';
import { ChangeRecorder, sleep } from './change-recorder.ts';
import { CONTRACT_START, stopoutStoreContract } from './stopout-store-contract.ts';

stopoutStoreContract('redis (single node)', async () => {
  const clock = new SimClock(CONTRACT_START);
  const store = await createRedisStopoutStore({ url: testRedisUrl(), prefix: uniquePrefix('contract'), clock });
  return { store, clock, elapse: sleep, close: () => store.close() };
});

describe('RedisStopoutStore on a real redis-server', () => {
  const raw = testRedis();
  const opened: RedisStopoutStore[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
  });
  afterAll(() => raw.quit());

  async function open(prefix: string, options: Partial<RedisStopoutStoreOptions> = {}): Promise<RedisStopoutStore> {
    const store = await createRedisStopoutStore({ url: testRedisUrl(), prefix, clock: new SimClock(CONTRACT_START), ...options });
    opened.push(store);
    return store;
  }

  it('writes exactly the docs/contracts.md#redis layout, plus its own seq, breach and start-time keys', async () => {
    const prefix = uniquePrefix('layout');
    const store = await open(prefix);
    const subscriber = raw.duplicate();
    const events: string[] = [];
    subscriber.on('message', (_channel, message) => events.push(message));
    await subscriber.subscribe(`${prefix}:events`);

    await store.set({ scope: 'member', id: 'core/alpha', reason: 'manual', closePositions: true, by: 'ops' });
    await store.setStartTime('portfolio', 'core', '2026-01-05T13:30:00.000Z');
    await store.recordBreach({ scope: 'portfolio', id: 'core', reason: 'day-balance-difference', message: 'drawdown 120 >= 100' }, 5_000);

    expect(await raw.hgetall(`${prefix}:stopout:member:core/alpha`)).toEqual({
      manual: '{"closePositions":true,"stoppedAt":"2026-01-05T13:00:00.000Z","by":"ops","sequence":1}',
    });
    expect(await raw.get(`${prefix}:seq:stopout`)).toBe('1');
    expect(await raw.get(`${prefix}:start-time:portfolio:core`)).toBe('2026-01-05T13:30:00.000Z');
    expect(await raw.hgetall(`${prefix}:breach:portfolio:core`)).toEqual({ 'day-balance-difference': '{"message":"drawdown 120 >= 100"}' });
    const ttl = await raw.pttl(`${prefix}:breach:portfolio:core`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(5_000);
    // The counter is not under :stopout:, so it never looks like a stopout key.
    expect((await raw.keys(`${prefix}:stopout:*`)).sort()).toEqual([`${prefix}:stopout:member:core/alpha`]);
    await sleep(20);
    expect(events).toEqual([
      '{"type":"stopout","scope":"member","id":"core/alpha"}',
      '{"type":"start-time","scope":"portfolio","id":"core"}',
    ]);
    await subscriber.quit();
  });

  it('sees a raw HSET with no PUBLISH at its next reconciliation (every 500 ms by default)', async () => {
    const prefix = uniquePrefix('raw-hset');
    // Behaviour, not time: the reconciliation interval is stepped by hand, so "by the next reconciliation"
    // is counted in intervals, however fast the machine is.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      const store = await open(prefix);
      const recorder = new ChangeRecorder(store);
      await raw.hset(`${prefix}:stopout:portfolio:core`, 'manual', '{}');
      vi.advanceTimersByTime(499);
      await sleep(50); // room for a read that should not have started
      expect(recorder.kinds()).toEqual([]);
      const seen = recorder.next((c) => c.kind === 'set');
      vi.advanceTimersByTime(1);
      const { change } = await seen;
      expect(change).toEqual({
        kind: 'set',
        stopout: { scope: 'portfolio', id: 'core', reason: 'manual', closePositions: false, sequence: 0 },
      });
      await store.close();
    } finally {
      vi.useRealTimers();
    }
  });

  it('sees HSET + PUBLISH by the message, not by a reconciliation (p50 logged)', async () => {
    const prefix = uniquePrefix('publish');
    // Behaviour, not time: the next reconciliation is a minute away, so a change seen now came by the message.
    const store = await open(prefix, { reconcileEveryMs: 60_000 });
    const recorder = new ChangeRecorder(store);
    const latencies: number[] = [];
    for (let i = 0; i < 21; i++) {
      const id = `p${i}`;
      await raw.hset(`${prefix}:stopout:portfolio:${id}`, 'manual', '{}');
      const seen = recorder.next((c) => c.kind === 'set' && c.stopout.id === id);
      const published = performance.now();
      await raw.publish(`${prefix}:events`, JSON.stringify({ type: 'stopout', scope: 'portfolio', id }));
      latencies.push((await seen).at - published);
    }
    expect(recorder.kinds()).toEqual(Array.from({ length: 21 }, (_, i) => `set portfolio p${i} manual`));
    latencies.sort((a, b) => a - b);
    console.info(
      `pub/sub propagation: p50 ${(latencies[10] as number).toFixed(2)} ms, max ${(latencies.at(-1) as number).toFixed(2)} ms over ${latencies.length}`,
    );
  });

  it('counts malformed values as stopouts (fail closed) and reports each', async () => {
    const prefix = uniquePrefix('malformed');
    const reported: StoreProblem[] = [];
    const store = await open(prefix, { reconcileEveryMs: 60_000, onProblem: (p) => reported.push(p) });
    const key = `${prefix}:stopout:portfolio:core`;
    await raw.hset(
      key,
      'a-not-json',
      'not json',
      'b-list',
      '[1,2]',
      'c-yes',
      '{"closePositions":"yes"}',
      'd-till',
      '{"closePositions":true,"stoppedTill":"soon"}',
    );
    const stopouts = await store.list();
    expect(stopouts).toEqual([
      { scope: 'portfolio', id: 'core', reason: 'a-not-json', closePositions: false, sequence: 0, malformed: 'not valid JSON: "not json"' },
      {
        scope: 'portfolio',
        id: 'core',
        reason: 'b-list',
        closePositions: false,
        sequence: 0,
        malformed: 'expected a JSON object, got a list',
      },
      {
        scope: 'portfolio',
        id: 'core',
        reason: 'c-yes',
        closePositions: false,
        sequence: 0,
        malformed: 'closePositions: expected true or false, got "yes"',
      },
      {
        scope: 'portfolio',
        id: 'core',
        reason: 'd-till',
        closePositions: true,
        sequence: 0,
        malformed: 'stoppedTill: expected an ISO 8601 time, got "soon"',
      },
    ]);
    expect(reported.map((p) => p.where)).toEqual([`${key}[a-not-json]`, `${key}[b-list]`, `${key}[c-yes]`, `${key}[d-till]`]);
    expect(reported[0]?.message).toBe('malformed value, counted as a stopout without closePositions: not valid JSON: "not json"');
    expect(store.problems()).toEqual(reported);
    // Reported once, not at every reconciliation.
    await store.list();
    expect(reported).toHaveLength(4);
    // set() repairs a malformed value with a well-formed one.
    const repaired = await store.set({ scope: 'portfolio', id: 'core', reason: 'c-yes', closePositions: false });
    expect(repaired.malformed).toBeUndefined();
    expect(JSON.parse((await raw.hget(key, 'c-yes')) as string)).toMatchObject({ closePositions: false, sequence: repaired.sequence });
  });

  it('counts a stopout key that is not a hash (fail closed) until it is deleted', async () => {
    const prefix = uniquePrefix('not-hash');
    const store = await open(prefix);
    await raw.set(`${prefix}:stopout:account:alpha`, 'stop');
    expect(await store.list()).toEqual([
      {
        scope: 'account',
        id: 'alpha',
        reason: '(not a hash)',
        closePositions: false,
        sequence: 0,
        malformed: `${prefix}:stopout:account:alpha is not a hash; DEL it to clear`,
      },
    ]);
    await raw.del(`${prefix}:stopout:account:alpha`);
    expect(await store.list()).toEqual([]);
  });

  it('surfaces HDEL as a reset, with or without a PUBLISH', async () => {
    const prefix = uniquePrefix('hdel');
    const listening = await open(prefix, { reconcileEveryMs: 60_000 });
    const reconciling = await open(prefix, { reconcileEveryMs: 200 });
    const set = await listening.set({ scope: 'portfolio', id: 'core', reason: 'manual', closePositions: false });
    await listening.set({ scope: 'account', id: 'alpha', reason: 'manual', closePositions: false });
    await reconciling.list();

    const viaEvent = new ChangeRecorder(listening).next((c) => c.kind === 'reset' && c.stopout.scope === 'portfolio', 1_000);
    await raw.hdel(`${prefix}:stopout:portfolio:core`, 'manual');
    await raw.publish(`${prefix}:events`, '{"type":"stopout","scope":"portfolio","id":"core"}');
    expect((await viaEvent).change).toEqual({ kind: 'reset', stopout: set });

    const viaReconcile = new ChangeRecorder(reconciling).next((c) => c.kind === 'reset' && c.stopout.scope === 'account', 2_000);
    await raw.hdel(`${prefix}:stopout:account:alpha`, 'manual');
    await viaReconcile;
    expect(reconciling.snapshot()).toEqual([]);
    expect(listening.snapshot().map((s) => s.id)).toEqual(['alpha']); // no event, and its reconciliation is a minute away
  });

  it('lets two stores (two processes) see each other at once through pub/sub', async () => {
    const prefix = uniquePrefix('two');
    const a = await open(prefix, { reconcileEveryMs: 60_000 });
    const b = await open(prefix, { reconcileEveryMs: 60_000 });
    const heardByB = new ChangeRecorder(b);
    const heardByA = new ChangeRecorder(a);

    const setSeen = heardByB.next((c) => c.kind === 'set', 1_000);
    const stored = await a.set({ scope: 'fleet', id: '*', reason: 'manual', closePositions: true });
    expect((await setSeen).change).toEqual({ kind: 'set', stopout: stored });

    const startSeen = heardByA.next((c) => c.kind === 'start-time', 1_000);
    await b.setStartTime('portfolio', 'core', '2026-01-05T14:00:00.000Z');
    expect((await startSeen).change).toEqual({ kind: 'start-time', scope: 'portfolio', id: 'core', startTime: '2026-01-05T14:00:00.000Z' });

    const resetSeen = heardByA.next((c) => c.kind === 'reset', 1_000);
    expect(await b.reset('fleet', '*', 'manual')).toBe(true);
    expect((await resetSeen).change).toEqual({ kind: 'reset', stopout: stored });
    expect(a.snapshot()).toEqual([]);
    expect(a.startTimeSnapshot()).toEqual([{ scope: 'portfolio', id: 'core', startTime: '2026-01-05T14:00:00.000Z' }]);
  });

  it('keeps one stopout when two processes set it at the same time', async () => {
    const prefix = uniquePrefix('race');
    const a = await open(prefix);
    const b = await open(prefix);
    const stopout = { scope: 'portfolio' as const, id: 'core', reason: 'manual', closePositions: false };
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? a : b).set(stopout)));
    expect(new Set(results.map((r) => r.sequence)).size).toBe(1);
    expect(await a.list()).toEqual([results[0]]);
    expect(await b.list()).toEqual([results[0]]);
  });

  it('reports and ignores unknown scopes and unknown or malformed messages', async () => {
    const prefix = uniquePrefix('unknown');
    const reported: StoreProblem[] = [];
    const store = await open(prefix, { reconcileEveryMs: 60_000, onProblem: (p) => reported.push(p) });
    await raw.hset(`${prefix}:stopout:galaxy:far`, 'manual', '{}');
    expect(await store.list()).toEqual([]);
    await store.list();
    expect(reported).toEqual([
      { at: '2026-01-05T13:00:00.000Z', where: `${prefix}:stopout:galaxy:far`, message: 'unknown scope "galaxy"; ignored' },
    ]);

    for (const message of [
      'not json',
      '{"type":"lease","id":"x"}',
      '{"type":"stopout","scope":"galaxy","id":"far"}',
      '{"type":"stopout","scope":"portfolio"}',
    ]) {
      await raw.publish(`${prefix}:events`, message);
    }
    await sleep(30);
    expect(reported.slice(1).map((p) => p.where)).toEqual(Array(4).fill(`${prefix}:events`));
    expect(reported[1]?.message).toBe('ignored a message that is not JSON: "not json"');
    expect(reported[2]?.message).toMatch(/^ignored an unknown or malformed message .*"type":"lease"/);
    expect(store.healthy()).toBe(true);
  });

  it('fails with StoreUnavailableError when Redis cannot be reached in time', async () => {
    const port = await freeLoopbackPort();
    // Behaviour, not time: the store says it gave up at its 300 ms connect timeout; a hang is the vitest timeout's.
    await expect(createRedisStopoutStore({ url: `redis://127.0.0.1:${port}`, connectTimeoutMs: 300 })).rejects.toThrow(
      new RegExp(
        `stopout store unavailable: cannot connect: Redis redis://127\\.0\\.0\\.1:${port}, prefix riskwarden not ready within 300 ms: .*ECONNREFUSED`,
      ),
    );
  });

  it('without requireConnection starts unhealthy, reports it after failClosedAfterMs and refuses writes', async () => {
    const port = await freeLoopbackPort();
    const store = await createRedisStopoutStore({ url: `redis://127.0.0.1:${port}`, requireConnection: false, failClosedAfterMs: 100 });
    opened.push(store);
    const recorder = new ChangeRecorder(store);
    expect(store.healthy()).toBe(false);
    await expect(store.set({ scope: 'fleet', id: '*', reason: 'manual', closePositions: false })).rejects.toBeInstanceOf(
      StoreUnavailableError,
    );
    await expect(store.list()).rejects.toThrow(/stopout store unavailable: cannot list stopouts: .* is unreachable/);
    const { change } = await recorder.next((c) => c.kind === 'health', 1_000);
    expect(change).toMatchObject({ kind: 'health', healthy: false });
  });
});
