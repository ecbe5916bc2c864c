import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { createScrubber, REDACTED, type Scrubber } from './secret-scrubber.ts';

export type { Logger } from 'pino';

/** Field paths pino censors before serialising (fast-redact; `*` is one level). */
export const REDACT_PATHS = [
  'privateKey',
  '*.privateKey',
  'key',
  '*.key',
  'token',
  '*.token',
  'tokens',
  '*.tokens',
  'authorization',
  '*.authorization',
  'signature',
  '*.signature',
  'password',
  '*.password',
  'passphrase',
  '*.passphrase',
  'secret',
  '*.secret',
  'mnemonic',
  '*.mnemonic',
  'apiKey',
  '*.apiKey',
  'cookie',
  '*.cookie',
  'headers.authorization',
  'headers.cookie',
  '*.headers.authorization',
  '*.headers.cookie',
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
];

export interface CreateLoggerOptions {
  /** pino level (default `info`); `silent` writes nothing. */
  level?: string;
  /**
   * Where lines go: `stderr` (default), `stdout`, a file path (appended; directories created), a file
   * descriptor, or any stream with `write(line)` (tests).
   */
  destination?: 'stderr' | 'stdout' | string | number | DestinationStream;
  /** Secret values to remove wherever they appear (the trader key, keystore password, API tokens). */
  secrets?: Iterable<string | undefined>;
  /** Fields on every line (default: pid and hostname, as pino does). */
  base?: Record<string, unknown>;
}

/**
 * Structured JSON logs (pino) that cannot carry a secret. Three layers, each enough for what it covers:
 *
 * 1. every argument of every log call is scrubbed before pino sees it (secret-scrubber.ts): strings in
 *    the message, printf arguments and every field at any depth, array items, errors (message, stack,
 *    cause, own fields — turned into plain objects); fields named like a secret are censored whatever they
 *    hold. Child-logger bindings get the same.
 * 2. pino's own `redact` censors the usual paths (`*.privateKey`, `headers.authorization`, …).
 * 3. the finished JSON line is scrubbed once more as text before it is written.
 *
 * A secret thus shows as `[redacted]`: a 0x private key (64 hex digits) or any longer hex blob, a 65-byte
 * signature, `Bearer …` / `Basic …` credentials, URL passwords and `?token=` parameters, and the known
 * secret values given in `secrets`.
 */
export function createLogger(options: CreateLoggerOptions = {}): Logger {
  const scrubber = createScrubber({ secrets: options.secrets ?? [] });
  const config: LoggerOptions = {
    level: options.level ?? 'info',
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACT_PATHS, censor: REDACTED },
    // Errors arrive as the scrubber's plain objects ({type, message, stack, cause, …}): keep them as they are
    // (pino's own serializer would call them `Object`).
    serializers: { err: (value: unknown) => value },
    formatters: {
      bindings: (bindings) => scrubber.value(bindings) as Record<string, unknown>,
    },
    hooks: {
      logMethod(args, method) {
        method.apply(this, scrubArguments(scrubber, args) as Parameters<typeof method>);
      },
      streamWrite: (line) => scrubber.text(line),
    },
    ...(options.base !== undefined ? { base: scrubber.value(options.base) as Record<string, unknown> } : {}),
  };
  return pino(config, destinationOf(options.destination));
}

/**
 * A log call's arguments, scrubbed. A leading error becomes `{ err }` (a plain object, as pino's error
 * serializer would make it) so its message, stack and cause are scrubbed like any field; alone, its
 * message is the line's `msg` as pino would have it.
 */
function scrubArguments(scrubber: Scrubber, args: unknown[]): unknown[] {
  const [first, ...rest] = args;
  if (first instanceof Error) {
    const err = scrubber.value(first) as Record<string, unknown>;
    return rest.length === 0 ? [{ err }, String(err.message ?? '')] : [{ err }, ...rest.map((arg) => scrubber.value(arg))];
  }
  return args.map((arg) => scrubber.value(arg));
}

function destinationOf(destination: CreateLoggerOptions['destination']): DestinationStream {
  if (destination === undefined || destination === 'stderr') return pino.destination({ dest: 2, sync: true });
  if (destination === 'stdout') return pino.destination({ dest: 1, sync: true });
  if (typeof destination === 'number') return pino.destination({ dest: destination, sync: true });
  if (typeof destination === 'string') return pino.destination({ dest: destination, mkdir: true, append: true, sync: false });
  return destination;
}
