import { readFileSync, statSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import YAML from 'yaml';
import type { z } from 'zod';
import { fleetSchema, type FleetConfig } from './fleet-schema.ts';
import { INPUT_LIMITS } from './input-limits.ts';
import { jsonSyntaxErrorOffset, lineColumn } from './json-syntax.ts';
import { MAX_NESTING, tooDeepAt } from './nesting-limit.ts';
import { isUnderPath, privateKeyProblems } from './private-key-guard.ts';
import { dedupeProblems, FILE_PATH, formatProblems, issueMessage, problemsFromZod, ROOT_PATH, type Problem } from './problems.ts';
import { scenarioSchema, type ScenarioConfig } from './scenario-schema.ts';
import { validateFleet, validateScenario } from './validate.ts';

export { formatProblems, type Problem };

export type ConfigKind = 'fleet' | 'scenario';

export type LoadResult =
  | { ok: true; kind: 'fleet'; value: FleetConfig }
  | { ok: true; kind: 'scenario'; value: ScenarioConfig }
  | { ok: false; problems: Problem[] };

export interface LoadOptions {
  /** Validate as this kind instead of detecting it (e.g. `simulate` wants a scenario). */
  expect?: ConfigKind;
}

/**
 * Kind detection: a document with a top-level `marks` key is a scenario (a fleet has no mark path);
 * anything else is validated as a fleet.
 */
export function detectKind(document: unknown): ConfigKind {
  return typeof document === 'object' && document !== null && !Array.isArray(document) && 'marks' in document ? 'scenario' : 'fleet';
}

/** Validates an already parsed document: schema, private-key guard, then cross-field checks. */
export function parseConfigDocument(document: unknown, options: LoadOptions = {}): LoadResult {
  try {
    const kind = options.expect ?? detectKind(document);
    const guarded = privateKeyProblems(document);
    const schema: z.ZodType<FleetConfig | ScenarioConfig, unknown> = kind === 'scenario' ? scenarioSchema : fleetSchema;
    const parsed = schema.safeParse(document, { error: issueMessage });
    // A guarded field's own problems ("unknown key", "expected ...") would only restate it.
    const structural = parsed.success ? [] : problemsFromZod(parsed.error).filter((p) => !guarded.some((g) => isUnderPath(p.path, g.path)));
    const crossField = parsed.success
      ? kind === 'scenario'
        ? validateScenario(parsed.data as ScenarioConfig)
        : validateFleet(parsed.data as FleetConfig)
      : [];
    const problems = dedupeProblems([...guarded, ...structural, ...crossField]);
    if (problems.length > 0 || !parsed.success) return { ok: false, problems };
    return kind === 'scenario'
      ? { ok: true, kind, value: parsed.data as ScenarioConfig }
      : { ok: true, kind, value: parsed.data as FleetConfig };
  } catch (error) {
    // Only reachable through a bug or a pathological document (e.g. nesting deep enough to exhaust the stack).
    return { ok: false, problems: [{ path: ROOT_PATH, message: `could not be validated: ${(error as Error).message}` }] };
  }
}

/**
 * YAML 1.2 core schema, except that 0x… stays a string: in these files hex is an address, never a number.
 * Not `prettyErrors`: its formatting of an error in a deeply nested document can exhaust memory, so
 * positions are computed here from the error's offset.
 */
const YAML_OPTIONS = {
  prettyErrors: false,
  logLevel: 'error', // no process warnings; whatever yaml would warn about is reported as a problem anyway
  merge: true,
  uniqueKeys: true,
  customTags: (tags: YAML.Tags) => tags.filter((t) => !(typeof t === 'object' && t.tag === 'tag:yaml.org,2002:int' && t.format === 'HEX')),
} as const;

type Parsed = { ok: true; document: unknown } | { ok: false; problems: Problem[] };

function parseYaml(text: string, fileName: string): Parsed {
  const doc = YAML.parseDocument(text, YAML_OPTIONS);
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((e) => {
        const pos = lineColumn(text, e.pos[0]);
        const message = e.message.split('\n')[0] ?? e.message;
        return { path: `${fileName}:${pos.line}:${pos.col}`, message: `YAML syntax error: ${message}` };
      }),
    };
  }
  return { ok: true, document: doc.toJS() }; // toJS refuses alias bombs (maxAliasCount); the caller catches that
}

