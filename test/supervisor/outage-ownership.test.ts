import { afterEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { wallClock } from '../../src/clock/clock.ts';
import { dec } from '../../src/domain/decimal.ts';
import type { FleetConfig } from '../../src/config/fleet-schema.ts';
import { parseConfigDocument } from '../../src/config/load.ts';
import { RedisLeaseManager } from '../../src/persistence/redis-lease-manager.ts';
import { RedisProcessRegistry } from '../../src/persistence/process-registry.ts';
import { RedisSnapshotStore } from '../../src/persistence/redis-snapshot-store.ts';
import { createRedisConnection } from '../../src/redis/connection.ts';
import { FleetOwnership } from '../../src/runtime/fleet-ownership.ts';
import { planFleet } from '../../src/runtime/fleet-plan.ts';
import { FleetRuntime, STORE_UNREACHABLE } from '../../src/runtime/fleet-runtime.ts';
import { createRedisStopoutStore, type RedisStopoutStore } from '../../src/store/redis-stopout-store.ts';
import type { TimelineRecord } from '../../src/timeline/timeline-record.ts';
import { VenueClient } from '../../src/venue/venue-client.ts';
import { startRedisProcess, type RedisProcess } from '../harness/redis-process.ts';
import { eventually } from './eventually.ts';
import { LiveVenue } from './live-venue.ts';

/*
 * Issue 12, failure 3: a Redis outage longer than the lease ttl, with ownership (leases, snapshots, the process
 * registry) as `riskwarden run` assembles it. Before the fix, after one ttl every lease counted as lost
 * ("another process runs it now" — none did), the accounts were removed, nothing reduced until Redis returned,
 * and a kill switch was refused (409) and not applied. And a Redis that came back empty released every stopout.
 *
 * - a: 1 000 of collateral, buys 1 ETHP, then the market falls while Redis is down: it must reduce.
 * - b: flat, keeps asking to enter: refused through the outage.
 * - c: stopped out by hand before the outage: stays stopped out, also after Redis comes back empty.
 */

const TTL_MS = 600;
const FAIL_CLOSED_AFTER_MS = 300;

function fleet(): FleetConfig {
  const parsed = parseConfigDocument(
    {
      accounts: [
        {
          id: 'a',
          collateral: '1000',
          budget: { maxPositionSize: { ETHP: '2' }, maxGrossNotional: '5000', minMarginBuffer: '0.30', panicMarginBuffer: '0.10' },
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

describe('an owner whose Redis dies for longer than the lease ttl', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await Promise.resolve(cleanup()).catch(() => {});
  });

  it('keeps its accounts (ownership uncertain), reduces, applies a kill switch at once, and re-asserts everything when Redis comes back empty', async () => {
    const redisServer: RedisProcess = await startRedisProcess();
    cleanups.push(() => redisServer.remove());
    const prefix = 'outage';
    const venue = await LiveVenue.start();
    cleanups.push(() => venue.close());
    const config = fleet();
    for (const account of config.accounts) venue.deposit(account.strategy, account.collateral!);

    const notes: string[] = [];
    const report = (message: string): void => void notes.push(message);
    const store: RedisStopoutStore = await createRedisStopoutStore({
      url: redisServer.url,
      prefix,
      failClosedAfterMs: FAIL_CLOSED_AFTER_MS,
      retryDelayMs: 100,
      reconcileEveryMs: 200,
      holdWritesWhileUnreachable: true,
      onProblem: (p) => report(`store: ${p.where}: ${p.message}`),
    });
    cleanups.push(() => store.close());
    const client = new VenueClient({ restUrl: venue.sim.url, wsUrl: venue.sim.wsUrl, clock: wallClock, tickIntervalMs: 1000 });
    cleanups.push(() => client.close());
    await client.connect();
    await client.bootstrap(config.accounts.map((a) => ({ strategyId: a.id, venueStrategyId: a.strategy, signer: venue.trader })));

    const connection = createRedisConnection({ url: redisServer.url }, { retryDelayMs: 100, commandTimeoutMs: 500 });
    connection.on('error', () => {});
    await connection.connect();
    cleanups.push(() => void connection.disconnect());
    const owner = 'host:1:test';
    const leases = new RedisLeaseManager({ client: connection, ttlMs: TTL_MS, prefix, ownerId: owner });
    const snapshots = new RedisSnapshotStore({ client: connection, prefix });
    const registry = new RedisProcessRegistry({ client: connection, prefix, owner, ttlMs: TTL_MS });

    const timeline: TimelineRecord[] = [];
    let ownership: FleetOwnership | undefined;
    const runtime = new FleetRuntime({
      plan: planFleet(config, { ...client.products }),
      clock: wallClock,
      venue: client,
      store,
      origin: Date.now(),
      timeline: { write: (record) => void timeline.push(record) },
      report,
      persist: (accountId, persisted) => ownership?.persist(accountId, persisted),
    });
    runtime.start({});
    cleanups.push(() => runtime.stop());
    const uncertainty: string[] = [];
    const losses: string[] = [];
    ownership = new FleetOwnership({
      runtime,
      leases,
      snapshots,
      registry,
      accounts: () => config.accounts.map((a) => a.id),
      ledgerOf: (id) => client.ledger(id),
      collateralOf: (id) => config.accounts.find((a) => a.id === id)?.collateral ?? '0',
      marks: () => ({ ETHP: client.lastMark('ETHP')!.price }),
      now: () => Date.now(),
      report,
      onUncertain: (accountId, uncertain) => void uncertainty.push(`${accountId} ${uncertain}`),
      onDataLoss: (accountId) => void losses.push(accountId),
    });
    cleanups.push(() => ownership!.stop());
    await ownership.start();
    await ownership.acquireNow();
    const ticker = setInterval(() => runtime.tick(), 100);
    cleanups.push(() => clearInterval(ticker));

    const state = (account: string): string => {
      const value = runtime.account(account)?.getSnapshot().value as string | Record<string, unknown> | undefined;
      if (value === undefined) return 'not running';
      return typeof value === 'string' ? value : Object.keys(value)[0]!;
    };
    const stopoutsOf = (account: string): string[] =>
      (runtime.accountContext(account)?.stopouts ?? []).map((s) => `${s.scope}:${s.id}:${s.reason}`).sort();
    const lastSeen = { lastSeen: () => notes.slice(-4) };

    await eventually('a, b and c to run here', 5_000, () => (runtime.accountIds().length === 3 ? true : undefined), lastSeen);
    expect(await runtime.operate({ action: 'set-stopout', scope: 'account', id: 'c', reason: 'manual' })).toEqual({ result: 'ok' });
    await eventually('c to be stopped out', 3_000, () => (state('c') === 'stopped-out' ? true : undefined), lastSeen);
    runtime.requestEntry('a', { symbol: 'ETHP', side: 'buy', amount: '1', type: 'market' });
    await eventually(
      'a to hold 1 ETHP',
      5_000,
      () => (runtime.accountContext('a')?.ledger.positions.ETHP?.size === '1' ? true : undefined),
      lastSeen,
    );
    expect(state('a')).toBe('trading');

    // ── Redis dies for 4 lease ttls ──
    await redisServer.kill();
    await new Promise((resolve) => setTimeout(resolve, 4 * TTL_MS));
    // Still ours, with ownership uncertain; nobody said "another process runs it now".
    expect(runtime.accountIds().sort()).toEqual(['a', 'b', 'c']);
    expect(ownership.uncertainAccounts()).toEqual(['a', 'b', 'c']);
    expect(uncertainty.sort()).toEqual(['a true', 'b true', 'c true']);
    expect(notes.filter((n) => n.includes('another process runs it now'))).toEqual([]);
    expect(stopoutsOf('b')).toEqual([`fleet:*:${STORE_UNREACHABLE}`]); // entries refused (fail closed)

    // The market falls: a's buffer ≈ 498.8 / 1500 − 0.05 ≈ 0.28 < 0.30: it must reduce, Redis or not.
    const fromDrop = timeline.length;
    venue.setMark('ETHP', '1500');
    await eventually(
      'a reduction for a while Redis is down',
      5_000,
      () => (timeline.slice(fromDrop).some((r) => r.kind === 'order' && r.account === 'a' && r.purpose === 'reduce') ? true : undefined),
      lastSeen,
    );

    // The kill switch from the API path (runtime.operate): applied here at once, not refused.
    expect(
      await runtime.operate({ action: 'set-stopout', scope: 'fleet', id: '*', reason: 'manual', closePositions: true, by: 'ops' }),
    ).toEqual({ result: 'ok' });
    await eventually('the kill switch to reach b', 2_000, () => (stopoutsOf('b').includes('fleet:*:manual') ? true : undefined), lastSeen);
    // a now flattens (closePositions), but in halves while ownership is uncertain: every reducing order of the
    // outage is at most half the position it was sent against (1 ETHP at most), so a second owner sending
    // the same orders could not flip it.
    await eventually(
      'an exit of a under the kill switch',
      5_000,
      () => (timeline.slice(fromDrop).some((r) => r.kind === 'order' && r.account === 'a' && r.purpose === 'exit') ? true : undefined),
      lastSeen,
    );
    const outageOrders = timeline.slice(fromDrop).filter((r) => r.kind === 'order' && r.account === 'a');
    for (const order of outageOrders) if (order.kind === 'order') expect(dec(order.amount).lte('0.5')).toBe(true);

    // ── Redis comes back EMPTY (nothing was saved) ──
    await redisServer.restart();
    await eventually(
      'every lease to be confirmed again',
      5_000,
      () => (ownership!.uncertainAccounts().length === 0 ? true : undefined),
      lastSeen,
    );
    expect(losses.sort()).toEqual(['a', 'b', 'c']);
    await eventually('the stopout store to report the data loss', 5_000, () =>
      notes.some((n) => n.startsWith('store: outage:epoch: DATA LOSS')) ? true : undefined,
    );
    expect(runtime.accountIds().sort()).toEqual(['a', 'b', 'c']);

    // Nothing released: the kill switch and c's stopout are written back, and still hold here.
    const raw = new Redis(redisServer.url, { maxRetriesPerRequest: 1 });
    cleanups.push(async () => void (await raw.quit()));
    await eventually('the stopouts to be written back', 5_000, async () =>
      (await raw.hget(`${prefix}:stopout:fleet:*`, 'manual')) !== null && (await raw.hget(`${prefix}:stopout:account:c`, 'manual')) !== null
        ? true
        : undefined,
    );
    await eventually('the leases to be written back', 5_000, async () =>
      (await raw.get(`${prefix}:lease:{a}:a`)) === owner && (await raw.get(`${prefix}:lease-epoch:{a}:a`)) === '1' ? true : undefined,
    );
    await eventually('a snapshot of a to be written back', 5_000, async () =>
      (await raw.keys(`${prefix}:snapshot:*a`)).length > 0 ? true : undefined,
    );
    await eventually('the store-unreachable stopout to go', 5_000, () =>
      !stopoutsOf('b').includes(`fleet:*:${STORE_UNREACHABLE}`) ? true : undefined,
    );
    expect(stopoutsOf('b')).toEqual(['fleet:*:manual']);
    expect(await raw.hkeys(`${prefix}:stopout:fleet:*`)).toEqual(['manual']); // the synthetic one is never written
    expect(stopoutsOf('c')).toEqual(['account:c:manual', 'fleet:*:manual']);
    expect(state('c')).toBe('stopped-out');
    expect(timeline.filter((r) => r.kind === 'stopout' && r.action === 'reset' && r.reason !== STORE_UNREACHABLE)).toEqual([]);
  }, 30_000);
});
