import { ApiConfigError } from '../api/auth.ts';
import type { FleetConfig } from '../config/fleet-schema.ts';
import { formatProblems, loadConfigFile } from '../config/load.ts';
import { startLiveFleet, TraderKeyError } from '../app/live-fleet.ts';
import { COLOURS, formatRecord, PLAIN } from '../timeline/format-record.ts';
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

/**
 * `riskwarden run --config fleet.yaml`: the live supervisor. Connects to the venue in the config (or starts
 * the local simulator), supervises every account whose lease it holds, shares stopouts, snapshots and
 * leases through Redis when one is configured, and prints the timeline until stopped.
 */
export async function runCommand(options: RunOptions, io: CliIo): Promise<number> {
  const loaded = await loadConfigFile(options.config, { expect: 'fleet' });
  if (!loaded.ok) {
    for (const line of formatProblems(loaded.problems)) io.err(line);
    return EXIT_INVALID_INPUT;
  }
  const palette = options.colour ? COLOURS : PLAIN;
  let fleet: Awaited<ReturnType<typeof startLiveFleet>> | undefined;
  try {
    fleet = await startLiveFleet({
      config: loaded.value as FleetConfig,
      ...(options.redis ? { redis: options.redis } : {}),
      ...(options.env ? { env: options.env } : {}),
      ...(options.leaseTtlMs !== undefined ? { leaseTtlMs: options.leaseTtlMs } : {}),
      api: {}, // on the config's api.host/api.port
      onNote: (message) => io.err(`riskwarden: ${message}`),
      onRecord: (record) => {
        if (options.json) io.out(JSON.stringify(record));
        else {
          const line = formatRecord(record, palette);
          if (line) io.out(line);
        }
      },
    });
    io.err('riskwarden: Ctrl-C stops');
    // SIGHUP: re-read the config; accounts added or removed, the others untouched. A bad file changes nothing.
    const reload = (): void => {
      void loadConfigFile(options.config, { expect: 'fleet' }).then(async (next) => {
        if (!next.ok) {
          io.err(`riskwarden: config not reloaded, ${options.config} is not valid:`);
          for (const line of formatProblems(next.problems)) io.err(`  ${line}`);
          return;
        }
        await fleet!.reload(next.value as FleetConfig).catch((error: Error) => io.err(`riskwarden: reload failed: ${error.message}`));
      });
    };
    process.on('SIGHUP', reload);
    await new Promise<void>((resolve) => {
      const stop = (): void => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        process.off('SIGHUP', reload);
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
    return error instanceof TraderKeyError || error instanceof ApiConfigError ? EXIT_INVALID_INPUT : EXIT_FAILURE;
  } finally {
    await fleet?.close();
  }
}
