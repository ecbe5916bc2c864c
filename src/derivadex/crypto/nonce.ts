import { randomBytes } from 'node:crypto';
import { getBytes, hexlify, type BytesLike } from 'ethers';
import { keccak256Hex } from './keccak.ts';

/**
 * bytes32 request nonces. The venue refuses a nonce it has seen for the trader (412 IllegalNonce), so
 * a source must never repeat one:
 * - seeded (simulation): nonce_i = keccak256(seed ‖ i as 8-byte big-endian), i = 0, 1, 2…; the same
 *   seed replays the same sequence. Distinct i give distinct preimages, so a repeat would be a keccak
 *   collision. Give each trader its own seed: two sources with one seed repeat each other by design.
 * - unseeded (live): 24 random bytes fixed per source ‖ i as 8-byte big-endian; distinct within a
 *   source by construction, and across sources (or restarts) by the 192-bit random prefix.
 */

export interface NonceSource {
  /** The next nonce, 0x-hex of 32 bytes. */
  next(): string;
  /** How many nonces this source has handed out. */
  readonly issued: bigint;
}

const COUNTER_LIMIT = 1n << 64n;
const RANDOM_PREFIX_BYTES = 24;

function counterBytes(i: bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, i);
  return out;
}

export function createNonceSource(seed?: BytesLike): NonceSource {
  const seedBytes = seed === undefined ? undefined : getBytes(seed);
  const fixed = seedBytes ?? new Uint8Array(randomBytes(RANDOM_PREFIX_BYTES));
  // One buffer for every nonce: the fixed part, then the 8 counter bytes that change.
  const buffer = new Uint8Array(fixed.length + 8);
  buffer.set(fixed, 0);
  const counterAt = buffer.length - 8;
  let issued = 0n;
  return {
    next(): string {
      if (issued >= COUNTER_LIMIT) throw new RangeError('nonce source exhausted after 2^64 nonces');
      buffer.set(counterBytes(issued), counterAt);
      issued += 1n;
      return seedBytes === undefined ? hexlify(buffer) : keccak256Hex(buffer);
    },
    get issued(): bigint {
      return issued;
    },
  };
}
