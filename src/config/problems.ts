import type { z } from 'zod';

/** One thing wrong with an input, at a path like `accounts[2].budget.minMarginBuffer`. */
export interface Problem {
  path: string;
  message: string;
}

/** Path of the document itself (a top-level problem). */
export const ROOT_PATH = '(root)';
/** Path of problems with the file rather than its content (missing, unreadable). */
export const FILE_PATH = '(file)';

const PLAIN_KEY = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

/** `['accounts', 2, 'budget', 'minMarginBuffer']` → `accounts[2].budget.minMarginBuffer`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else {
      const name = String(key);
      if (PLAIN_KEY.test(name)) out += out === '' ? name : `.${name}`;
      // Long keys (e.g. a YAML complex key, stringified) are cut so a path stays one readable line.
      else out += `[${JSON.stringify(name.length > 40 ? `${name.slice(0, 40)}…` : name)}]`;
    }
  }
  return out === '' ? ROOT_PATH : out;
}

/** One line per problem: `path: message`. */
export function formatProblems(problems: readonly Problem[]): string[] {
  return problems.map((p) => `${p.path}: ${p.message}`);
}

/** A short description of a value for messages; never echoes long strings. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  switch (typeof value) {
    case 'string':
      return value.length <= 40 ? JSON.stringify(value) : 'a long string';
    case 'number':
    case 'boolean':
      return String(value);
    case 'object':
      return 'a mapping';
    default:
      return typeof value;
  }
}

const EXPECTED_NAMES: Record<string, string> = {
  object: 'a mapping (key: value)',
  array: 'a list',
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  record: 'a mapping (key: value)',
};

function quoteAll(values: readonly unknown[]): string {
  return values.map((v) => JSON.stringify(v)).join(', ');
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/**
 * The messages for issues whose schema did not bring its own: zod's defaults say "Invalid input";
 * these say what was expected and what was found. Schema-level messages take precedence over it.
 */
export const issueMessage: z.core.$ZodErrorMap = (issue) => {
  const input = issue.input;
  switch (issue.code) {
    case 'invalid_type':
      if (input === undefined) return 'required';
      return `expected ${EXPECTED_NAMES[issue.expected] ?? issue.expected}, got ${describeValue(input)}`;
    case 'invalid_value': {
      const values = issue.values;
      const wanted = values.length === 1 ? JSON.stringify(values[0]) : `one of ${quoteAll(values)}`;
      return input === undefined ? `required: ${wanted}` : `expected ${wanted}, got ${describeValue(input)}`;
    }
    case 'invalid_union': {
      if (issue.note === 'No matching discriminator' && issue.discriminator !== undefined) {
        const options = quoteAll(Array.isArray(issue.options) ? issue.options : []);
        const found = typeof input === 'object' && input !== null ? (input as Record<string, unknown>)[issue.discriminator] : undefined;
        return found === undefined ? `required: one of ${options}` : `expected one of ${options}, got ${describeValue(found)}`;
      }
      return input === undefined ? 'required' : `unexpected value ${describeValue(input)}`;
    }
    case 'too_small':
      if (issue.origin === 'array' || issue.origin === 'set') return `expected at least ${plural(Number(issue.minimum), 'item')}`;
      if (issue.origin === 'string') return `expected at least ${plural(Number(issue.minimum), 'character')}`;
      return `expected a number ${issue.inclusive ? '≥' : '>'} ${String(issue.minimum)}`;
    case 'too_big':
      if (issue.origin === 'array' || issue.origin === 'set') return `expected at most ${plural(Number(issue.maximum), 'item')}`;
      if (issue.origin === 'string') return `expected at most ${plural(Number(issue.maximum), 'character')}`;
      return `expected a number ${issue.inclusive ? '≤' : '<'} ${String(issue.maximum)}`;
    case 'invalid_format':
      return `expected ${issue.format === 'regex' ? 'a value of the right form' : `a valid ${issue.format}`}`;
    case 'not_multiple_of':
      return `expected a multiple of ${String(issue.divisor)}`;
    case 'unrecognized_keys':
      return `unknown key${issue.keys.length === 1 ? '' : 's'} ${quoteAll(issue.keys)}`;
    case 'invalid_key':
      return 'invalid key';
    case 'invalid_element':
      return 'invalid element';
    case 'custom':
      return issue.message ?? 'invalid value';
    default:
      return 'invalid value';
  }
};

/** Problems from a zod error: one per issue, and one per unknown key (at the key's own path). */
export function problemsFromZod(error: z.ZodError): Problem[] {
  const problems: Problem[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys)
        problems.push({ path: formatPath([...issue.path, key]), message: `unknown key ${JSON.stringify(key)}` });
    } else if (issue.code === 'invalid_key') {
      const key = issue.path[issue.path.length - 1];
      const inner = issue.issues[0]?.message ?? 'not allowed';
      problems.push({ path: formatPath(issue.path), message: `invalid key ${JSON.stringify(String(key))}: ${inner}` });
    } else {
      problems.push({ path: formatPath(issue.path), message: issue.message });
    }
  }
  return dedupeProblems(problems);
}

export function dedupeProblems(problems: readonly Problem[]): Problem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.path}\u0000${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
