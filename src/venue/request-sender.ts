import type { Clock } from '../clock/clock.ts';
import { SAFETY_FAILURES } from '../derivadex/codes.ts';
import { dataSlice, getBytes } from 'ethers';
import { digestOfWords } from '../derivadex/crypto/eip712-digest.ts';
import { ORDER_HASH_BYTES, signerSecretKey, type Eip712Venue, type OrderParams, type TraderSigner } from '../derivadex/crypto/eip712.ts';
import { encryptWithMaterial } from '../derivadex/crypto/encryption.ts';
import type { NonceSource } from '../derivadex/crypto/nonce.ts';
import {
  prepareCancelAllRequest,
  prepareCancelOrderRequest,
  prepareOrderRequest,
  signPrepared,
  type PreparedRequest,
  type ReplayWindow,
} from '../derivadex/crypto/request.ts';
import { PATHS } from '../derivadex/paths.ts';
import { encryptionKeySchema } from '../derivadex/rest-bodies.ts';
import { DEFAULT_RECV_WINDOW_MS, type Receipt, type SequencedReceipt } from '../derivadex/signed-requests.ts';
import { EphemeralPool } from './ephemeral-pool.ts';
import type { EphemeralSource } from './ephemeral-source.ts';
import { VenueHttpError, type RestClient, type RestErrorCode } from './rest-client.ts';
import type { SignResult, SigningWorkers } from './signing-workers.ts';

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
 * - Speed (docs/venue-client.md, "Signing and encryption at speed"): encryption material comes from an
 *   EphemeralPool (ECDH done while idle); with `signing`, a request submitted while others wait in the
 *   same turn is signed on a worker thread, and requests still go out in the order they were built.
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
  /** Worker threads for bursts, shared by a client's senders; absent: every request is signed inline. */
  signing?: SigningWorkers;
  /** Ready keys in this sender's EphemeralPool (default 2). */
  ephemeralPoolSize?: number;
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
  readonly #listeners: ((key: string) => void)[] = [];
  #key: Promise<string> | undefined;

  constructor(rest: RestClient) {
    this.#rest = rest;
  }

  get(): Promise<string> {
    if (this.#key === undefined) {
      // A bare JSON string (SDK signed_client.py `_get_or_fetch_encryption_key`).
      const fetching = this.#rest.getBare(PATHS.encryptionKey, {}, encryptionKeySchema);
      this.#key = fetching;
      fetching.then(
        (key) => {
          for (const listener of this.#listeners) listener(key);
        },
        () => {
          if (this.#key === fetching) this.#key = undefined;
        },
      );
    }
    return this.#key;
  }

  /** Calls `listener` with every key fetched from now on (and the current one, once it is known). */
  onKey(listener: (key: string) => void): void {
    this.#listeners.push(listener);
    this.#key?.then(listener, () => {});
  }

  /** Drops the cached key if it is still `stale` (another caller may have refreshed it already). */
  async refresh(stale: string): Promise<string> {
    const current = await this.get().catch(() => undefined);
    if (current === stale) this.#key = undefined;
    return this.get();
  }
}

/** The request's JSON, now (signed inline) or once a worker thread has signed it. */
type Build = (nonce: string, replay: ReplayWindow) => string | Promise<string>;

export class RequestSender {
  readonly #rest: RestClient;
  readonly #signer: TraderSigner;
  readonly #venue: () => Eip712Venue;
  readonly #nonces: NonceSource;
  readonly #clock: Clock;
  readonly #recvWindowMs: number;
  readonly #nonceRetries: number;
  readonly #operatorKey: OperatorKey;
  readonly #pool: EphemeralPool;
  readonly #signing: SigningWorkers | undefined;

  constructor(options: RequestSenderOptions, operatorKey?: OperatorKey) {
    this.#rest = options.rest;
    this.#signer = options.signer;
    this.#venue = options.venue;
    this.#nonces = options.nonces;
    this.#clock = options.clock;
    this.#recvWindowMs = options.recvWindowMs ?? DEFAULT_RECV_WINDOW_MS;
    if (!Number.isInteger(this.#recvWindowMs) || this.#recvWindowMs < 1) throw new RangeError('recvWindowMs must be an integer >= 1');
    this.#nonceRetries = options.nonceRetries ?? 1;
    this.#operatorKey = operatorKey ?? new OperatorKey(options.rest);
    this.#signing = options.signing;
    this.#pool = new EphemeralPool(
      options.ephemeral,
      options.ephemeralPoolSize === undefined ? {} : { capacity: options.ephemeralPoolSize },
    );
    this.#operatorKey.onKey((key) => this.#pool.prime(key));
  }

  /** Stops preparing encryption material (requests still work, deriving it inline). */
  close(): void {
    this.#pool.close();
  }

  /** The sender's EphemeralPool figures: how much encryption was prepared ahead. */
  get ephemeralStats(): EphemeralPool['stats'] {
    return this.#pool.stats;
  }

  get traderAddress(): string {
    return this.#signer.address;
  }

  /** Signs and sends an Order. `onSigned` learns the orderHash before anything is sent. */
  async placeOrder(order: OrderToSend, onSigned: OnSigned): Promise<{ receipt: SequencedReceipt['c']; orderHash: string }> {
    let previous: string | undefined;
    let orderHash = '';
    // Once per build: right after signing inline (as always), or before a worker thread signs (the
    // hash is the digest's, known already), so that the order is tracked before anything can answer.
    const announce = (hash: string): void => {
      if (hash === orderHash) return;
      orderHash = hash;
      onSigned(hash, previous);
      previous = hash;
    };
    const { stopPrice, ...rest } = order;
    const receipt = await this.#withFreshNonces((nonce, replay) =>
      this.#sign(
        () => prepareOrderRequest({ ...rest, stopPrice: stopPrice ?? '0', nonce }, this.#venue(), replay),
        (built) => {
          announce(built.orderHash);
          return built.json;
        },
        (digest) => announce(dataSlice(digest, 0, ORDER_HASH_BYTES)),
      ),
    );
    return { receipt, orderHash };
  }

  cancelOrder(cancel: { symbol: string; orderHash: string }): Promise<SequencedReceipt['c']> {
    return this.#withFreshNonces((nonce, replay) =>
      this.#sign(
        () => prepareCancelOrderRequest({ ...cancel, nonce }, this.#venue(), replay),
        (built) => built.json,
      ),
    );
  }

  cancelAll(cancelAll: { symbol: string; strategy: string }): Promise<SequencedReceipt['c']> {
    return this.#withFreshNonces((nonce, replay) =>
      this.#sign(
        () => prepareCancelAllRequest({ ...cancelAll, nonce }, this.#venue(), replay),
        (built) => built.json,
      ),
    );
  }

  /**
   * Prepares and signs: inline (synchronously) unless the worker threads take it as part of a burst,
   * in which case `beforeThreads` learns the digest first.
   */
  #sign<R>(
    prepare: () => PreparedRequest<R>,
    then: (built: R) => string,
    beforeThreads?: (digest: string) => void,
  ): string | Promise<string> {
    let prepared: PreparedRequest<R>;
    let digest: string;
    let threaded: Promise<SignResult> | undefined;
    let inline: R | undefined;
    try {
      prepared = prepare();
      if (this.#signing === undefined) inline = signPrepared(this.#signer, prepared);
      else {
        digest = digestOfWords(prepared.input.separator, prepared.input.words);
        const signed = this.#signing.sign({ digest: getBytes(digest), secretKey: signerSecretKey(this.#signer) });
        if (signed instanceof Promise) threaded = signed;
        else inline = prepared.finish(signed.signature, digest);
      }
    } catch (error) {
      throw signingFailed(error);
    }
    // `then` (the caller's onSigned) runs outside the try: its errors are its own, not a signing failure.
    if (threaded === undefined) return then(inline as R);
    beforeThreads?.(digest!);
    return threaded.then(
      (result) => {
        let built: R;
        try {
          built = prepared.finish(result.signature, digest);
        } catch (error) {
          throw signingFailed(error);
        }
        return then(built);
      },
      (error: unknown) => {
        throw signingFailed(error);
      },
    );
  }

  async #withFreshNonces(build: Build): Promise<SequencedReceipt['c']> {
    for (let attempt = 0; ; attempt += 1) {
      // Fresh replay fields with every build: a 412 may be about the timestamp as much as the nonce.
      const built = build(this.#nonces.next(), { client_timestamp_ms: this.#clock.now(), recv_window_ms: this.#recvWindowMs });
      // Inline signing stays synchronous: no extra turn before the send, as before the worker threads.
      const json = typeof built === 'string' ? built : await built;
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
      wire = encryptWithMaterial(json, this.#pool.take(operatorKey));
    } catch (error) {
      throw new RequestNotSentError(
        'SigningFailed',
        `cannot encrypt the request: ${error instanceof Error ? error.message : 'unknown error'}`,
      );
    }
    return this.#rest.postRequest(wire);
  }
}

// The builders' errors describe inputs (symbol, amount scale), never the key.
function signingFailed(error: unknown): RequestNotSentError {
  if (error instanceof RequestNotSentError) return error;
  return new RequestNotSentError('SigningFailed', error instanceof Error ? error.message : 'cannot sign the request');
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
