import { Cluster, Redis, type ClusterNode, type RedisOptions } from 'ioredis';

export interface RedisHostPort {
  host: string;
  port: number;
}

/**
 * Where the Redis is (the config's `redis` block): a URL, a Sentinel group, or Cluster seed nodes. A URL
 * carries everything else the server needs: `rediss://` for TLS, `user:password@` for AUTH, `/db`.
 */
export interface RedisTarget {
  url?: string;
  sentinels?: RedisHostPort[];
  sentinelName?: string;
  cluster?: RedisHostPort[];
}

/**
 * A connection to the shared Redis: a single server (plain, or Sentinel-managed) or a Cluster. Every command
 * riskwarden sends names keys of one hash slot, so both work alike.
 */
export type RedisConnection = Redis | Cluster;

export interface RedisConnectionOptions {
  /** Longest wait between reconnection attempts (they back off from 50 ms). */
  retryDelayMs: number;
  /** A command not answered within this long fails (so a hung server is noticed). */
  commandTimeoutMs: number;
}

/** The target for messages: no password. */
export function describeRedisTarget(target: RedisTarget): string {
  if (target.cluster !== undefined) return `Redis Cluster ${target.cluster.map((n) => `${n.host}:${n.port}`).join(',')}`;
  if (target.sentinels !== undefined) {
    return `Redis Sentinel group ${target.sentinelName ?? '(unnamed)'} via ${target.sentinels.map((n) => `${n.host}:${n.port}`).join(',')}`;
  }
  if (target.url !== undefined) {
    try {
      const url = new URL(target.url);
      if (url.password !== '') url.password = '***';
      return `Redis ${url.toString()}`;
    } catch {
      return 'Redis (unparseable URL)';
    }
  }
  return 'Redis (no target)';
}

/**
 * A command connection for the target, not yet connected (call `connect()` after attaching listeners).
 * Plain and Sentinel connections refuse commands while down instead of queueing them (writes must fail
 * at once); a Cluster keeps its queue because it needs it across slot refreshes, and callers check its
 * status themselves.
 */
export function createRedisConnection(target: RedisTarget, options: RedisConnectionOptions): RedisConnection {
  const backoff = (times: number): number => Math.min(times * 50, options.retryDelayMs);
  const common: RedisOptions = {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    commandTimeout: options.commandTimeoutMs,
    connectTimeout: Math.max(options.commandTimeoutMs, 1_000),
  };
  if (target.cluster !== undefined) {
    const nodes: ClusterNode[] = target.cluster.map(({ host, port }) => ({ host, port }));
    return new Cluster(nodes, { lazyConnect: true, clusterRetryStrategy: backoff, redisOptions: common });
  }
  if (target.sentinels !== undefined) {
    if (target.sentinelName === undefined) throw new RangeError('sentinelName: required with sentinels');
    return new Redis({
      ...common,
      sentinels: target.sentinels,
      name: target.sentinelName,
      enableOfflineQueue: false,
      retryStrategy: backoff,
      sentinelRetryStrategy: backoff,
    });
  }
  if (target.url === undefined) throw new RangeError('url: a Redis URL, sentinels or cluster nodes are required');
  // ioredis reads TLS (rediss://), username, password and db from the URL itself.
  return new Redis(target.url, { ...common, enableOfflineQueue: false, retryStrategy: backoff });
}

/** The connection that SUBSCRIBEs: same target and options, but it may queue its SUBSCRIBE until connected. */
export function duplicateForSubscriber(connection: RedisConnection): RedisConnection {
  if (connection instanceof Cluster) return connection.duplicate();
  return connection.duplicate({ enableOfflineQueue: true });
}
