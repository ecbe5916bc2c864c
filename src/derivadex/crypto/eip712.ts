import {
  Signature,
  TypedDataEncoder,
  concat,
  dataSlice,
  getAddress,
  getBytes,
  hexlify,
  isAddress,
  isHexString,
  zeroPadBytes,
  type BaseWallet,
  type TypedDataDomain,
  type TypedDataField,
} from 'ethers';
import { ORDER_TYPE, type OrderTypeCode } from '../codes.ts';
import { encodeBytes32String } from './bytes32.ts';
import { domainSeparator, staticStruct, staticStructDigest, staticStructWords, type StaticStruct } from './eip712-digest.ts';
import { scaleToInteger } from './scaling.ts';
import { secp256k1Backend } from './secp256k1-backend.ts';
import { keccak256Hex } from './keccak.ts';

/**
 * EIP-712 typed data of DerivaDEX requests: the domain, the three structs we send, their hashes and
 * signatures. Orders are written in human decimals ("10.6") and scaled here by the venue's `decimals`.
 * Domain and struct field lists: docs how-to-guides/sign-requests-with-eip712 (docs/derivadex-sources.md
 * §4.2). The replay-window fields are not in those lists and are not hashed (§10.10).
 */

/** What signing needs to know about a venue. */
export interface Eip712Venue {
  chainId: number | bigint;
  /** The DerivaDEX contract that verifies signatures (EIP-712 `verifyingContract`). */
  verifyingContract: string;
  /** Scale of amounts and prices in signed messages: integer = value × 10^decimals (see scaling.ts). */
  decimals: number;
}

export type VenueSide = 'Bid' | 'Ask';

/** Numeric value of the side inside the signed struct (the request itself spells it "Bid" / "Ask"). */
export const SIDE_CODE: Readonly<Record<VenueSide, number>> = { Bid: 0, Ask: 1 };
const ORDER_TYPE_CODES: readonly number[] = Object.values(ORDER_TYPE);

/** An order as it is signed, in human units. */
export interface OrderParams {
  symbol: string;
  strategy: string;
  side: VenueSide;
  /** 0 Limit, 1 Market, 2 Stop, 3 LimitPostOnly (codes.ts ORDER_TYPE): the same integer in `c` and in the struct. */
  orderType: OrderTypeCode;
  /** bytes32, 0x-hex (see nonce.ts). */
  nonce: string;
  amount: string;
  /** "0" for market orders. */
  price: string;
  /** "0" unless a Stop order. */
  stopPrice: string;
}

export interface CancelOrderParams {
  symbol: string;
  /** The order's 25-byte hash (0x + 50 hex digits), as `signOrder` returns it. */
  orderHash: string;
  nonce: string;
}

export interface CancelAllParams {
  symbol: string;
  strategy: string;
  nonce: string;
}

export const ORDER_PARAMS_TYPES: Record<string, TypedDataField[]> = {
  OrderParams: [
    { name: 'symbol', type: 'bytes32' },
    { name: 'strategy', type: 'bytes32' },
    { name: 'side', type: 'uint256' },
    { name: 'orderType', type: 'uint256' },
    { name: 'nonce', type: 'bytes32' },
    { name: 'amount', type: 'uint256' },
    { name: 'price', type: 'uint256' },
    { name: 'stopPrice', type: 'uint256' },
  ],
};

export const CANCEL_ORDER_PARAMS_TYPES: Record<string, TypedDataField[]> = {
  CancelOrderParams: [
    { name: 'symbol', type: 'bytes32' },
    { name: 'orderHash', type: 'bytes32' },
    { name: 'nonce', type: 'bytes32' },
  ],
};

export const CANCEL_ALL_PARAMS_TYPES: Record<string, TypedDataField[]> = {
  CancelAllParams: [
    { name: 'symbol', type: 'bytes32' },
    { name: 'strategy', type: 'bytes32' },
    { name: 'nonce', type: 'bytes32' },
  ],
};

/** Bytes of an order hash: the first 25 bytes of the order's EIP-712 digest. */
export const ORDER_HASH_BYTES = 25;

export type SigningInputErrorCode = 'bad-venue' | 'bad-side' | 'bad-order-type' | 'bad-nonce' | 'bad-order-hash' | 'bad-signature';

