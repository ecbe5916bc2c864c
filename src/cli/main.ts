import { Command, CommanderError } from 'commander';
import { registerAuditCommand } from './audit-command.ts';
import { checkCommand } from './check-command.ts';
import { DEFAULT_DIAGRAM_FORMAT, DEFAULT_DIAGRAM_MACHINE, diagramCommand } from './diagram-command.ts';
import { EXIT_FAILURE, EXIT_INVALID_INPUT, processIo, type CliIo } from './io.ts';
import { runCommand } from './run-command.ts';
import { schemaCommand } from './schema-command.ts';
import { statusCommand } from './status-command.ts';
import { fleetDeposits } from './fleet-deposits.ts';
import { simCommand } from './sim-command.ts';
import { simulateCommand } from './simulate-command.ts';
import { startCommand } from './start-command.ts';
import { registerStopoutsCommand } from './stopouts-command.ts';
import { registerVenueCommand } from './venue-check-command.ts';

/** Runs the `riskwarden` CLI and resolves to its exit code (docs/contracts.md#exit-codes). */
export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  let exitCode = 0;
  const program = new Command('riskwarden')
    .description('Risk supervisor for fleets of perpetual-futures trading strategies')
    .version('0.1.0')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });

  program
    .command('check')
    .description('validate a fleet config or a scenario file; exit 0 when valid, 2 with every problem listed by path')
    .argument('<file>', 'fleet.yaml or scenario.yaml (a document with top-level `marks` is a scenario)')
    .action(async (file: string) => {
      exitCode = await checkCommand(file, io);
    });

  program
    .command('start')
    .description(
      'the main job: the simulator, the supervisor and the stress-pass scenario, watchable, served over the HTTP API (dashboard), with a report',
    )
    .option('--scenario <file>', 'scenario to play', 'config/scenarios/stress-pass.yaml')
    .option('--fast', 'play at full speed')
    .option('--report <file>', 'HTML report to write', 'riskwarden-report.html')
    .option('--api-port <port>', 'port of the HTTP API and dashboard (0 = any free port; default 8377, or a free one when taken)')
    .option('--keep [duration]', 'keep serving the API after the scenario ends (default "10m"; Ctrl-C stops)')
    .action(async (options: { scenario: string; fast?: boolean; report: string; apiPort?: string; keep?: string | boolean }) => {
      const apiPort = options.apiPort === undefined ? undefined : Number(options.apiPort);
      if (apiPort !== undefined && (!Number.isInteger(apiPort) || apiPort < 0 || apiPort > 65535)) {
        throw new InvalidArgument(`--api-port: expected an integer from 0 to 65535, got "${options.apiPort}"`);
      }
      const keepMs =
        options.keep === undefined ? undefined : parseDurationArgument('--keep', options.keep === true ? '10m' : String(options.keep));
      exitCode = await startCommand(
        {
          scenario: options.scenario,
          fast: Boolean(options.fast),
          report: options.report,
          tty: process.stdout.isTTY === true,
          ...(apiPort !== undefined ? { apiPort } : {}),
          ...(keepMs !== undefined ? { keepMs } : {}),
        },
        io,
      );
    });

  program
    .command('diagram')
    .description('print a statechart as Mermaid, Graphviz DOT or SVG')
    .argument('[which]', 'statechart: account', DEFAULT_DIAGRAM_MACHINE)
    .option('--format <format>', 'mermaid | dot | svg', DEFAULT_DIAGRAM_FORMAT)
    .action(async (which: string, options: { format: string }) => {
      exitCode = await diagramCommand(which, options.format, io);
    });

  program
    .command('simulate')
    .description('run a scenario deterministically and print its timeline')
    .argument('<scenario>', 'scenario file (YAML or JSON)')
    .option('--json', 'print the timeline as JSON Lines (docs/contracts.md#timeline)')
    .option('--out <file>', 'also write the timeline as JSON Lines to this file')
    .option('--seed <n>', "override the scenario's seed")
    .option('--report <file>', 'write a self-contained HTML report')
    .option('--redis <url>', 'share stopouts through this Redis instead of the embedded store')
    .option('--pace <ms>', 'wall-clock milliseconds per simulated second (default 0: full speed)', '0')
    .action(
      async (scenario: string, options: { json?: boolean; out?: string; seed?: string; report?: string; redis?: string; pace: string }) => {
        const seed = options.seed === undefined ? undefined : Number(options.seed);
        if (seed !== undefined && !Number.isSafeInteger(seed))
          throw new InvalidArgument(`--seed: expected an integer, got "${options.seed}"`);
        const paceMs = Number(options.pace);
        if (!Number.isInteger(paceMs) || paceMs < 0)
          throw new InvalidArgument(`--pace: expected milliseconds (an integer ≥ 0), got "${options.pace}"`);
        exitCode = await simulateCommand(
          {
            scenario,
            json: Boolean(options.json),
            tty: process.stdout.isTTY === true,
            paceMs,
            ...(options.out ? { out: options.out } : {}),
            ...(seed !== undefined ? { seed } : {}),
            ...(options.report ? { report: options.report } : {}),
            ...(options.redis ? { redis: options.redis } : {}),
          },
          io,
        );
      },
    );

  program
    .command('run')
    .description('run the live supervisor against the venue in the config (the local simulator by default)')
    .requiredOption('--config <file>', 'fleet config (YAML or JSON)')
    .option('--redis <url>', 'shared Redis (default: REDIS_URL, then the config)')
    .option('--json', 'print the timeline as JSON Lines')
    .option('--for <duration>', 'stop after this long (e.g. "30s"); default: until Ctrl-C')
    .option('--lease-ttl <duration>', 'how long a dead process\'s accounts wait for a new owner (default "5s")')
    .action(async (options: { config: string; redis?: string; json?: boolean; for?: string; leaseTtl?: string }) => {
      const forMs = options.for === undefined ? undefined : parseDurationArgument('--for', options.for);
      const leaseTtlMs = options.leaseTtl === undefined ? undefined : parseDurationArgument('--lease-ttl', options.leaseTtl);
      // Renewals run every ttl/3: much shorter and a busy event loop would lose leases it still holds.
      if (leaseTtlMs !== undefined && leaseTtlMs < 300)
        throw new InvalidArgument(`--lease-ttl: expected at least 300ms, got "${options.leaseTtl}"`);
      exitCode = await runCommand(
        {
          config: options.config,
          json: Boolean(options.json),
          colour: process.stdout.isTTY === true,
          ...(options.redis ? { redis: options.redis } : {}),
          ...(forMs !== undefined ? { forMs } : {}),
          ...(leaseTtlMs !== undefined ? { leaseTtlMs } : {}),
        },
        io,
      );
    });

  program
    .command('status')
    .description('one line per supervised account: state, position, notional, margin buffer, stopouts')
    .option('--redis <url>', 'shared Redis (default: REDIS_URL, then --config)')
    .option('--config <file>', 'fleet config whose redis block to use')
    .option('--prefix <prefix>', "key prefix (default: the config's, else riskwarden)")
    .option('--json', 'JSON Lines')
    .action(async (options: { redis?: string; config?: string; prefix?: string; json?: boolean }) => {
      exitCode = await statusCommand(options, io);
    });

  program
    .command('sim')
    .description('run the local DerivaDEX exchange simulator alone, on real time, until Ctrl-C')
    .option('--port <port>', 'TCP port (0 = any free port)', '8380')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--seed <n>', 'seed of the operator key and the mark random walk', '1')
    .option('--config <file>', "credit each account of this fleet its collateral (trader key from the fleet's traderKeyEnv)")
    .action(async (options: { port: string; host: string; seed: string; config?: string }) => {
      const port = Number(options.port);
      const seed = Number(options.seed);
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw new InvalidArgument(`--port: expected an integer from 0 to 65535, got "${options.port}"`);
      if (!Number.isSafeInteger(seed)) throw new InvalidArgument(`--seed: expected an integer, got "${options.seed}"`);
      let deposits: Awaited<ReturnType<typeof fleetDeposits>> | undefined;
      if (options.config) {
        deposits = await fleetDeposits(options.config, process.env);
        if (!deposits.ok) throw new InvalidArgument(deposits.problems.join('\n'));
      }
      exitCode = await simCommand({ port, host: options.host, seed, ...(deposits?.ok ? { deposits: deposits.deposits } : {}) }, io);
    });

  program
    .command('schema')
    .description('print (or --write into config/) the JSON Schemas of the fleet and scenario files')
    .option('--write', 'write config/fleet.schema.json and config/scenario.schema.json')
    .action((options: { write?: boolean }) => {
      exitCode = schemaCommand(Boolean(options.write), io);
    });

  registerStopoutsCommand(program, io, (code) => {
    exitCode = code;
  });

  registerAuditCommand(program, io, (code) => {
    exitCode = code;
  });

  registerVenueCommand(program, io, (code) => {
    exitCode = code;
  });

  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof InvalidArgument) {
      io.err(`riskwarden: ${error.message}`);
      return EXIT_INVALID_INPUT;
    }
    if (error instanceof CommanderError) {
      // --help and --version end through here with exit code 0; usage errors are invalid input.
      return error.exitCode === 0 ? 0 : EXIT_INVALID_INPUT;
    }
    io.err(`riskwarden: ${(error as Error).message}`);
    return EXIT_FAILURE;
  }
}

/** A command-line argument that is well-formed for commander but not a valid value. */
export class InvalidArgument extends Error {}

/** A duration argument ("90s", "5m", "250ms", "1h" or milliseconds), or an InvalidArgument naming it. */
export function parseDurationArgument(name: string, text: string): number {
  const match = /^(\d+)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!match) throw new InvalidArgument(`${name}: expected a duration like "90s", "5m" or milliseconds, got "${text}"`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(match[2] ?? 'ms') as 'ms'];
  return Number(match[1]) * unit;
}
