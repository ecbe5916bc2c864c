import { Wallet, keccak256, toUtf8Bytes } from 'ethers';
import { SimClock, type Clock } from '../clock/clock.ts';
import { WorkTracker } from '../clock/work-tracker.ts';
import type { ScenarioConfig } from '../config/scenario-schema.ts';
import type { Product } from '../domain/product.ts';
import { DEFAULT_PRODUCTS, productFromSpec } from '../domain/products.ts';
import { planFleet, type FleetPlan } from '../runtime/fleet-plan.ts';
import { FleetRuntime } from '../runtime/fleet-runtime.ts';
import { faultFromConfig } from '../sim/faults.ts';
import { markSchedule } from '../sim/marks.ts';
import { startSimulator, type Simulator } from '../sim/server.ts';
import { MemoryStopoutStore } from '../store/memory-stopout-store.ts';
import type { StopoutStore } from '../store/stopout-store.ts';
import type { TimelineRecord } from '../timeline/timeline-record.ts';
import { VenueClient, type ProductMargin } from '../venue/venue-client.ts';
import { createSignal } from './signals/create-signal.ts';
import type { Signal } from './signals/signal.ts';

export interface ScenarioRunOptions {
  /** Overrides the scenario's seed (`--seed`). */
  seed?: number;
  /** A shared store instead of the embedded in-memory one (Redis when configured). */
  store?: StopoutStore;
  /** Every record as it is written (live output, the dashboard). */
  onRecord?: (record: TimelineRecord) => void;
  /** Called after each simulated second has settled (progress bars, a watchable pace). */
  onStep?: (t: number, until: number) => Promise<void> | void;
  /** Problems the run survived (a failed request): reported, never silent. */
  onProblem?: (message: string) => void;
  /** Wall-clock bound on waiting for quiescence at one step; a stuck step fails the run with its cause. */
  settleTimeoutMs?: number;
  /** The fleet runtime as soon as it exists (before any account starts), with what it runs on (the HTTP API reads it). */
  onRuntime?: (runtime: FleetRuntime, parts: ScenarioRuntimeParts) => void;
}

/** What a scenario's runtime runs on, for readers such as the HTTP API's FleetView. */
export interface ScenarioRuntimeParts {
  plan: FleetPlan;
  store: StopoutStore;
  clock: Clock;
}

export interface ScenarioRun {
  records: TimelineRecord[];
  runtime: FleetRuntime;
}

/** The simulated second: marks, signals, timers and the timeline all move in steps of it. */
const STEP_MS = 1000;

/**
 * Runs a scenario deterministically over real sockets: the exchange simulator on a loopback port, the
 * venue client with real signing and encryption, the supervisor with its account actors, one simulated
 * clock. The clock moves to the next second only at quiescence — every frame handled, every request
 * answered and executed — so the same scenario and seed give the same timeline, byte for byte.
 */
