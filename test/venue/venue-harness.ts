import type { EventEmitter } from 'node:events';
import { Wallet, keccak256, toUtf8Bytes } from 'ethers';
import { SimClock } from '../../src/clock/clock.ts';
import { WorkTracker } from '../../src/clock/work-tracker.ts';
import { dec, str } from '../../src/domain/decimal.ts';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/sim/server.ts';
import type { LifecycleEvent } from '../../src/venue/order-lifecycle.ts';
import type { StrategyAccount } from '../../src/venue/strategy-account.ts';
import { VenueClient, type VenueClientEvents, type VenueClientOptions } from '../../src/venue/venue-client.ts';

/*
 * A real simulator on a loopback port, a real VenueClient over real sockets, one SimClock and one
 * WorkTracker shared by both: `step()` moves the clock, lets the simulator act, and waits for quiescence,
 * as the scenario runner does.
 */

export const START = Date.parse('2026-01-05T13:00:00Z');

export interface HarnessAccount {
  id: string;
  collateral: string;
}

export interface HarnessOptions {
  seed?: number;
  accounts?: HarnessAccount[];
  marks?: Record<string, string>;
  sim?: Partial<SimulatorOptions>;
  client?: Partial<VenueClientOptions>;
  /** Bootstrap right away (default true). */
  bootstrap?: boolean;
}

export type Recorded = { [K in keyof VenueClientEvents]: VenueClientEvents[K][0][] };

export interface Harness {
  clock: SimClock;
  work: WorkTracker;
  sim: Simulator;
  client: VenueClient;
  accounts: StrategyAccount[];
  wallet(id: string): Wallet;
  events: Recorded;
  lifecycle(clientOrderId: string): LifecycleEvent[];
  /** Advance the clock by `ms`, run `action` on the simulator, tick the client, wait for quiescence. */
  step(ms: number, action?: (sim: Simulator) => void): Promise<void>;
  idle(): Promise<void>;
  close(): Promise<void>;
}

const EVENT_NAMES: (keyof VenueClientEvents)[] = [
  'mark',
  'book',
  'ledger',
  'lifecycle',
  'cancel-rejected',
  'liquidation',
  'bootstrap',
  'feed-status',
  'frame-rejected',
  'repair',
  'drift',
  'fault',
];

export function walletFor(id: string): Wallet {
  return new Wallet(keccak256(toUtf8Bytes(`riskwarden-test-trader:${id}`)));
}

/** Resolves when the tracker is idle, or fails after `ms` of wall time naming what is stuck. */
async function idleWithin(work: WorkTracker, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not quiescent after ${ms} ms: ${work.inFlight} unit(s) of work in flight`)), ms);
  });
  try {
    await Promise.race([work.whenIdle(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const clock = new SimClock(START);
  const work = new WorkTracker();
  const sim = await startSimulator({ clock, tracker: work, seed: options.seed ?? 1, rateLimit: null, ...options.sim });
  const accountsSpec = options.accounts ?? [{ id: 'alpha', collateral: '10000' }];
  const wallets = new Map(accountsSpec.map((a) => [a.id, walletFor(a.id)]));
  for (const a of accountsSpec) if (dec(a.collateral).gt(0)) sim.exchange.deposit(wallets.get(a.id)!.address, 'main', a.collateral);
  for (const [symbol, price] of Object.entries(options.marks ?? { ETHP: '2000' })) sim.setMark(symbol, price);
  await idleWithin(work, 5_000);

  const client = new VenueClient({
    restUrl: sim.url,
    wsUrl: sim.wsUrl,
    clock,
    work,
    seed: options.seed ?? 1,
    sleep: () => new Promise((resolve) => setImmediate(resolve)),
    ...options.client,
  });
  const events = Object.fromEntries(EVENT_NAMES.map((name) => [name, []])) as unknown as Recorded;
  // Recorded by name, whatever the payload: the untyped view of the same emitter.
  const emitter: EventEmitter = client;
  for (const name of EVENT_NAMES) {
    const record = (event: unknown): void => {
      (events[name] as unknown[]).push(event);
    };
    emitter.on(name, record);
  }
  const accounts: StrategyAccount[] = accountsSpec.map((a) => ({ strategyId: a.id, signer: wallets.get(a.id)! }));
  await client.connect();
  if (options.bootstrap !== false) {
    await client.bootstrap(accounts);
    await idleWithin(work, 5_000);
  }

  const harness: Harness = {
    clock,
    work,
    sim,
    client,
    accounts,
    wallet: (id) => wallets.get(id)!,
    events,
    lifecycle: (clientOrderId) => events.lifecycle.filter((e) => e.clientOrderId === clientOrderId),
    async step(ms, action) {
      clock.advanceTo(clock.now() + ms);
      sim.advance();
      action?.(sim);
      client.tick();
      await idleWithin(work, 5_000);
    },
    idle: () => idleWithin(work, 5_000),
    async close() {
      await client.close();
      await sim.close();
    },
  };
  return harness;
}

/** The simulator's view of a strategy: collateral and signed positions. */
export function venueBook(sim: Simulator, wallet: Wallet): { collateral: string; positions: Record<string, string> } {
  const state = sim.exchange.strategyState(wallet.address, 'main');
  const positions: Record<string, string> = {};
  for (const p of state.positions) positions[p.symbol] = str(p.side === 1 ? dec(p.size).neg() : dec(p.size));
  return { collateral: str(state.collateral), positions };
}

/** The client ledger's collateral and signed positions, in the same shape. */
export function clientBook(client: VenueClient, id: string): { collateral: string; positions: Record<string, string> } {
  const ledger = client.ledger(id);
  if (ledger === undefined) throw new Error(`no ledger for ${id}: not bootstrapped`);
  const positions: Record<string, string> = {};
  for (const [symbol, p] of Object.entries(ledger.positions)) positions[symbol] = p.size;
  return { collateral: ledger.collateral, positions };
}
