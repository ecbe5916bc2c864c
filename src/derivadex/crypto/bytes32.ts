import { getAddress, hexlify, isAddress, isHexString, keccak256 } from 'ethers';

/**
 * DerivaDEX's way of putting a short string (symbol, strategy id) into a `bytes32`:
 * byte 0 is the UTF-8 length, bytes 1..length the UTF-8 bytes, the rest zeros.
 * This is NOT ethers' `encodeBytes32String` (no length byte, NUL-terminated): the names clash, the
 * encodings do not agree, and only this one reproduces the venue's vectors.
 */

/** Most UTF-8 bytes a string may have: one of the 32 bytes holds the length. */
export const MAX_BYTES32_STRING_BYTES = 31;

/**
 * Item tag that starts a Strategy leaf key in the venue's state tree. The vector only shows that the
 * first byte is 0x01 while the chain discriminant is 0; the docs number leaf kinds Trader 0, Strategy 1.
 */
export const STRATEGY_ITEM_KIND = 0x01;

export type Bytes32ErrorCode = 'too-long' | 'bad-string' | 'bad-bytes32' | 'bad-address' | 'bad-chain-discriminant';

export class Bytes32Error extends Error {
  override readonly name = 'Bytes32Error';
  constructor(
    readonly code: Bytes32ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

// A lone UTF-16 surrogate has no UTF-8 form; TextEncoder would silently turn it into U+FFFD and two
// different strings would then sign the same.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The UTF-8 bytes of `s`, or a `Bytes32Error` explaining why it cannot become a DerivaDEX bytes32. */
function encodableBytes(s: string): Uint8Array | Bytes32Error {
  if (typeof s !== 'string') return new Bytes32Error('bad-string', 'expected a string');
  if (LONE_SURROGATE.test(s)) return new Bytes32Error('bad-string', 'string is not valid Unicode (lone surrogate)');
  const bytes = utf8Encoder.encode(s);
  if (bytes.length > MAX_BYTES32_STRING_BYTES) {
    return new Bytes32Error(
      'too-long',
      `string of ${bytes.length} UTF-8 bytes does not fit a DerivaDEX bytes32 (at most ${MAX_BYTES32_STRING_BYTES})`,
    );
  }
  return bytes;
}

/** Why `s` cannot be encoded, or `undefined` when it can. Never throws. */
export function bytes32StringProblem(s: unknown): string | undefined {
  if (typeof s !== 'string') return 'expected a string';
  const result = encodableBytes(s);
  return result instanceof Bytes32Error ? result.message : undefined;
}

/** The 32 bytes of `s` in DerivaDEX form. Throws `Bytes32Error` for strings over 31 UTF-8 bytes. */
export function encodeBytes32Bytes(s: string): Uint8Array {
  const bytes = encodableBytes(s);
  if (bytes instanceof Bytes32Error) throw bytes;
  const out = new Uint8Array(32);
  out[0] = bytes.length;
  out.set(bytes, 1);
  return out;
}

/** `s` in DerivaDEX bytes32 form as 0x-hex (66 characters). "main" → 0x046d61696e00…00. */
export function encodeBytes32String(s: string): string {
  return hexlify(encodeBytes32Bytes(s));
}

/** Inverse of `encodeBytes32String`; refuses anything that encoder could not have produced. */
export function decodeBytes32String(hex: string): string {
  if (!isHexString(hex, 32)) throw new Bytes32Error('bad-bytes32', 'expected 0x followed by 64 hex digits');
  const bytes = Uint8Array.from(Buffer.from(hex.slice(2), 'hex'));
  const length = bytes[0] ?? 0;
  if (length > MAX_BYTES32_STRING_BYTES) throw new Bytes32Error('bad-bytes32', `length byte ${length} exceeds 31`);
  if (bytes.subarray(1 + length).some((b) => b !== 0)) {
    throw new Bytes32Error('bad-bytes32', 'non-zero bytes after the string');
  }
  try {
    return utf8Decoder.decode(bytes.subarray(1, 1 + length));
  } catch {
    throw new Bytes32Error('bad-bytes32', 'string bytes are not valid UTF-8');
  }
}

/** First 4 bytes of keccak256 of the bytes32 form, as 0x-hex: strategyIdHash("main") = 0x2576ebd1. */
export function strategyIdHash(strategyId: string): string {
  return keccak256(encodeBytes32Bytes(strategyId)).slice(0, 2 + 2 * 4);
}

/**
 * Key of a strategy's leaf in the venue's state tree (32 bytes, 0x-hex). Layout, checked byte by byte
 * against the venue's vector 0x01 00 603699…9ece 2576ebd1 000000000000:
 *
 * | bytes  | content                                                      |
 * |--------|--------------------------------------------------------------|
 * | 0      | item kind: 0x01 = Strategy                                   |
 * | 1      | chain discriminant (0 = Ethereum)                            |
 * | 2..21  | trader address (20 bytes); bytes 1..21 are the venue's 21-byte "trader address with discriminant" |
 * | 22..25 | strategyIdHash (4 bytes)                                     |
 * | 26..31 | zero padding (6 bytes)                                       |
 */
export function strategyKey(traderAddress: string, strategyId: string, chainDiscriminant = 0): string {
  if (!Number.isInteger(chainDiscriminant) || chainDiscriminant < 0 || chainDiscriminant > 255) {
    throw new Bytes32Error('bad-chain-discriminant', 'chain discriminant must be an integer from 0 to 255');
  }
  if (typeof traderAddress !== 'string' || !isAddress(traderAddress)) {
    throw new Bytes32Error('bad-address', 'trader address must be 0x followed by 40 hex digits (valid checksum if mixed case)');
  }
  const key = new Uint8Array(32);
  key[0] = STRATEGY_ITEM_KIND;
  key[1] = chainDiscriminant;
  key.set(Buffer.from(getAddress(traderAddress).slice(2), 'hex'), 2);
  key.set(Buffer.from(strategyIdHash(strategyId).slice(2), 'hex'), 22);
  return hexlify(key);
}
