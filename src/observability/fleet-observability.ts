import { topState } from '../../machines/snapshot-state.ts';
import type { FleetConfig } from '../config/fleet-schema.ts';
import type { AccountMode } from '../domain/assessment.ts';
import type { LeaseManager } from '../persistence/lease-manager.ts';
import type { FleetRuntime } from '../runtime/fleet-runtime.ts';
import type { RedisConnection } from '../redis/connection.ts';
import { RedisStopoutStore } from '../store/redis-stopout-store.ts';
import type { StopoutStore } from '../store/stopout-store.ts';
import type { SnapshotStore } from '../persistence/snapshot-store.ts';
import type { TimelineRecord } from '../timeline/timeline-record.ts';
import { FEEDS } from '../derivadex/feed-messages.ts';
import type { VenueClient } from '../venue/venue-client.ts';
import { auditFileSink } from './audit-file-sink.ts';
import { AuditLog } from './audit-log.ts';
import { auditStreamSink, DEFAULT_AUDIT_STREAM_CAP } from './audit-stream-sink.ts';
import { createFleetMetrics, type FleetMetrics } from './fleet-metrics.ts';
import { createLogger, type Logger } from './logger.ts';
import { createScrubber, type Scrubber } from './secret-scrubber.ts';

/**
 * Environment variables of the live supervisor's observability (all optional):
 *
 * | variable | effect |
 * |---|---|
 * | `RISKWARDEN_LOG_FILE` | structured JSON logs (pino) of every note and problem: a path, `stderr` or `stdout`; unset: none |
 * | `RISKWARDEN_LOG_LEVEL` | `debug`, `info` (default), `warn`, `error`, `silent` |
 * | `RISKWARDEN_AUDIT_FILE` | the audit log as JSON Lines, appended |
 * | `RISKWARDEN_AUDIT_CAP` | MAXLEN ~ of the `<prefix>:audit` stream (default 100000); the stream is written whenever Redis is configured |
 */
export const OBSERVABILITY_ENV = ['RISKWARDEN_LOG_FILE', 'RISKWARDEN_LOG_LEVEL', 'RISKWARDEN_AUDIT_FILE', 'RISKWARDEN_AUDIT_CAP'] as const;

export interface FleetObservabilityOptions {
  config: FleetConfig;
  env: Record<string, string | undefined>;
  /** Human-readable notes, already scrubbed (the CLI prints them). */
  onNote: (message: string) => void;
  /** Instead of the one the environment describes. */
  logger?: Logger;
  metrics?: FleetMetrics;
  /** Audit JSONL file (default: RISKWARDEN_AUDIT_FILE). */
  auditFile?: string;
}

/**
 * Metrics, audit log and structured logs of one live supervisor process, wired the same way every time:
 * every timeline record is counted and audited, every note and problem is scrubbed, logged and passed on.
 */
export interface FleetObservability {
  readonly metrics: FleetMetrics;
  readonly audit: AuditLog;
  readonly logger: Logger;
  /** Knows this process's secrets (trader key, keystore password, API tokens) besides their shapes. */
  readonly scrubber: Scrubber;
  /** Something worth knowing (which store, which venue, which accounts). */
  note(message: string): void;
  /** Something wrong that must be seen but does not stop the fleet. */
  problem(message: string): void;
  /**
   * The record with any secret it quotes (an operator's reason, a venue's refusal) replaced by
   * `[redacted]`; the same object when it quotes none (the usual case: one JSON.stringify and a scan).
   * Scrub once where records are made, so the timeline printed, served and audited agree.
   */
  scrubRecord(record: TimelineRecord): TimelineRecord;
  /** A timeline record: metrics and audit. */
  record(record: TimelineRecord): void;
  /** Audits to `<prefix>:audit` on this connection from now on. */
  auditToRedis(connection: RedisConnection, prefix: string): void;
  /** Feed staleness gauges from the venue client's `feed-status` events. */
  watchVenue(client: VenueClient): void;
  /** The periodic gauges: accounts per state, Redis health, leases held. Call every second. */
  sync(parts: { runtime: FleetRuntime; store: StopoutStore; leases: LeaseManager; snapshots?: SnapshotStore }): void;
  /** Writes what is buffered and flushes the log. */
  close(): Promise<void>;
}

