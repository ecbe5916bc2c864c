import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { SigningKey, getBytes, hexlify, type BytesLike } from 'ethers';
import { secp256k1Backend } from './secp256k1-backend.ts';
import { keccak256Bytes } from './keccak.ts';

/**
 * Request encryption as the venue documents it (reproduced byte for byte from its vector):
 * 1. an ephemeral secp256k1 client key; ECDH with the operator's public key (GET /v2/encryption-key);
 * 2. AES key = first 16 bytes of keccak256(shared point in COMPRESSED form, 33 bytes);
 * 3. plaintext = 4-byte big-endian byte length ‖ UTF-8 JSON; AES-128-GCM with a 12-byte nonce;
 * 4. wire = ciphertext ‖ tag (16) ‖ nonce (12) ‖ client public key (33, compressed).
 * Decryption (the simulator's side) turns every malformed input into an `EncryptionError`.
 */

export const AES_KEY_BYTES = 16;
export const GCM_TAG_BYTES = 16;
export const GCM_NONCE_BYTES = 12;
export const COMPRESSED_PUBLIC_KEY_BYTES = 33;
export const LENGTH_PREFIX_BYTES = 4;
/** Shortest wire that can hold a request: an empty JSON still has its 4-byte length prefix. */
export const MIN_WIRE_BYTES = LENGTH_PREFIX_BYTES + GCM_TAG_BYTES + GCM_NONCE_BYTES + COMPRESSED_PUBLIC_KEY_BYTES;

const SECP256K1_ORDER = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

export type EncryptionErrorCode =
  | 'too-short'
  | 'bad-public-key'
  | 'auth-failed'
  | 'bad-length-prefix'
  | 'bad-utf8'
  // Local misconfiguration rather than hostile input: a secret key or nonce we were handed is unusable.
  | 'bad-secret-key'
  | 'bad-nonce';

export class EncryptionError extends Error {
  override readonly name = 'EncryptionError';
  constructor(
    readonly code: EncryptionErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface EncryptOptions {
  /** Ephemeral client secret key (32 bytes); random when absent. Inject it for vectors and simulation. */
  clientSecretKey?: BytesLike;
  /** AES-GCM nonce (12 bytes); random when absent. */
  nonce?: BytesLike;
}

export interface DecryptedRequest {
  json: string;
  /** The sender's ephemeral public key, compressed, 0x-hex. */
  clientPublicKey: string;
}

// Never echo key material in an error message.
function secretKeyBytes(secretKey: BytesLike): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = getBytes(secretKey);
  } catch {
    throw new EncryptionError('bad-secret-key', 'secret key is not bytes');
  }
  if (bytes.length !== 32) throw new EncryptionError('bad-secret-key', 'secret key must be 32 bytes');
  const scalar = BigInt(hexlify(bytes));
  if (scalar === 0n || scalar >= SECP256K1_ORDER) throw new EncryptionError('bad-secret-key', 'secret key is outside the secp256k1 range');
  return bytes;
}

function compressedPublicKey(publicKey: BytesLike): string {
  try {
    return SigningKey.computePublicKey(publicKey, true);
  } catch {
    throw new EncryptionError('bad-public-key', 'not a valid secp256k1 public key');
  }
}

/** A public key as the backend takes it: SEC1 bytes (33 or 65), other spellings through ethers first. */
function publicKeyBytes(publicKey: BytesLike): Uint8Array {
  let bytes: Uint8Array | undefined;
  try {
    bytes = getBytes(publicKey);
  } catch {
    bytes = undefined;
  }
  if (bytes !== undefined && ((bytes.length === 33 && (bytes[0] === 2 || bytes[0] === 3)) || (bytes.length === 65 && bytes[0] === 4))) {
    return bytes;
  }
  return getBytes(compressedPublicKey(publicKey));
}

