import { afterEach, describe, expect, it } from 'vitest';
import { wallClock } from '../../src/clock/clock.ts';
import type { FleetConfig } from '../../src/config/fleet-schema.ts';
import { parseConfigDocument } from '../../src/config/load.ts';
import { strategyIdHash } from '../../src/derivadex/crypto/bytes32.ts';
import { planFleet } from '../../src/runtime/fleet-plan.ts';
import { FleetRuntime, type PersistedAccount } from '../../src/runtime/fleet-runtime.ts';
import { MemoryStopoutStore } from '../../src/store/memory-stopout-store.ts';
import type { TimelineRecord } from '../../src/timeline/timeline-record.ts';
import { VenueClient } from '../../src/venue/venue-client.ts';
import { checkOrderLog } from '../harness/venue-order-log.ts';
import { eventually, sleep } from '../supervisor/eventually.ts';
import { LiveVenue } from '../supervisor/live-venue.ts';

/*
 * Takeovers of an account that must reduce at once, in one test process: the previous owner ("A") is a
 * FleetRuntime with its own VenueClient whose snapshots we keep; it is "killed" (stopped, its client
 * closed) and a second runtime ("B", a fresh client on the same trader) resumes the account from one of
 * those snapshots, as FleetOwnership does after a lease expired. The exchange simulator runs on the wall
 * clock over real sockets. Every verdict comes from the venue's own ORDER_UPDATE log (checkOrderLog), not
 * from either runtime's counters.
 *
 * Regression (issue 12, failure 1): resumeAccount sent RESYNC first, the account placed its exit, the
 * reclaim loop then found that new order with no saved hash, rejected it NotSequenced, and the account sent
 * a second exit while the first was live — long 1 became short 1 (first test), two exits rested at once
 * (third test); and an exit the dead owner had sent after its last snapshot was ignored (second test).
 */

const ACCOUNT = 'alpha';

function fleet(): FleetConfig {
  const parsed = parseConfigDocument(
    {
      accounts: [{ id: ACCOUNT, collateral: '10000', budget: { maxPositionSize: { ETHP: '5' }, minMarginBuffer: '0.10' } }],
      // Longer than any test: a resting exit is never cancelled and replaced while we watch.
      defaults: { reductionTimeout: '60s' },
    },
    { expect: 'fleet' },
  );
  if (!parsed.ok) throw new Error(`test fleet: ${JSON.stringify(parsed.problems)}`);
  return parsed.value as FleetConfig;
}

interface Supervisor {
  client: VenueClient;
  runtime: FleetRuntime;
  store: MemoryStopoutStore;
  persisted: PersistedAccount[];
  timeline: TimelineRecord[];
  notes: string[];
  kill(): Promise<void>;
}

