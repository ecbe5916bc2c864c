import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { SigningKey, getBytes, hexlify, keccak256, type BytesLike } from 'ethers';

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
function signingKey(secretKey: BytesLike): SigningKey {
  let bytes: Uint8Array;
  try {
    bytes = getBytes(secretKey);
  } catch {
    throw new EncryptionError('bad-secret-key', 'secret key is not bytes');
  }
  if (bytes.length !== 32) throw new EncryptionError('bad-secret-key', 'secret key must be 32 bytes');
  const scalar = BigInt(hexlify(bytes));
  if (scalar === 0n || scalar >= SECP256K1_ORDER) throw new EncryptionError('bad-secret-key', 'secret key is outside the secp256k1 range');
  return new SigningKey(bytes);
}

function compressedPublicKey(publicKey: BytesLike): string {
  try {
    return SigningKey.computePublicKey(publicKey, true);
  } catch {
    throw new EncryptionError('bad-public-key', 'not a valid secp256k1 public key');
  }
}

function randomSecretKey(): Uint8Array {
  for (;;) {
    const candidate = new Uint8Array(randomBytes(32));
    const scalar = BigInt(hexlify(candidate));
    if (scalar !== 0n && scalar < SECP256K1_ORDER) return candidate;
  }
}

/** AES-128 key shared by `secretKey`'s owner and `publicKey`'s owner. */
export function deriveSharedKey(secretKey: BytesLike, publicKey: BytesLike): Uint8Array {
  const key = signingKey(secretKey);
  const other = compressedPublicKey(publicKey);
  const point = key.computeSharedSecret(other); // uncompressed 0x04 ‖ x ‖ y
  const compressed = SigningKey.computePublicKey(point, true);
  return getBytes(keccak256(compressed)).slice(0, AES_KEY_BYTES);
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function encryptRequest(json: string, operatorPublicKey: BytesLike, opts: EncryptOptions = {}): Uint8Array<ArrayBuffer> {
  if (LONE_SURROGATE.test(json)) throw new EncryptionError('bad-utf8', 'request JSON is not valid Unicode (lone surrogate)');
  const clientSecretKey = opts.clientSecretKey ?? randomSecretKey();
  const aesKey = deriveSharedKey(clientSecretKey, operatorPublicKey);
  let nonce: Uint8Array;
  try {
    nonce = opts.nonce === undefined ? new Uint8Array(randomBytes(GCM_NONCE_BYTES)) : getBytes(opts.nonce);
  } catch {
    throw new EncryptionError('bad-nonce', 'nonce is not bytes');
  }
  if (nonce.length !== GCM_NONCE_BYTES) throw new EncryptionError('bad-nonce', `nonce must be ${GCM_NONCE_BYTES} bytes`);

  const body = Buffer.from(json, 'utf8');
  const plaintext = Buffer.alloc(LENGTH_PREFIX_BYTES + body.length);
  plaintext.writeUInt32BE(body.length, 0);
  body.copy(plaintext, LENGTH_PREFIX_BYTES);

  const cipher = createCipheriv('aes-128-gcm', aesKey, nonce, { authTagLength: GCM_TAG_BYTES });
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const clientPublicKey = getBytes(signingKey(clientSecretKey).compressedPublicKey);
  const wire = new Uint8Array(ciphertext.length + GCM_TAG_BYTES + GCM_NONCE_BYTES + COMPRESSED_PUBLIC_KEY_BYTES);
  wire.set(ciphertext, 0);
  wire.set(cipher.getAuthTag(), ciphertext.length);
  wire.set(nonce, ciphertext.length + GCM_TAG_BYTES);
  wire.set(clientPublicKey, ciphertext.length + GCM_TAG_BYTES + GCM_NONCE_BYTES);
  return wire;
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
  const clientPublicKey = compressedPublicKey(clientKeyBytes);
  const aesKey = deriveSharedKey(operatorSecretKey, clientPublicKey);

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
