import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { ACCOUNT_MODES } from '../../src/domain/assessment.ts';
import { ORDER_STATUSES } from '../../src/domain/order-status.ts';
import { STOPOUT_SCOPES } from '../../src/domain/stopout.ts';

// docs/contracts.md describes the public interfaces: these checks keep it honest where that is cheap.

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DOC_PATH = join(ROOT, 'docs/contracts.md');
const DOC = readFileSync(DOC_PATH, 'utf8');

/** Folders and files that hold references to the doc. */
const REFERRING = ['src', 'machines', 'test', 'bench', 'bin', 'docs', 'config', 'examples', 'README.md', 'CONVENTIONS.md'];
/** Never read: dependencies, git, generated output. */
const SKIPPED_DIRS = new Set(['node_modules', '.git', 'coverage', 'test-artifacts']);
const SKIPPED_FILES = /(?:\.log|riskwarden-report\.html)$/;

function filesUnder(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path).flatMap((name) => (SKIPPED_DIRS.has(name) ? [] : filesUnder(join(path, name))));
}

function textOf(path: string): string | undefined {
  if (SKIPPED_FILES.test(path)) return undefined;
  const bytes = readFileSync(path);
  return bytes.includes(0) ? undefined : bytes.toString('utf8');
}

const ANCHORS = [...DOC.matchAll(/<a id="([^"]+)"><\/a>/g)].map((m) => m[1]!);

/** The text of one `## ` section: from its anchor to the next section's anchor. */
function section(anchor: string): string {
  const start = DOC.indexOf(`<a id="${anchor}"></a>\n## `);
  expect(start, `docs/contracts.md has no section with the anchor "${anchor}"`).toBeGreaterThanOrEqual(0);
  const rest = DOC.slice(start + 1);
  const next = rest.search(/\n<a id="[^"]+"><\/a>\n## /);
  return next < 0 ? rest : rest.slice(0, next);
}

/** What `riskwarden <args>` prints (help ends with exit code 0). */
async function cliOutput(args: string[]): Promise<string> {
  const lines: string[] = [];
  const code = await main(args, { out: (line) => lines.push(line), err: (line) => lines.push(line) });
  expect(code, `riskwarden ${args.join(' ')}`).toBe(0);
  return lines.join('\n');
}

/** The subcommands listed under "Commands:" in a help text, without `help`. */
function commandsIn(help: string): string[] {
  const block = help.split('\nCommands:\n')[1];
  if (block === undefined) return [];
  return [...block.matchAll(/^ {2}([a-z][a-z-]*)/gm)].map((m) => m[1]!).filter((name) => name !== 'help');
}

/** The long options listed under "Options:" in a help text, without --help and --version. */
function optionsIn(help: string): string[] {
  const block = help.split('\nOptions:\n')[1]?.split('\nCommands:\n')[0] ?? '';
  return [...block.matchAll(/^ {2}(?:-\w, )?(--[a-z][a-z-]*)/gm)].map((m) => m[1]!).filter((o) => o !== '--help' && o !== '--version');
}

describe('docs/contracts.md', () => {
  it('has every section, each anchor once', () => {
    for (const anchor of ['commands', 'cli', 'scenario', 'fleet', 'timeline', 'redis', 'api', 'library', 'bench', 'invariants'])
      section(anchor);
    expect(
      ANCHORS.filter((a, i) => ANCHORS.indexOf(a) !== i),
      'duplicate anchors',
    ).toEqual([]);
  });

  it('has an anchor for every link into it, from the repository and from itself', () => {
    const missing: string[] = [];
    for (const file of REFERRING.flatMap((p) => filesUnder(join(ROOT, p)))) {
      const text = textOf(file);
      if (text === undefined) continue;
      for (const m of text.matchAll(/contracts\.md#([A-Za-z0-9_-]+)/g)) {
        if (!ANCHORS.includes(m[1]!)) missing.push(`${relative(ROOT, file)}: #${m[1]}`);
      }
    }
    for (const m of DOC.matchAll(/\]\(#([A-Za-z0-9_-]+)\)/g)) {
      if (!ANCHORS.includes(m[1]!)) missing.push(`docs/contracts.md: #${m[1]}`);
    }
    expect(missing).toEqual([]);
  });

  it('is the only reference: nothing names documents outside the repository', () => {
    // Built from parts so that this file does not name them itself.
    const outside = ['CONTRACTS' + ' §', 'DESIGN' + '.md', '../' + 'shared', '/work/' + 'shared', 'DERIVADEX' + '-WIRE'];
    const offenders: string[] = [];
    for (const file of filesUnder(ROOT)) {
      const text = textOf(file);
      if (text === undefined) continue;
      for (const name of outside) if (text.includes(name)) offenders.push(`${relative(ROOT, file)}: ${name}`);
    }
    expect(offenders).toEqual([]);
  });

  it('lists every CLI command and every one of its options', async () => {
    const cli = section('cli');
    const missing: string[] = [];
    const check = async (path: string[]): Promise<void> => {
      const help = await cliOutput([...path, '--help']);
      for (const option of optionsIn(help)) {
        if (!cli.includes(option)) missing.push(`riskwarden ${path.join(' ')} ${option}`);
      }
      for (const sub of commandsIn(help)) {
        const name = [...path, sub].join(' ');
        if (!cli.includes(`\`${name}`)) missing.push(`riskwarden ${name}`);
        await check([...path, sub]);
      }
    };
    await check([]);
    expect(missing).toEqual([]);
    // The check above read real help texts: it found the commands.
    expect(commandsIn(await cliOutput(['--help']))).toContain('simulate');
  });

  it('describes every timeline kind, state, order status and rule code', () => {
    const timeline = section('timeline');
    const source = readFileSync(join(ROOT, 'src/timeline/timeline-record.ts'), 'utf8');
    const kinds = [...source.matchAll(/kind: '([a-z-]+)'/g)].map((m) => m[1]!);
    expect(kinds.length).toBeGreaterThanOrEqual(11);
    for (const kind of kinds) expect(timeline, `timeline kind ${kind}`).toContain(`| \`${kind}\` |`);
    for (const mode of ACCOUNT_MODES) expect(timeline, `state ${mode}`).toContain(`\`${mode}\``);
    for (const status of ORDER_STATUSES.filter((s) => s !== 'submitted'))
      expect(timeline, `order status ${status}`).toContain(`\`${status}\``);

    const gate = readFileSync(join(ROOT, 'src/domain/pre-trade-gate.ts'), 'utf8');
    // The rule codes as the gate declares them: a list `GATE_RULES = [...]`, or the union `GateRule = | ...;`.
    const declared = /GATE_RULES = \[([^\]]+)\]/.exec(gate)?.[1] ?? /export type GateRule =([^;]+);/.exec(gate)?.[1] ?? '';
    const rules = [...declared.matchAll(/'([a-z-]+)'/g)].map((m) => m[1]!);
    expect(rules.length).toBeGreaterThanOrEqual(8);
    const ruleTable = timeline.slice(timeline.indexOf('<a id="rule-codes"></a>'));
    for (const rule of rules) expect(ruleTable, `rule code ${rule}`).toContain(`| \`${rule}\``);
  });

  it('names every stopout scope in the Redis section', () => {
    const redis = section('redis');
    for (const scope of STOPOUT_SCOPES) expect(redis, `scope ${scope}`).toContain(`\`${scope}\``);
  });
});
