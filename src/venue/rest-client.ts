import type { z } from 'zod';
import { REQUEST_ERRORS, type RequestErrorReason } from '../derivadex/codes.ts';
import { PATHS } from '../derivadex/paths.ts';
import { envelopeSchema, pageSchema, readFailureSchema } from '../derivadex/rest-bodies.ts';
import { receiptSchema, requestErrorBodySchema, type Receipt } from '../derivadex/signed-requests.ts';
import { firstIssue, parseJson } from '../derivadex/wire-values.ts';
import { backoffDelay, DEFAULT_RETRY_BACKOFF, seededRandom, type BackoffPolicy, type Random } from './backoff.ts';

/*
 * HTTP to the venue: Node's global fetch, the bodies of src/derivadex/rest-bodies.ts, typed errors and
 * bounded retries. Decimals stay strings from the wire to the caller.
 *
 * Bodies (docs/derivadex-sources.md §2, §4.4): reads under /exchange and /stats answer the envelope
 * `{value, success, timestamp}` (history pages add `nextGlobalOrdinal`); `/contract-server/addresses` and
 * `/v2/encryption-key` answer bare JSON; `POST /v2/request` answers a bare receipt, or an HTTP error whose
 * flat body `{error_reason, safety_failure?, message?}` names the class (docs error reference).
 *
 * Retry rules:
 * - 429 RateLimit: the venue refused before processing, so any call may be retried after a backoff.
 * - 503 ServiceUnavailable, 421 NotAcceptingRequests and network failures: retried for reads, which are
 *   idempotent. A POST of a signed request is NOT retried on them: on a 503 or no answer the venue may
 *   have sequenced it and only the answer was lost, so the caller must reconcile (look the order up)
 *   instead of sending it twice.
 * - 412 IllegalNonce / ExpiredTimestamp / FutureTimestamp: never retried: the same bytes carry the same
 *   nonce and timestamp. The request layer decides whether to rebuild it.
 * - Everything else surfaces at once.
 *
 * Note: fetch itself sends a request once more on a new connection when the answer is 421 (Fetch standard,
 * "HTTP-network-or-cache fetch"), posts included; a 421 reaches this client only when that second answer
 * is a 421 too. Harmless: a 421 means the gateway took nothing in.
 */

/** What an HTTP failure is called: the request endpoint's classes (codes.ts), plus `NotFound` for a read. */
export type RestErrorCode = RequestErrorReason | 'NotFound';

export class VenueHttpError extends Error {
  override readonly name = 'VenueHttpError';
  constructor(
    /** HTTP status; 0 when no answer arrived (network failure or timeout). */
    readonly status: number,
    readonly code: RestErrorCode,
    message: string,
    /** True for the kinds of failure a later attempt may not meet (429, 421, 503, no answer). */
    readonly retryable: boolean,
    /** The body's `safety_failure`, when a request was refused for one (a variant name, or its number). */
    readonly safetyFailure?: string | number,
  ) {
    super(message);
  }
}

export type BodyErrorCode = 'not-json' | 'bad-envelope' | 'bad-body';

