import { backoffDelay, DEFAULT_RETRY_BACKOFF, seededRandom, type BackoffPolicy, type Random } from './backoff.ts';
import type { HttpErrorName } from './protocol.ts';
import { parseEnvelope, parseRestBody, type BodyErrorCode, type RestBody, type RestBodyName } from './rest-body.ts';

/*
 * HTTP to the venue: Node's global fetch, the `{value, success, timestamp}` envelope, typed errors and
 * bounded retries. Decimals stay strings from the wire to the caller.
 *
 * Retry rules:
 * - 429 RateLimit: the venue refused before processing, so any call may be retried after a backoff.
 * - 503 ServiceUnavailable (and network failures): retried for reads, which are idempotent. A POST of a
 *   signed request is NOT retried on 503 by default: the venue may have sequenced it and only the answer
 *   was lost, so the caller must reconcile (look the order up) instead of sending it twice.
 * - 412 IllegalNonce / ExpiredTimestamp: never retried: the same bytes carry the same nonce. The request
 *   layer decides whether to re-sign with a fresh nonce.
 * - Everything else surfaces at once.
 */

export class VenueHttpError extends Error {
  override readonly name = 'VenueHttpError';
  constructor(
    /** HTTP status; 0 when no answer arrived (network failure or timeout). */
    readonly status: number,
    readonly code: HttpErrorName,
    message: string,
    /** True for the kinds of failure a later attempt may not meet (429, 503, no answer). */
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

/** A 2xx answer whose body we cannot accept. */
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
  /** Which failures this call retries. Reads: RateLimit and ServiceUnavailable; posts: RateLimit. */
  retryOn?: readonly HttpErrorName[];
}

const READ_RETRY: readonly HttpErrorName[] = ['RateLimit', 'ServiceUnavailable'];
const POST_RETRY: readonly HttpErrorName[] = ['RateLimit'];

export type Query = Record<string, string | number | undefined>;

const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The error name an HTTP status stands for when the body does not say. */
export function errorNameOfStatus(status: number): HttpErrorName {
  switch (status) {
    case 400:
      return 'InvalidRequestPayload';
    case 404:
      return 'NotFound';
    case 412:
      return 'IllegalNonce';
    case 422:
      return 'SafetyFailure';
    case 429:
      return 'RateLimit';
    default:
      return status >= 500 ? 'ServiceUnavailable' : 'InvalidRequestPayload';
  }
}

function isRetryable(code: HttpErrorName): boolean {
  return code === 'RateLimit' || code === 'ServiceUnavailable';
}

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

  /** GET `path?query` and validate `value` as `body`. */
  get<N extends RestBodyName>(path: string, query: Query, body: N, options: CallOptions = {}): Promise<RestBody<N>> {
    const url = this.#url(path, query);
    return this.#withRetries(options.retryOn ?? READ_RETRY, () => this.#once(url, { method: 'GET' }, body));
  }

  /** POST raw bytes (`application/octet-stream`) and validate `value` as `body`. */
  post<N extends RestBodyName>(path: string, bytes: Uint8Array, body: N, options: CallOptions = {}): Promise<RestBody<N>> {
    const url = this.#url(path, {});
    const init: RequestInit = { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: new Uint8Array(bytes) };
    return this.#withRetries(options.retryOn ?? POST_RETRY, () => this.#once(url, init, body));
  }

  #url(path: string, query: Query): string {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
    const qs = params.toString();
    return `${this.#baseUrl}${path}${qs === '' ? '' : `?${qs}`}`;
  }

  async #withRetries<T>(retryOn: readonly HttpErrorName[], attempt: () => Promise<T>): Promise<T> {
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

  async #once<N extends RestBodyName>(url: string, init: RequestInit, body: N): Promise<RestBody<N>> {
    let response: Response;
    let text: string;
    try {
      const signal = this.#timeoutMs > 0 ? AbortSignal.timeout(this.#timeoutMs) : undefined;
      response = await this.#fetch(url, signal === undefined ? init : { ...init, signal });
      text = await response.text();
    } catch (error) {
      const what = error instanceof Error ? (error.name === 'TimeoutError' ? 'timed out' : causeCode(error)) : 'failed';
      throw new VenueHttpError(0, 'ServiceUnavailable', `${init.method ?? 'GET'} ${pathOf(url)}: no answer (${what})`, true);
    }
    const envelope = parseEnvelope(text);
    if (!response.ok || (envelope.ok && !envelope.value.success)) {
      const status = response.ok ? 200 : response.status;
      const fromBody = envelope.ok ? parseRestBody('error', envelope.value.value) : undefined;
      const code = fromBody?.ok === true ? fromBody.value.code : errorNameOfStatus(status);
      const detail = fromBody?.ok === true ? fromBody.value.message : `HTTP ${status}`;
      throw new VenueHttpError(status, code, `${init.method ?? 'GET'} ${pathOf(url)}: ${code}: ${detail}`, isRetryable(code));
    }
    if (!envelope.ok) throw new VenueBodyError(envelope.error.code, envelope.error.path, `${pathOf(url)}: ${envelope.error.message}`);
    const parsed = parseRestBody(body, envelope.value.value);
    if (!parsed.ok) {
      throw new VenueBodyError(parsed.error.code, parsed.error.path, `${pathOf(url)}: ${parsed.error.path}: ${parsed.error.message}`);
    }
    return parsed.value;
  }
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
