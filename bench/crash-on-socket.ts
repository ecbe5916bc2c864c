/**
 * fleetCrash.allFirstReductionsSentMs: the crash end to end through the real venue client. The simulator
 * runs in a child process (sim-process.ts) with every bench account funded and long; this process runs
 * the VenueClient (real WebSocket feeds, real REST, signed and encrypted requests) and a FleetRuntime on it.
 * The figure runs from the moment the simulator publishes the crash marks until every account's first
 * reducing order has been written to the socket: the client's HTTP layer reports each request body sent
 * (undici's `undici:request:bodySent` diagnostics channel), and each order request carries its account in a
 * header the bench adds on the way out (the simulator ignores it).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { performance } from 'node:perf_hooks';
import { wallClock } from '../src/clock/clock.ts';
import { FleetRuntime } from '../src/runtime/fleet-runtime.ts';
import { MemoryStopoutStore } from '../src/store/memory-stopout-store.ts';
import { VenueClient } from '../src/venue/venue-client.ts';
import { BENCH_ACCOUNTS, BENCH_TRADER, benchAccounts, benchPlan, CRASH_MARKS, round, type BenchAccount } from './bench-fleet.ts';
import { SimProcess } from './sim-process.ts';

export interface SocketCrashFigure {
  accounts: number;
  /** null: not every account's first reduction was on the socket within `withinMs` (`onSocket` says how many were). */
  allFirstReductionsSentMs: number | null;
  /** The first account's first reduction on the socket. */
  firstOnSocketMs: number;
  /** Every account's first reduction received by the simulator (null: not within `withinMs`). */
  allFirstReductionsReceivedMs: number | null;
  onSocket: number;
  withinMs: number;
}

const ACCOUNT_HEADER = 'x-bench-account';
const epochNow = (): number => performance.timeOrigin + performance.now();

/** Request bodies written to the socket, by the account whose order they carry (first only). */
export class SocketWrites {
  readonly firstAt = new Map<string, number>();
  readonly #context = new AsyncLocalStorage<string>();
  readonly #listener = (message: unknown): void => {
    const headers = (message as { request?: { headers?: unknown } }).request?.headers;
    const list = Array.isArray(headers) ? headers.map(String) : typeof headers === 'string' ? headers.split(/\r\n|: /) : [];
    const at = list.findIndex((h) => h.toLowerCase() === ACCOUNT_HEADER);
    const account = at >= 0 ? list[at + 1] : undefined;
    if (account && !this.firstAt.has(account)) this.firstAt.set(account, epochNow());
  };
  armed = false;

  constructor() {
    subscribe('undici:request:bodySent', this.#listener);
  }

  /** Runs `place` (an order request of `account`) so that its HTTP request is labelled with the account. */
  label<T>(account: string, place: () => Promise<T>): Promise<T> {
    return this.armed ? this.#context.run(account, place) : place();
  }

  /** The fetch the client is given: the global one, with the label added to labelled requests. */
  readonly fetch: typeof globalThis.fetch = (input, init) => {
    const account = this.#context.getStore();
    if (account === undefined) return globalThis.fetch(input, init);
    const headers = new Headers(init?.headers);
    headers.set(ACCOUNT_HEADER, account);
    return globalThis.fetch(input, { ...init, headers });
  };

  close(): void {
    unsubscribe('undici:request:bodySent', this.#listener);
  }
}

/**
 * The fleet of this figure: BENCH_ACCOUNTS, at most BENCH_SOCKET_ACCOUNTS (default 1000) — the client's
 * bootstrap reads every strategy from the simulator's REST API one by one, and at 10,000 strategies that
 * alone outlasts a bench run. `accounts` in the figure says which fleet it is.
 */
export function socketFleetSize(requested = BENCH_ACCOUNTS): number {
  return Math.min(requested, Number(process.env.BENCH_SOCKET_ACCOUNTS ?? 1000));
}

export async function crashOnSocket(requested = BENCH_ACCOUNTS): Promise<SocketCrashFigure> {
  const n = socketFleetSize(requested);
  const accounts: BenchAccount[] = benchAccounts(n);
  const sim = await SimProcess.start();
  const writes = new SocketWrites();
  let client: VenueClient | undefined;
  let runtime: FleetRuntime | undefined;
  try {
    await sim.fund(BENCH_TRADER.address, accounts);
    client = new VenueClient({
      restUrl: sim.info.url,
      wsUrl: sim.info.wsUrl,
      clock: wallClock,
      orderBook: false,
      fetch: writes.fetch,
    });
    client.on('fault', () => {});
    await client.connect();
    await client.bootstrap(accounts.map((a) => ({ strategyId: a.id, venueStrategyId: a.id, signer: BENCH_TRADER })));
    const venue = client;
    const place = venue.placeOrder.bind(venue);
    venue.placeOrder = (strategyId, clientOrderId, intent) => writes.label(strategyId, () => place(strategyId, clientOrderId, intent));
    runtime = new FleetRuntime({
      plan: benchPlan(accounts),
      clock: wallClock,
      venue,
      store: new MemoryStopoutStore(),
      timeline: { write: () => {} },
      origin: Date.now(),
      report: () => {},
    });
    const marks = Object.fromEntries(Object.keys(CRASH_MARKS).map((s) => [s, venue.lastMark(s)?.price ?? '0']));
    runtime.start(Object.fromEntries(accounts.map((a) => [a.id, { collateral: a.collateral, ledger: venue.ledger(a.id)!, marks }])));
    const ticker = setInterval(() => runtime?.tick(), 1000);
    await runtime.ready(); // a crash hits a running fleet: every account has its band
    try {
      writes.armed = true;
      const withinMs = Number(process.env.BENCH_SOCKET_WAIT_MS ?? 120_000);
      const crashAt = await sim.mark({ ...CRASH_MARKS });
      const deadline = performance.now() + withinMs;
      let received: Record<string, number> = {};
      while (performance.now() < deadline) {
        if (writes.firstAt.size >= n && Object.keys((received = await sim.arrivals())).length >= n) break;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      received = await sim.arrivals();
      const written = [...writes.firstAt.values()];
      if (written.length === 0) throw new Error(`crash on the socket: no reduction was written within ${withinMs} ms`);
      const late = accounts.filter((a) => !writes.firstAt.has(a.id));
      if (late.length > 0) {
        console.error(
          `crash on the socket: ${written.length} of ${n} first reductions on the socket within ${withinMs} ms; not yet: ${late
            .slice(0, 3)
            .map((a) => `${a.id} (${runtime?.accountContext(a.id)?.mode})`)
            .join(', ')}`,
        );
      }
      return {
        accounts: n,
        allFirstReductionsSentMs: written.length >= n ? round(Math.max(...written) - crashAt, 1) : null,
        firstOnSocketMs: round(Math.min(...written) - crashAt, 1),
        allFirstReductionsReceivedMs: Object.keys(received).length >= n ? round(Math.max(...Object.values(received)) - crashAt, 1) : null,
        onSocket: written.length,
        withinMs,
      };
    } finally {
      clearInterval(ticker);
    }
  } finally {
    writes.close();
    runtime?.stop();
    await client?.close().catch(() => {});
    await sim.stop();
  }
}