/** A 2xx answer whose body we cannot accept; `path` is where, e.g. `value[3].makerOrderIntent.orderHash`. */
export class VenueBodyError extends Error {
  override readonly name = 'VenueBodyError';
  constructor(
    readonly code: BodyErrorCode,
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

export interface RetryPolicy extends BackoffPolicy {
  /** Tries in all, the first included (>= 1). */
  attempts: number;
}

export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = Object.freeze({ ...DEFAULT_RETRY_BACKOFF, attempts: 4 });

/** Pages `getAllPages` reads at most unless told otherwise. */
export const DEFAULT_MAX_PAGES = 100;

export interface RestClientOptions {
  /** e.g. `http://127.0.0.1:8080`. */
  baseUrl: string;
  fetch?: typeof globalThis.fetch;
  /** Waits between retries; inject to make tests instant. */
  sleep?: (ms: number) => Promise<void>;
  retry?: Partial<RetryPolicy>;
  /** Jitter source; seeded (seededRandom) in simulation. */
  random?: Random;
  /** Per attempt; 0 = none. Default 10 s. */
  timeoutMs?: number;
}

export interface CallOptions {
  /** Which failures this call retries. Reads: RateLimit, NotAcceptingRequests, ServiceUnavailable; posts: RateLimit. */
  retryOn?: readonly RestErrorCode[];
}

const READ_RETRY: readonly RestErrorCode[] = ['RateLimit', 'NotAcceptingRequests', 'ServiceUnavailable'];
const POST_RETRY: readonly RestErrorCode[] = ['RateLimit'];

type QueryValue = string | number;
/** Query parameters; an array repeats the parameter (`orderHash=a&orderHash=b`), `undefined` leaves it out. */
export type Query = Readonly<Record<string, QueryValue | readonly QueryValue[] | undefined>>;

/** One history page: its rows and the cursor of the next (`null`: no more). */
export interface Page<T> {
  rows: T[];
  nextGlobalOrdinal: number | null;
}

export interface AllPagesOptions {
  /** Rows per page, sent as `limit`. */
  limit?: number;
  /** Pages read at most (default DEFAULT_MAX_PAGES). */
  maxPages?: number;
}

const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The error an HTTP status stands for when the body does not say: the first class of REQUEST_ERRORS with
 * that status (so an unreadable 412 is IllegalNonce, an unreadable 422 InvalidEncryption). A read's 404
 * is NotFound; other statuses fall to InvalidRequestPayload (4xx) or ServiceUnavailable (5xx).
 */
export function errorNameOfStatus(status: number, kind: 'read' | 'request' = 'read'): RestErrorCode {
  if (status === 404 && kind === 'read') return 'NotFound';
  for (const [name, code] of Object.entries(REQUEST_ERRORS)) if (code === status) return name as RequestErrorReason;
  return status >= 500 ? 'ServiceUnavailable' : 'InvalidRequestPayload';
}

function isRetryable(code: RestErrorCode): boolean {
  return code === 'RateLimit' || code === 'ServiceUnavailable' || code === 'NotAcceptingRequests';
}

type Parse<T> = (text: string, where: string) => T;

export class RestClient {
  readonly #baseUrl: string;
  readonly #fetch: typeof globalThis.fetch;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #retry: RetryPolicy;
  readonly #random: Random;
  readonly #timeoutMs: number;

  constructor(options: RestClientOptions) {
    this.#baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.#sleep = options.sleep ?? realSleep;
    this.#retry = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    if (!Number.isInteger(this.#retry.attempts) || this.#retry.attempts < 1) throw new RangeError('retry.attempts must be an integer >= 1');
    this.#random = options.random ?? seededRandom(0);
    this.#timeoutMs = options.timeoutMs ?? 10_000;
  }

  /** GET an enveloped read and return its `value`, validated by `valueSchema`. */
  getEnveloped<S extends z.ZodType>(path: string, query: Query, valueSchema: S, options: CallOptions = {}): Promise<z.output<S>> {
    const schema = envelopeSchema(valueSchema);
    return this.#get(path, query, options, (text, where) => (parseWith(schema, text, where, 'envelope') as { value: z.output<S> }).value);
  }

  /** GET one history page (`value` rows + `nextGlobalOrdinal`). */
  getPage<S extends z.ZodType>(path: string, query: Query, rowSchema: S, options: CallOptions = {}): Promise<Page<z.output<S>>> {
    const schema = pageSchema(rowSchema);
    return this.#get(path, query, options, (text, where) => {
      const page = parseWith(schema, text, where, 'envelope');
      return { rows: page.value, nextGlobalOrdinal: page.nextGlobalOrdinal ?? null };
    });
  }

  /**
   * Every page from `query`'s cursor on: `nextGlobalOrdinal` goes back as the `globalOrdinal` parameter
   * (the SDK's loop), until it is null or a page is empty. Stopped by `maxPages`, the result keeps the
   * cursor it would have read next (non-null); otherwise `nextGlobalOrdinal` is null.
   */
  async getAllPages<S extends z.ZodType>(
    path: string,
    query: Query,
    rowSchema: S,
    pages: AllPagesOptions = {},
    options: CallOptions = {},
  ): Promise<Page<z.output<S>>> {
    const maxPages = pages.maxPages ?? DEFAULT_MAX_PAGES;
    if (!Number.isInteger(maxPages) || maxPages < 1) throw new RangeError('maxPages must be an integer >= 1');
    const rows: z.output<S>[] = [];
    let cursor: QueryValue | readonly QueryValue[] | undefined = query.globalOrdinal;
    for (let read = 0; read < maxPages; read += 1) {
      const page = await this.getPage(
        path,
        { ...query, ...(pages.limit === undefined ? {} : { limit: pages.limit }), globalOrdinal: cursor },
        rowSchema,
        options,
      );
      rows.push(...page.rows);
      if (page.nextGlobalOrdinal === null || page.rows.length === 0) return { rows, nextGlobalOrdinal: null };
      // An opaque cursor still has to move, or the next page is this one again.
      if (page.nextGlobalOrdinal === cursor) {
        throw new VenueBodyError(
          'bad-body',
          'nextGlobalOrdinal',
          `GET ${path}: nextGlobalOrdinal: ${page.nextGlobalOrdinal} did not advance the cursor`,
        );
      }
      cursor = page.nextGlobalOrdinal;
    }
    return { rows, nextGlobalOrdinal: typeof cursor === 'number' ? cursor : null };
  }

  /** GET a bare JSON body (deployment info, the encryption key), validated by `schema`. */
  getBare<S extends z.ZodType>(path: string, query: Query, schema: S, options: CallOptions = {}): Promise<z.output<S>> {
    return this.#get(path, query, options, (text, where) => parseWith(schema, text, where, 'body'));
  }

