import type { Clock } from '../clock/clock.ts';
import { SAFETY_FAILURES } from '../derivadex/codes.ts';
import type { Eip712Venue, OrderParams, TraderSigner } from '../derivadex/crypto/eip712.ts';
import { encryptRequest } from '../derivadex/crypto/encryption.ts';
import type { NonceSource } from '../derivadex/crypto/nonce.ts';
import { buildCancelAllRequest, buildCancelOrderRequest, buildOrderRequest, type ReplayWindow } from '../derivadex/crypto/request.ts';
import { PATHS } from '../derivadex/paths.ts';
import { encryptionKeySchema } from '../derivadex/rest-bodies.ts';
import { DEFAULT_RECV_WINDOW_MS, type Receipt, type SequencedReceipt } from '../derivadex/signed-requests.ts';
import type { EphemeralSource } from './ephemeral-source.ts';
import { VenueHttpError, type RestClient, type RestErrorCode } from './rest-client.ts';

/*
 * Signed, encrypted requests: build the plaintext (crypto/request.ts) with the replay window from the
 * injected clock, sign it (EIP-712), encrypt it to the operator's key and POST it as octet-stream. The
 * answer is a receipt (docs/derivadex-sources.md §4.4, §10.9): `Sequenced` (the request is in the
 * sequence; its business outcome arrives on the feeds) or `SafetyFailure` (refused on its merits).
 *
 * - The operator key (GET /v2/encryption-key, a bare string) is cached; on 422 InvalidEncryption it is
 *   fetched again once and the request re-encrypted with fresh material (the venue could not read it,
 *   so it was not sequenced).
 * - 412 IllegalNonce / ExpiredTimestamp / FutureTimestamp: the same bytes are never sent again. The
 *   request is rebuilt with a fresh nonce AND a fresh `client_timestamp_ms` (at most `nonceRetries`
 *   times; docs error reference "rebuild with fresh replay fields"): the refusal proves it was not
 *   sequenced, and for an order the fresh nonce gives a new orderHash, announced through `onSigned`
 *   before it is sent.
 * - A `SafetyFailure` receipt (HTTP 200) or an HTTP 422 SafetyFailure is a `SafetyFailureError` whose
 *   `inner` (the variant name) is the refusal's reason.
 * - Any failure before the POST is a `RequestNotSentError` (certainly not sequenced). A failure of the
 *   POST is a VenueHttpError: 4xx and an exhausted 429 mean refused, 5xx / no answer mean unknown
 *   (see `requestOutcome`): the caller reconciles before believing anything.
 * - The receipt carries no orderHash: an order's hash is the first 25 bytes of its EIP-712 digest,
 *   computed here when it is signed.
 */

export class RequestNotSentError extends Error {
  override readonly name = 'RequestNotSentError';
  constructor(
    /** The HTTP error that stopped us (fetching the key), or 'SigningFailed' for a local refusal. */
    readonly code: RestErrorCode | 'SigningFailed',
    message: string,
  ) {
    super(message);
  }
}

/** The operator refused the request on its merits (a `SafetyFailure` receipt, or HTTP 422 SafetyFailure). */
export class SafetyFailureError extends Error {
  override readonly name = 'SafetyFailureError';
  readonly code = 'SafetyFailure';
  constructor(
    /** The variant name, e.g. `PriceNotMultipleOfTickSize`. */
    readonly inner: string,
    message: string,
  ) {
    super(message);
  }
}

/** What a failed request tells about the venue's state. */
export type RequestOutcome = 'refused' | 'unknown';

export function requestOutcome(error: unknown): RequestOutcome {
  if (error instanceof RequestNotSentError || error instanceof SafetyFailureError) return 'refused';
  if (error instanceof VenueHttpError) {
    return error.status === 0 || error.status >= 500 || error.code === 'ServiceUnavailable' ? 'unknown' : 'refused';
  }
  return 'unknown';
}

/** The error's name, for a lifecycle `reason`: a safety failure's variant, else the error class. */
export function requestErrorCode(error: unknown): string {
  if (error instanceof SafetyFailureError) return error.inner;
  if (error instanceof RequestNotSentError || error instanceof VenueHttpError) return error.code;
  return 'RequestFailed';
}

