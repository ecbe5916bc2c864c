import type { FleetConfig } from '../config/fleet-schema.ts';
import { formatProblems, loadConfigFile } from '../config/load.ts';
import { resolveRedisTarget } from '../store/open-store.ts';
import { createRedisConnection } from '../redis/connection.ts';
import { formatStatus, StatusBoard } from '../store/status-board.ts';
import { EXIT_FAILURE, EXIT_INVALID_INPUT, EXIT_OK, type CliIo } from './io.ts';

export interface StatusOptions {
  redis?: string;
  config?: string;
  prefix?: string;
  json?: boolean;
  env?: Record<string, string | undefined>;
}

/**
 * `riskwarden status`: one line per supervised account — state, position, notional, margin buffer,
 * stopouts — as the running supervisors publish them in the shared store. With `--config`, exits 1 when
 * an account of the fleet is published by no process.
 */
export async function statusCommand(options: StatusOptions, io: CliIo): Promise<number> {
  let config: FleetConfig | undefined;
  if (options.config) {
    const loaded = await loadConfigFile(options.config, { expect: 'fleet' });
    if (!loaded.ok) {
      for (const line of formatProblems(loaded.problems)) io.err(line);
      return EXIT_INVALID_INPUT;
    }
    config = loaded.value as FleetConfig;
  }
  const target = resolveRedisTarget({
    ...(options.redis ? { redisUrl: options.redis } : {}),
    ...(config ? { config: config.redis } : {}),
    env: options.env ?? process.env,
  });
  if (!target) {
    io.err(
      'riskwarden status: no Redis configured. Supervisors publish their accounts in the shared store: give --redis URL, set REDIS_URL, or --config a fleet with redis.url.',
    );
    return EXIT_FAILURE;
  }
  const connection = createRedisConnection(target.target, { retryDelayMs: 500, commandTimeoutMs: 2_000 });
  connection.on('error', () => {});
  try {
    await connection.connect();
    const { statuses, problems } = await new StatusBoard(connection, options.prefix ?? config?.redis.prefix ?? 'riskwarden').read();
    for (const p of problems) io.err(`riskwarden status: ${p}`);
    if (statuses.length === 0) io.err('riskwarden status: no supervisor is publishing accounts');
    for (const s of statuses) io.out(options.json ? JSON.stringify(s) : formatStatus(s));
    // With the fleet known, an account no process publishes is unsupervised: a failure, not a quiet 0.
    const published = new Set(statuses.map((s) => s.account));
    const unsupervised = (config?.accounts ?? []).map((a) => a.id).filter((id) => !published.has(id));
    if (unsupervised.length > 0) {
      io.err(`riskwarden status: not supervised by any process: ${unsupervised.join(', ')}`);
      return EXIT_FAILURE;
    }
    return EXIT_OK;
  } catch (error) {
    io.err(`riskwarden status: ${(error as Error).message}`);
    return EXIT_FAILURE;
  } finally {
    connection.disconnect();
  }
}