/** A fresh ephemeral secret key from the OS, inside the curve's range. */
function randomSecretKey(): Uint8Array {
  for (;;) {
    const candidate = new Uint8Array(randomBytes(32));
    const scalar = BigInt(hexlify(candidate));
    if (scalar !== 0n && scalar < SECP256K1_ORDER) return candidate;
  }
}

function sharedKey(secret: Uint8Array, publicKey: BytesLike): Uint8Array {
  const other = publicKeyBytes(publicKey);
  let point: Uint8Array;
  try {
    point = secp256k1Backend().sharedPoint(secret, other);
  } catch {
    throw new EncryptionError('bad-public-key', 'not a valid secp256k1 public key');
  }
  return keccak256Bytes(point).slice(0, AES_KEY_BYTES);
}

/** AES-128 key shared by `secretKey`'s owner and `publicKey`'s owner. */
export function deriveSharedKey(secretKey: BytesLike, publicKey: BytesLike): Uint8Array {
  return sharedKey(secretKeyBytes(secretKey), publicKey);
}

/**
 * Everything a request's encryption needs but its plaintext: the ECDH is done here, so it can be done
 * ahead of time (a pool of single-use keys) and the AES-GCM left for the moment the request is known.
 * Use one material for ONE request: a repeated GCM nonce under one key gives the plaintexts away.
 */
export interface EncryptionMaterial {
  /** Compressed (33 bytes), written at the end of the wire. */
  clientPublicKey: Uint8Array;
  nonce: Uint8Array;
  aesKey: Uint8Array;
}

