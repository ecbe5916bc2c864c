import type { Eip712Venue, OrderParams, TraderSigner } from '../derivadex/crypto/eip712.ts';
import { encryptRequest } from '../derivadex/crypto/encryption.ts';
import type { NonceSource } from '../derivadex/crypto/nonce.ts';
import { buildCancelAllRequest, buildCancelOrderRequest, buildOrderRequest } from '../derivadex/crypto/request.ts';
import type { EphemeralSource } from './ephemeral-source.ts';
import { PATHS, type HttpErrorName, type RequestReceipt } from './protocol.ts';
import { VenueHttpError, type RestClient } from './rest-client.ts';

/*
 * Signed, encrypted requests: build the plaintext (crypto/request.ts), sign it (EIP-712), encrypt it to
 * the operator's key and POST it as octet-stream; the answer is a receipt (the request was sequenced).
 *
 * - The operator key (GET /v2/encryption-key) is cached; on 422 InvalidEncryption it is fetched again
 *   once and the same request re-encrypted (it was not sequenced: the venue could not read it).
 * - 412 IllegalNonce / ExpiredTimestamp: never re-sent with the same nonce. The request is re-signed
 *   with a fresh nonce (at most `nonceRetries` times): the refusal proves it was not sequenced, and for an
 *   order the fresh nonce gives a new orderHash, announced through `onSigned` before it is sent.
 * - Any failure before the POST is a `RequestNotSentError` (certainly not sequenced). A failure of the
 *   POST is a VenueHttpError: 4xx and an exhausted 429 mean refused, 503 / no answer mean unknown
 *   (see `requestOutcome`): the caller reconciles before believing anything.
 */

export class RequestNotSentError extends Error {
  override readonly name = 'RequestNotSentError';
  constructor(
    /** The HTTP error that stopped us (fetching the key), or 'SigningFailed' for a local refusal. */
    readonly code: HttpErrorName | 'SigningFailed',
    message: string,
  ) {
    super(message);
  }
}

/** What a failed request tells about the venue's state. */
export type RequestOutcome = 'refused' | 'unknown';

export function requestOutcome(error: unknown): RequestOutcome {
  if (error instanceof RequestNotSentError) return 'refused';
  if (error instanceof VenueHttpError) return error.status === 0 || error.code === 'ServiceUnavailable' ? 'unknown' : 'refused';
  return 'unknown';
}

/** The error's code name, for a lifecycle `reason`. */
export function requestErrorCode(error: unknown): string {
  if (error instanceof RequestNotSentError || error instanceof VenueHttpError) return error.code;
  return 'RequestFailed';
}

export interface RequestSenderOptions {
  rest: RestClient;
  signer: TraderSigner;
  /** Signing domain and amount scale; known after exchange_info, hence a getter. */
  venue: () => Eip712Venue;
  nonces: NonceSource;
  /** Ephemeral encryption material; seeded in simulation (createEphemeralSource). */
  ephemeral: EphemeralSource;
  /** Fresh-nonce re-signs after 412 (default 1). */
  nonceRetries?: number;
}

export interface OrderToSend {
  symbol: string;
  strategy: string;
  side: OrderParams['side'];
  orderType: OrderParams['orderType'];
  amount: string;
  /** "0" for market orders. */
  price: string;
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
      const fetching = this.#rest.get(PATHS.encryptionKey, {}, 'encryptionKey');
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

export class RequestSender {
  readonly #rest: RestClient;
  readonly #signer: TraderSigner;
  readonly #venue: () => Eip712Venue;
  readonly #nonces: NonceSource;
  readonly #ephemeral: EphemeralSource;
  readonly #nonceRetries: number;
  readonly #operatorKey: OperatorKey;

  constructor(options: RequestSenderOptions, operatorKey?: OperatorKey) {
    this.#rest = options.rest;
    this.#signer = options.signer;
    this.#venue = options.venue;
    this.#nonces = options.nonces;
    this.#ephemeral = options.ephemeral;
    this.#nonceRetries = options.nonceRetries ?? 1;
    this.#operatorKey = operatorKey ?? new OperatorKey(options.rest);
  }

  get traderAddress(): string {
    return this.#signer.address;
  }

  /** Signs and sends an Order. `onSigned` learns the orderHash before anything is sent. */
  async placeOrder(order: OrderToSend, onSigned: OnSigned): Promise<{ receipt: RequestReceipt; orderHash: string }> {
    let previous: string | undefined;
    let orderHash = '';
    const receipt = await this.#withFreshNonces((nonce) => {
      const built = this.#sign(() => buildOrderRequest(this.#signer, { ...order, nonce, stopPrice: '0' }, this.#venue()));
      orderHash = built.orderHash;
      onSigned(orderHash, previous);
      previous = orderHash;
      return built.json;
    });
    return { receipt, orderHash };
  }

  cancelOrder(cancel: { symbol: string; orderHash: string }): Promise<RequestReceipt> {
    return this.#withFreshNonces(
      (nonce) => this.#sign(() => buildCancelOrderRequest(this.#signer, { ...cancel, nonce }, this.#venue())).json,
    );
  }

  cancelAll(cancelAll: { symbol: string; strategy: string }): Promise<RequestReceipt> {
    return this.#withFreshNonces(
      (nonce) => this.#sign(() => buildCancelAllRequest(this.#signer, { ...cancelAll, nonce }, this.#venue())).json,
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

  async #withFreshNonces(build: (nonce: string) => string): Promise<RequestReceipt> {
    for (let attempt = 0; ; attempt += 1) {
      const json = build(this.#nonces.next());
      try {
        return await this.#send(json);
      } catch (error) {
        const staleNonce = error instanceof VenueHttpError && error.status === 412;
        if (!staleNonce || attempt >= this.#nonceRetries) throw error;
      }
    }
  }

  async #send(json: string): Promise<RequestReceipt> {
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

  #post(json: string, operatorKey: string): Promise<RequestReceipt> {
    let wire: Uint8Array;
    try {
      wire = encryptRequest(json, operatorKey, this.#ephemeral());
    } catch (error) {
      throw new RequestNotSentError(
        'SigningFailed',
        `cannot encrypt the request: ${error instanceof Error ? error.message : 'unknown error'}`,
      );
    }
    return this.#rest.post(PATHS.request, wire, 'receipt');
  }
}

function notSent(error: unknown): RequestNotSentError {
  if (error instanceof VenueHttpError) return new RequestNotSentError(error.code, `operator key unavailable: ${error.message}`);
  return new RequestNotSentError(
    'ServiceUnavailable',
    `operator key unavailable: ${error instanceof Error ? error.message : 'unknown error'}`,
  );
}
