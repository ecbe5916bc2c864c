/**
 * The exchange simulator of the socket figures, in a process of its own so that it does not share the
 * event loop it is measuring (as `riskwarden sim` runs it: wall clock, immediate mode, marks re-published
 * every second so feeds stay fresh). Driven over IPC by `SimProcess`:
 *
 * - `fund`: deposits each account's collateral and opens its position (a market buy the simulator's own
 *   deep book fills), so the venue's ledger is the bench fleet's;
 * - `mark`: sets marks now (the crash);
 * - `arrivals`: for each strategy, the epoch time (performance.timeOrigin based, sub-millisecond) at
 *   which the first order request after the last `mark` reached the engine.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { wallClock } from '../src/clock/clock.ts';
import { ORDER_TYPE } from '../src/derivadex/codes.ts';
import { orderHash, SIDE_CODE } from '../src/derivadex/crypto/eip712.ts';
import { createNonceSource } from '../src/derivadex/crypto/nonce.ts';
import { startSimulator, type Simulator } from '../src/sim/server.ts';
import { START_MARKS, type BenchAccount } from './bench-fleet.ts';

type Request =
  | { id: number; type: 'fund'; trader: string; accounts: BenchAccount[] }
  | { id: number; type: 'mark'; marks: Record<string, string> }
  | { id: number; type: 'arrivals' };

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export interface SimInfo {
  url: string;
  wsUrl: string;
  chainId: number;
  verifyingContract: string;
}

const epochNow = (): number => performance.timeOrigin + performance.now();

/** The parent's handle on the simulator process. */
export class SimProcess {
  readonly info: SimInfo;
  readonly #child: ChildProcess;
  #seq = 0;

  private constructor(child: ChildProcess, info: SimInfo) {
    this.#child = child;
    this.info = info;
  }

  static async start(): Promise<SimProcess> {
    const child = fork(fileURLToPath(import.meta.url), [], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    const info = await new Promise<SimInfo>((resolve, reject) => {
      child.once('message', (m) => resolve(m as SimInfo));
      child.once('exit', (code) => reject(new Error(`simulator process exited (${code}) before it listened`)));
    });
    return new SimProcess(child, info);
  }

  #ask<T>(request: DistributiveOmit<Request, 'id'>): Promise<T> {
    const id = ++this.#seq;
    return new Promise<T>((resolve, reject) => {
      const onMessage = (m: { id?: number; value?: T; error?: string }): void => {
        if (m.id !== id) return;
        this.#child.off('message', onMessage);
        if (m.error) reject(new Error(`simulator: ${m.error}`));
        else resolve(m.value as T);
      };
      this.#child.on('message', onMessage);
      this.#child.send({ ...request, id });
    });
  }

  fund(trader: string, accounts: readonly BenchAccount[]): Promise<void> {
    return this.#ask({ type: 'fund', trader, accounts: [...accounts] });
  }

  /** Sets the marks; resolves with the epoch time (ms) the simulator published them. */
  mark(marks: Record<string, string>): Promise<number> {
    return this.#ask({ type: 'mark', marks });
  }

  /** First order arrival per strategy since the last mark, epoch ms. */
  arrivals(): Promise<Record<string, number>> {
    return this.#ask({ type: 'arrivals' });
  }

  async stop(): Promise<void> {
    if (this.#child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.#child.once('exit', resolve));
    this.#child.kill('SIGKILL');
    await exited;
  }
}

async function serve(): Promise<void> {
  // Deep enough that 10,000 opening buys and the crash's reductions all fill near the mark.
  const sim: Simulator = await startSimulator({
    clock: wallClock,
    seed: 1,
    rateLimit: null,
    liquidity: { depth: '1000000', levels: 2, spreadTicks: 1 },
  });
  const marks: Record<string, string> = { ...START_MARKS };
  // Every second: well inside the client's 5 s staleness limit. Each mark runs the margin engine over every
  // strategy (10,000 here), so publishing 4× a second took a large share of the simulator's core in a crash.
  const timer = setInterval(() => {
    for (const [symbol, price] of Object.entries(marks)) sim.setMark(symbol, price);
  }, 1000);
  timer.unref();
  const arrivals = new Map<string, number>();
  const submit = sim.exchange.submit.bind(sim.exchange);
  sim.exchange.submit = (request) => {
    if (request.kind === 'Order' && !arrivals.has(request.strategyId)) arrivals.set(request.strategyId, epochNow());
    return submit(request);
  };
  const nonces = createNonceSource(new Uint8Array(32).fill(7));
  const handle = (request: Request): unknown => {
    switch (request.type) {
      case 'fund': {
        for (const [symbol, price] of Object.entries(marks)) sim.setMark(symbol, price);
        for (const a of request.accounts) {
          sim.exchange.deposit(request.trader, a.id, a.collateral);
          const order = {
            symbol: a.symbol,
            strategy: a.id,
            side: 'Bid' as const,
            orderType: ORDER_TYPE.Market,
            nonce: nonces.next(),
            amount: a.size,
            price: '0',
            stopPrice: '0',
          };
          submit({
            kind: 'Order',
            trader: request.trader,
            strategyId: a.id,
            symbol: a.symbol,
            side: SIDE_CODE.Bid as 0,
            orderType: ORDER_TYPE.Market,
            amount: a.size,
            price: '0',
            stopPrice: '0',
            nonce: order.nonce,
            // Opened by the bench itself, not by the supervisor: the engine keeps, not checks, the signature.
            signature: `0x${'00'.repeat(65)}`,
            orderHash: orderHash(order, sim.venue),
          });
        }
        const flat = request.accounts.filter((a) => sim.exchange.positions(request.trader, a.id, a.symbol).length === 0);
        if (flat.length > 0) throw new Error(`${flat.length} accounts could not open their position (${flat[0]!.id} first)`);
        return undefined;
      }
      case 'mark': {
        Object.assign(marks, request.marks);
        arrivals.clear();
        for (const [symbol, price] of Object.entries(request.marks)) sim.setMark(symbol, price);
        return epochNow();
      }
      case 'arrivals':
        return Object.fromEntries(arrivals);
    }
  };
  process.on('message', (request: Request) => {
    try {
      process.send!({ id: request.id, value: handle(request) });
    } catch (error) {
      process.send!({ id: request.id, error: (error as Error).message });
    }
  });
  process.send!({
    url: sim.url,
    wsUrl: sim.wsUrl,
    chainId: Number(sim.venue.chainId),
    verifyingContract: sim.venue.verifyingContract,
  } satisfies SimInfo);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href && process.send) await serve();
