import type { Command } from 'commander';
import { wallClock } from '../clock/clock.ts';
import type { RedisConfig } from '../config/fleet-schema.ts';
import { formatProblems, loadConfigFile, type Problem } from '../config/load.ts';
import { parseIsoTime, toIso } from '../domain/periods.ts';
import { STOPOUT_SCOPES, type StopoutScope } from '../domain/stopout.ts';
import { openStopoutStore } from '../store/open-store.ts';
import { isStopoutScope, reasonProblem, stopoutIdProblem } from '../domain/stopout-identity.ts';
import type { StopoutStore, StoredStopout } from '../store/stopout-store.ts';
import { EXIT_FAILURE, EXIT_INVALID_INPUT, EXIT_OK, type CliIo } from './io.ts';

/** Said on stderr whenever a stopouts command runs without any Redis: the CLI says so (docs/contracts.md#cli). */
export const IN_MEMORY_NOTICE = 'no Redis configured: using an in-memory store that lives only for this command';

interface CommonOptions {
  redis?: string;
  config?: string;
  prefix?: string;
}

interface TargetOptions extends CommonOptions {
  scope?: string;
  id?: string;
  reason?: string;
}

const PREFIX_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
/** The characters an id may have at some scope: checked when the scope itself is unknown, so both are reported. */
const ANY_SCOPE_ID = /^(?:\*|[A-Za-z0-9][A-Za-z0-9_.-]*(?:\/[A-Za-z0-9][A-Za-z0-9_.-]*)?)$/;
const REDIS_URL_PATTERN = /^rediss?:\/\/\S+$/;

/**
 * `riskwarden stopouts list|set|reset|move-start-time` (docs/contracts.md#cli, docs/contracts.md#redis): the operator's view of the shared
 * stopout store. The store is the Redis named by --redis, else REDIS_URL, else --config's redis block;
 * with none of them an in-memory store that lives only for this command (and it says so).
 * Exit 0 done (also "nothing to reset"), 1 runtime failure or a reset refused while the breach holds,
 * 2 invalid arguments, every problem named by its option.
 */
export function registerStopoutsCommand(program: Command, io: CliIo, setExitCode: (code: number) => void): void {
  const stopouts = program
    .command('stopouts')
    .description('list, set (manual kill switch at any scope) and reset stopouts in the shared store');

  const common = (command: Command): Command =>
    command
      .option('--redis <url>', 'Redis URL (default: REDIS_URL, then the redis block of --config; none: an in-memory store)')
      .option('--config <file>', 'fleet config whose redis block names the store')
      .option('--prefix <prefix>', 'key prefix (default: the config\'s redis.prefix, else "riskwarden")');
  const target = (command: Command): Command =>
    command
      .option('--scope <scope>', `one of ${STOPOUT_SCOPES.join(', ')}`)
      .option(
        '--id <id>',
        '"*" for fleet (the default there), "<portfolio>/<account>" for member, "<subscriber>/<target>" for subscription',
      );

  common(stopouts.command('list').description('one line per stopout: scope id reason closePositions stoppedAt stoppedTill sequence'))
    .option('--json', 'JSON Lines, one stopout per line')
    .action(async (options: CommonOptions & { json?: boolean }) => {
      setExitCode(await listStopouts(options, io));
    });

  common(target(stopouts.command('set').description('set a stopout (the manual kill switch at any scope)')))
    .option('--reason <reason>', 'stopout reason', 'manual')
    .option('--close-positions', 'also close the positions it covers')
    .option('--till <iso>', 'stoppedTill: when it ends by itself (default: until reset)')
    .option('--by <name>', 'who sets it (default: cli:$USER)')
    .action(async (options: TargetOptions & { closePositions?: boolean; till?: string; by?: string }) => {
      setExitCode(await setStopout(options, io));
    });

  common(target(stopouts.command('reset').description('reset a stopout; refused while a supervisor still measures its breach')))
    .option('--reason <reason>', 'the stopout reason to reset (required)')
    .action(async (options: TargetOptions) => {
      setExitCode(await resetStopout(options, io));
    });

  common(
    target(
      stopouts.command('move-start-time').description('move the CopyFactory startTime of a level (the first half of clearing a stopout)'),
    ),
  )
    .option('--at <iso>', 'the new startTime (default: now)')
    .action(async (options: CommonOptions & { scope?: string; id?: string; at?: string }) => {
      setExitCode(await moveStartTime(options, io));
    });
}

// ---- the subcommands ----

async function listStopouts(options: CommonOptions & { json?: boolean }, io: CliIo): Promise<number> {
  const problems = commonProblems(options);
  if (problems.length > 0) return invalid(problems, io);
  return withStore(options, io, async (store) => {
    const all = await store.list();
    for (const stopout of all) io.out(options.json ? JSON.stringify(stopoutJson(stopout)) : stopoutLine(stopout));
    if (all.length === 0 && !options.json) io.err('no stopouts');
    return EXIT_OK;
  });
}