describe('a takeover of an account that must reduce at once', () => {
  const cleanups: Array<() => Promise<void> | void> = [];

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await Promise.resolve(cleanup()).catch(() => {});
  });

  async function startVenue(liquidity: boolean): Promise<LiveVenue> {
    const venue = await LiveVenue.start(liquidity ? {} : { liquidity: { depth: '1', levels: 0, spreadTicks: 1 } });
    cleanups.push(() => venue.close());
    venue.deposit(ACCOUNT, '10000');
    return venue;
  }

  /** One supervisor process's worth of parts: a venue client, a runtime, a stopout store. */
  async function supervisor(venue: LiveVenue, start: 'fresh' | 'empty', reconcileTimeoutMs?: number): Promise<Supervisor> {
    const config = fleet();
    const client = new VenueClient({
      restUrl: venue.sim.url,
      wsUrl: venue.sim.wsUrl,
      clock: wallClock,
      orderBook: false,
      tickIntervalMs: 200,
    });
    client.on('fault', () => {});
    await client.connect();
    await client.bootstrap([{ strategyId: ACCOUNT, venueStrategyId: ACCOUNT, signer: venue.trader }]);
    const store = new MemoryStopoutStore();
    const persisted: PersistedAccount[] = [];
    const timeline: TimelineRecord[] = [];
    const notes: string[] = [];
    const runtime = new FleetRuntime({
      plan: planFleet(config, { ...client.products }),
      clock: wallClock,
      venue: client,
      store,
      origin: Date.now(),
      timeline: { write: (record) => void timeline.push(record) },
      report: (message) => void notes.push(message),
      persist: (_accountId, p) => void persisted.push(JSON.parse(JSON.stringify(p)) as PersistedAccount),
      ...(reconcileTimeoutMs === undefined ? {} : { reconcileTimeoutMs }),
    });
    const marks = { ETHP: client.lastMark('ETHP')!.price };
    runtime.start(start === 'fresh' ? { [ACCOUNT]: { collateral: '10000', ledger: client.ledger(ACCOUNT)!, marks } } : {});
    const ticker = setInterval(() => runtime.tick(), 100);
    let dead = false;
    const kill = async () => {
      if (dead) return;
      dead = true;
      clearInterval(ticker);
      await client.close();
      runtime.stop();
    };
    cleanups.push(kill);
    return { client, runtime, store, persisted, timeline, notes, kill };
  }

  function orderLog(venue: LiveVenue) {
    return venue.sim.exchange.orderUpdates({ trader: venue.trader.address, strategyIdHash: strategyIdHash(ACCOUNT), limit: 100_000 }).value;
  }

  /** A snapshot of A's account stopped out with closePositions while flat: nothing to reduce yet. */
  async function stoppedOutWhileFlat(a: Supervisor): Promise<PersistedAccount> {
    await a.store.set({ scope: 'account', id: ACCOUNT, reason: 'manual', closePositions: true });
    await eventually('A: the account stopped out', 5_000, () =>
      a.runtime.accountContext(ACCOUNT)?.mode === 'stopped-out' ? true : undefined,
    );
    await sleep(100);
    const last = a.persisted.at(-1);
    if (!last) throw new Error('A persisted nothing');
    return last;
  }

  it('sends one exit, not two: long 1 ends flat, never short (the NotSequenced double send)', async () => {
    const venue = await startVenue(true);
    const a = await supervisor(venue, 'fresh');
    const snapshot = await stoppedOutWhileFlat(a);
    await a.kill();
    // The strategy buys 1 after A's last snapshot: the successor must close it at once.
    const strategy = await venue.externalStrategy([ACCOUNT]);
    const before = orderLog(venue).length;
    await strategy.trade(ACCOUNT, 'buy', '1');
    const entryRows = orderLog(venue).slice(before);
    const entryHashes = new Set(entryRows.flatMap((r) => [r.makerOrderIntent.orderHash, r.takerOrderIntent?.orderHash ?? '']));

    const b = await supervisor(venue, 'empty');
    await b.runtime.resumeAccount(ACCOUNT, snapshot, b.client.ledger(ACCOUNT));
    await eventually('the venue position to be flat', 5_000, () => (venue.position(ACCOUNT, 'ETHP') === '0' ? true : undefined), {
      lastSeen: () => venue.position(ACCOUNT, 'ETHP'),
    });
    await sleep(500); // a second exit, if one was sent, has reached the venue by now

    const report = checkOrderLog(orderLog(venue), {
      trader: venue.trader.address,
      strategy: ACCOUNT,
      reducing: (order) => !entryHashes.has(order.orderHash),
    });
    expect(report.flips).toEqual([]);
    expect(report.overlaps).toEqual([]);
    expect(report.orders.filter((o) => !entryHashes.has(o.orderHash)).map((o) => `${o.side} ${o.amount} ${o.outcome}`)).toEqual([
      'sell 1 filled',
    ]);
    expect(venue.position(ACCOUNT, 'ETHP')).toBe('0');
  });

  it("cancels the dead owner's exit that its last snapshot does not know before sending its own", async () => {
    const venue = await startVenue(false);
    const a = await supervisor(venue, 'fresh');
    const snapshot = await stoppedOutWhileFlat(a);
    await a.kill();
    const strategy = await venue.externalStrategy([ACCOUNT]);
    await venue.makerLimit('ETHP', 'sell', '1', '2000');
    await strategy.trade(ACCOUNT, 'buy', '1');
    // A's exit reached the venue after its last snapshot was saved (killed just then): it rests.
    const dying = new VenueClient({ restUrl: venue.sim.url, wsUrl: venue.sim.wsUrl, clock: wallClock, orderBook: false });
    dying.on('fault', () => {});
    await dying.connect();
    await dying.bootstrap([{ strategyId: ACCOUNT, venueStrategyId: ACCOUNT, signer: venue.trader }]);
    const foreign = await dying.placeOrder(ACCOUNT, `${ACCOUNT}-9`, {
      symbol: 'ETHP',
      side: 'sell',
      amount: '1',
      type: 'limit',
      price: '2100',
    });
    await dying.close();
    await eventually('the dead owner’s exit to rest', 5_000, () => (venue.orders(ACCOUNT).some((o) => o.open) ? true : undefined));
    const entryHashes = new Set(
      venue
        .orders(ACCOUNT)
        .filter((o) => o.side === 'buy')
        .map((o) => o.orderHash),
    );

    const b = await supervisor(venue, 'empty');
    await b.runtime.resumeAccount(ACCOUNT, snapshot, b.client.ledger(ACCOUNT));
    await eventually('B’s own exit to rest', 5_000, () =>
      venue.orders(ACCOUNT).some((o) => o.open && o.orderHash !== foreign.orderHash.toLowerCase()) ? true : undefined,
    );
    await sleep(300);

    const report = checkOrderLog(orderLog(venue), {
      trader: venue.trader.address,
      strategy: ACCOUNT,
      reducing: (order) => !entryHashes.has(order.orderHash),
    });
    expect(report.overlaps).toEqual([]);
    const exits = report.orders.filter((o) => !entryHashes.has(o.orderHash));
    expect(
      exits.map((o) => `${o.orderHash === foreign.orderHash.toLowerCase() ? 'A' : 'B'} ${o.side} ${o.amount} ${o.outcome ?? 'open'}`),
    ).toEqual(['A sell 1 cancelled', 'B sell 1 open']);

    // The exit fills against a bid: flat, not short.
    await venue.makerLimit('ETHP', 'buy', '2', '2000');
    await eventually('flat', 5_000, () => (venue.position(ACCOUNT, 'ETHP') === '0' ? true : undefined));
    const after = checkOrderLog(orderLog(venue), {
      trader: venue.trader.address,
      strategy: ACCOUNT,
      reducing: (o) => !entryHashes.has(o.orderHash),
    });
    expect(after.flips).toEqual([]);
    expect(after.overlaps).toEqual([]);
  });

  it('follows the exit its predecessor sent but had not yet saved the hash of, and sends no second one', async () => {
    const venue = await startVenue(false);
    const strategy = await venue.externalStrategy([ACCOUNT]);
    await venue.makerLimit('ETHP', 'sell', '1', '2000');
    await strategy.trade(ACCOUNT, 'buy', '1');
    const entryHashes = new Set(venue.orders(ACCOUNT).map((o) => o.orderHash));
    const a = await supervisor(venue, 'fresh');
    await a.store.set({ scope: 'account', id: ACCOUNT, reason: 'manual', closePositions: true });
    await eventually('A’s exit to rest', 5_000, () => (venue.orders(ACCOUNT).some((o) => o.open) ? true : undefined));
    // The snapshot A saved when it placed the exit, before the venue gave it a hash.
    const snapshot = a.persisted.find(
      (p) =>
        Object.keys((p.snapshot as { context: { orders: object } }).context.orders).length > 0 && Object.keys(p.orderHashes).length === 0,
    );
    expect(snapshot).toBeDefined();
    await a.kill();

    const b = await supervisor(venue, 'empty');
    await b.runtime.resumeAccount(ACCOUNT, snapshot!, b.client.ledger(ACCOUNT));
    await sleep(800);
    const report = checkOrderLog(orderLog(venue), {
      trader: venue.trader.address,
      strategy: ACCOUNT,
      reducing: (o) => !entryHashes.has(o.orderHash),
    });
    expect(report.overlaps).toEqual([]);
    expect(report.orders.filter((o) => !entryHashes.has(o.orderHash)).map((o) => `${o.side} ${o.amount} ${o.outcome ?? 'open'}`)).toEqual([
      'sell 1 open',
    ]);
    // B follows it: the account still awaits that exit, and sees it fill.
    const awaited = b.runtime.accountContext(ACCOUNT)?.reduction;
    expect(awaited).toBeTruthy();
    await venue.makerLimit('ETHP', 'buy', '2', '2000');
    await eventually('flat', 5_000, () => (venue.position(ACCOUNT, 'ETHP') === '0' ? true : undefined));
    await eventually('B to see its exit end', 5_000, () => (b.runtime.accountContext(ACCOUNT)?.reduction === null ? true : undefined));
    await sleep(300);
    const after = checkOrderLog(orderLog(venue), {
      trader: venue.trader.address,
      strategy: ACCOUNT,
      reducing: (o) => !entryHashes.has(o.orderHash),
    });
    expect(after.flips).toEqual([]);
    expect(after.overlaps).toEqual([]);
    expect(after.orders.filter((o) => !entryHashes.has(o.orderHash))).toHaveLength(1);
  });

  /** A position of 1 and an exit of 1 resting at 2100 that no snapshot knows (its sender died). */
  async function longWithForeignExit(venue: LiveVenue): Promise<{ foreign: string; entries: Set<string> }> {
    const strategy = await venue.externalStrategy([ACCOUNT]);
    await venue.makerLimit('ETHP', 'sell', '1', '2000');
    await strategy.trade(ACCOUNT, 'buy', '1');
    const entries = new Set(venue.orders(ACCOUNT).map((o) => o.orderHash));
    const dying = new VenueClient({ restUrl: venue.sim.url, wsUrl: venue.sim.wsUrl, clock: wallClock, orderBook: false });
    dying.on('fault', () => {});
    await dying.connect();
    await dying.bootstrap([{ strategyId: ACCOUNT, venueStrategyId: ACCOUNT, signer: venue.trader }]);
    const placed = await dying.placeOrder(ACCOUNT, 'gone-1', { symbol: 'ETHP', side: 'sell', amount: '1', type: 'limit', price: '2100' });
    await dying.close();
    await eventually('the foreign exit to rest', 5_000, () => (venue.orders(ACCOUNT).some((o) => o.open) ? true : undefined));
    return { foreign: placed.orderHash.toLowerCase(), entries };
  }

  it('a takeover with no snapshot cancels the open orders it finds before the account may act (startAccount)', async () => {
    const venue = await startVenue(false);
    const { foreign, entries } = await longWithForeignExit(venue);
    const b = await supervisor(venue, 'empty');
    await b.store.set({ scope: 'account', id: ACCOUNT, reason: 'manual', closePositions: true });
    await b.runtime.startAccount(ACCOUNT, { collateral: '10000', marks: { ETHP: '2000' } });
    expect(b.runtime.accountContext(ACCOUNT)?.ledger.positions.ETHP?.size).toBe('1');
    await eventually('B’s exit to rest', 5_000, () =>
      venue.orders(ACCOUNT).some((o) => o.open && o.orderHash !== foreign) ? true : undefined,
    );
    await sleep(300);
    const report = checkOrderLog(orderLog(venue), {
      trader: venue.trader.address,
      strategy: ACCOUNT,
      reducing: (o) => !entries.has(o.orderHash),
    });
    expect(report.overlaps).toEqual([]);
    expect(
      report.orders
        .filter((o) => !entries.has(o.orderHash))
        .map((o) => `${o.orderHash === foreign ? 'foreign' : 'B'} ${o.outcome ?? 'open'}`),
    ).toEqual(['foreign cancelled', 'B open']);
  });

  it('does not resume while the venue has not confirmed the cancel, and says why; the next attempt succeeds', async () => {
    const venue = await startVenue(false);
    const a = await supervisor(venue, 'fresh');
    const snapshot = await stoppedOutWhileFlat(a);
    await a.kill();
    const { foreign, entries } = await longWithForeignExit(venue);
    const b = await supervisor(venue, 'empty', 400);
    // The venue's order feed stalls: the cancel is taken, but its end is not shown for 2 s.
    venue.sim.injectFault({ kind: 'pause-feed', feed: 'ORDER_UPDATE', duration: 2_000 });
    await expect(b.runtime.resumeAccount(ACCOUNT, snapshot, b.client.ledger(ACCOUNT))).rejects.toThrow(
      `takeover of ${ACCOUNT}: the venue has not confirmed the cancel of ${foreign}`,
    );
    expect(b.runtime.accountIds()).toEqual([]);
    expect(b.runtime.reconciling()).toEqual([]);
    // Nothing of B's reached the venue meanwhile.
    expect(
      venue
        .orders(ACCOUNT)
        .filter((o) => !entries.has(o.orderHash))
        .map((o) => o.orderHash),
    ).toEqual([foreign]);

    // Tried again once the feed flows (FleetOwnership releases the lease and takes it again).
    await eventually('the cancel to show', 5_000, () => (b.client.order(ACCOUNT, foreign)?.status === 'cancelled' ? true : undefined));
    await b.runtime.resumeAccount(ACCOUNT, snapshot, b.client.ledger(ACCOUNT));
    await eventually('B’s exit to rest', 5_000, () =>
      venue.orders(ACCOUNT).some((o) => o.open && o.orderHash !== foreign) ? true : undefined,
    );
    const report = checkOrderLog(orderLog(venue), {
      trader: venue.trader.address,
      strategy: ACCOUNT,
      reducing: (o) => !entries.has(o.orderHash),
    });
    expect(report.overlaps).toEqual([]);
  });

  it('an account removed while its takeover reconciles (lease lost) is never spawned', async () => {
    const venue = await startVenue(false);
    const a = await supervisor(venue, 'fresh');
    const snapshot = await stoppedOutWhileFlat(a);
    await a.kill();
    const { foreign, entries } = await longWithForeignExit(venue);
    const b = await supervisor(venue, 'empty');
    venue.sim.injectFault({ kind: 'pause-feed', feed: 'ORDER_UPDATE', duration: 1_000 });
    const resuming = b.runtime.resumeAccount(ACCOUNT, snapshot, b.client.ledger(ACCOUNT));
    await eventually('B to be reconciling', 2_000, () => (b.runtime.reconciling().includes(ACCOUNT) ? true : undefined));
    b.runtime.removeAccount(ACCOUNT);
    await resuming;
    await sleep(1_500);
    expect(b.runtime.accountIds()).toEqual([]);
    expect(
      venue
        .orders(ACCOUNT)
        .filter((o) => !entries.has(o.orderHash))
        .map((o) => o.orderHash),
    ).toEqual([foreign]);
  });
});
