import { Wallet } from 'ethers';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { wallClock } from '../clock/clock.ts';
import type { FleetConfig } from '../config/fleet-schema.ts';
import type { AccountMode } from '../domain/assessment.ts';
import type { DecimalString } from '../domain/decimal.ts';
import type { LeaseManager } from '../persistence/lease-manager.ts';
import { MemoryLeaseManager } from '../persistence/memory-lease-manager.ts';
import { MemorySnapshotStore } from '../persistence/memory-snapshot-store.ts';
import { MemoryProcessRegistry, RedisProcessRegistry, type ProcessRegistry } from '../persistence/process-registry.ts';
import { RedisLeaseManager } from '../persistence/redis-lease-manager.ts';
import { RedisSnapshotStore } from '../persistence/redis-snapshot-store.ts';
import type { SnapshotStore } from '../persistence/snapshot-store.ts';
import { startLiveMarks } from '../sim/live-marks.ts';
import { startSimulator, type Simulator } from '../sim/server.ts';
import { openStopoutStore, resolveRedisTarget } from '../store/open-store.ts';
import { createRedisConnection, type RedisConnection } from '../store/redis-connection.ts';
import { StatusBoard, type AccountStatus } from '../store/status-board.ts';
import type { StopoutStore } from '../store/stopout-store.ts';
import type { TimelineRecord } from '../timeline/timeline-record.ts';
import { KeyLoadError, loadTraderWallet } from '../venue/crypto/keys.ts';
import { VenueClient } from '../venue/venue-client.ts';
import { planFleet } from './fleet-plan.ts';
import { FleetOwnership } from './fleet-ownership.ts';
import { FleetRuntime } from './fleet-runtime.ts';

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
}

export interface LiveFleet {
  runtime: FleetRuntime;
  client: VenueClient;
  store: StopoutStore;
  /** The embedded simulator, when the config names no venue URL. */
  simulator?: Simulator;
  owner: string;
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
  const report = (message: string): void => options.onNote(message);
  const closers: Array<() => Promise<void> | void> = [];
  const close = async (): Promise<void> => {
    for (const c of closers.splice(0).reverse()) await Promise.resolve(c()).catch(() => {});
  };
  try {
    // ── the shared store ──
    const opened = await openStopoutStore({ ...(options.redis ? { redisUrl: options.redis } : {}), config: config.redis, env, onProblem: (p) => report(`store: ${p.where}: ${p.message}`) });
    closers.push(() => opened.store.close());
    report(`stopout store: ${opened.description}`);

    // ── the venue ──
    let sim: Simulator | undefined;
    let restUrl = config.venue.url;
    let wsUrl = config.venue.wsUrl;
    if (restUrl === undefined) {
      sim = await startSimulator({
        clock: wallClock, seed: 1, host: config.venue.simulator?.host ?? '127.0.0.1', port: config.venue.simulator?.port ?? 0,
        ...(config.venue.simulator?.liquidity ? { liquidity: config.venue.simulator.liquidity } : {}),
      });
      closers.push(() => sim!.close());
      closers.push(startLiveMarks(sim, 1));
      restUrl = sim.url;
      wsUrl = sim.wsUrl;
      report(`local exchange simulator at ${sim.url}`);
    }
    wsUrl ??= restUrl.replace(/^http/, 'ws').replace(/\/$/, '') + '/realtime-api';

    let signer: Wallet;
    try {
      signer = await loadTraderWallet({
        env, keyEnvName: config.venue.traderKeyEnv,
        ...(config.venue.keystore ? { keystorePath: config.venue.keystore } : {}),
        ...(config.venue.keystorePasswordEnv ? { passwordEnvName: config.venue.keystorePasswordEnv } : {}),
      });
    } catch (error) {
      if (!(error instanceof KeyLoadError) || error.code !== 'no-key-source' || !sim) {
        throw new TraderKeyError(`trader key: ${(error as Error).message}`);
      }
      signer = new Wallet(`0x${randomBytes(32).toString('hex')}`);
      report(`no ${config.venue.traderKeyEnv} set: the embedded simulator gets a throwaway trader ${signer.address}`);
    }
    if (sim) {
      for (const account of config.accounts) sim.exchange.deposit(signer.address, account.strategy, account.collateral ?? DEFAULT_COLLATERAL);
    }

    const client = new VenueClient({
      restUrl, wsUrl, clock: wallClock, tickIntervalMs: 1000,
      staleAfterMs: { MARK_PRICE: config.venue.staleFeedAfter },
    });
    closers.push(() => client.close());
    client.on('fault', (f) => report(`venue: ${f.message}`));
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
      const groupOf = (accountId: string): string => config.portfolios.find((p) => p.members.some((m) => m.account === accountId))?.id ?? accountId;
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
    const runtime = new FleetRuntime({
      plan: planFleet(config, { ...client.products }),
      clock: wallClock,
      venue: client,
      store: opened.store,
      timeline: { write: options.onRecord },
      origin,
      report,
      persist: (accountId, persisted) => ownership?.persist(accountId, persisted),
    });
    closers.push(() => runtime.stop());
    runtime.start({});
    ownership = new FleetOwnership({
      runtime, leases, snapshots, registry,
      accounts: () => config.accounts.map((a) => a.id),
      ledgerOf: (id) => client.ledger(id),
      collateralOf: (id) => config.accounts.find((a) => a.id === id)?.collateral ?? '0',
      marks: () => Object.fromEntries(Object.keys(client.products).flatMap((s) => (client.lastMark(s) ? [[s, client.lastMark(s)!.price]] : []))),
      now: () => wallClock.now(),
      report,
      onChange: (accountId, owned) => report(`${owned ? 'running' : 'no longer running'} ${accountId} (owner ${owner})`),
    });
    closers.push(() => ownership!.stop());
    await ownership.start();

    const timer = setInterval(() => {
      runtime.tick();
      if (board) {
        board.publish(statusesOf(runtime, owner), 5_000).catch((error: Error) => report(`status: ${error.message}`));
      }
    }, 1000);
    closers.push(() => clearInterval(timer));
    report(`supervising ${config.accounts.length} account(s) as ${owner}`);
    return { runtime, client, store: opened.store, ...(sim ? { simulator: sim } : {}), owner, close };
  } catch (error) {
    await close();
    throw error;
  }
}

function statusesOf(runtime: FleetRuntime, owner: string): AccountStatus[] {
  return runtime.accountIds().flatMap((account) => {
    const ref = runtime.account(account);
    const ctx = runtime.accountContext(account);
    if (!ref || !ctx) return [];
    const value = ref.getSnapshot().value as string | Record<string, unknown>;
    const state = (typeof value === 'string' ? value : Object.keys(value)[0]) as AccountMode;
    const position: Record<string, DecimalString> = {};
    for (const [symbol, p] of Object.entries(ctx.ledger.positions)) position[symbol] = p.size;
    return [{
      account, state, detail: JSON.stringify(value), position,
      grossNotional: ctx.metrics?.grossNotional ?? '0',
      marginBuffer: ctx.metrics?.marginBuffer ?? null,
      stopouts: ctx.stopouts.map((s) => `${s.scope}:${s.id}:${s.reason}`),
      owner, at: new Date().toISOString(),
    }];
  });
}