async function setStopout(options: TargetOptions & { closePositions?: boolean; till?: string; by?: string }, io: CliIo): Promise<number> {
  const problems = [...commonProblems(options), ...targetProblems(options, true)];
  const now = wallClock.now();
  const till = options.till === undefined ? undefined : parseIsoTime(options.till);
  if (till === null)
    problems.push({
      path: '--till',
      message: `expected an ISO 8601 time like "2026-01-05T13:00:00Z", got ${JSON.stringify(options.till)}`,
    });
  else if (till !== undefined && till <= now) problems.push({ path: '--till', message: `${options.till} is not in the future` });
  const by = options.by ?? defaultBy();
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this refuses
  if (by === '' || /[\u0000-\u001f\u007f]/.test(by))
    problems.push({ path: '--by', message: 'expected a non-empty name without control characters' });
  if (problems.length > 0 || till === null) return invalid(problems, io);
  const { scope, id, reason } = resolvedTarget(options);
  const stoppedTill = till === undefined ? undefined : toIso(till);
  return withStore(options, io, async (store) => {
    const before = (await store.list()).find((s) => s.scope === scope && s.id === id && s.reason === reason);
    const stored = await store.set({
      scope,
      id,
      reason,
      closePositions: Boolean(options.closePositions),
      by,
      ...(stoppedTill === undefined ? {} : { stoppedTill }),
    });
    const what = `${scope} ${id} ${reason} (closePositions ${stored.closePositions}, sequence ${stored.sequence}, since ${stored.stoppedAt ?? '-'})`;
    if (before === undefined || before.malformed !== undefined) io.out(`set: ${what}`);
    else if (stored.sequence !== before.sequence) io.out(`upgraded to closePositions: ${what}`);
    else io.out(`already set, kept as it is: ${what}`);
    return EXIT_OK;
  });
}

async function resetStopout(options: TargetOptions, io: CliIo): Promise<number> {
  const problems = [...commonProblems(options), ...targetProblems(options, false)];
  if (problems.length > 0) return invalid(problems, io);
  const { scope, id, reason } = resolvedTarget(options);
  return withStore(options, io, async (store) => {
    const breach = (await store.breaches()).find((b) => b.scope === scope && b.id === id && b.reason === reason);
    if (breach !== undefined) {
      // CopyFactory: a reset while the limit still measures a breach would re-trigger at once.
      io.err(
        `riskwarden stopouts: ${reason} is still breached on ${scope} ${id}: ${breach.message}; ` +
          `move startTime first: riskwarden stopouts move-start-time --scope ${scope} --id ${shellWord(id)}`,
      );
      return EXIT_FAILURE;
    }
    if (await store.reset(scope, id, reason)) io.out(`reset: ${scope} ${id} ${reason}`);
    else io.out(`nothing to reset: no stopout ${reason} on ${scope} ${id}`);
    return EXIT_OK;
  });
}

async function moveStartTime(options: CommonOptions & { scope?: string; id?: string; at?: string }, io: CliIo): Promise<number> {
  const problems = [...commonProblems(options), ...targetProblems(options, undefined)];
  const at = options.at === undefined ? wallClock.now() : parseIsoTime(options.at);
  if (at === null)
    problems.push({ path: '--at', message: `expected an ISO 8601 time like "2026-01-05T13:00:00Z", got ${JSON.stringify(options.at)}` });
  if (problems.length > 0 || at === null) return invalid(problems, io);
  const { scope, id } = resolvedTarget(options);
  const startTime = toIso(at);
  return withStore(options, io, async (store) => {
    await store.setStartTime(scope, id, startTime);
    io.out(`startTime of ${scope} ${id} moved to ${startTime}`);
    for (const stopout of (await store.list()).filter((s) => s.scope === scope && s.id === id)) {
      io.err(`then reset: riskwarden stopouts reset --scope ${scope} --id ${shellWord(id)} --reason ${stopout.reason}`);
    }
    return EXIT_OK;
  });
}

// ---- arguments ----

function commonProblems(options: CommonOptions): Problem[] {
  const problems: Problem[] = [];
  if (options.redis !== undefined && !REDIS_URL_PATTERN.test(options.redis)) {
    problems.push({ path: '--redis', message: `expected a redis:// or rediss:// URL, got ${JSON.stringify(options.redis)}` });
  }
  const env = process.env.REDIS_URL;
  if (options.redis === undefined && env !== undefined && env !== '' && !REDIS_URL_PATTERN.test(env)) {
    problems.push({ path: 'REDIS_URL', message: 'expected a redis:// or rediss:// URL' });
  }
  if (options.prefix !== undefined && !PREFIX_PATTERN.test(options.prefix)) {
    problems.push({
      path: '--prefix',
      message: `expected letters, digits, "_", "." and "-" (no ":"), got ${JSON.stringify(options.prefix)}`,
    });
  }
  return problems;
}