/** The material of one request to `operatorPublicKey`; key and nonce random unless given (vectors, simulation). */
export function prepareEncryption(operatorPublicKey: BytesLike, opts: EncryptOptions = {}): EncryptionMaterial {
  const secret = opts.clientSecretKey === undefined ? randomSecretKey() : secretKeyBytes(opts.clientSecretKey);
  const aesKey = sharedKey(secret, operatorPublicKey);
  let nonce: Uint8Array;
  try {
    nonce = opts.nonce === undefined ? new Uint8Array(randomBytes(GCM_NONCE_BYTES)) : getBytes(opts.nonce);
  } catch {
    throw new EncryptionError('bad-nonce', 'nonce is not bytes');
  }
  if (nonce.length !== GCM_NONCE_BYTES) throw new EncryptionError('bad-nonce', `nonce must be ${GCM_NONCE_BYTES} bytes`);
  // One 61-byte buffer rather than three: a fleet keeps a few of these ready per account.
  const packed = new Uint8Array(COMPRESSED_PUBLIC_KEY_BYTES + GCM_NONCE_BYTES + AES_KEY_BYTES);
  packed.set(secp256k1Backend().compressedPublicKey(secret), 0);
  packed.set(nonce, COMPRESSED_PUBLIC_KEY_BYTES);
  packed.set(aesKey, COMPRESSED_PUBLIC_KEY_BYTES + GCM_NONCE_BYTES);
  return {
    clientPublicKey: packed.subarray(0, COMPRESSED_PUBLIC_KEY_BYTES),
    nonce: packed.subarray(COMPRESSED_PUBLIC_KEY_BYTES, COMPRESSED_PUBLIC_KEY_BYTES + GCM_NONCE_BYTES),
    aesKey: packed.subarray(COMPRESSED_PUBLIC_KEY_BYTES + GCM_NONCE_BYTES),
  };
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** The request's wire bytes with prepared material: AES-128-GCM only, no curve arithmetic. */
export function encryptWithMaterial(json: string, material: EncryptionMaterial): Uint8Array<ArrayBuffer> {
  if (LONE_SURROGATE.test(json)) throw new EncryptionError('bad-utf8', 'request JSON is not valid Unicode (lone surrogate)');
  const { aesKey, nonce, clientPublicKey } = material;
  const bodyLength = Buffer.byteLength(json, 'utf8');
  const plaintext = Buffer.alloc(LENGTH_PREFIX_BYTES + bodyLength);
  plaintext.writeUInt32BE(bodyLength, 0);
  plaintext.write(json, LENGTH_PREFIX_BYTES, 'utf8');

  const cipher = createCipheriv('aes-128-gcm', aesKey, nonce, { authTagLength: GCM_TAG_BYTES });
  const ciphertext = cipher.update(plaintext);
  const final = cipher.final();
  const cipherLength = ciphertext.length + final.length;
  const wire = new Uint8Array(cipherLength + GCM_TAG_BYTES + GCM_NONCE_BYTES + COMPRESSED_PUBLIC_KEY_BYTES);
  wire.set(ciphertext, 0);
  wire.set(final, ciphertext.length);
  wire.set(cipher.getAuthTag(), cipherLength);
  wire.set(nonce, cipherLength + GCM_TAG_BYTES);
  wire.set(clientPublicKey, cipherLength + GCM_TAG_BYTES + GCM_NONCE_BYTES);
  return wire;
}

export function encryptRequest(json: string, operatorPublicKey: BytesLike, opts: EncryptOptions = {}): Uint8Array<ArrayBuffer> {
  // Checked before the keys too: a bad request is reported as such whatever key came with it.
  if (LONE_SURROGATE.test(json)) throw new EncryptionError('bad-utf8', 'request JSON is not valid Unicode (lone surrogate)');
  return encryptWithMaterial(json, prepareEncryption(operatorPublicKey, opts));
}

const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * The operator's side. Checks, in order: length (too-short), client key (bad-public-key), GCM tag
 * (auth-failed), length prefix equal to the remaining byte count (bad-length-prefix), UTF-8 (bad-utf8).
 */
export function decryptRequest(wire: Uint8Array, operatorSecretKey: BytesLike): DecryptedRequest {
  if (!(wire instanceof Uint8Array) || wire.length < MIN_WIRE_BYTES) {
    throw new EncryptionError(
      'too-short',
      `request of ${wire instanceof Uint8Array ? wire.length : 0} bytes is shorter than the minimum ${MIN_WIRE_BYTES}`,
    );
  }
  const keyAt = wire.length - COMPRESSED_PUBLIC_KEY_BYTES;
  const nonceAt = keyAt - GCM_NONCE_BYTES;
  const tagAt = nonceAt - GCM_TAG_BYTES;
  const clientKeyBytes = wire.subarray(keyAt);
  if (clientKeyBytes[0] !== 0x02 && clientKeyBytes[0] !== 0x03) {
    throw new EncryptionError('bad-public-key', 'client public key is not in compressed form');
  }
  // The ECDH checks the point is on the curve (bad-public-key otherwise); a valid compressed key is its own canonical form.
  const aesKey = deriveSharedKey(operatorSecretKey, clientKeyBytes);
  const clientPublicKey = hexlify(clientKeyBytes);

  let plaintext: Buffer;
  try {
    const decipher = createDecipheriv('aes-128-gcm', aesKey, wire.subarray(nonceAt, keyAt), { authTagLength: GCM_TAG_BYTES });
    decipher.setAuthTag(wire.subarray(tagAt, nonceAt));
    plaintext = Buffer.concat([decipher.update(wire.subarray(0, tagAt)), decipher.final()]);
  } catch {
    throw new EncryptionError('auth-failed', 'request does not authenticate (wrong key, or altered in transit)');
  }
  const declared = plaintext.readUInt32BE(0);
  if (declared !== plaintext.length - LENGTH_PREFIX_BYTES) {
    throw new EncryptionError(
      'bad-length-prefix',
      `length prefix says ${declared} bytes, ${plaintext.length - LENGTH_PREFIX_BYTES} follow`,
    );
  }
  let json: string;
  try {
    json = utf8Decoder.decode(plaintext.subarray(LENGTH_PREFIX_BYTES));
  } catch {
    throw new EncryptionError('bad-utf8', 'request body is not valid UTF-8');
  }
  return { json, clientPublicKey };
}
