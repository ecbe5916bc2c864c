import type { Command } from 'commander';
import type { FleetConfig } from '../config/fleet-schema.ts';
import { formatProblems, loadConfigFile } from '../config/load.ts';
import { formatAuditEntry, parseAuditEntry } from '../observability/audit-entry.ts';
import { fileAuditSource, streamAuditSource, type AuditSource, type RawAuditLine } from '../observability/audit-reader.ts';
import { auditStreamKey } from '../observability/audit-stream-sink.ts';
import { scrubText } from '../observability/secret-scrubber.ts';
import { resolveRedisTarget } from '../store/open-store.ts';
import { createRedisConnection, describeRedisTarget, type RedisConnection } from '../redis/connection.ts';
import { EXIT_FAILURE, EXIT_INVALID_INPUT, EXIT_OK, type CliIo } from './io.ts';

export interface AuditTailOptions {
  redis?: string;
  file?: string;
  config?: string;
  prefix?: string;
  /** `-n`: as typed, validated here. Default 10. */
  n?: string;
  follow?: boolean;
  json?: boolean;
  env?: Record<string, string | undefined>;
  /** Stops `--follow` (tests); SIGINT and SIGTERM stop it too. */
  signal?: AbortSignal;
}

const DEFAULT_LINES = 10;

/** `riskwarden audit …` on the program. */
export function registerAuditCommand(program: Command, io: CliIo, setExitCode: (code: number) => void): void {
  const audit = program.command('audit').description('read the audit log: every decision, transition, order, stopout and operator action');
  audit
    .command('tail')
    .description('print the last entries of the audit stream (or file); --follow keeps printing new ones until Ctrl-C')
    .option('--redis <url>', 'Redis URL (default: REDIS_URL, then the redis block of --config)')
    .option('--file <path>', 'read the JSONL audit file instead of the Redis stream')
    .option('--config <file>', 'fleet config whose redis block (url, prefix) to use')
    .option('--prefix <prefix>', 'key prefix (default: the config\'s redis.prefix, else "riskwarden")')
    .option('-n, --lines <n>', `how many entries (default ${DEFAULT_LINES})`)
    .option('-f, --follow', 'keep reading new entries until Ctrl-C')
    .option('--json', 'print the entries as stored (JSON Lines)')
    .action(
      async (options: {
        redis?: string;
        file?: string;
        config?: string;
        prefix?: string;
        lines?: string;
        follow?: boolean;
        json?: boolean;
      }) => {
        const { lines, ...rest } = options;
        setExitCode(await auditTailCommand({ ...rest, ...(lines !== undefined ? { n: lines } : {}) }, io));
      },
    );
}

/**
 * `riskwarden audit tail`: the last N entries of `<prefix>:audit` (XREVRANGE) or of the JSONL file, oldest
 * first; with --follow, every new entry (XREAD BLOCK, or polling the file) until Ctrl-C. Exit 2 on bad
 * arguments (no source, both sources, a bad -n), 1 when the source cannot be read.
 */
export async function auditTailCommand(options: AuditTailOptions, io: CliIo): Promise<number> {
  const problems: string[] = [];
  const n = options.n === undefined ? DEFAULT_LINES : Number(options.n);
  if (options.n !== undefined && (!/^\d+$/.test(options.n.trim()) || !Number.isSafeInteger(n))) {
    problems.push(`-n: expected a whole number of entries (0 or more), got "${options.n}"`);
  }
  if (options.file !== undefined && options.redis !== undefined) problems.push('--file and --redis: give one source, not both');
  if (options.file === '') problems.push('--file: expected a path');
  let config: FleetConfig | undefined;
  if (options.config !== undefined) {
    const loaded = await loadConfigFile(options.config, { expect: 'fleet' });
    if (!loaded.ok) problems.push(...formatProblems(loaded.problems));
    else config = loaded.value as FleetConfig;
  }
  const target =
    options.file === undefined
      ? resolveRedisTarget({
          ...(options.redis ? { redisUrl: options.redis } : {}),
          ...(config ? { config: config.redis } : {}),
          env: options.env ?? process.env,
        })
      : null;
  if (options.file === undefined && target === null && problems.length === 0) {
    problems.push(
      'no audit source: give --redis URL (or set REDIS_URL, or --config a fleet with redis.url) for the stream, or --file PATH for the JSONL file',
    );
  }
  if (problems.length > 0) {
    for (const p of problems) io.err(`riskwarden audit tail: ${p}`);
    return EXIT_INVALID_INPUT;
  }

  let connection: RedisConnection | undefined;
  let source: AuditSource;
  let described: string;
  if (options.file !== undefined) {
    source = fileAuditSource(options.file);
    described = options.file;
  } else {
    const prefix = options.prefix ?? config?.redis.prefix ?? 'riskwarden';
    let key: string;
    try {
      key = auditStreamKey(prefix);
    } catch (error) {
      io.err(`riskwarden audit tail: --prefix: ${(error as Error).message}`);
      return EXIT_INVALID_INPUT;
    }
    // XREAD BLOCK holds the connection for up to a second: give commands more than that.
    connection = createRedisConnection(target!.target, { retryDelayMs: 1_000, commandTimeoutMs: 5_000 });
    connection.on('error', () => {});
    source = streamAuditSource(connection, key);
    described = `${describeRedisTarget(target!.target)} stream ${key}`;
  }

  const print = (line: RawAuditLine): void => {
    const parsed = parseAuditEntry(line.data, line.where);
    if (!parsed.ok) {
      io.err(`riskwarden audit tail: ${parsed.problem}`);
      return;
    }
    // Entries are scrubbed when written; scrub again in case something else wrote to the stream.
    io.out(scrubText(options.json ? line.data : formatAuditEntry(parsed.entry)));
  };

  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  try {
    if (connection) await connection.connect();
    const lines = await source.tail(n);
    for (const line of lines) print(line);
    if (!options.follow) {
      if (lines.length === 0) io.err(`riskwarden audit tail: no entries in ${described}`);
      return EXIT_OK;
    }
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    if (options.signal?.aborted) return EXIT_OK;
    options.signal?.addEventListener('abort', onSignal, { once: true });
    // Disconnecting ends a pending XREAD BLOCK at once instead of after its timeout.
    stop.signal.addEventListener('abort', () => connection?.disconnect(), { once: true });
    await source.follow(print, stop.signal);
    return EXIT_OK;
  } catch (error) {
    if (stop.signal.aborted) return EXIT_OK;
    const message = (error as NodeJS.ErrnoException).code === 'ENOENT' ? `${described}: no such file` : (error as Error).message;
    io.err(`riskwarden audit tail: ${scrubText(message)}`);
    return EXIT_FAILURE;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    options.signal?.removeEventListener('abort', onSignal);
    connection?.disconnect();
  }
}