export class SigningInputError extends Error {
  override readonly name = 'SigningInputError';
  constructor(
    readonly code: SigningInputErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface TypedData {
  domain: TypedDataDomain;
  types: Record<string, TypedDataField[]>;
  primaryType: string;
  message: Record<string, string | bigint | number>;
}

/** A signer that holds its key in memory; `new Wallet(key)` is one. Signing is synchronous. */
export type TraderSigner = Pick<BaseWallet, 'signingKey' | 'address'>;

export interface SignedOrder {
  /** 65 bytes r ‖ s ‖ v with v = 27/28, 0x-hex. */
  signature: string;
  /** First 25 bytes of the EIP-712 digest, 0x-hex: the venue's id for the order. */
  orderHash: string;
  /** The full EIP-712 digest that was signed. */
  digest: string;
}

export interface SignedRequest {
  signature: string;
  digest: string;
}

interface VenueDomain {
  domain: TypedDataDomain;
  separator: Uint8Array;
}

// Per venue, once: the checked domain and its separator. Keyed by the raw settings, so a venue object
// rebuilt with the same values shares the entry; few venues per process, so the map stays small.
const venueDomains = new Map<string, VenueDomain>();
const MAX_CACHED_DOMAINS = 64;

function venueDomain(venue: Eip712Venue): VenueDomain {
  const key = `${String(venue.chainId)}|${typeof venue.chainId}|${String(venue.verifyingContract)}`;
  let entry = venueDomains.get(key);
  if (entry === undefined) {
    const chainId = typeof venue.chainId === 'bigint' ? venue.chainId : Number.isSafeInteger(venue.chainId) ? BigInt(venue.chainId) : -1n;
    if (chainId < 0n) throw new SigningInputError('bad-venue', 'chainId must be a non-negative integer');
    if (typeof venue.verifyingContract !== 'string' || !isAddress(venue.verifyingContract)) {
      throw new SigningInputError('bad-venue', 'verifyingContract must be an address');
    }
    const domain = { name: 'DerivaDEX', version: '1', chainId, verifyingContract: getAddress(venue.verifyingContract) };
    entry = { domain, separator: domainSeparator(domain) };
    if (venueDomains.size >= MAX_CACHED_DOMAINS) venueDomains.clear();
    venueDomains.set(key, entry);
  }
  return entry;
}

export function eip712Domain(venue: Eip712Venue): TypedDataDomain {
  return { ...venueDomain(venue).domain };
}

function bytes32Nonce(nonce: string): string {
  if (!isHexString(nonce, 32)) throw new SigningInputError('bad-nonce', 'nonce must be a bytes32: 0x followed by 64 hex digits');
  return nonce.toLowerCase();
}

/** The 25-byte order hash right-padded with 7 zero bytes: how CancelOrderParams carries it. */
export function orderHashAsBytes32(orderHash: string): string {
  if (!isHexString(orderHash, ORDER_HASH_BYTES)) {
    throw new SigningInputError(
      'bad-order-hash',
      `orderHash must be ${ORDER_HASH_BYTES} bytes: 0x followed by ${2 * ORDER_HASH_BYTES} hex digits`,
    );
  }
  return zeroPadBytes(orderHash.toLowerCase(), 32);
}

export function orderTypedData(order: OrderParams, venue: Eip712Venue): TypedData {
  if (!Object.hasOwn(SIDE_CODE, order.side)) throw new SigningInputError('bad-side', 'side must be "Bid" or "Ask"');
  if (!ORDER_TYPE_CODES.includes(order.orderType)) {
    throw new SigningInputError('bad-order-type', 'orderType must be 0 (Limit), 1 (Market), 2 (Stop) or 3 (LimitPostOnly)');
  }
  return {
    domain: eip712Domain(venue),
    types: ORDER_PARAMS_TYPES,
    primaryType: 'OrderParams',
    message: {
      symbol: encodeBytes32String(order.symbol),
      strategy: encodeBytes32String(order.strategy),
      side: SIDE_CODE[order.side],
      orderType: order.orderType,
      nonce: bytes32Nonce(order.nonce),
      amount: scaleToInteger(order.amount, venue.decimals),
      price: scaleToInteger(order.price, venue.decimals),
      stopPrice: scaleToInteger(order.stopPrice, venue.decimals),
    },
  };
}

export function cancelOrderTypedData(cancel: CancelOrderParams, venue: Eip712Venue): TypedData {
  return {
    domain: eip712Domain(venue),
    types: CANCEL_ORDER_PARAMS_TYPES,
    primaryType: 'CancelOrderParams',
    message: {
      symbol: encodeBytes32String(cancel.symbol),
      orderHash: orderHashAsBytes32(cancel.orderHash),
      nonce: bytes32Nonce(cancel.nonce),
    },
  };
}

export function cancelAllTypedData(cancelAll: CancelAllParams, venue: Eip712Venue): TypedData {
  return {
    domain: eip712Domain(venue),
    types: CANCEL_ALL_PARAMS_TYPES,
    primaryType: 'CancelAllParams',
    message: {
      symbol: encodeBytes32String(cancelAll.symbol),
      strategy: encodeBytes32String(cancelAll.strategy),
      nonce: bytes32Nonce(cancelAll.nonce),
    },
  };
}

/** keccak256(0x1901 ‖ domainSeparator ‖ hashStruct(message)), by ethers' generic encoder (the reference). */
export function typedDataDigest(data: TypedData): string {
  return TypedDataEncoder.hash(data.domain, data.types, data.message);
}

const STRUCTS: Readonly<Record<string, StaticStruct>> = {
  OrderParams: staticStruct(ORDER_PARAMS_TYPES, 'OrderParams'),
  CancelOrderParams: staticStruct(CANCEL_ORDER_PARAMS_TYPES, 'CancelOrderParams'),
  CancelAllParams: staticStruct(CANCEL_ALL_PARAMS_TYPES, 'CancelAllParams'),
};

/** The digest of one of our request structs, with the venue's separator and the type hash precomputed. */
function requestDigest(data: TypedData, venue: Eip712Venue): string {
  const struct = STRUCTS[data.primaryType];
  if (struct === undefined) return typedDataDigest(data);
  return staticStructDigest(venueDomain(venue).separator, struct, data.message);
}

/**
 * What the digest is made of, for signing off the main thread: the domain separator and the struct's
 * words (typeHash and fields); digest = keccak256(0x1901 ‖ separator ‖ keccak256(words)).
 */
export interface DigestInput {
  separator: Uint8Array;
  words: Uint8Array;
}

function digestInput(data: TypedData, venue: Eip712Venue): DigestInput {
  const struct = STRUCTS[data.primaryType];
  if (struct === undefined) throw new Error(`no static struct ${data.primaryType}`);
  return { separator: venueDomain(venue).separator, words: staticStructWords(struct, data.message) };
}

export function orderDigestInput(order: OrderParams, venue: Eip712Venue): DigestInput {
  return digestInput(orderTypedData(order, venue), venue);
}

export function cancelDigestInput(cancel: CancelOrderParams, venue: Eip712Venue): DigestInput {
  return digestInput(cancelOrderTypedData(cancel, venue), venue);
}

export function cancelAllDigestInput(cancelAll: CancelAllParams, venue: Eip712Venue): DigestInput {
  return digestInput(cancelAllTypedData(cancelAll, venue), venue);
}

export function orderDigest(order: OrderParams, venue: Eip712Venue): string {
  return requestDigest(orderTypedData(order, venue), venue);
}

/** The venue's id of an order: first 25 bytes of its EIP-712 digest, 0x-hex. */
export function orderHash(order: OrderParams, venue: Eip712Venue): string {
  return dataSlice(orderDigest(order, venue), 0, ORDER_HASH_BYTES);
}

// The key's bytes once per signer rather than a hex parse per signature. Weak: a dropped signer takes them along.
const secretKeys = new WeakMap<TraderSigner, Uint8Array>();

/** The signer's 32-byte secret key, for a backend that signs a prepared digest (a worker thread). */
export function signerSecretKey(signer: TraderSigner): Uint8Array {
  let key = secretKeys.get(signer);
  if (key === undefined) {
    key = getBytes(signer.signingKey.privateKey);
    secretKeys.set(signer, key);
  }
  return key;
}

/** 65-byte r ‖ s ‖ v signature of a 32-byte digest, 0x-hex; the same bytes as `signer.signingKey.sign(digest).serialized`. */
export function signDigest(signer: TraderSigner, digest: string): string {
  return hexlify(secp256k1Backend().sign(getBytes(digest), signerSecretKey(signer)));
}

function sign(signer: TraderSigner, data: TypedData, venue: Eip712Venue): SignedRequest {
  const digest = requestDigest(data, venue);
  return { signature: signDigest(signer, digest), digest };
}

export function signOrder(signer: TraderSigner, order: OrderParams, venue: Eip712Venue): SignedOrder {
  const { signature, digest } = sign(signer, orderTypedData(order, venue), venue);
  return { signature, digest, orderHash: dataSlice(digest, 0, ORDER_HASH_BYTES) };
}

export function signCancel(signer: TraderSigner, cancel: CancelOrderParams, venue: Eip712Venue): SignedRequest {
  return sign(signer, cancelOrderTypedData(cancel, venue), venue);
}

export function signCancelAll(signer: TraderSigner, cancelAll: CancelAllParams, venue: Eip712Venue): SignedRequest {
  return sign(signer, cancelAllTypedData(cancelAll, venue), venue);
}

function recover(data: TypedData, signature: string, venue: Eip712Venue): string {
  if (!isHexString(signature, 65))
    throw new SigningInputError('bad-signature', 'signature must be 65 bytes: 0x followed by 130 hex digits');
  const digest = requestDigest(data, venue);
  try {
    // ethers' reading of r, s and v (its refusals kept), the curve arithmetic by the backend.
    const sig = Signature.from(signature);
    const rs = getBytes(concat([sig.r, sig.s]));
    const publicKey = secp256k1Backend().recoverPublicKey(getBytes(digest), rs, sig.yParity);
    return getAddress(dataSlice(keccak256Hex(publicKey.subarray(1)), 12));
  } catch {
    throw new SigningInputError('bad-signature', 'signature does not recover to any address');
  }
}

/** The checksummed address that signed `order`; `SigningInputError('bad-signature')` if none does. */
export function recoverOrderSigner(order: OrderParams, signature: string, venue: Eip712Venue): string {
  return recover(orderTypedData(order, venue), signature, venue);
}

export function recoverCancelSigner(cancel: CancelOrderParams, signature: string, venue: Eip712Venue): string {
  return recover(cancelOrderTypedData(cancel, venue), signature, venue);
}

export function recoverCancelAllSigner(cancelAll: CancelAllParams, signature: string, venue: Eip712Venue): string {
  return recover(cancelAllTypedData(cancelAll, venue), signature, venue);
}
