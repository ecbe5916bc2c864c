import { TypedDataEncoder, getBytes, keccak256, toUtf8Bytes, type TypedDataDomain, type TypedDataField } from 'ethers';
import { keccak256Bytes, keccak256Hex } from './keccak.ts';

/**
 * The EIP-712 digest of our three request structs without ethers' generic encoder, which re-derives the
 * type strings and the domain separator for every message (most of the ~1 ms an order took to sign).
 * Every field of these structs is a static 32-byte word (bytes32 or uint256), so
 *   hashStruct(m) = keccak256(typeHash ‖ word(field 1) ‖ … ‖ word(field n))
 *   digest        = keccak256(0x19 0x01 ‖ domainSeparator ‖ hashStruct(m))
 * with typeHash computed once per struct and the separator once per domain. The differential test holds
 * this equal to `TypedDataEncoder.hash`.
 */

/** A struct whose fields are all bytes32 or uint256, with its type hash. */
export interface StaticStruct {
  fields: readonly TypedDataField[];
  typeHash: Uint8Array;
}

const UINT256_LIMIT = 1n << 256n;

export function staticStruct(types: Record<string, TypedDataField[]>, primaryType: string): StaticStruct {
  const fields = types[primaryType];
  if (fields === undefined) throw new Error(`no struct ${primaryType}`);
  for (const f of fields) if (f.type !== 'bytes32' && f.type !== 'uint256') throw new Error(`${primaryType}.${f.name}: not a static word`);
  const typeString = TypedDataEncoder.from(types).encodeType(primaryType);
  return { fields, typeHash: getBytes(keccak256(toUtf8Bytes(typeString))) };
}

/** The domain separator, 32 bytes. */
export function domainSeparator(domain: TypedDataDomain): Uint8Array {
  return getBytes(TypedDataEncoder.hashDomain(domain));
}

function writeWord(out: Uint8Array, at: number, type: string, name: string, value: string | bigint | number | undefined): void {
  if (type === 'bytes32') {
    if (typeof value !== 'string' || value.length !== 66) throw new Error(`${name}: expected a bytes32`);
    const written = Buffer.from(out.buffer, out.byteOffset + at, 32).write(value.slice(2), 'hex');
    if (written !== 32) throw new Error(`${name}: expected a bytes32`);
    return;
  }
  let n = typeof value === 'bigint' ? value : typeof value === 'number' && Number.isSafeInteger(value) ? BigInt(value) : -1n;
  if (n < 0n || n >= UINT256_LIMIT) throw new Error(`${name}: expected a uint256`);
  for (let i = at + 31; n > 0n; i -= 1) {
    out[i] = Number(n & 0xffn);
    n >>= 8n;
  }
}

/** typeHash ‖ word(field 1) ‖ … ‖ word(field n): what hashStruct hashes. */
export function staticStructWords(struct: StaticStruct, message: Readonly<Record<string, string | bigint | number>>): Uint8Array {
  const words = new Uint8Array(32 * (struct.fields.length + 1));
  words.set(struct.typeHash, 0);
  struct.fields.forEach((f, i) => writeWord(words, 32 * (i + 1), f.type, f.name, message[f.name]));
  return words;
}

/** keccak256(0x1901 ‖ separator ‖ keccak256(words)), 0x-hex. signing-worker.js computes the same. */
export function digestOfWords(separator: Uint8Array, words: Uint8Array): string {
  const outer = new Uint8Array(66);
  outer[0] = 0x19;
  outer[1] = 0x01;
  outer.set(separator, 2);
  outer.set(keccak256Bytes(words), 34);
  return keccak256Hex(outer);
}

/** keccak256(0x1901 ‖ separator ‖ hashStruct(message)), 0x-hex. */
export function staticStructDigest(
  separator: Uint8Array,
  struct: StaticStruct,
  message: Readonly<Record<string, string | bigint | number>>,
): string {
  return digestOfWords(separator, staticStructWords(struct, message));
}
