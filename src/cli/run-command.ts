import { Wallet } from 'ethers';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { wallClock } from '../clock/clock.ts';
import type { FleetConfig } from '../config/fleet-schema.ts';
import { formatProblems, loadConfigFile } from '../config/load.ts';
import type { AccountMode } from '../domain/assessment.ts';
import type { DecimalString } from '../domain/decimal.ts';
import { MemoryLeaseManager } from '../persistence/memory-lease-manager.ts';
import { MemorySnapshotStore } from '../persistence/memory-snapshot-store.ts';
import { RedisLeaseManager } from '../persistence/redis-lease-manager.ts';
import { RedisSnapshotStore } from '../persistence/redis-snapshot-store.ts';
import type { LeaseManager } from '../persistence/lease-manager.ts';
import type { SnapshotStore } from '../persistence/snapshot-store.ts';
import { MemoryProcessRegistry, RedisProcessRegistry, type ProcessRegistry } from '../persistence/process-registry.ts';
import { planFleet } from '../runtime/fleet-plan.ts';
import { FleetOwnership } from '../runtime/fleet-ownership.ts';
import { FleetRuntime } from '../runtime/fleet-runtime.ts';
import { startLiveMarks } from '../sim/live-marks.ts';
import { startSimulator, type Simulator } from '../sim/server.ts';
import { openStopoutStore, resolveRedisTarget } from '../store/open-store.ts';
import { createRedisConnection, type RedisConnection } from '../store/redis-connection.ts';
import { StatusBoard, type AccountStatus } from '../store/status-board.ts';
import { COLOURS, formatRecord, PLAIN } from '../timeline/format-record.ts';
import type { TimelineRecord } from '../timeline/timeline-record.ts';
import { KeyLoadError, loadTraderWallet } from '../venue/crypto/keys.ts';
import { VenueClient } from '../venue/venue-client.ts';
import { EXIT_FAILURE, EXIT_INVALID_INPUT, EXIT_OK, type CliIo } from './io.ts';

export interface RunOptions {
  config: string;
  redis?: string;
  /** Print the timeline as JSON Lines instead of readable lines. */
  json?: boolean;
  /** Stop after this many milliseconds (demos, tests); default: until SIGINT/SIGTERM. */
  forMs?: number;
  /** Lease time-to-live (default 5 s): how long a dead process's accounts wait for a new owner. */
  leaseTtlMs?: number;
  env?: Record<string, string | undefined>;
  signal?: AbortSignal;
  colour?: boolean;
}

const DEFAULT_COLLATERAL = '10000';

/**
 * `riskwarden run --config fleet.yaml`: the live supervisor. Connects to the venue in the config (or starts
 * the local simulator), supervises every account whose lease it holds, shares stopouts, snapshots and
 * leases through Redis when one is configured, and prints the timeline until stopped.
 */
export async function runCommand(options: RunOptions, io: CliIo): Promise<number> {
  const env = options.env ?? process.env;
  const loaded = await loadConfigFile(options.config, { expect: 'fleet' });
  if (!loaded.ok) {
    for (const line of formatProblems(loaded.problems)) io.err(line);
    return EXIT_INVALID_INPUT;
  }
  const config = loaded.value as FleetConfig;
  const palette = options.colour ? COLOURS : PLAIN;
  const report = (message: string): void => io.err(`riskwarden: ${message}`);
  const closers: Array<() => Promise<void> | void> = [];
  const close = async (): Promise<void> => {
    for (const c of closers.reverse()) await Promise.resolve(c()).catch(() => {});
  };

  try {
    // ── the shared store ──
    const opened = await openStopoutStore({ ...(options.redis ? { redisUrl: options.redis } : {}), config: config.redis, env, onProblem: (p) => report(`store: ${p.where}: ${p.message}`) });
    closers.push(() => opened.store.close());
    io.err(`riskwarden: stopout store: ${opened.description}`);

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
      io.err(`riskwarden: local exchange simulator at ${sim.url}`);
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
        io.err(`riskwarden: trader key: ${(error as Error).message}`);
        return EXIT_INVALID_INPUT;
      }
      signer = new Wallet(`0x${randomBytes(32).toString('hex')}`);
      io.err(`riskwarden: no ${config.venue.traderKeyEnv} set: the embedded simulator gets a throwaway trader ${signer.address}`);
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
    const writeRecord = (record: TimelineRecord): void => {
      if (options.json) io.out(JSON.stringify(record));
      else {
        const line = formatRecord(record, palette);
        if (line) io.out(line);
      }
    };
    const origin = wallClock.now();
    let ownership: FleetOwnership | undefined;
    const runtime = new FleetRuntime({
      plan: planFleet(config, { ...client.products }),
      clock: wallClock,
      venue: client,
      store: opened.store,
      timeline: { write: writeRecord },
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
      onChange: (accountId, owned) => io.err(`riskwarden: ${owned ? 'running' : 'no longer running'} ${accountId} (owner ${owner})`),
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
    io.err(`riskwarden: supervising ${config.accounts.length} account(s) as ${owner}; Ctrl-C stops`);

    await new Promise<void>((resolve) => {
      const stop = (): void => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        resolve();
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      options.signal?.addEventListener('abort', stop, { once: true });
      if (options.forMs !== undefined) setTimeout(stop, options.forMs).unref();
    });
    return EXIT_OK;
  } catch (error) {
    io.err(`riskwarden: ${(error as Error).message}`);
    return EXIT_FAILURE;
  } finally {
    await close();
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
