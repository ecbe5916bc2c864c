import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { strategyIdHash } from '../../src/derivadex/crypto/bytes32.ts';
import type { AccountStatus } from '../../src/store/status-board.ts';
import { testRedis, testRedisUrl, uniquePrefix } from '../harness/redis.ts';
import { checkOrderLog } from '../harness/venue-order-log.ts';
import { eventually, sleep } from './eventually.ts';
import { LiveVenue } from './live-venue.ts';
import { SupervisorFleet } from './supervisor-fleet.ts';
import type { SupervisorProcess } from './supervisor-process.ts';

/*
 * Three real `riskwarden run` processes on one simulator and one Redis; an account that must close at
 * once is taken over twice: its owner is SIGKILLed while it has nothing to reduce and the strategy buys
 * behind its back (the heir must exit at once), then the heir is SIGKILLed the moment its exit reaches the
 * venue (the last process must neither send a second exit while that one works nor leave it unknown).
 * The verdict is the venue's own ORDER_UPDATE log (test/harness/venue-order-log.ts).
 *
 * Regression (issue 12, failure 1): on the code before this test the first heir sent its exit, the
 * reclaim loop rejected that very order as NotSequenced (no saved hash), and a second exit went out while
 * the first was resting: two overlapping exits in the venue's log.
 */

const ACCOUNTS = ['k1', 'k2', 'k3', 'k4', 'k5', 'k6'];
const STARTUP_MS = 20_000;

function fleet(): Record<string, unknown> {
  return {
    defaults: {
      budget: { maxPositionSize: { ETHP: '5' }, minMarginBuffer: '0.10', panicMarginBuffer: '0.03' },
      // Longer than the test: a resting exit is never cancelled and replaced by its owner while we watch.
      reductionTimeout: '60s',
    },
    accounts: ACCOUNTS.map((id) => ({ id, collateral: '10000' })),
  };
}

describe('takeovers of an account that must close, through SIGKILLs', () => {
  let redis: Redis;
  let prefix: string;
  const cleanups: Array<() => Promise<void>> = [];

  beforeEach(() => {
    redis = testRedis();
    prefix = uniquePrefix('takeover');
    cleanups.push(async () => void (await redis.quit()));
  });

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
  });

  it('one exit at a time on the venue and no flip, with the owner killed before and just as its exit reaches the venue', async () => {
    // No synthetic book: an exit (a limit sell at the band's edge) rests until the test's maker takes it.
    const venue = await LiveVenue.start({ liquidity: { depth: '50', levels: 0, spreadTicks: 2 } });
    cleanups.push(() => venue.close());
    // Leases of 3 s: the strategy's buy lands well before anyone takes the dead owner's accounts over.
    const supervisors = SupervisorFleet.start(
      { venue, redisUrl: testRedisUrl(), prefix, fleet: fleet(), processes: 3, leaseTtl: '3s' },
      redis,
    );
    cleanups.push(() => supervisors.kill());
    const statuses = await supervisors.settled(STARTUP_MS).catch((error: Error) => {
      throw new Error(`${error.message}\n${supervisors.notes()}`);
    });
    const account = ACCOUNTS[0]!;
    const ownerOf = (s: Map<string, AccountStatus>): SupervisorProcess | undefined => supervisors.processOf(s.get(account)?.owner ?? '');
    const first = ownerOf(statuses)!;

    // Stopped out with closePositions while flat: nothing to sell yet.
    await redis.hset(`${prefix}:stopout:account:${account}`, 'manual', JSON.stringify({ closePositions: true }));
    await redis.publish(`${prefix}:events`, JSON.stringify({ type: 'stopout', scope: 'account', id: account }));
    await eventually(`${account} stopped out`, 5_000, async () =>
      (await supervisors.statuses()).get(account)?.state === 'stopped-out' ? true : undefined,
    );
    await sleep(300); // its snapshot (stopped-out, flat) is saved

    await first.kill('SIGKILL');
    // Behind everyone's back the strategy buys 1: whoever takes the account over must sell it at once.
    const strategy = await venue.externalStrategy([account]);
    await venue.makerLimit('ETHP', 'sell', '1', '2000');
    const entriesFrom = venue.orders(account).length;
    await strategy.trade(account, 'buy', '1');
    const entries = new Set(
      venue
        .orders(account)
        .slice(entriesFrom)
        .map((o) => o.orderHash),
    );
    const exits = () => venue.orders(account).filter((o) => !entries.has(o.orderHash));

    // The heir's exit reaches the venue: kill the heir that very moment (polled every 2 ms).
    const firstExit = await eventually('the heir’s exit to reach the venue', 10_000, () => exits()[0], {
      everyMs: 2,
      lastSeen: () => supervisors.notes(3),
    });
    // The heir is the survivor that wrote the exit (its `order` record precedes the request; statuses lag by up to 1 s).
    const heir = await eventually(
      'the survivor that sent the exit',
      2_000,
      () => supervisors.processes.find((p) => p !== first && p.find((r) => r.kind === 'order' && r.account === account)),
      { everyMs: 2 },
    );
    await heir.kill('SIGKILL');
    const last = supervisors.processes.find((p) => p !== first && p !== heir)!;

    await eventually(
      `the last process to run ${account}`,
      10_000,
      async () => ((await supervisors.statuses()).get(account)?.owner === last.owner ? true : undefined),
      { lastSeen: () => supervisors.notes(4) },
    );
    await sleep(1_500); // a second exit, had one been sent, is on the venue by now
    const log = () =>
      venue.sim.exchange.orderUpdates({ trader: venue.trader.address, strategyIdHash: strategyIdHash(account), limit: 100_000 }).value;
    const judged = checkOrderLog(log(), { trader: venue.trader.address, strategy: account, reducing: (o) => !entries.has(o.orderHash) });
    expect(judged.overlaps).toEqual([]);
    // One exit works now: the heir's (followed), or, if the heir died before saving it, a new one sent
    // only after the heir's was cancelled.
    const working = exits().filter((o) => o.open);
    expect(working).toHaveLength(1);
    expect(exits()[0]!.orderHash).toBe(firstExit.orderHash);
    expect(exits().length).toBeLessThanOrEqual(2);

    // A bid takes it: flat, not short; still never two exits at once.
    await venue.makerLimit('ETHP', 'buy', '1', '2000');
    await eventually('flat at the venue', 5_000, () => (venue.position(account, 'ETHP') === '0' ? true : undefined), {
      lastSeen: () => venue.position(account, 'ETHP'),
    });
    await sleep(1_000);
    const after = checkOrderLog(log(), { trader: venue.trader.address, strategy: account, reducing: (o) => !entries.has(o.orderHash) });
    expect(after.overlaps).toEqual([]);
    expect(after.flips).toEqual([]);
    expect(venue.position(account, 'ETHP')).toBe('0');
  }, 60_000);
});
