import type { Clock } from '../clock/clock.ts';
import type { RedisConfig } from '../config/fleet-schema.ts';
import { describeRedisTarget, type RedisTarget } from '../redis/connection.ts';
import { MemoryStopoutStore } from './memory-stopout-store.ts';
import { DEFAULT_REDIS_PREFIX } from './redis-key-layout.ts';
import { createRedisStopoutStore, type RedisStopoutStoreOptions } from './redis-stopout-store.ts';
import type { StopoutStore, StoreProblem } from './stopout-store.ts';

export interface OpenStopoutStoreOptions {
  /** `--redis URL`: wins over everything else. */
  redisUrl?: string;
  /** The fleet config's `redis` block (url, prefix, sentinels, cluster, failClosedAfter, reconcileEvery). */
  config?: Partial<RedisConfig>;
  /** Where REDIS_URL is read (default: process.env). */
  env?: Record<string, string | undefined>;
  /** `--prefix`: wins over the config's prefix. */
  prefix?: string;
  clock?: Clock;
  onProblem?: (problem: StoreProblem) => void;
  /** Passed to createRedisStopoutStore (defaults there). */
  requireConnection?: boolean;
  connectTimeoutMs?: number;
  /** A supervisor's store: stopouts set while Redis is unreachable apply at once and are written when it returns (RedisStopoutStoreOptions). */
  holdWritesWhileUnreachable?: boolean;
}

export type StoreSource = '--redis' | 'REDIS_URL' | 'config redis.url' | 'config redis.sentinels' | 'config redis.cluster' | 'none';

export interface OpenedStopoutStore {
  store: StopoutStore;
  source: StoreSource;
  /** One line for humans: which store, from where. */
  description: string;
}

export const IN_MEMORY_DESCRIPTION = 'no Redis configured: using an in-memory store that lives only in this process';

/**
 * The stopout store a command or supervisor should use (docs/contracts.md#cli): the Redis named by `--redis`, else
 * by REDIS_URL, else by the config (url, or Sentinel, or Cluster); with none of them the in-memory store,
 * and the description says so.
 */
export async function openStopoutStore(options: OpenStopoutStoreOptions = {}): Promise<OpenedStopoutStore> {
  const resolved = resolveRedisTarget(options);
  if (resolved === null) {
    const store = new MemoryStopoutStore(options.clock === undefined ? {} : { clock: options.clock });
    return { store, source: 'none', description: IN_MEMORY_DESCRIPTION };
  }
  const config = options.config ?? {};
  const redisOptions: RedisStopoutStoreOptions = { ...resolved.target, prefix: options.prefix ?? config.prefix ?? DEFAULT_REDIS_PREFIX };
  if (config.failClosedAfter !== undefined) redisOptions.failClosedAfterMs = config.failClosedAfter;
  if (config.reconcileEvery !== undefined) redisOptions.reconcileEveryMs = config.reconcileEvery;
  if (options.clock !== undefined) redisOptions.clock = options.clock;
  if (options.onProblem !== undefined) redisOptions.onProblem = options.onProblem;
  if (options.requireConnection !== undefined) redisOptions.requireConnection = options.requireConnection;
  if (options.connectTimeoutMs !== undefined) redisOptions.connectTimeoutMs = options.connectTimeoutMs;
  if (options.holdWritesWhileUnreachable !== undefined) redisOptions.holdWritesWhileUnreachable = options.holdWritesWhileUnreachable;
  const store = await createRedisStopoutStore(redisOptions);
  return {
    store,
    source: resolved.source,
    description: `${describeRedisTarget(resolved.target)} (from ${resolved.source}), prefix ${redisOptions.prefix}`,
  };
}

/** Which Redis the options name, and where that came from; null: none (the in-memory store). */
export function resolveRedisTarget(
  options: Pick<OpenStopoutStoreOptions, 'redisUrl' | 'config' | 'env'>,
): { target: RedisTarget; source: StoreSource } | null {
  const env = options.env ?? process.env;
  const config = options.config ?? {};
  if (nonEmpty(options.redisUrl)) return { target: { url: options.redisUrl }, source: '--redis' };
  const fromEnv = env.REDIS_URL;
  if (nonEmpty(fromEnv)) return { target: { url: fromEnv }, source: 'REDIS_URL' };
  if (nonEmpty(config.url)) return { target: { url: config.url }, source: 'config redis.url' };
  if (config.sentinels !== undefined) {
    const target: RedisTarget = { sentinels: config.sentinels };
    if (config.sentinelName !== undefined) target.sentinelName = config.sentinelName;
    return { target, source: 'config redis.sentinels' };
  }
  if (config.cluster !== undefined) return { target: { cluster: config.cluster }, source: 'config redis.cluster' };
  return null;
}

function nonEmpty(value: string | undefined): value is string {
  return value !== undefined && value !== '';
}