  /**
   * POST encrypted request bytes (`application/octet-stream`) to `/v2/request`; the answer is a bare
   * receipt (`Sequenced` or `SafetyFailure`, both HTTP 200). A refusal is a VenueHttpError named by the
   * body's `error_reason`, else by the status.
   */
  postRequest(bytes: Uint8Array, options: CallOptions = {}): Promise<Receipt> {
    const url = this.#url(PATHS.request, {});
    const init: RequestInit = { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: new Uint8Array(bytes) };
    return this.#withRetries(options.retryOn ?? POST_RETRY, () =>
      this.#once(url, init, 'request', (text, where) => parseWith(receiptSchema, text, where, 'body')),
    );
  }

  #get<T>(path: string, query: Query, options: CallOptions, parse: Parse<T>): Promise<T> {
    const url = this.#url(path, query);
    return this.#withRetries(options.retryOn ?? READ_RETRY, () => this.#once(url, { method: 'GET' }, 'read', parse));
  }

  #url(path: string, query: Query): string {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) {
      if (v === undefined) continue;
      if (Array.isArray(v)) for (const item of v as readonly QueryValue[]) params.append(k, String(item));
      else params.append(k, String(v));
    }
    const qs = params.toString();
    return `${this.#baseUrl}${path}${qs === '' ? '' : `?${qs}`}`;
  }

  async #withRetries<T>(retryOn: readonly RestErrorCode[], attempt: () => Promise<T>): Promise<T> {
    for (let i = 0; ; i += 1) {
      try {
        return await attempt();
      } catch (error) {
        const again = error instanceof VenueHttpError && retryOn.includes(error.code) && i + 1 < this.#retry.attempts;
        if (!again) throw error;
        await this.#sleep(backoffDelay(i, this.#retry, this.#random));
      }
    }
  }

  async #once<T>(url: string, init: RequestInit, kind: 'read' | 'request', parse: Parse<T>): Promise<T> {
    const where = `${init.method ?? 'GET'} ${pathOf(url)}`;
    let response: Response;
    let text: string;
    try {
      const signal = this.#timeoutMs > 0 ? AbortSignal.timeout(this.#timeoutMs) : undefined;
      response = await this.#fetch(url, signal === undefined ? init : { ...init, signal });
      text = await response.text();
    } catch (error) {
      const what = error instanceof Error ? (error.name === 'TimeoutError' ? 'timed out' : causeCode(error)) : 'failed';
      throw new VenueHttpError(0, 'ServiceUnavailable', `${where}: no answer (${what})`, true);
    }
    if (!response.ok) throw httpError(response.status, text, where, kind);
    return parse(text, where);
  }
}

/** The error of a non-2xx answer: named by a readable `{error_reason, message}` body, else by the status. */
function httpError(status: number, text: string, where: string, kind: 'read' | 'request'): VenueHttpError {
  const json = parseJson(text);
  const body = json.ok ? requestErrorBodySchema.safeParse(json.value) : undefined;
  if (body?.success === true) {
    const { error_reason: code, message, safety_failure: safetyFailure } = body.data;
    const detail = [message, safetyFailure == null ? undefined : `safety_failure ${String(safetyFailure)}`].filter((s) => s !== undefined);
    return new VenueHttpError(
      status,
      code,
      `${where}: ${code}${detail.length === 0 ? '' : `: ${detail.join('; ')}`}`,
      isRetryable(code),
      safetyFailure ?? undefined,
    );
  }
  const code = errorNameOfStatus(status, kind);
  return new VenueHttpError(status, code, `${where}: ${code}: HTTP ${status}`, isRetryable(code));
}

/**
 * Parses `text` with `schema` or throws a VenueBodyError naming the place. For an envelope, a problem
 * under `value` is the body's (`bad-body`), anything else the envelope's.
 */
function parseWith<S extends z.ZodType>(schema: S, text: string, where: string, shape: 'envelope' | 'body'): z.output<S> {
  const json = parseJson(text);
  if (!json.ok) throw new VenueBodyError('not-json', '', `${where}: body is not valid JSON`);
  // A 200 that says it failed ("the body may be just `{ "success": false }`", third-party capture; UNCONFIRMED).
  if (shape === 'envelope' && readFailureSchema.safeParse(json.value).success) {
    throw new VenueHttpError(200, 'InternalServerError', `${where}: InternalServerError: the venue answered success: false`, false);
  }
  const parsed = schema.safeParse(json.value);
  if (parsed.success) return parsed.data;
  const issue = firstIssue(parsed.error);
  const code: BodyErrorCode = shape === 'body' || parsed.error.issues[0]?.path[0] === 'value' ? 'bad-body' : 'bad-envelope';
  throw new VenueBodyError(code, issue.path, `${where}: ${issue.path === '' ? '(body)' : issue.path}: ${issue.message}`);
}

// Errors name the path only: query strings hold trader addresses, which are not secret but are noise.
function pathOf(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return url;
  }
}

function causeCode(error: Error): string {
  const cause = (error as { cause?: unknown }).cause;
  if (typeof cause === 'object' && cause !== null && 'code' in cause) return String((cause as { code: unknown }).code);
  return error.message;
}