/**
 * A variant name from `inner` / `safety_failure`: the name as sent, or the variant at that index of the
 * operator's enum when a number comes (the SDK accepts both; the numbering is the enum's order, UNCONFIRMED).
 */
export function safetyFailureName(inner: string | number | undefined): string {
  if (inner === undefined) return 'SafetyFailure';
  if (typeof inner === 'string') return inner;
  return SAFETY_FAILURES[inner] ?? `SafetyFailure(${inner})`;
}

export interface RequestSenderOptions {
  rest: RestClient;
  signer: TraderSigner;
  /** Signing domain and amount scale; known after bootstrap, hence a getter. */
  venue: () => Eip712Venue;
  nonces: NonceSource;
  /** Ephemeral encryption material; seeded in simulation (createEphemeralSource). */
  ephemeral: EphemeralSource;
  /** `client_timestamp_ms` of each request is `clock.now()`: the run's clock, simulated or wall. */
  clock: Clock;
  /** `recv_window_ms` (a venue setting); default DEFAULT_RECV_WINDOW_MS. */
  recvWindowMs?: number;
  /** Rebuilds with a fresh nonce and timestamp after 412 (default 1). */
  nonceRetries?: number;
}

export interface OrderToSend {
  symbol: string;
  strategy: string;
  side: OrderParams['side'];
  /** codes.ts ORDER_TYPE: 0 Limit, 1 Market (the client sends these), 2 Stop, 3 LimitPostOnly. */
  orderType: OrderParams['orderType'];
  amount: string;
  /** "0" for market orders. */
  price: string;
  /** Default "0" (anything but a Stop order). */
  stopPrice?: string;
}

/** Called with each signed orderHash before it is sent; `previous` is the hash it replaces after a 412. */
export type OnSigned = (orderHash: string, previous: string | undefined) => void;

/** The operator key cache, shared by every sender talking to one venue. */
export class OperatorKey {
  readonly #rest: RestClient;
  #key: Promise<string> | undefined;

  constructor(rest: RestClient) {
    this.#rest = rest;
  }

  get(): Promise<string> {
    if (this.#key === undefined) {
      // A bare JSON string (SDK signed_client.py `_get_or_fetch_encryption_key`).
      const fetching = this.#rest.getBare(PATHS.encryptionKey, {}, encryptionKeySchema);
      this.#key = fetching;
      fetching.catch(() => {
        if (this.#key === fetching) this.#key = undefined;
      });
    }
    return this.#key;
  }

  /** Drops the cached key if it is still `stale` (another caller may have refreshed it already). */
  async refresh(stale: string): Promise<string> {
    const current = await this.get().catch(() => undefined);
    if (current === stale) this.#key = undefined;
    return this.get();
  }
}

type Build = (nonce: string, replay: ReplayWindow) => string;

export class RequestSender {
  readonly #rest: RestClient;
  readonly #signer: TraderSigner;
  readonly #venue: () => Eip712Venue;
  readonly #nonces: NonceSource;
  readonly #ephemeral: EphemeralSource;
  readonly #clock: Clock;
  readonly #recvWindowMs: number;
  readonly #nonceRetries: number;
  readonly #operatorKey: OperatorKey;

  constructor(options: RequestSenderOptions, operatorKey?: OperatorKey) {
    this.#rest = options.rest;
    this.#signer = options.signer;
    this.#venue = options.venue;
    this.#nonces = options.nonces;
    this.#ephemeral = options.ephemeral;
    this.#clock = options.clock;
    this.#recvWindowMs = options.recvWindowMs ?? DEFAULT_RECV_WINDOW_MS;
    if (!Number.isInteger(this.#recvWindowMs) || this.#recvWindowMs < 1) throw new RangeError('recvWindowMs must be an integer >= 1');
    this.#nonceRetries = options.nonceRetries ?? 1;
    this.#operatorKey = operatorKey ?? new OperatorKey(options.rest);
  }

  get traderAddress(): string {
    return this.#signer.address;
  }

  /** Signs and sends an Order. `onSigned` learns the orderHash before anything is sent. */
  async placeOrder(order: OrderToSend, onSigned: OnSigned): Promise<{ receipt: SequencedReceipt['c']; orderHash: string }> {
    let previous: string | undefined;
    let orderHash = '';
    const { stopPrice, ...rest } = order;
    const receipt = await this.#withFreshNonces((nonce, replay) => {
      const built = this.#sign(() =>
        buildOrderRequest(this.#signer, { ...rest, stopPrice: stopPrice ?? '0', nonce }, this.#venue(), replay),
      );
      orderHash = built.orderHash;
      onSigned(orderHash, previous);
      previous = orderHash;
      return built.json;
    });
    return { receipt, orderHash };
  }

