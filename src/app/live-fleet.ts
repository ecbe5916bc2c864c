import { Wallet } from 'ethers';
import { topState } from '../../machines/snapshot-state.ts';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { launchApi } from '../api/api-launch.ts';
import { operatorRoutes } from './operator-routes.ts';
import type { ApiServer, ApiServerOptions } from '../api/api-server.ts';
import { FleetView } from '../api/fleet-view.ts';
import { wallClock } from '../clock/clock.ts';
import type { FleetConfig } from '../config/fleet-schema.ts';
import type { DecimalString } from '../domain/decimal.ts';
import { attributeApiCalls } from '../observability/api-call-attribution.ts';
import { createFleetObservability, type FleetObservability, type FleetObservabilityOptions } from '../observability/fleet-observability.ts';
import type { LeaseManager } from '../persistence/lease-manager.ts';
import { MemoryLeaseManager } from '../persistence/memory-lease-manager.ts';
import { MemorySnapshotStore } from '../persistence/memory-snapshot-store.ts';
import { MemoryProcessRegistry, RedisProcessRegistry, type ProcessRegistry } from '../persistence/process-registry.ts';
import { RedisLeaseManager } from '../persistence/redis-lease-manager.ts';
import { RedisSnapshotStore } from '../persistence/redis-snapshot-store.ts';
import type { SnapshotStore } from '../persistence/snapshot-store.ts';
import { startLiveMarks } from '../sim/live-marks.ts';
import { productMargins, scenarioProducts } from '../scenario/scenario-runner.ts';
import { startSimulator, type Simulator } from '../sim/server.ts';
import { openStopoutStore, resolveRedisTarget } from '../store/open-store.ts';
import { createRedisConnection, type RedisConnection } from '../redis/connection.ts';
import { StatusBoard, type AccountStatus } from '../store/status-board.ts';
import type { StopoutStore } from '../store/stopout-store.ts';
import type { TimelineRecord } from '../timeline/timeline-record.ts';
import { KeyLoadError, loadTraderWallet } from '../derivadex/crypto/keys.ts';
import { VenueClient } from '../venue/venue-client.ts';
import { planFleet } from '../runtime/fleet-plan.ts';
import { FleetOwnership } from '../runtime/fleet-ownership.ts';
import { runCrashDrill } from '../runtime/crash-drill.ts';
import { FleetRuntime } from '../runtime/fleet-runtime.ts';

export interface LiveFleetOptions {
  config: FleetConfig;
  /** `--redis`: wins over REDIS_URL and the config. */
  redis?: string;
  env?: Record<string, string | undefined>;
  /** Every timeline record as it is written. */
  onRecord: (record: TimelineRecord) => void;
  /** Human-readable notes (which store, which venue, which accounts this process runs). */
  onNote: (message: string) => void;
  /** Lease time-to-live (default 5 s): how long a dead process's accounts wait for a new owner. */
  leaseTtlMs?: number;
  /**
   * Serve the HTTP API (src/api/) on the config's api.host/api.port unless overridden here; tokens from the
   * variables the config's api.tokensEnv names. Absent: no server (the view is still kept).
   */
  api?: LiveApiOptions;
  /** Observability: a logger, metrics or audit file instead of what the environment describes (fleet-observability.ts). */
  observability?: Pick<FleetObservabilityOptions, 'logger' | 'metrics' | 'auditFile'>;
}

export interface LiveApiOptions extends Pick<ApiServerOptions, 'host' | 'port' | 'audit' | 'extraRoutes' | 'live'> {}

export interface LiveFleet {
  runtime: FleetRuntime;
  client: VenueClient;
  store: StopoutStore;
  /** The embedded simulator, when the config names no venue URL. */
  simulator?: Simulator;
  owner: string;
  /** What the HTTP API reads: the running fleet and its recent records. */
  view: FleetView;
  /** The HTTP API, when started (options.api) and its port was free. */
  api?: ApiServer;
  /** Metrics (`metricsRoute(observability.metrics.registry)` serves them), audit log, logger. */
  observability: FleetObservability;
  /** Applies a changed fleet config without restarting the accounts that stay. */
  reload(config: FleetConfig): Promise<{ added: string[]; removed: string[] }>;
  close(): Promise<void>;
}

/** Thrown when the trader key cannot be had: invalid input, not a runtime failure. */
export class TraderKeyError extends Error {}

const DEFAULT_COLLATERAL = '10000';

/**
 * The live supervisor, assembled: the shared store, the venue (or an embedded simulator), the venue client,
 * leases, snapshots and the process registry when Redis is configured, the fleet runtime and its clock
 * timer. `riskwarden run` and the library API (`createRiskLayer`) both start it.
 */
