import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import type { AccountStatus } from '../../src/store/status-board.ts';
import { testRedis, testRedisUrl, uniquePrefix } from '../harness/redis.ts';
import { eventually, sleep } from './eventually.ts';
import { LiveVenue } from './live-venue.ts';
import { SupervisorFleet } from './supervisor-fleet.ts';

/*
 * Three real `riskwarden run` processes, one exchange simulator hosted here (wall clock, real sockets),
 * one real Redis. Everything they share goes through the venue and Redis: stopouts (docs/contracts.md#redis), leases,
 * snapshots, the process registry and the status keys `<prefix>:status:<account>` read below.
 */

// Nine accounts: rendezvous hashing puts them all on one of three processes with probability 3^-8.
const CORE = ['c1', 'c2', 'c3', 'c4', 'c5', 'c6', 'c7', 'c8', 'c9'];

/** Nine accounts of 10 000 each in portfolio core, whose day equity drawdown may not reach 150. */
function coreFleet(): Record<string, unknown> {
  return {
    defaults: {
      budget: {
        maxPositionSize: { ETHP: '1' },
        maxGrossNotional: '2500',
        minMarginBuffer: '0.10',
        panicMarginBuffer: '0.03',
        sessionLossLimit: '2000',
      },
      // Longer than any test: a resting reduction is never cancelled and replaced while we watch.
      reductionTimeout: '60s',
    },
    accounts: CORE.map((id) => ({ id, collateral: '10000' })),
    portfolios: [
      {
        id: 'core',
        members: CORE.map((account) => ({ account })),
        riskLimits: [{ type: 'day', applyTo: 'equity-difference', maxAbsoluteRisk: '150', closePositions: false }],
      },
    ],
  };
}

const STARTUP_MS = 20_000;
/** How long a wait may last before it fails naming what it saw: a hang guard, not a requirement. */
const HANG_GUARD_MS = 8_000;