export function createFleetObservability(options: FleetObservabilityOptions): FleetObservability {
  const { config, env } = options;
  const scrubber = createScrubber({ secrets: secretsOf(config, env) });
  const logFile = env.RISKWARDEN_LOG_FILE;
  const logger =
    options.logger ??
    createLogger({
      level: logFile ? (env.RISKWARDEN_LOG_LEVEL ?? 'info') : 'silent',
      ...(logFile ? { destination: logFile } : {}),
      secrets: secretsOf(config, env),
    });
  const metrics = options.metrics ?? createFleetMetrics(undefined, { processMetrics: true });
  const say = (level: 'info' | 'warn', message: string): void => {
    const clean = scrubber.text(message);
    logger[level](clean);
    options.onNote(clean);
  };
  const audit = new AuditLog({ sinks: [], scrubber, report: (message) => say('warn', message) });
  const auditFile = options.auditFile ?? env.RISKWARDEN_AUDIT_FILE;
  if (auditFile) audit.addSink(auditFileSink(auditFile));
  const capText = env.RISKWARDEN_AUDIT_CAP;
  const cap = capText === undefined || capText === '' ? DEFAULT_AUDIT_STREAM_CAP : Number(capText);
  if (!Number.isSafeInteger(cap) || cap < 1)
    say('warn', `RISKWARDEN_AUDIT_CAP: expected a positive integer, got "${capText}"; using ${DEFAULT_AUDIT_STREAM_CAP}`);

  return {
    metrics,
    audit,
    logger,
    scrubber,
    note: (message) => say('info', message),
    scrubRecord(record) {
      const text = JSON.stringify(record);
      const clean = scrubber.text(text);
      if (clean === text) return record;
      try {
        return JSON.parse(clean) as TimelineRecord;
      } catch {
        return scrubber.value(record) as TimelineRecord;
      }
    },
    problem: (message) => say('warn', message),
    record(record) {
      metrics.observe(record);
      audit.observe(record);
    },
    auditToRedis(connection, prefix) {
      audit.addSink(auditStreamSink({ connection, prefix, cap: Number.isSafeInteger(cap) && cap >= 1 ? cap : DEFAULT_AUDIT_STREAM_CAP }));
    },
    watchVenue(client) {
      for (const feed of FEEDS) metrics.setFeedStale(feed, false);
      client.on('feed-status', ({ feed, stale }) => metrics.setFeedStale(feed, stale));
    },
    sync({ runtime, store, leases, snapshots }) {
      const states: Record<string, AccountMode> = {};
      for (const accountId of runtime.accountIds()) {
        const value = runtime.account(accountId)?.getSnapshot().value;
        if (value !== undefined) states[accountId] = topState(value);
      }
      metrics.setAccountStates(states);
      metrics.setRedisHealthy(store.kind === 'redis' && store.healthy());
      metrics.setOwnedAccounts(leases.owned().length);
      const redis = store instanceof RedisStopoutStore ? store : undefined;
      metrics.setFaults({
        'store-data-loss': redis?.dataLosses() ?? 0,
        'store-sequence-repaired': redis?.sequenceRepairs() ?? 0,
        'snapshot-refused': snapshots?.stats().refused ?? 0,
        'lease-uncertain': leases.owned().filter((id) => leases.uncertain(id)).length,
        'store-writes-held': redis?.pendingWrites() ?? 0,
      });
    },
    async close() {
      await audit.close();
      logger.flush();
    },
  };
}

/** The values of the variables the config names for secrets, and of RISKWARDEN_*KEY/TOKEN/PASSWORD/SECRET. */
export function secretsOf(config: FleetConfig, env: Record<string, string | undefined>): string[] {
  const names = new Set<string>([config.venue.traderKeyEnv]);
  if (config.venue.keystorePasswordEnv) names.add(config.venue.keystorePasswordEnv);
  if (config.api.tokensEnv?.read) names.add(config.api.tokensEnv.read);
  if (config.api.tokensEnv?.admin) names.add(config.api.tokensEnv.admin);
  for (const name of Object.keys(env)) if (/^RISKWARDEN_.*(?:KEY|TOKEN|PASSWORD|SECRET|PASSPHRASE)$/.test(name)) names.add(name);
  return [...names].flatMap((name) => (env[name] ? [env[name]!] : []));
}
