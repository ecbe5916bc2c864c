import type { RedisConnection } from '../redis/connection.ts';
import type { AuditSink } from './audit-log.ts';

/** Entries the stream keeps, approximately (MAXLEN ~): Redis trims whole internal nodes, so a little more. */
export const DEFAULT_AUDIT_STREAM_CAP = 100_000;

/** `<prefix>:audit`: the capped Redis Stream of audit entries, field `data` = the entry's JSON. */
export function auditStreamKey(prefix: string): string {
  if (prefix === '') throw new Error('prefix: expected a non-empty string');
  return `${prefix}:audit`;
}

export interface AuditStreamSinkOptions {
  connection: RedisConnection;
  prefix: string;
  /** MAXLEN ~ of the stream (default 100 000). */
  cap?: number;
}

/**
 * The audit log's Redis Stream: `XADD <prefix>:audit MAXLEN ~ <cap> * data <json>` per entry, one pipeline
 * per batch. The connection should refuse commands while it is down (createRedisConnection does, except on
 * a Cluster) so a lost Redis fails a batch at once instead of queueing it in memory twice.
 */
export function auditStreamSink(options: AuditStreamSinkOptions): AuditSink {
  const key = auditStreamKey(options.prefix);
  const cap = options.cap ?? DEFAULT_AUDIT_STREAM_CAP;
  if (!Number.isSafeInteger(cap) || cap < 1) throw new RangeError(`cap: expected a positive integer, got ${cap}`);
  return {
    name: `Redis stream ${key}`,
    async write(lines) {
      const pipeline = options.connection.pipeline();
      for (const line of lines) pipeline.xadd(key, 'MAXLEN', '~', cap, '*', 'data', line);
      const results = (await pipeline.exec()) ?? [];
      const failed = results.find(([error]) => error !== null);
      if (failed) {
        // Some entries may have gone in: a retry can duplicate them, which an audit trail tolerates better than gaps.
        throw failed[0]!;
      }
    },
  };
}