  cancelOrder(cancel: { symbol: string; orderHash: string }): Promise<SequencedReceipt['c']> {
    return this.#withFreshNonces(
      (nonce, replay) => this.#sign(() => buildCancelOrderRequest(this.#signer, { ...cancel, nonce }, this.#venue(), replay)).json,
    );
  }

  cancelAll(cancelAll: { symbol: string; strategy: string }): Promise<SequencedReceipt['c']> {
    return this.#withFreshNonces(
      (nonce, replay) => this.#sign(() => buildCancelAllRequest(this.#signer, { ...cancelAll, nonce }, this.#venue(), replay)).json,
    );
  }

  #sign<T>(build: () => T): T {
    try {
      return build();
    } catch (error) {
      // The builders' errors describe inputs (symbol, amount scale), never the key.
      throw new RequestNotSentError('SigningFailed', error instanceof Error ? error.message : 'cannot sign the request');
    }
  }

  async #withFreshNonces(build: Build): Promise<SequencedReceipt['c']> {
    for (let attempt = 0; ; attempt += 1) {
      // Fresh replay fields with every build: a 412 may be about the timestamp as much as the nonce.
      const json = build(this.#nonces.next(), { client_timestamp_ms: this.#clock.now(), recv_window_ms: this.#recvWindowMs });
      try {
        return sequenced(await this.#send(json));
      } catch (error) {
        const stale = error instanceof VenueHttpError && error.status === 412;
        if (!stale || attempt >= this.#nonceRetries) throw refusal(error);
      }
    }
  }

  async #send(json: string): Promise<Receipt> {
    let key: string;
    try {
      key = await this.#operatorKey.get();
    } catch (error) {
      throw notSent(error);
    }
    try {
      return await this.#post(json, key);
    } catch (error) {
      if (!(error instanceof VenueHttpError) || error.code !== 'InvalidEncryption') throw error;
    }
    let fresh: string;
    try {
      fresh = await this.#operatorKey.refresh(key);
    } catch (error) {
      throw notSent(error);
    }
    return this.#post(json, fresh);
  }

  #post(json: string, operatorKey: string): Promise<Receipt> {
    let wire: Uint8Array;
    try {
      wire = encryptRequest(json, operatorKey, this.#ephemeral());
    } catch (error) {
      throw new RequestNotSentError(
        'SigningFailed',
        `cannot encrypt the request: ${error instanceof Error ? error.message : 'unknown error'}`,
      );
    }
    return this.#rest.postRequest(wire);
  }
}

function sequenced(receipt: Receipt): SequencedReceipt['c'] {
  if (receipt.t === 'Sequenced') return receipt.c;
  const inner = safetyFailureName(receipt.c.inner);
  throw new SafetyFailureError(inner, `refused: ${inner}: ${receipt.c.message}`);
}

/** An HTTP 422 SafetyFailure is the same refusal as the receipt; other errors pass unchanged. */
function refusal(error: unknown): unknown {
  if (error instanceof VenueHttpError && error.code === 'SafetyFailure') {
    return new SafetyFailureError(safetyFailureName(error.safetyFailure), error.message);
  }
  return error;
}

function notSent(error: unknown): RequestNotSentError {
  if (error instanceof VenueHttpError) return new RequestNotSentError(error.code, `operator key unavailable: ${error.message}`);
  return new RequestNotSentError(
    'ServiceUnavailable',
    `operator key unavailable: ${error instanceof Error ? error.message : 'unknown error'}`,
  );
}
