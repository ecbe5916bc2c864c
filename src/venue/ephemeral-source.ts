import { concat, getBytes, keccak256, toUtf8Bytes, type BytesLike } from 'ethers';
import { GCM_NONCE_BYTES, type EncryptOptions } from '../derivadex/crypto/encryption.ts';

/*
 * Ephemeral encryption material for requests: a fresh secp256k1 client key and AES-GCM nonce per
 * request. Live: none given, so encryptRequest draws them from the OS. Simulation: derived from a seed
 * (key_i = keccak256(seed ‖ "riskwarden/ephemeral-key" ‖ i ‖ round)), so the same scenario and seed put
 * the same bytes on the wire. Seeded material is predictable by design: never use a seed live.
 */

const SECP256K1_ORDER = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const KEY_TAG = toUtf8Bytes('riskwarden/ephemeral-key');
const NONCE_TAG = toUtf8Bytes('riskwarden/gcm-nonce');

export type EphemeralSource = () => EncryptOptions;

function counter(i: number, round: number): Uint8Array {
  const out = new Uint8Array(12);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(i));
  view.setUint32(8, round);
  return out;
}

export function createEphemeralSource(seed?: BytesLike): EphemeralSource {
  if (seed === undefined) return () => ({});
  const seedBytes = getBytes(seed);
  let i = 0;
  return () => {
    const index = i;
    i += 1;
    let key = '';
    for (let round = 0; ; round += 1) {
      key = keccak256(concat([seedBytes, KEY_TAG, counter(index, round)]));
      const scalar = BigInt(key);
      if (scalar !== 0n && scalar < SECP256K1_ORDER) break;
    }
    const nonce = getBytes(keccak256(concat([seedBytes, NONCE_TAG, counter(index, 0)]))).slice(0, GCM_NONCE_BYTES);
    return { clientSecretKey: key, nonce };
  };
}
