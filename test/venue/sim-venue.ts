import type { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import { Wallet, keccak256, toUtf8Bytes } from 'ethers';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { SimClock } from '../../src/clock/clock.ts';
import { WorkTracker } from '../../src/clock/work-tracker.ts';
import { ORDER_UPDATE_REASON, POSITION_SIDE } from '../../src/derivadex/codes.ts';
import { strategyIdHash as hashStrategyId } from '../../src/derivadex/crypto/bytes32.ts';
import { decryptRequest } from '../../src/derivadex/crypto/encryption.ts';
import { PATHS, REALTIME_PATH } from '../../src/derivadex/paths.ts';
import { dec, str } from '../../src/domain/decimal.ts';
import { wireBytes } from '../../src/sim/request-gateway.ts';
import { operatorSecretKeyFor, startSimulator, type Simulator, type SimulatorOptions } from '../../src/sim/server.ts';
import type { LifecycleEvent } from '../../src/venue/order-lifecycle.ts';
import { DEFAULT_VENUE_STRATEGY_ID, type StrategyAccount } from '../../src/venue/strategy-account.ts';
import { VenueClient, type VenueClientEvents, type VenueClientOptions } from '../../src/venue/venue-client.ts';

/*
 * The REAL simulator (src/sim/server.ts) on a loopback port, a real VenueClient over real sockets, one
 * SimClock and one WorkTracker shared by both: `step()` moves the clock, lets the simulator act, ticks
 * the client and waits for quiescence, as the scenario runner does. Unlike test/venue/venue-harness.ts
 * (a fake venue that matches nothing), every row here comes from the simulator's matching and margin
 * engines, so these tests check the client and the simulator agree on the real DerivaDEX shapes.
 *
 * `capture: true` also records everything the client SENDS: every WebSocket text message (through a
 * transparent loopback proxy in front of the simulator's realtime API) and the decrypted plaintext of
 * every `POST /v2/request` (through the client's `fetch` option, with the simulator's operator key).
 */

export const START = Date.parse('2026-01-05T13:00:00Z');

export function walletFor(id: string): Wallet {
  return new Wallet(keccak256(toUtf8Bytes(`riskwarden-test-trader:${id}`)));
}

export interface SimAccount {
  id: string;
  collateral: string;
}

export interface SimVenueOptions {
  seed?: number;
  accounts?: SimAccount[];
  marks?: Record<string, string>;
  sim?: Partial<SimulatorOptions>;
  client?: Partial<VenueClientOptions>;
  /** Bootstrap right away (default true). */
  bootstrap?: boolean;
  /** Record what the client sends (see above). */
  capture?: boolean;
}

export type Recorded = { [K in keyof VenueClientEvents]: VenueClientEvents[K][0][] };

/** What the client sent, as the venue received it. */
export interface Sent {
  /** Every WebSocket text message, in order, parsed as JSON, with the proxy's connection number (from 1). */
  ws: Array<{ connection: number; message: unknown }>;
  /** The decrypted JSON plaintext of every POST /v2/request, in order. */
  requests: string[];
}

export interface SimVenue {
  clock: SimClock;
  work: WorkTracker;
  sim: Simulator;
  client: VenueClient;
  accounts: StrategyAccount[];
  /** The WebSocket URL the client uses (the capture proxy's when capturing). */
  wsUrl: string;
  wallet(id: string): Wallet;
  events: Recorded;
  sent: Sent;
  lifecycle(clientOrderId: string): LifecycleEvent[];
  /** Advance the clock by `ms`, release what is due, run `action` on the simulator, tick the client, wait for quiescence. */
  step(ms: number, action?: (sim: Simulator) => void): Promise<void>;
  idle(): Promise<void>;
  /** Another client on the same venue, clock and tracker (as after a restart or a takeover). */
  newClient(options?: Partial<VenueClientOptions>): VenueClient;
  close(): Promise<void>;
}

const EVENT_NAMES: (keyof VenueClientEvents)[] = [
  'mark',
  'book',
  'ledger',
  'lifecycle',
  'cancel-rejected',
  'withdraw-rejected',
  'liquidation',
  'bootstrap',
  'feed-status',
  'frame-rejected',
  'repair',
  'drift',
  'fault',
];

/** Resolves when the tracker is idle, or fails after `ms` of wall time naming what is stuck. */
export async function idleWithin(work: WorkTracker, ms: number): Promise<void> {
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

/** Every event of a client, recorded by name whatever the payload. */
export function record(client: VenueClient): Recorded {
  const events = Object.fromEntries(EVENT_NAMES.map((name) => [name, []])) as unknown as Recorded;
  // The untyped view of the same emitter: a listener generic in the event name does not narrow the typed one.
  const emitter: EventEmitter = client;
  for (const name of EVENT_NAMES) {
    const list: unknown[] = events[name];
    emitter.on(name, (event: unknown) => void list.push(event));
  }
  return events;
}

interface CaptureProxy {
  url: string;
  close(): Promise<void>;
}

/**
 * A transparent WebSocket proxy: every client connection gets its own upstream connection; text goes
 * both ways unchanged; a close on either side closes the other with the same code. What the client
 * sends is recorded. The simulator counts its frames (begin) and the client ends them, so frames in
 * flight through the proxy are still counted as work.
 */
async function startCaptureProxy(upstreamUrl: string, sent: Sent['ws']): Promise<CaptureProxy> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  const pairs = new Set<{ down: WebSocket; up: WebSocket }>();
  let connections = 0;
  wss.on('connection', (down) => {
    const connection = ++connections;
    const up = new WebSocket(upstreamUrl);
    const pair = { down, up };
    pairs.add(pair);
    const queued: string[] = [];
    const text = (raw: RawData): string => (Array.isArray(raw) ? Buffer.concat(raw) : Buffer.from(raw as ArrayBuffer)).toString('utf8');
    down.on('message', (raw) => {
      const message = text(raw);
      sent.push({ connection, message: JSON.parse(message) });
      if (up.readyState === WebSocket.OPEN) up.send(message);
      else queued.push(message);
    });
    up.on('open', () => {
      for (const message of queued.splice(0)) up.send(message);
    });
    up.on('message', (raw) => {
      if (down.readyState === WebSocket.OPEN) down.send(text(raw));
    });
    // 1005 / 1006 cannot be sent in a close frame: pass them on as a plain close.
    const closeCode = (code: number): number | undefined => (code === 1005 || code === 1006 ? undefined : code);
    up.on('close', (code, reason) => {
      pairs.delete(pair);
      if (down.readyState === WebSocket.OPEN) down.close(closeCode(code), reason.toString());
    });
    down.on('close', (code, reason) => {
      pairs.delete(pair);
      if (up.readyState === WebSocket.OPEN) up.close(closeCode(code), reason.toString());
      else if (up.readyState === WebSocket.CONNECTING) up.terminate();
    });
    up.on('error', () => down.terminate());
    down.on('error', () => up.terminate());
  });
  const port = (wss.address() as AddressInfo).port;
  return {
    url: `ws://127.0.0.1:${port}${REALTIME_PATH}`,
    async close() {
      for (const { down, up } of pairs) {
        down.terminate();
        up.terminate();
      }
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

export async function startSimVenue(options: SimVenueOptions = {}): Promise<SimVenue> {
  const seed = options.seed ?? 1;
  const clock = new SimClock(START);
  const work = new WorkTracker();
  const sim = await startSimulator({ clock, tracker: work, seed, rateLimit: null, ...options.sim });
  const accountsSpec = options.accounts ?? [{ id: 'alpha', collateral: '10000' }];
  const wallets = new Map(accountsSpec.map((a) => [a.id, walletFor(a.id)]));
  for (const a of accountsSpec) {
    if (dec(a.collateral).gt(0)) sim.exchange.deposit(wallets.get(a.id)!.address, DEFAULT_VENUE_STRATEGY_ID, a.collateral);
  }
  for (const [symbol, price] of Object.entries(options.marks ?? { ETHP: '2000' })) sim.setMark(symbol, price);
  await idleWithin(work, 5_000);

  const sent: Sent = { ws: [], requests: [] };
  let proxy: CaptureProxy | undefined;
  let fetchOption: Partial<VenueClientOptions> = {};
  if (options.capture === true) {
    proxy = await startCaptureProxy(sim.wsUrl, sent.ws);
    const operatorSecretKey = options.sim?.operatorSecretKey ?? operatorSecretKeyFor(seed);
    const inner = options.client?.fetch ?? fetch;
    const capturing: typeof fetch = async (input, init) => {
      const body = init?.body;
      if (String(input).endsWith(PATHS.request) && body instanceof Uint8Array) {
        sent.requests.push(decryptRequest(wireBytes(body), operatorSecretKey).json);
      }
      return inner(input, init);
    };
    fetchOption = { fetch: capturing };
  }
  const wsUrl = proxy?.url ?? sim.wsUrl;

  const clients: VenueClient[] = [];
  const newClient = (extra: Partial<VenueClientOptions> = {}): VenueClient => {
    const client = new VenueClient({
      restUrl: sim.url,
      wsUrl,
      clock,
      work,
      seed,
      sleep: () => new Promise((resolve) => setImmediate(resolve)),
      ...options.client,
      ...fetchOption,
      ...extra,
    });
    clients.push(client);
    return client;
  };

  const client = newClient();
  const events = record(client);
  const accounts: StrategyAccount[] = accountsSpec.map((a) => ({ strategyId: a.id, signer: wallets.get(a.id)! }));
  await client.connect();
  if (options.bootstrap !== false) {
    await client.bootstrap(accounts);
    await idleWithin(work, 5_000);
  }

  return {
    clock,
    work,
    sim,
    client,
    accounts,
    wsUrl,
    wallet: (id) => {
      const wallet = wallets.get(id);
      if (wallet === undefined) throw new Error(`sim-venue: no account ${id}`);
      return wallet;
    },
    events,
    sent,
    lifecycle: (clientOrderId) => events.lifecycle.filter((e) => e.clientOrderId === clientOrderId),
    async step(ms, action) {
      clock.advanceTo(clock.now() + ms);
      sim.advance();
      action?.(sim);
      for (const c of clients) c.tick();
      await idleWithin(work, 5_000);
    },
    idle: () => idleWithin(work, 5_000),
    newClient,
    async close() {
      for (const c of clients) await c.close();
      await proxy?.close();
      await sim.close();
    },
  };
}

export interface Book {
  collateral: string;
  positions: Record<string, string>;
}

/** The simulator's view of a strategy (its REST bodies): available collateral and signed positions. */
export function venueBook(sim: Simulator, wallet: Wallet, venueStrategyId = DEFAULT_VENUE_STRATEGY_ID): Book {
  const strategy = sim.exchange.strategy(wallet.address, venueStrategyId);
  const positions: Record<string, string> = {};
  // SDK `Position`: side 1 Long / 2 Short, `balance` ≥ 0.
  for (const p of sim.exchange.positions(wallet.address, venueStrategyId)) {
    positions[p.symbol] = str(p.side === POSITION_SIDE.Short ? dec(p.balance).neg() : dec(p.balance));
  }
  return { collateral: strategy?.availCollateral ?? '0', positions };
}

/** The client ledger's collateral and signed positions, in the same shape. */
export function clientBook(client: VenueClient, id: string): Book {
  const ledger = client.ledger(id);
  if (ledger === undefined) throw new Error(`no ledger for ${id}: not bootstrapped`);
  const positions: Record<string, string> = {};
  for (const [symbol, p] of Object.entries(ledger.positions)) positions[symbol] = p.size;
  return { collateral: ledger.collateral, positions };
}

/** The ledger ids (`order:<globalOrdinal>`) of every ORDER_UPDATE Trade row that names the strategy. */
export function venueFillIds(sim: Simulator, wallet: Wallet, venueStrategyId = DEFAULT_VENUE_STRATEGY_ID): string[] {
  const page = sim.exchange.orderUpdates({
    trader: wallet.address,
    strategyIdHash: hashStrategyId(venueStrategyId).toLowerCase(),
    reasons: [ORDER_UPDATE_REASON.Trade],
    limit: 100_000,
  });
  return page.value.map((r) => `order:${r.globalOrdinal}`).sort();
}