export async function runScenario(scenario: ScenarioConfig, options: ScenarioRunOptions = {}): Promise<ScenarioRun> {
  const seed = options.seed ?? scenario.seed;
  const origin = Date.parse(scenario.start);
  const clock = new SimClock(origin);
  const work = new WorkTracker();
  const products = scenarioProducts(scenario);
  const trader = new Wallet(keccak256(toUtf8Bytes(`riskwarden-scenario-trader:${seed}`)));
  const records: TimelineRecord[] = [];
  const write = (record: TimelineRecord): void => {
    records.push(record);
    options.onRecord?.(record);
  };

  const sim = await startSimulator({
    clock,
    tracker: work,
    seed,
    mode: 'stepped',
    rateLimit: null,
    products,
    liquidity: { depth: scenario.liquidity.depth, levels: scenario.liquidity.levels, spreadTicks: scenario.liquidity.spreadTicks },
  });
  const client = new VenueClient({
    restUrl: sim.url,
    wsUrl: sim.wsUrl,
    // exchange_info carries no margin parameters (docs/derivadex-sources.md §10.12): the scenario's are the venue's.
    productMargins: productMargins(products),
    clock,
    work,
    seed,
    sleep: () => new Promise((resolve) => setImmediate(resolve)),
  });
  const store = options.store ?? new MemoryStopoutStore({ clock });
  let runtime: FleetRuntime | undefined;
  try {
    const marks = scheduleMarks(scenario, products);
    for (const account of scenario.accounts) sim.exchange.deposit(trader.address, account.strategy, account.collateral);
    for (const [symbol, schedule] of marks) {
      if (schedule[0]?.at === 0) sim.setMark(symbol, schedule[0].price);
    }
    await settle(sim, work, options.settleTimeoutMs, 0);
    await client.connect();
    await client.bootstrap(scenario.accounts.map((a) => ({ strategyId: a.id, venueStrategyId: a.strategy, signer: trader })));
    await settle(sim, work, options.settleTimeoutMs, 0);

    const plan = planFleet(scenario, { ...client.products });
    runtime = new FleetRuntime({
      plan,
      clock,
      venue: client,
      store,
      origin,
      work,
      serializeRequests: true,
      timeline: { write },
      ...(options.onProblem ? { report: options.onProblem } : {}),
    });
    options.onRuntime?.(runtime, { plan, store, clock });
    const startMarks = Object.fromEntries([...marks].flatMap(([symbol, s]) => (s[0]?.at === 0 ? [[symbol, s[0].price]] : [])));
    for (const [symbol, price] of Object.entries(startMarks)) write({ t: 0, kind: 'mark', symbol, price });
    runtime.start(
      Object.fromEntries(
        scenario.accounts.map((a) => [
          a.id,
          { collateral: a.collateral, marks: startMarks, ...(client.ledger(a.id) ? { ledger: client.ledger(a.id)! } : {}) },
        ]),
      ),
    );
    runtime.writeRiskRecords();
    await settle(sim, work, options.settleTimeoutMs, 0);

    const signals = new Map<string, Signal>(scenario.accounts.map((a) => [a.id, createSignal(a.signal)]));
    const faults = [...scenario.faults].sort((a, b) => a.at - b.at);
    const operator = [...scenario.operator].sort((a, b) => a.at - b.at);
    const strategyOf = (id: string) => ({ trader: trader.address, strategyId: scenario.accounts.find((a) => a.id === id)?.strategy ?? id });

    for (let t = 0; t <= scenario.until; t += STEP_MS) {
      if (t > 0) {
        clock.advanceTo(origin + t);
        sim.advance();
        for (const [symbol, schedule] of marks) {
          const mark = schedule.find((m) => m.at === t);
          if (mark) sim.setMark(symbol, mark.price);
        }
      }
      while (faults[0] && faults[0].at <= t) sim.injectFault(faultFromConfig(faults.shift()!, strategyOf));
      client.tick();
      runtime.tick();
      await settle(sim, work, options.settleTimeoutMs, t);

      while (operator[0] && operator[0].at <= t) {
        const action = operator.shift()!;
        await runtime.operate({
          action: action.action,
          scope: action.scope,
          id: action.id,
          by: 'scenario',
          ...('reason' in action ? { reason: action.reason } : {}),
          ...('closePositions' in action ? { closePositions: action.closePositions } : {}),
        });
        await settle(sim, work, options.settleTimeoutMs, t);
      }

      for (const account of scenario.accounts) {
        const ctx = runtime.accountContext(account.id);
        if (!ctx) continue;
        const orders = signals.get(account.id)!.decide({
          t,
          marks: ctx.marks,
          position: (symbol) => ctx.ledger.positions[symbol]?.size ?? '0',
        });
        for (const order of orders) runtime.requestEntry(account.id, order);
      }
      await settle(sim, work, options.settleTimeoutMs, t);
      await options.onStep?.(t, scenario.until);
    }

    runtime.writeRiskRecords();
    write(runtime.summary());
    return { records, runtime };
  } finally {
    runtime?.stop();
    await client.close();
    await sim.close();
    if (!options.store) await store.close();
  }
}

/** ETHP and BTCP as DerivaDEX defines them, overridden or extended by the scenario's products. */
export function scenarioProducts(scenario: Pick<ScenarioConfig, 'products'>): Record<string, Product> {
  const products: Record<string, Product> = { ...DEFAULT_PRODUCTS };
  for (const [symbol, spec] of Object.entries(scenario.products ?? {})) {
    products[symbol] = productFromSpec({ symbol, ...spec, maxLeverage: Number(spec.maxLeverage) });
  }
  return products;
}

/** The margin parameters of products, as the venue client takes them beside `exchange_info`. */
export function productMargins(products: Readonly<Record<string, Product>>): Record<string, ProductMargin> {
  return Object.fromEntries(Object.entries(products).map(([symbol, p]) => [symbol, { maxLeverage: p.maxLeverage, mmr: p.mmr }]));
}

/** One mark per second per symbol from the scenario's points (linear paths; a jump leaves a gap), held after the last. */
function scheduleMarks(scenario: ScenarioConfig, products: Record<string, Product>): Map<string, { at: number; price: string }[]> {
  const schedules = new Map<string, { at: number; price: string }[]>();
  for (const [symbol, points] of Object.entries(scenario.marks).sort(([a], [b]) => a.localeCompare(b))) {
    const product = products[symbol];
    if (!product) throw new Error(`marks.${symbol}: unknown product`);
    const schedule = markSchedule(
      points.map((p) => ({ at: p.at, price: p.price, jump: p.jump })),
      product.tickSize,
    ).map((m) => ({ at: m.at, price: String(m.price) }));
    // A venue keeps publishing its mark: after the last point the price holds, one mark a second.
    const last = schedule[schedule.length - 1];
    if (last) for (let at = last.at + STEP_MS; at <= scenario.until; at += STEP_MS) schedule.push({ at, price: last.price });
    schedules.set(symbol, schedule);
  }
  return schedules;
}

/**
 * Waits for quiescence, executes what the simulator sequenced, and again, until nothing is left: then
 * every consequence of this step has been seen by every side.
 */
async function settle(sim: Simulator, work: WorkTracker, timeoutMs = 30_000, t: number): Promise<void> {
  for (;;) {
    await idle(work, timeoutMs, t);
    if (sim.flush() === 0) {
      await idle(work, timeoutMs, t);
      if (sim.exchange.pendingCount === 0) return;
    }
  }
}

async function idle(work: WorkTracker, timeoutMs: number, t: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const stuck = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`simulation stuck at t=${t} ms: ${work.inFlight} unit(s) of work never settled`)), timeoutMs);
  });
  try {
    await Promise.race([work.whenIdle(), stuck]);
  } finally {
    clearTimeout(timer);
  }
}