export async function startLiveFleet(options: LiveFleetOptions): Promise<LiveFleet> {
  const { config } = options;
  const env = options.env ?? process.env;
  const closers: Array<() => Promise<void> | void> = [];
  const close = async (): Promise<void> => {
    for (const c of closers.splice(0).reverse()) await Promise.resolve(c()).catch(() => {});
  };
  // ── observability (src/observability/): notes and problems are scrubbed of secrets and logged;
  //    every timeline record is counted (metrics) and audited. Closed last, after the fleet stops. ──
  const observability = createFleetObservability({ config, env, onNote: options.onNote, ...options.observability });
  closers.push(() => observability.close());
  const report = (message: string): void => observability.problem(message);
  const note = (message: string): void => observability.note(message);
  try {
    // ── the shared store ──
    const opened = await openStopoutStore({
      ...(options.redis ? { redisUrl: options.redis } : {}),
      config: config.redis,
      env,
      onProblem: (p) => report(`store: ${p.where}: ${p.message}`),
      // A kill switch during an outage applies here at once and reaches Redis when it returns.
      holdWritesWhileUnreachable: true,
    });
    closers.push(() => opened.store.close());
    note(`stopout store: ${opened.description}`);

    // ── the venue ──
    // The fleet's products: what the embedded simulator lists, and the margin parameters exchange_info lacks.
    const products = scenarioProducts(config);
    let sim: Simulator | undefined;
    let restUrl = config.venue.url;
    let wsUrl = config.venue.wsUrl;
    if (restUrl === undefined) {
      sim = await startSimulator({
        clock: wallClock,
        seed: 1,
        products,
        host: config.venue.simulator?.host ?? '127.0.0.1',
        port: config.venue.simulator?.port ?? 0,
        ...(config.venue.simulator?.liquidity ? { liquidity: config.venue.simulator.liquidity } : {}),
      });
      closers.push(() => sim!.close());
      closers.push(startLiveMarks(sim, 1));
      restUrl = sim.url;
      wsUrl = sim.wsUrl;
      note(`local exchange simulator at ${sim.url}`);
    }
    wsUrl ??= `${restUrl.replace(/^http/, 'ws').replace(/\/$/, '')}/realtime-api`;

    let signer: Wallet;
    try {
      signer = await loadTraderWallet({
        env,
        keyEnvName: config.venue.traderKeyEnv,
        ...(config.venue.keystore ? { keystorePath: config.venue.keystore } : {}),
        ...(config.venue.keystorePasswordEnv ? { passwordEnvName: config.venue.keystorePasswordEnv } : {}),
      });
    } catch (error) {
      if (!(error instanceof KeyLoadError) || error.code !== 'no-key-source' || !sim) {
        throw new TraderKeyError(observability.scrubber.text(`trader key: ${(error as Error).message}`));
      }
      signer = new Wallet(`0x${randomBytes(32).toString('hex')}`);
      note(`no ${config.venue.traderKeyEnv} set: the embedded simulator gets a throwaway trader ${signer.address}`);
    }
    if (sim) {
      for (const account of config.accounts)
        sim.exchange.deposit(signer.address, account.strategy, account.collateral ?? DEFAULT_COLLATERAL);
    }

    const client = new VenueClient({
      restUrl,
      wsUrl,
      contractDeployment: config.venue.contractDeployment,
      ...(config.venue.chainId !== undefined && config.venue.verifyingContract !== undefined
        ? { chainId: config.venue.chainId, verifyingContract: config.venue.verifyingContract }
        : {}),
      amountScaleDecimals: config.venue.amountScaleDecimals,
      recvWindowMs: config.venue.recvWindowMs,
      productMargins: productMargins(products),
      clock: wallClock,
      tickIntervalMs: 1000,
      staleAfterMs: { MARK_PRICE: config.venue.staleFeedAfter },
    });
    closers.push(() => client.close());
    client.on('fault', (f) => report(`venue: ${f.message}`));
    // A repair re-reads every strategy from REST: an operator should see when and why one runs.
    client.on('repair', (r) => {
      if (r.phase !== 'done') report(`venue: repair ${r.phase === 'start' ? 'started' : 'failed'} (${r.reason})`);
    });
    observability.watchVenue(client); // observability: feed staleness gauges
    await client.connect();
    await client.bootstrap(config.accounts.map((a) => ({ strategyId: a.id, venueStrategyId: a.strategy, signer })));

    // ── persistence and leases ──
    const target = resolveRedisTarget({ ...(options.redis ? { redisUrl: options.redis } : {}), config: config.redis, env });
    const prefix = config.redis.prefix;
    const owner = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
    let leases: LeaseManager;
    let snapshots: SnapshotStore;
    let registry: ProcessRegistry = new MemoryProcessRegistry(owner);
    let board: StatusBoard | undefined;
    let connection: RedisConnection | undefined;
    if (target) {
      connection = createRedisConnection(target.target, { retryDelayMs: 1_000, commandTimeoutMs: 2_000 });
      connection.on('error', () => {}); // health is the stopout store's to report
      await connection.connect();
      closers.push(() => void connection!.disconnect());
      observability.auditToRedis(connection, prefix); // observability: the <prefix>:audit stream
      closers.push(() => observability.audit.flush()); // before the connection closes
      const groupOf = (accountId: string): string =>
        config.portfolios.find((p) => p.members.some((m) => m.account === accountId))?.id ?? accountId;
      leases = new RedisLeaseManager({ client: connection, ttlMs: options.leaseTtlMs ?? 5_000, prefix, groupOf, ownerId: owner });
      snapshots = new RedisSnapshotStore({ client: connection, prefix, groupOf });
      registry = new RedisProcessRegistry({ client: connection, prefix, owner, ttlMs: leases.ttlMs });
      board = new StatusBoard(connection, prefix);
    } else {
      leases = new MemoryLeaseManager({ ownerId: owner });
      snapshots = new MemorySnapshotStore();
    }

    // ── the fleet ──
    const origin = wallClock.now();
    let ownership: FleetOwnership | undefined;
    const plan = planFleet(config, { ...client.products });
    // The crash path runs warm the first time a crash comes (src/runtime/crash-drill.ts): a drill on accounts
    // of its own, before the fleet starts; nothing is sent.
    const drillSymbol = Object.keys(client.products).find((symbol) => client.lastMark(symbol) !== undefined);
    if (drillSymbol !== undefined) {
      const product = client.products[drillSymbol]!;
      await runCrashDrill({ symbol: drillSymbol, product, price: client.lastMark(drillSymbol)!.price }).then(
        (drill) => {
          if (drill.placed < drill.accounts) report(`crash drill: ${drill.placed} of ${drill.accounts} drill accounts reduced`);
        },
        (error: unknown) => report(`crash drill skipped: ${error instanceof Error ? error.message : String(error)}`),
      );
    }
    const view = new FleetView();
    // Group members other processes run, as their owners last published them (refreshed every second).
    const remote = new Map<string, AccountStatus>();
    const runtime = new FleetRuntime({
      plan,
      clock: wallClock,
      venue: client,
      store: opened.store,
      // observability: secrets scrubbed once, then metrics + audit; view: the API
      timeline: {
        write: (raw) => {
          const record = observability.scrubRecord(raw);
          observability.record(record);
          view.record(record);
          options.onRecord(record);
        },
      },
      origin,
      report,
      persist: (accountId, persisted) => ownership?.persist(accountId, persisted),
      remoteMember: (accountId) => {
        const s = remote.get(accountId);
        if (!s || s.owner === owner || s.balance === undefined || s.equity === undefined || s.netTransfers === undefined) return undefined;
        return { balance: s.balance, equity: s.equity, netTransfers: s.netTransfers };
      },
    });
    closers.push(() => runtime.stop());
    view.attach({ runtime, store: opened.store, plan, clock: wallClock });
    runtime.start({});
    let current = config;
    ownership = new FleetOwnership({
      runtime,
      leases,
      snapshots,
      registry,
      accounts: () => current.accounts.map((a) => a.id),
      ledgerOf: (id) => client.ledger(id),
      collateralOf: (id) => current.accounts.find((a) => a.id === id)?.collateral ?? '0',
      marks: () =>
        Object.fromEntries(Object.keys(client.products).flatMap((s) => (client.lastMark(s) ? [[s, client.lastMark(s)!.price]] : []))),
      now: () => wallClock.now(),
      report,
      onChange: (accountId, owned) => note(`${owned ? 'running' : 'no longer running'} ${accountId} (owner ${owner})`),
    });
    closers.push(() => ownership!.stop());
    await ownership.start();

    const grouped = (): string[] => [...new Set(runtime.plan.groups.flatMap((g) => g.accounts))];
    // Status lines carry each account's figures at the latest marks, computed on read (most marks reach no
    // account): every second up to 2,000 accounts, then one second more per 2,000, kept for three rounds.
    const statusEveryMs = Math.max(1000, Math.ceil(config.accounts.length / 2000) * 1000);
    let statusDueAt = 0;
    const timer = setInterval(() => {
      runtime.tick();
      observability.sync({ runtime, store: opened.store, leases, snapshots }); // observability: state, Redis, lease gauges
      if (board && Date.now() >= statusDueAt) {
        statusDueAt = Date.now() + statusEveryMs;
        board
          .publish(statusesOf(runtime, owner), Math.max(5_000, 3 * statusEveryMs))
          .catch((error: Error) => report(`status: ${error.message}`));
        // A portfolio spread over processes is measured on every member: read the ones run elsewhere.
        const local = new Set(runtime.accountIds());
        const elsewhere = grouped().filter((accountId) => !local.has(accountId));
        if (elsewhere.length > 0) {
          board.readAccounts(elsewhere).then(
            ({ statuses }) => {
              remote.clear();
              for (const s of statuses) remote.set(s.account, s);
            },
            (error: Error) => report(`status of other processes' accounts: ${error.message}`),
          );
        } else remote.clear();
      }
    }, 1000);
    closers.push(() => clearInterval(timer));
    note(`supervising ${config.accounts.length} account(s) as ${owner}`);

    // ── the HTTP API: a taken port is reported, not fatal (supervising matters more); no tokens off loopback is ──
    let api: ApiServer | undefined;
    if (options.api) {
      try {
        api = await launchApi({
          view,
          env,
          tokensEnv: config.api.tokensEnv,
          note,
          announceToken: options.onNote, // the generated token: printed once, never logged
          host: options.api.host ?? config.api.host,
          port: options.api.port ?? config.api.port,
          // observability: the audit log names the API caller on the operator record the call produced
          audit: (entry) => {
            attributeApiCalls(observability.audit)(entry);
            options.api?.audit?.(entry);
          },
          // The dashboard and /metrics are served by every live supervisor, after any routes of the caller's.
          extraRoutes: operatorRoutes({ extra: options.api.extraRoutes, metrics: observability.metrics.registry }),
          ...(options.api.live ? { live: options.api.live } : {}),
        });
        closers.push(() => api!.close());
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
        report(`API not started: ${(error as Error).message} (set api.port in the config)`);
      }
    }
    /**
     * A reloaded config: new accounts are bootstrapped and taken on (by whichever process rendezvous
     * hashing prefers), dropped ones are stopped and their leases released; the others run on untouched.
     */
    const reload = async (next: FleetConfig): Promise<{ added: string[]; removed: string[] }> => {
      const before = new Set(current.accounts.map((a) => a.id));
      const after = new Set(next.accounts.map((a) => a.id));
      const added = next.accounts.filter((a) => !before.has(a.id));
      const removed = [...before].filter((id) => !after.has(id));
      if (sim)
        for (const account of added) sim.exchange.deposit(signer.address, account.strategy, account.collateral ?? DEFAULT_COLLATERAL);
      if (added.length > 0) await client.bootstrap(added.map((a) => ({ strategyId: a.id, venueStrategyId: a.strategy, signer })));
      const nextPlan = planFleet(next, { ...client.products });
      current = next;
      runtime.replacePlan(nextPlan);
      view.attach({ runtime, store: opened.store, plan: nextPlan, clock: wallClock });
      for (const id of removed) await ownership!.drop(id);
      await ownership!.acquireNow();
      note(
        `config reloaded: ${added.length} account(s) added${added.length ? ` (${added.map((a) => a.id).join(', ')})` : ''}, ${removed.length} removed${removed.length ? ` (${removed.join(', ')})` : ''}`,
      );
      return { added: added.map((a) => a.id), removed };
    };

    return {
      reload,
      runtime,
      client,
      store: opened.store,
      ...(sim ? { simulator: sim } : {}),
      owner,
      observability,
      view,
      ...(api ? { api } : {}),
      close,
    };
  } catch (error) {
    await close();
    // observability: whoever prints this (the CLI) must not print a secret it quotes.
    if (error instanceof Error) error.message = observability.scrubber.text(error.message);
    throw error;
  }
}

function statusesOf(runtime: FleetRuntime, owner: string): AccountStatus[] {
  return runtime.accountIds().flatMap((account) => {
    const ref = runtime.account(account);
    const ctx = runtime.accountContext(account);
    if (!ref || !ctx) return [];
    const value = ref.getSnapshot().value;
    const state = topState(value);
    const position: Record<string, DecimalString> = {};
    for (const [symbol, p] of Object.entries(ctx.ledger.positions)) position[symbol] = p.size;
    return [
      {
        account,
        state,
        detail: JSON.stringify(value),
        position,
        grossNotional: ctx.metrics?.grossNotional ?? '0',
        marginBuffer: ctx.metrics?.marginBuffer ?? null,
        stopouts: ctx.stopouts.map((s) => `${s.scope}:${s.id}:${s.reason}`),
        owner,
        at: new Date().toISOString(),
        ...(ctx.metrics ? { balance: ctx.metrics.collateral, equity: ctx.metrics.equity, netTransfers: ctx.ledger.netTransfers } : {}),
      },
    ];
  });
}
