/**
 * Scrubbing secrets out of anything riskwarden writes for people or tools to read: log lines, audit
 * entries, notes. Two kinds of evidence make a value secret:
 *
 * - its **shape**, anywhere inside any string: a hex blob of 32 bytes or more (`0x` + 64 hex digits is a
 *   secp256k1 private key, `0x` + 130 a 65-byte signature; 32-byte hashes look the same and go too — an
 *   address, 20 bytes, stays), an `Authorization` scheme with its credentials (`Bearer …`, `Basic …`), the
 *   password of a URL (`redis://:pw@host`), and a credential in a query string (`?token=…`);
 * - its **name**: the value of a field called like a secret (`privateKey`, `key`, `token`, `password`,
 *   `signature`, `authorization`, `secret`, `mnemonic`, `cookie`, …), whatever it holds;
 * - or it is one of the **known secrets** a scrubber was given (the values of the trader key, keystore
 *   password and API token variables), wherever it appears.
 *
 * Each is replaced by `[redacted]`. Scrubbing never throws and never mutates its input.
 */

export const REDACTED = '[redacted]';

/** Field names whose values are secret whatever they hold (`keyEnv`-style names of variables are not). */
const SECRET_FIELD =
  /^(?:key|keys|pk|privkey|cookie|set-cookie)$|(?:private[-_]?key|trader[-_]?key|api[-_]?key|secret[-_]?key|signing[-_]?key|secret|password|passwd|passphrase|mnemonic|seed[-_]?phrase|authorization|signature|tokens?|credentials?)$/i;

/** Known secrets shorter than this are not searched for: they would redact ordinary words and numbers. */
const MIN_KNOWN_SECRET_LENGTH = 8;

// A value ends at a backslash too: inside a serialised JSON line `\"` closes the string, and eating the
// backslash would break the line.
const TEXT_PATTERNS: ReadonlyArray<readonly [RegExp, string]> = [
  // 32 bytes or more of hex, with or without 0x, wherever it is (even glued to other text: a malformed
  // key like `0x<64 hex>zz` must not survive as a prefix).
  [/(?:0[xX])?[0-9a-fA-F]{64,}/g, REDACTED],
  // Authorization: Bearer <token> / Basic <credentials>.
  [/\b(Bearer|Basic)\s+[^\s"'\\,;]+/gi, `$1 ${REDACTED}`],
  // scheme://user:password@host
  [/\b([a-z][a-z0-9+.-]*:\/\/[^\s:@/"'\\]*):[^\s@/"'\\]+@/gi, `$1:${REDACTED}@`],
  // ?token=… &api_key=… in a URL or a form body.
  // A `<placeholder>` naming where the value is (`?token=<the token in VAR>`) is not a value.
  [/([?&;](?:access_token|token|api[-_]?key|key|password|secret|signature|sig)=)(?!<)[^&\s"'\\#]+/gi, `$1${REDACTED}`],
];

const MAX_DEPTH = 12;

export interface ScrubberOptions {
  /** Exact secret values to remove wherever they appear (e.g. the trader key from its variable). */
  secrets?: Iterable<string | undefined>;
}

export interface Scrubber {
  /** The text with every secret replaced. */
  text(text: string): string;
  /**
   * A scrubbed deep copy: strings scrubbed, secret-named fields replaced, errors turned into plain objects
   * (`type`, `message`, `stack`, `cause`, own fields) so what they carry is scrubbed too. Cycles become
   * `[circular]`, binary data `[binary N bytes]`, functions disappear.
   */
  value(value: unknown): unknown;
  /** True when `name` is a field name whose value is always redacted. */
  isSecretField(name: string): boolean;
}

export function createScrubber(options: ScrubberOptions = {}): Scrubber {
  const known = [...new Set([...(options.secrets ?? [])].flatMap((s) => (typeof s === 'string' ? variantsOf(s.trim()) : [])))]
    .filter((s) => s.length >= MIN_KNOWN_SECRET_LENGTH)
    // Longest first, so a secret that contains another is removed whole.
    .sort((a, b) => b.length - a.length);

  const text = (input: string): string => {
    let out = input;
    for (const secret of known) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    for (const [pattern, replacement] of TEXT_PATTERNS) out = out.replace(pattern, replacement);
    return out;
  };

  const value = (input: unknown): unknown => walk(input, 0, new WeakSet());

  const walk = (input: unknown, depth: number, seen: WeakSet<object>): unknown => {
    if (typeof input === 'string') return text(input);
    if (input === null || typeof input !== 'object') {
      if (typeof input === 'function' || typeof input === 'symbol') return undefined;
      if (typeof input === 'bigint') return text(input.toString());
      return input;
    }
    if (seen.has(input)) return '[circular]';
    if (depth >= MAX_DEPTH) return '[nested too deep]';
    if (input instanceof Date) return input;
    if (ArrayBuffer.isView(input) || input instanceof ArrayBuffer) return `[binary ${input.byteLength} bytes]`;
    seen.add(input);
    try {
      if (Array.isArray(input)) return input.map((item) => walk(item, depth + 1, seen));
      if (input instanceof Map) return walk(Object.fromEntries(input), depth, seen);
      if (input instanceof Set) return walk([...input], depth, seen);
      const source: Record<string, unknown> = input instanceof Error ? errorFields(input) : (input as Record<string, unknown>);
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(source)) {
        let item: unknown;
        try {
          item = source[key];
        } catch {
          continue; // a throwing getter: leave it out rather than fail the whole line
        }
        out[text(key)] = SECRET_FIELD.test(key) && item !== undefined && item !== null ? REDACTED : walk(item, depth + 1, seen);
      }
      return out;
    } finally {
      seen.delete(input);
    }
  };

  return { text, value, isSecretField: (name) => SECRET_FIELD.test(name) };
}

/** The scrubber without known secrets: shapes and field names only. */
export const defaultScrubber: Scrubber = createScrubber();

/** `defaultScrubber.text`. */
export function scrubText(text: string): string {
  return defaultScrubber.text(text);
}

/** `defaultScrubber.value`. */
export function scrubValue(value: unknown): unknown {
  return defaultScrubber.value(value);
}

/** A secret as it may appear: itself, JSON-escaped (inside a serialised line), and URL-encoded. */
function variantsOf(secret: string): string[] {
  if (secret === '') return [];
  return [secret, JSON.stringify(secret).slice(1, -1), encodeURIComponent(secret)];
}

/** What an error carries: its own fields (code, errno, …) plus name, message, stack and cause. */
function errorFields(error: Error): Record<string, unknown> {
  const out: Record<string, unknown> = { type: error.name };
  for (const key of Object.keys(error)) out[key] = (error as unknown as Record<string, unknown>)[key];
  out.message = error.message;
  if (error.stack !== undefined) out.stack = error.stack;
  if ('cause' in error && error.cause !== undefined) out.cause = error.cause;
  if (error instanceof AggregateError) out.errors = error.errors;
  return out;
}
