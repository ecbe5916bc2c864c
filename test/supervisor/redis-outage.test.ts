import { afterEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { wallClock } from '../../src/clock/clock.ts';
import type { FleetConfig } from '../../src/config/fleet-schema.ts';
import { parseConfigDocument } from '../../src/config/load.ts';
import { planFleet } from '../../src/runtime/fleet-plan.ts';
import { FleetRuntime, STORE_UNREACHABLE } from '../../src/runtime/fleet-runtime.ts';
import { createRedisStopoutStore, type RedisStopoutStore } from '../../src/store/redis-stopout-store.ts';
import type { TimelineRecord } from '../../src/timeline/timeline-record.ts';
import { VenueClient } from '../../src/venue/venue-client.ts';
import { startRedisProcess, type RedisProcess } from '../harness/redis-process.ts';
import { uniquePrefix } from '../harness/redis.ts';
import { eventually } from './eventually.ts';
import { LiveVenue } from './live-venue.ts';

/*
 * Redis dies in the middle of a live session and comes back. One supervisor (FleetRuntime with the Redis
 * stopout store, as `riskwarden run` assembles it) on a venue hosted here and a redis-server of its own,
 * killed with SIGKILL and restarted on the same port with the data it had saved (a Redis with persistence).
 *
 * - a: 1 000 of collateral, buys 1 ETHP; a day equity drawdown limit of 300 on the strategy.
 * - b: flat: the strategy that keeps asking to enter.
 * - c: stopped out by hand before the outage: it must stay stopped out through it.
 */

const FAIL_CLOSED_AFTER_MS = 500;

function fleet(): FleetConfig {
  const parsed = parseConfigDocument(
    {
      accounts: [
        {
          id: 'a',
          collateral: '1000',
          budget: { maxPositionSize: { ETHP: '2' }, maxGrossNotional: '5000', minMarginBuffer: '0.30', panicMarginBuffer: '0.10' },
          riskLimits: [{ type: 'day', applyTo: 'equity-difference', maxAbsoluteRisk: '300', closePositions: false }],
        },
        { id: 'b', collateral: '10000', budget: { maxPositionSize: { ETHP: '2' } } },
        { id: 'c', collateral: '10000' },
      ],
    },
    { expect: 'fleet' },
  );
  if (!parsed.ok) throw new Error(`test fleet: ${JSON.stringify(parsed.problems)}`);
  return parsed.value as FleetConfig;
}

interface Stamped {
  record: TimelineRecord;
  /** Its place among the records and notes of the run (one counter for both): an order, not a time. */
  seq: number;
}

describe('a supervisor whose Redis dies mid-session', () => {
  const cleanups: Array<() => Promise<void> | void> = [];

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await Promise.resolve(cleanup()).catch(() => {});
  });

  it('refuses entries after the grace period, keeps reducing, and loses no stopout when Redis returns', async () => {
    const redisServer: RedisProcess = await startRedisProcess();
    cleanups.push(() => redisServer.remove());
    const prefix = uniquePrefix('outage');
    const venue = await LiveVenue.start();
    cleanups.push(() => venue.close());
    const config = fleet();
    for (const account of config.accounts) venue.deposit(account.strategy, account.collateral!);

    // c is stopped out by hand before the session (another client; Redis saves it to disk).
    const before = new Redis(redisServer.url, { maxRetriesPerRequest: 1 });
    await before.hset(`${prefix}:stopout:account:c`, 'manual', '{}');
    await before.save();
    await before.quit();

    let seq = 0;
    const notes: Array<{ seq: number; message: string }> = [];
    const store: RedisStopoutStore = await createRedisStopoutStore({
      url: redisServer.url,
      prefix,
      failClosedAfterMs: FAIL_CLOSED_AFTER_MS,
      retryDelayMs: 100,
      onProblem: (p) => notes.push({ seq: seq++, message: `store: ${p.where}: ${p.message}` }),
    });
    cleanups.push(() => store.close());
    const client = new VenueClient({ restUrl: venue.sim.url, wsUrl: venue.sim.wsUrl, clock: wallClock, tickIntervalMs: 1000 });
    cleanups.push(() => client.close());
    await client.connect();
    await client.bootstrap(config.accounts.map((a) => ({ strategyId: a.id, venueStrategyId: a.strategy, signer: venue.trader })));

    const timeline: Stamped[] = [];
    const runtime = new FleetRuntime({
      plan: planFleet(config, { ...client.products }),
      clock: wallClock,
      venue: client,
      store,
      origin: Date.now(),
      timeline: { write: (record) => timeline.push({ record, seq: seq++ }) },
      report: (message) => notes.push({ seq: seq++, message }),
    });
    const marks = { ETHP: client.lastMark('ETHP')!.price };
    runtime.start(
      Object.fromEntries(config.accounts.map((a) => [a.id, { collateral: a.collateral!, ledger: client.ledger(a.id)!, marks }])),
    );
    cleanups.push(() => runtime.stop());
    const ticker = setInterval(() => runtime.tick(), 200);
    cleanups.push(() => clearInterval(ticker));

    const find = (match: (r: TimelineRecord) => boolean, from = 0): Stamped | undefined =>
      timeline.slice(from).find((s) => match(s.record));
    const waitFor = (what: string, withinMs: number, match: (r: TimelineRecord) => boolean, from = 0): Promise<Stamped> =>
      eventually(what, withinMs, () => find(match, from), { lastSeen: () => notes.slice(-4).map((n) => n.message) });
    const state = (account: string): string => {
      const value = runtime.account(account)?.getSnapshot().value as string | Record<string, unknown>;
      return typeof value === 'string' ? value : Object.keys(value)[0]!;
    };
    const stopoutsOf = (account: string): string[] =>
      runtime
        .accountContext(account)!
        .stopouts.map((s) => `${s.scope}:${s.id}:${s.reason}`)
        .sort();
    const entry = async (account: string): Promise<{ allowed: boolean; rules: string[] }> => {
      const from = timeline.length;
      runtime.requestEntry(account, { symbol: 'ETHP', side: 'buy', amount: '0.01', type: 'market' });
      const decision = await waitFor(
        `a decision on ${account}'s entry`,
        2_000,
        (r) => r.kind === 'decision' && r.account === account,
        from,
      );
      return decision.record as unknown as { allowed: boolean; rules: string[] };
    };

    // ── before: c is out, a takes a position, b may enter ──
    await eventually('c to be stopped out by the stopout saved before the session', 3_000, () =>
      state('c') === 'stopped-out' ? true : undefined,
    );
    runtime.requestEntry('a', { symbol: 'ETHP', side: 'buy', amount: '1', type: 'market' });
    await eventually('a to hold 1 ETHP', 5_000, () =>
      runtime.accountContext('a')!.ledger.positions.ETHP?.size === '1' ? true : undefined,
    );
    expect(await entry('b')).toMatchObject({ allowed: true });
    expect(state('a')).toBe('trading');

    // ── Redis dies ──
    const fromKill = seq;
    await redisServer.kill();
    const blocked = await waitFor(
      'b to be stopped out by the synthetic fleet stopout',
      5_000,
      (r) => r.kind === 'state' && r.account === 'b' && r.to === 'stopped-out',
    );
    // The grace period first: a blip shorter than failClosedAfter does not stop the fleet. Behaviour, not
    // time: the store itself says it waited its grace ("for 500 ms") before calling itself unreachable, and b
    // is stopped out only after the fleet heard that, never before (the grace timer is the store's own test).
    const unreachable = notes.filter((n) => n.seq >= fromKill && n.message.startsWith('stopout store unreachable'));
    expect(unreachable).toHaveLength(1);
    expect(unreachable[0]!.message).toMatch(new RegExp(`\\(for ${FAIL_CLOSED_AFTER_MS} ms\\): entries refused until it is back$`));
    expect(unreachable[0]!.seq).toBeLessThan(blocked.seq);
    expect(stopoutsOf('b')).toEqual([`fleet:*:${STORE_UNREACHABLE}`]);
    const refused = await entry('b');
    expect(refused.allowed).toBe(false);
    expect(refused.rules).toContain('stopout');

    // The market falls while Redis is down: 2000 → 1500. a's equity ≈ 1000 − 500.2 − 1 = 498.8: a day
    // drawdown of ≈ 501 ≥ 300 (a new stopout, which cannot be written now), and a margin buffer of
    // 498.8 / 1500 − 0.05 ≈ 0.28 < 0.30: a must reduce, Redis or not. (Like every account now, a is
    // stopped out, so it reduces from stopped-out.reducing: its orders are still `reduce`.)
    const fromDrop = timeline.length;
    venue.setMark('ETHP', '1500');
    const reduce = await waitFor(
      'a reduction for a while Redis is down',
      5_000,
      (r) => r.kind === 'order' && r.account === 'a' && r.purpose === 'reduce',
      fromDrop,
    );
    expect(reduce.record).toMatchObject({ side: 'sell', symbol: 'ETHP' });
    await waitFor(
      'the reduction to fill at the venue',
      5_000,
      (r) =>
        r.kind === 'order-update' &&
        r.account === 'a' &&
        r.orderId === (reduce.record as { orderId: string }).orderId &&
        r.status === 'filled',
      fromDrop,
    );
    expect(stopoutsOf('a')).toContain('strategy:a:day-equity-difference');
    expect(store.healthy()).toBe(false);

    // ── Redis returns (same port, the data it had saved); another client writes a stopout at once ──
    const fromReturn = timeline.length;
    await redisServer.restart();
    const other = new Redis(redisServer.url, { maxRetriesPerRequest: 1 });
    cleanups.push(async () => void (await other.quit()));
    await other.hset(`${prefix}:stopout:account:a`, 'manual', '{}');

    await waitFor(
      'the manual stopout written after the return to be seen',
      5_000,
      (r) => r.kind === 'stopout' && r.scope === 'account' && r.id === 'a' && r.reason === 'manual' && r.action === 'set',
      fromReturn,
    );
    await eventually('b to be released when the store is back', 5_000, () => (state('b') === 'trading' ? true : undefined));
    expect(stopoutsOf('b')).toEqual([]);
    expect(await entry('b')).toMatchObject({ allowed: true });

    // No stopout lost: the one raised while Redis was down reaches it; the one saved before is still there.
    await eventually('the stopout raised during the outage to be written to Redis', 5_000, async () =>
      (await other.hget(`${prefix}:stopout:strategy:a`, 'day-equity-difference')) !== null ? true : undefined,
    );
    expect(await other.hgetall(`${prefix}:stopout:account:c`)).toEqual({ manual: '{}' });
    expect(state('a')).toBe('stopped-out');
    expect(stopoutsOf('a')).toEqual(['account:a:manual', 'strategy:a:day-equity-difference']);
    expect(state('c')).toBe('stopped-out');
    expect(stopoutsOf('c')).toEqual(['account:c:manual']);
    expect(find((r) => r.kind === 'stopout' && r.action === 'reset' && r.reason !== STORE_UNREACHABLE)).toBeUndefined();
  }, 30_000);
});