describe('three supervisor processes on one venue and one Redis', () => {
  let redis: Redis;
  let prefix: string;
  const cleanups: Array<() => Promise<void>> = [];

  beforeEach(() => {
    redis = testRedis();
    prefix = uniquePrefix('multi');
    cleanups.push(async () => void (await redis.quit()));
  });

  afterEach(async () => {
    // Processes first (they hold sockets to the venue and Redis), then the venue, then our client.
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
  });

  async function start(options: { liquidity?: { depth: string; levels: number; spreadTicks: number } } = {}) {
    const venue = await LiveVenue.start(options.liquidity ? { liquidity: options.liquidity } : {});
    cleanups.push(() => venue.close());
    const fleet = SupervisorFleet.start({ venue, redisUrl: testRedisUrl(), prefix, fleet: coreFleet(), processes: 3 }, redis);
    cleanups.push(() => fleet.kill());
    const statuses = await fleet.settled(STARTUP_MS).catch((error: Error) => {
      throw new Error(`${error.message}\n${fleet.notes()}`);
    });
    const owners = new Set([...statuses.values()].map((s) => s.owner));
    // Rendezvous hashing spreads the accounts: with three live processes, more than one runs some.
    expect(owners.size).toBeGreaterThan(1);
    return { venue, fleet, statuses };
  }

  function stoppedOutBy(statuses: Map<string, AccountStatus>, stopout: string): string[] {
    return CORE.filter((a) => statuses.get(a)?.state === 'stopped-out' && statuses.get(a)!.stopouts.includes(stopout));
  }

  it('a portfolio breach found by one process stops every core account, whichever process runs it', async () => {
    const { venue, fleet } = await start();
    const external = await venue.externalStrategy(['c1', 'c2', 'c3']);
    // The strategies themselves buy 0.5 ETHP each at the synthetic ask (2000.2, taker fee 0.0005).
    for (const account of ['c1', 'c2', 'c3']) await external.trade(account, 'buy', '0.5');
    await eventually('every process to see the three positions', 5_000, async () => {
      const statuses = await fleet.statuses();
      return ['c1', 'c2', 'c3'].every((a) => statuses.get(a)?.position.ETHP === '0.5') ? true : undefined;
    });
    // No breach yet: each paid 0.5 × 0.2 spread + 0.5 × 2000.2 × 0.0005 fee ≈ 0.6, so core is down ≈ 1.8 < 150.
    await sleep(1_500);
    expect(await redis.hgetall(`${prefix}:stopout:portfolio:core`)).toEqual({});

    // Every event the processes publish, heard by a plain subscriber of our own.
    const published: string[] = [];
    const subscriber = testRedis();
    cleanups.push(async () => void (await subscriber.quit()));
    subscriber.on('message', (_channel, message: string) => void published.push(message));
    await subscriber.subscribe(`${prefix}:events`);

    // 2000 → 1800: each buyer is down 0.5 × (2000.2 − 1800) = 100.1 plus its 0.5 fee, so core's equity is
    // 3 × 100.6 = 301.8 under its start (≥ 300 under any baseline taken after the buys) ≥ 150.
    venue.setMark('ETHP', '1800');
    const key = `${prefix}:stopout:portfolio:core`;
    const raised = await eventually(
      `${key} [day-equity-difference] to be written`,
      10_000,
      async () => {
        const value = await redis.hget(key, 'day-equity-difference');
        return value === null ? undefined : value;
      },
      { lastSeen: () => fleet.notes(3) },
    );
    expect(JSON.parse(raised)).toMatchObject({ closePositions: false });

    // The raising process publishes it, so the others hear of it at once (a reconcile within 1 s if the
    // message were lost); statuses are republished every second. Behaviour, not time: the event is on the
    // channel (a store acts on it by the message alone: test/store/redis-stopout-store.test.ts), and every core
    // account ends stopped out, whichever process runs it; the waits are only hang guards.
    await eventually('the stopout to be published on the events channel', HANG_GUARD_MS, () =>
      published.includes(JSON.stringify({ type: 'stopout', scope: 'portfolio', id: 'core' })) ? true : undefined,
    );
    const stopout = 'portfolio:core:day-equity-difference';
    let last = new Map<string, AccountStatus>();
    await eventually(
      'every core account to be stopped out in its status',
      HANG_GUARD_MS,
      async () => {
        last = await fleet.statuses();
        return stoppedOutBy(last, stopout).length === CORE.length ? true : undefined;
      },
      { everyMs: 100, lastSeen: () => [...last.values()].map((s) => `${s.account}@${s.owner}: ${s.state} [${s.stopouts.join(',')}]`) },
    );
    // Every process heard of it, whether or not it runs core accounts: a stopout record in each timeline.
    for (const p of fleet.processes) {
      expect(
        p.find(
          (r) =>
            r.kind === 'stopout' &&
            r.scope === 'portfolio' &&
            r.id === 'core' &&
            r.reason === 'day-equity-difference' &&
            r.action === 'set',
        ),
      ).toBeDefined();
    }
  }, 30_000);

  it('a raw HSET of a manual stopout, without PUBLISH, is honoured by all three within a reconcile', async () => {
    const { fleet } = await start();
    const plain = testRedis();
    cleanups.push(async () => void (await plain.quit()));
    const from = fleet.processes.map((p) => p.records.length);

    await plain.hset(`${prefix}:stopout:portfolio:core`, 'manual', '{}');

    // Each process must see it by its own reconciliation (every 1 s; no event was published). Behaviour, not
    // time: nothing announced the write, so a stopout record in every process proves each read the key itself
    // (how often it reads is held by the store's own test, on a stepped interval timer).
    await Promise.all(
      fleet.processes.map((p, i) =>
        p.waitForRecord(
          'the manual stopout on portfolio core',
          HANG_GUARD_MS,
          (r) => r.kind === 'stopout' && r.scope === 'portfolio' && r.id === 'core' && r.reason === 'manual' && r.action === 'set',
          from[i],
        ),
      ),
    );

    // Then every core account is stopped out in its status, whichever process runs it.
    let last = new Map<string, AccountStatus>();
    await eventually(
      'every core account to be stopped out by the manual stopout in its status',
      HANG_GUARD_MS,
      async () => {
        last = await fleet.statuses();
        return stoppedOutBy(last, 'portfolio:core:manual').length === CORE.length ? true : undefined;
      },
      { everyMs: 100, lastSeen: () => [...last.values()].map((s) => `${s.account}@${s.owner}: ${s.state} [${s.stopouts.join(',')}]`) },
    );
  }, 30_000);

  /**
   * Kills the process that runs a de-risking account whose reduction is working at the venue, and a
   * stopped-out one; checks that the heir resumes both as they were and follows the working order instead
   * of sending another.
   * - `over-cap`: the strategy buys 1.4 ETHP (cap 1); its owner de-risks in steps while every feed flows,
   *   so every process has seen the reduction on its ORDER_UPDATE feed when the owner dies.
   * - `feed-held`: the strategy buys 1 ETHP (at the cap), then ORDER_UPDATE frames are held (pause-feed)
   *   and the mark rises so that the notional passes maxGrossNotional: the reduction is sent, rests, and
   *   no process hears of it from the feed until after the takeover. The heir must learn of it from the
   *   venue's order history.
   */
  async function takeover(arrangement: 'over-cap' | 'feed-held'): Promise<void> {
    // No synthetic book: the strategies buy from the test's maker, and a reduction (a limit sell inside
    // the price band) finds no bid, so it rests at the venue, working, until someone trades with it.
    const { venue, fleet, statuses } = await start({ liquidity: { depth: '50', levels: 0, spreadTicks: 2 } });
    const byOwner = new Map<string, string[]>();
    for (const s of statuses.values()) byOwner.set(s.owner, [...(byOwner.get(s.owner) ?? []), s.account].sort());
    // Nine accounts over three processes: one runs at least three. It is the one we kill.
    const [victimOwner, victimAccounts] = [...byOwner.entries()].sort((a, b) => b[1].length - a[1].length || a[0].localeCompare(b[0]))[0]!;
    const victim = fleet.processOf(victimOwner)!;
    const [derisking, stopped] = victimAccounts as [string, string];
    const survivors = fleet.processes.filter((p) => p !== victim);

    // `stopped` is stopped out by hand (account scope; published, so it takes effect at once).
    await redis.hset(`${prefix}:stopout:account:${stopped}`, 'manual', '{}');
    await redis.publish(`${prefix}:events`, JSON.stringify({ type: 'stopout', scope: 'account', id: stopped }));

    // The maker's ask is exactly what the strategy buys: none of it is left to trade with the maker's own
    // bid later (the venue refuses a self-match).
    const bought = arrangement === 'over-cap' ? '1.4' : '1';
    await venue.makerLimit('ETHP', 'sell', bought, '2000.2');
    const external = await venue.externalStrategy([derisking]);
    let pauseEnds = 0;
    let expected: { amount: string; price: string; position: string };
    if (arrangement === 'over-cap') {
      await external.trade(derisking, 'buy', '1.4');
      // One step of min(1.4 − 1, 25 % × 1.4) = 0.35, a limit sell at the band's edge 2000 × (1 − 0.02) = 1960.
      expected = { amount: '0.35', price: '1960', position: '1.4' };
    } else {
      await external.trade(derisking, 'buy', '1');
      await eventually(`the victim to see ${derisking} holding 1 ETHP`, 3_000, async () =>
        (await fleet.statuses()).get(derisking)?.position.ETHP === '1' ? true : undefined,
      );
      pauseEnds = Date.now() + 8_000;
      venue.sim.injectFault({ kind: 'pause-feed', feed: 'ORDER_UPDATE', duration: 8_000 });
      // 1 × 2600 > maxGrossNotional 2500: reduce (2600 − 2500) / 2600 = 0.03846… → 0.0385 (rounded up to the
      // 0.0001 increment), at 2600 × 0.98 = 2548.
      venue.setMark('ETHP', '2600');
      expected = { amount: '0.0385', price: '2548', position: '1' };
    }
    const reduce = await victim.waitForRecord(
      `a reduction for ${derisking}`,
      5_000,
      (r) => r.kind === 'order' && r.account === derisking && r.purpose === 'reduce',
    );
    expect(reduce).toMatchObject({ side: 'sell', amount: expected.amount, price: expected.price, type: 'limit' });
    const resting = await eventually(`the reduction of ${derisking} to rest at the venue`, 5_000, () => {
      const sells = venue.orders(derisking).filter((o) => o.side === 'sell');
      return sells.length === 1 && sells[0]!.open ? sells[0]! : undefined;
    });
    // The heir can follow it only if the snapshot names its venue hash.
    const snapshotKey = `${prefix}:snapshot:{core}:${derisking}`;
    await eventually(`${snapshotKey} to name the working order ${resting.orderHash}`, 5_000, async () =>
      (await redis.get(snapshotKey))?.toLowerCase().includes(resting.orderHash) ? true : undefined,
    );

    await eventually(`${derisking} de-risking and ${stopped} stopped out, both run by the victim`, 3_000, async () => {
      const now = await fleet.statuses();
      const d = now.get(derisking);
      const s = now.get(stopped);
      return d?.owner === victimOwner && d.state === 'de-risking' && s?.owner === victimOwner && s.state === 'stopped-out'
        ? true
        : undefined;
    });

    await victim.kill('SIGKILL');

    // Leases and the heartbeat live 1 s: the survivors see the victim gone and take its accounts over.
    let after = new Map<string, AccountStatus>();
    await eventually(
      "the victim's accounts to be published by survivors",
      6_000,
      async () => {
        after = await fleet.statuses();
        return victimAccounts.every((a) => survivors.some((p) => p.owner === after.get(a)?.owner)) ? true : undefined;
      },
      { everyMs: 100, lastSeen: () => victimAccounts.map((a) => `${a}@${after.get(a)?.owner}: ${after.get(a)?.state}`) },
    );
    expect(after.get(stopped)).toMatchObject({ state: 'stopped-out', stopouts: [`account:${stopped}:manual`] });
    expect(after.get(derisking)).toMatchObject({ state: 'de-risking', position: { ETHP: expected.position } });
    expect(after.get(derisking)!.detail).toContain('awaiting');
    const heir = fleet.processOf(after.get(derisking)!.owner)!;
    if (arrangement === 'feed-held') {
      // The heir took over before any ORDER_UPDATE of the reduction reached it (its feed would have
      // adopted the order under its hash); it found the order resting in the venue's history. Behaviour, not
      // time: the missing feed record is the evidence that the takeover came while the frames were held.
      expect(heir.find((r) => r.kind === 'order-update' && r.orderId === resting.orderHash)).toBeUndefined();
      expect(heir.find((r) => r.kind === 'order-update' && r.orderId === reduce.orderId)).toMatchObject({ status: 'posted' });
    }

    // A few of the heir's ticks later (and after any held frames arrived): still the one order at the
    // venue, still working; the heir sent nothing.
    await sleep(Math.max(2_000, pauseEnds + 500 - Date.now()));
    expect(venue.orders(derisking).filter((o) => o.side === 'sell')).toEqual([resting]);
    expect(heir.find((r) => r.kind === 'order' && r.account === derisking)).toBeUndefined();

    // The heir follows the reclaimed order under its original id: the maker takes it, and the heir writes
    // that fill for the victim's order id.
    const from = heir.records.length;
    await venue.makerLimit('ETHP', 'buy', expected.amount, expected.price);
    await heir.waitForRecord(
      `the fill of ${reduce.orderId as string} followed by the heir`,
      5_000,
      (r) => r.kind === 'order-update' && r.account === derisking && r.orderId === reduce.orderId && r.status === 'filled',
      from,
    );
    if (arrangement === 'over-cap') {
      // Only then the next step: 1.05 − 1 = 0.05 over the cap. Never two reductions working at once.
      const next = await heir.waitForRecord(
        `the next reduction for ${derisking}`,
        5_000,
        (r) => r.kind === 'order' && r.account === derisking && r.purpose === 'reduce',
        from,
      );
      expect(next).toMatchObject({ side: 'sell', amount: '0.05' });
      const sells = await eventually('the next reduction to reach the venue', 3_000, () => {
        const now = venue.orders(derisking).filter((o) => o.side === 'sell');
        return now.length === 2 ? now : undefined;
      });
      expect(sells.map((o) => [o.amount, o.open])).toEqual([
        ['0.35', false],
        ['0.05', true],
      ]);
    } else {
      // 0.9615 × 2600 = 2499.9 ≤ 2500: nothing more to reduce.
      await heir.waitForRecord(
        `${derisking} to leave de-risking`,
        3_000,
        (r) => r.kind === 'state' && r.account === derisking && r.from === 'de-risking',
        from,
      );
      expect(
        venue
          .orders(derisking)
          .filter((o) => o.side === 'sell')
          .map((o) => [o.amount, o.open]),
      ).toEqual([['0.0385', false]]);
      expect(heir.find((r) => r.kind === 'order' && r.account === derisking)).toBeUndefined();
    }
  }

  it("a SIGKILLed process's accounts are taken over in the same state, its working reduction reclaimed, not sent again", async () => {
    await takeover('over-cap');
  }, 30_000);

  it("the heir reclaims a working reduction from the venue's history when its own feed has not shown it yet", async () => {
    await takeover('feed-held');
  }, 30_000);
});
