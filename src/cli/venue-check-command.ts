import type { Command } from 'commander';
import { checkVenue, DEFAULT_DEPLOYMENT, DEFAULT_TIMEOUT_MS, type VenueCheckReport } from '../app/venue-check.ts';
import { EXIT_FAILURE, EXIT_INVALID_INPUT, EXIT_OK, type CliIo } from './io.ts';

export interface VenueCheckArguments {
  url: string;
  ws?: string;
  deployment?: string;
  symbol?: string[];
  timeout?: string;
  json?: boolean;
}

/** Symbols as the project spells them (docs/contracts.md#scenario: ids and symbols). */
const SYMBOL_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
/** A `contractDeployment` name: "mainnet", "testnet", "geth", … */
const DEPLOYMENT_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** `riskwarden venue check …` on the program. */
export function registerVenueCommand(program: Command, io: CliIo, setExitCode: (code: number) => void): void {
  const venue = program.command('venue').description('probe a DerivaDEX venue (the exchange, its testnet, or `riskwarden sim`)');
  venue
    .command('check')
    .description(
      "read-only: validate the venue's REST reads and MARK_PRICE feed against the real shapes; exit 0 when all conform, 1 when any does not",
    )
    .requiredOption('--url <url>', 'REST base of the venue, e.g. https://testnet.derivadex.io or http://127.0.0.1:8380')
    .option('--ws <url>', 'realtime API (default: --url with ws:// or wss:// and path /realtime-api)')
    .option('--deployment <name>', `contractDeployment of the deployment-info read (default "${DEFAULT_DEPLOYMENT}")`)
    .option('--symbol <symbol>', 'symbol to check marks for (repeatable; default: every symbol exchange_info lists)', collect)
    .option('--timeout <duration>', `how long each read and the feed may take (default ${DEFAULT_TIMEOUT_MS} ms)`)
    .option('--json', 'print the checks as one JSON object')
    .action(async (options: VenueCheckArguments) => {
      setExitCode(await venueCheckCommand(options, io));
    });
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/**
 * `riskwarden venue check --url URL`: one row per check, then a verdict (or all of it as JSON). Exit 0 when
 * everything conforms, 1 when anything does not (an unreachable venue included), 2 for bad arguments.
 */
export async function venueCheckCommand(args: VenueCheckArguments, io: CliIo): Promise<number> {
  const problems: string[] = [];
  const url = parseUrl('--url', args.url, ['http:', 'https:'], problems);
  const ws = args.ws === undefined ? undefined : parseUrl('--ws', args.ws, ['ws:', 'wss:'], problems);
  if (args.deployment !== undefined && !DEPLOYMENT_PATTERN.test(args.deployment)) {
    problems.push(`--deployment: expected a deployment name like "mainnet" or "testnet", got ${JSON.stringify(args.deployment)}`);
  }
  for (const symbol of args.symbol ?? []) {
    if (!SYMBOL_PATTERN.test(symbol)) problems.push(`--symbol: expected a symbol like "ETHP", got ${JSON.stringify(symbol)}`);
  }
  const timeoutMs = args.timeout === undefined ? DEFAULT_TIMEOUT_MS : parseTimeout(args.timeout, problems);
  if (problems.length > 0 || url === undefined || timeoutMs === undefined) {
    for (const problem of problems) io.err(`riskwarden: ${problem}`);
    return EXIT_INVALID_INPUT;
  }

  const report = await checkVenue({
    url,
    timeoutMs,
    ...(ws !== undefined ? { ws } : {}),
    ...(args.deployment !== undefined ? { deployment: args.deployment } : {}),
    ...(args.symbol && args.symbol.length > 0 ? { symbols: args.symbol } : {}),
  });
  if (args.json) io.out(JSON.stringify(report));
  else for (const line of formatReport(report)) io.out(line);
  return report.ok ? EXIT_OK : EXIT_FAILURE;
}

function parseUrl(flag: string, text: string, protocols: string[], problems: string[]): URL | undefined {
  const expected = `expected a URL starting ${protocols.map((p) => `${p}//`).join(' or ')}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    problems.push(`${flag}: ${expected}, got ${JSON.stringify(text)}`);
    return undefined;
  }
  if (!protocols.includes(url.protocol)) {
    problems.push(`${flag}: ${expected}, got ${JSON.stringify(text)}`);
    return undefined;
  }
  if (url.username !== '' || url.password !== '') {
    // A venue needs no credentials to be read; keep them out of terminals and logs.
    problems.push(`${flag}: expected a URL without user or password`);
    return undefined;
  }
  return url;
}

/** Milliseconds, or a duration with a unit as elsewhere on the command line ("250ms", "10s", "1m"). */
function parseTimeout(text: string, problems: string[]): number | undefined {
  const match = /^(\d+)(ms|s|m)?$/.exec(text.trim());
  const ms = match ? Number(match[1]) * { ms: 1, s: 1000, m: 60_000 }[(match[2] ?? 'ms') as 'ms'] : Number.NaN;
  if (!Number.isSafeInteger(ms) || ms < 1 || ms > 600_000) {
    problems.push(`--timeout: expected a duration from 1ms to 10m, like "10000" or "5s", got ${JSON.stringify(text)}`);
    return undefined;
  }
  return ms;
}

/** The table: a header, one row per check (check, request or feed, OK/FAIL, detail), and the verdict. */
export function formatReport(report: VenueCheckReport): string[] {
  const header = ['check', 'endpoint / feed', 'result', 'detail'];
  const rows = report.rows.map((r) => [r.name, r.target, r.ok ? 'OK' : 'FAIL', r.detail]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [`venue ${report.url} (realtime ${report.ws}, deployment ${report.deployment})`, line(header), ...rows.map(line), report.verdict];
}