/** `reasonRequired`: true = default "manual" was applied by commander, false = required, undefined = no reason at all. */
function targetProblems(options: TargetOptions, reasonRequired: boolean | undefined): Problem[] {
  const problems: Problem[] = [];
  if (options.scope === undefined) problems.push({ path: '--scope', message: `required: one of ${STOPOUT_SCOPES.join(', ')}` });
  else if (!isStopoutScope(options.scope))
    problems.push({
      path: '--scope',
      message: `unknown scope ${JSON.stringify(options.scope)}; expected one of ${STOPOUT_SCOPES.join(', ')}`,
    });
  if (options.id === undefined) {
    if (options.scope !== 'fleet') problems.push({ path: '--id', message: 'required (except for --scope fleet, whose id is "*")' });
  } else if (isStopoutScope(options.scope)) {
    const problem = stopoutIdProblem(options.scope, options.id);
    if (problem !== undefined) problems.push({ path: '--id', message: problem });
  } else if (!ANY_SCOPE_ID.test(options.id)) {
    problems.push({
      path: '--id',
      message: `expected "*", an id, or "<id>/<id>" (letters, digits, "_", "." and "-"), got ${JSON.stringify(options.id)}`,
    });
  }
  if (reasonRequired === false && options.reason === undefined)
    problems.push({ path: '--reason', message: 'required: the reason of the stopout to reset (see riskwarden stopouts list)' });
  if (reasonRequired !== undefined && options.reason !== undefined) {
    const problem = reasonProblem(options.reason);
    if (problem !== undefined) problems.push({ path: '--reason', message: problem });
  }
  return problems;
}

/** Only after targetProblems found nothing. */
function resolvedTarget(options: TargetOptions): { scope: StopoutScope; id: string; reason: string } {
  const scope = options.scope as StopoutScope;
  return { scope, id: options.id ?? '*', reason: options.reason ?? 'manual' };
}

function invalid(problems: Problem[], io: CliIo): number {
  for (const line of formatProblems(problems)) io.err(line);
  return EXIT_INVALID_INPUT;
}

function defaultBy(): string {
  const user = process.env.USER ?? process.env.USERNAME;
  return user ? `cli:${user}` : 'cli';
}

/** The id as a shell word an operator can paste ("*" quoted). */
function shellWord(s: string): string {
  return /^[A-Za-z0-9_./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

// ---- the store ----

async function withStore(options: CommonOptions, io: CliIo, use: (store: StopoutStore) => Promise<number>): Promise<number> {
  let config: Partial<RedisConfig> | undefined;
  if (options.config !== undefined) {
    const loaded = await loadConfigFile(options.config, { expect: 'fleet' });
    if (!loaded.ok) {
      io.err(`--config ${options.config} is not valid:`);
      for (const line of formatProblems(loaded.problems)) io.err(`  ${line}`);
      return EXIT_INVALID_INPUT;
    }
    if (loaded.kind === 'fleet') config = loaded.value.redis;
  }
  let store: StopoutStore;
  try {
    const opened = await openStopoutStore({
      ...(options.redis === undefined ? {} : { redisUrl: options.redis }),
      ...(config === undefined ? {} : { config }),
      ...(options.prefix === undefined ? {} : { prefix: options.prefix }),
      connectTimeoutMs: 3_000,
      // What the store repaired or ignored (a corrupt sequence, a bad value); connection noise is in the final error.
      onProblem: (p) => {
        if (p.where !== 'connection') io.err(`riskwarden stopouts: store: ${p.where}: ${p.message}`);
      },
    });
    store = opened.store;
    if (opened.source === 'none') io.err(IN_MEMORY_NOTICE);
  } catch (error) {
    io.err(`riskwarden stopouts: ${(error as Error).message}`);
    return EXIT_FAILURE;
  }
  try {
    return await use(store);
  } catch (error) {
    io.err(`riskwarden stopouts: ${(error as Error).message}`);
    return EXIT_FAILURE;
  } finally {
    await store.close();
  }
}

// ---- output ----

function stopoutLine(s: StoredStopout): string {
  const parts = [s.scope, s.id, s.reason, String(s.closePositions), s.stoppedAt ?? '-', s.stoppedTill ?? '-', String(s.sequence)];
  if (s.by !== undefined) parts.push(`by ${s.by}`);
  if (s.malformed !== undefined) parts.push(`malformed: ${s.malformed}`);
  return parts.join(' ');
}

/** Fixed key order, absent fields left out. */
function stopoutJson(s: StoredStopout): Record<string, unknown> {
  const out: Record<string, unknown> = { scope: s.scope, id: s.id, reason: s.reason, closePositions: s.closePositions };
  if (s.stoppedAt !== undefined) out.stoppedAt = s.stoppedAt;
  if (s.stoppedTill !== undefined) out.stoppedTill = s.stoppedTill;
  if (s.by !== undefined) out.by = s.by;
  out.sequence = s.sequence;
  if (s.malformed !== undefined) out.malformed = s.malformed;
  return out;
}