function parseJson(text: string, fileName: string): Parsed {
  try {
    return { ok: true, document: JSON.parse(text) };
  } catch (error) {
    let offset: number | undefined;
    try {
      offset = jsonSyntaxErrorOffset(text);
    } catch {
      offset = undefined; // too deep to scan
    }
    const raw = (error as Error).message;
    const message = raw
      .replace(/, ".*" is not valid JSON$/s, '')
      .replace(/ in JSON at position \d+.*$/s, '')
      .replace(/ \(line \d+ column \d+\)$/, '');
    const pos = offset === undefined ? undefined : lineColumn(text, offset);
    return {
      ok: false,
      problems: [{ path: pos ? `${fileName}:${pos.line}:${pos.col}` : FILE_PATH, message: `JSON syntax error: ${message}` }],
    };
  }
}

/**
 * Parses and validates the text of a fleet or scenario file. `.json` is read as JSON, anything else as
 * YAML (a superset of JSON). Syntax errors are reported at `<fileName>:<line>:<column>`, schema and
 * cross-field problems at their document path. Never throws.
 */
export function parseConfigText(text: string, fileName: string, options: LoadOptions = {}): LoadResult {
  if (text.length > INPUT_LIMITS.fileBytes) return tooLarge(text.length);
  const deep = tooDeepAt(text);
  if (deep !== undefined) {
    const pos = lineColumn(text, deep);
    return {
      ok: false,
      problems: [{ path: `${fileName}:${pos.line}:${pos.col}`, message: `nested deeper than ${MAX_NESTING} levels or indented too far` }],
    };
  }
  let parsed: Parsed;
  try {
    parsed = extname(fileName).toLowerCase() === '.json' ? parseJson(text, fileName) : parseYaml(text, fileName);
  } catch (error) {
    parsed = { ok: false, problems: [{ path: FILE_PATH, message: `could not be parsed: ${(error as Error).message}` }] };
  }
  return parsed.ok ? parseConfigDocument(parsed.document, options) : { ok: false, problems: parsed.problems };
}

/** A file larger than any config (input-limits.ts): refused before it is read or parsed. */
function tooLarge(size: number): LoadResult {
  return {
    ok: false,
    problems: [{ path: FILE_PATH, message: `${size} bytes: larger than the ${INPUT_LIMITS.fileBytes} bytes a config may have` }],
  };
}

function readProblem(path: string, error: unknown): LoadResult {
  const code = (error as NodeJS.ErrnoException).code;
  const message =
    code === 'ENOENT'
      ? `no such file: ${path}`
      : code === 'EISDIR'
        ? `is a directory, not a file: ${path}`
        : code === 'EACCES'
          ? `permission denied: ${path}`
          : `could not be read: ${(error as Error).message}`;
  return { ok: false, problems: [{ path: FILE_PATH, message }] };
}

/** Reads, parses and validates a fleet or scenario file. Never rejects: a missing file is a problem at "(file)". */
export async function loadConfigFile(path: string, options: LoadOptions = {}): Promise<LoadResult> {
  let text: string;
  try {
    const size = (await stat(path)).size;
    if (size > INPUT_LIMITS.fileBytes) return tooLarge(size);
    text = await readFile(path, 'utf8');
  } catch (error) {
    return readProblem(path, error);
  }
  return parseConfigText(text, path, options);
}

/** Synchronous loadConfigFile, for start-up code that cannot await. */
export function loadConfigFileSync(path: string, options: LoadOptions = {}): LoadResult {
  let text: string;
  try {
    const size = statSync(path).size;
    if (size > INPUT_LIMITS.fileBytes) return tooLarge(size);
    text = readFileSync(path, 'utf8');
  } catch (error) {
    return readProblem(path, error);
  }
  return parseConfigText(text, path, options);
}
