import { createCipheriv } from 'node:crypto';
import { SigningKey, getBytes, hexlify, toUtf8Bytes } from 'ethers';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  EncryptionError,
  MIN_WIRE_BYTES,
  decryptRequest,
  deriveSharedKey,
  encryptRequest,
  type EncryptionErrorCode,
} from '../../../src/derivadex/crypto/encryption.ts';
import vectors from './derivadex-vectors.json' with { type: 'json' };

const v = vectors.encryption;

// A fixed operator key pair for round trips (any scalar in range will do).
const operatorSecretKey = '0x4c0883a69102937d6231471b5dcb2c4b5b6e3a0d2f6b8e7c1a9d3e5f7a9b1c3d';
const operatorPublicKey = new SigningKey(operatorSecretKey).compressedPublicKey;

function errorCode(run: () => unknown): EncryptionErrorCode | 'no-error' {
  try {
    run();
    return 'no-error';
  } catch (error) {
    if (error instanceof EncryptionError) return error.code;
    throw error;
  }
}

describe('the venue encryption vector, byte for byte', () => {
  it('derives the shared AES key from the client secret and the operator public key', () => {
    expect(hexlify(deriveSharedKey(v.clientSecretKey, v.operatorPublicKeyExample))).toBe(v.sharedKey16);
  });

  it('has the client public key in compressed form', () => {
    expect(new SigningKey(v.clientSecretKey).compressedPublicKey).toBe(v.clientPublicKeyCompressed);
  });

  it('length-prefixes the plaintext with its 4-byte big-endian byte count', () => {
    const body = toUtf8Bytes(v.plaintext);
    // 0x000001b7 = 439 bytes of JSON follow.
    expect(body.length).toBe(0x1b7);
    expect(v.lengthPrefixedPlaintextHex.slice(0, 10)).toBe('0x000001b7');
    expect(v.lengthPrefixedPlaintextHex.slice(10)).toBe(hexlify(body).slice(2));
  });

  it('encrypts the plaintext with the vector nonce to exactly the vector wire (hence the tag)', () => {
    const wire = encryptRequest(v.plaintext, v.operatorPublicKeyExample, { clientSecretKey: v.clientSecretKey, nonce: v.nonce });
    expect(hexlify(wire)).toBe(v.wire);
    // wire = ciphertext(4 + 439) ‖ tag(16) ‖ nonce(12) ‖ client key(33)
    const tagAt = wire.length - 33 - 12 - 16;
    expect(wire.length).toBe(4 + 439 + 16 + 12 + 33);
    expect(hexlify(wire.subarray(tagAt, tagAt + 16))).toBe(v.tag);
    expect(hexlify(wire.subarray(tagAt + 16, tagAt + 28))).toBe(v.nonce);
    expect(hexlify(wire.subarray(tagAt + 28))).toBe(v.clientPublicKeyCompressed);
  });
});

describe('decryptRequest', () => {
  const json = '{"t":"CancelAll","c":{"symbol":"ETHP","strategy":"main","nonce":"0x00","signature":"0x00"}}';

  it('round-trips through a generated operator key pair', () => {
    const wire = encryptRequest(json, operatorPublicKey);
    const decrypted = decryptRequest(wire, operatorSecretKey);
    expect(decrypted.json).toBe(json);
    expect(decrypted.clientPublicKey).toBe(hexlify(wire.subarray(wire.length - 33)));
  });

  it('round-trips non-ASCII text and the empty string', () => {
    for (const text of ['', 'ünïcødé ✓ 𝄞']) {
      expect(decryptRequest(encryptRequest(text, operatorPublicKey), operatorSecretKey).json).toBe(text);
    }
  });

  it('uses a fresh ephemeral key and nonce per request unless they are injected', () => {
    const a = encryptRequest(json, operatorPublicKey);
    const b = encryptRequest(json, operatorPublicKey);
    expect(hexlify(a)).not.toBe(hexlify(b));
  });

  it('refuses a tampered ciphertext, tag or nonce with auth-failed', () => {
    const wire = encryptRequest(json, operatorPublicKey);
    for (const at of [0, wire.length - 33 - 12 - 1, wire.length - 33 - 1]) {
      const tampered = Uint8Array.from(wire);
      tampered[at] = (tampered[at] ?? 0) ^ 0x01;
      expect(errorCode(() => decryptRequest(tampered, operatorSecretKey))).toBe('auth-failed');
    }
  });

  it('refuses a request for another operator with auth-failed', () => {
    const other = new SigningKey(`0x${'11'.repeat(32)}`);
    const wire = encryptRequest(json, other.compressedPublicKey);
    expect(errorCode(() => decryptRequest(wire, operatorSecretKey))).toBe('auth-failed');
  });

  it('refuses anything shorter than an empty request with too-short', () => {
    expect(MIN_WIRE_BYTES).toBe(4 + 16 + 12 + 33);
    expect(errorCode(() => decryptRequest(new Uint8Array(0), operatorSecretKey))).toBe('too-short');
    expect(errorCode(() => decryptRequest(new Uint8Array(MIN_WIRE_BYTES - 1), operatorSecretKey))).toBe('too-short');
  });

  it('refuses a client key that is not a compressed curve point with bad-public-key', () => {
    const wire = encryptRequest(json, operatorPublicKey);
    const uncompressedTag = Uint8Array.from(wire);
    uncompressedTag[wire.length - 33] = 0x04;
    expect(errorCode(() => decryptRequest(uncompressedTag, operatorSecretKey))).toBe('bad-public-key');
    // x = 5 has no y on secp256k1 (5^3 + 7 = 132 is not a square mod p).
    const offCurve = Uint8Array.from(wire);
    offCurve.set(getBytes(`0x02${'00'.repeat(31)}05`), wire.length - 33);
    expect(errorCode(() => decryptRequest(offCurve, operatorSecretKey))).toBe('bad-public-key');
  });

  it('refuses a length prefix that disagrees with the body with bad-length-prefix', () => {
    // Authenticated plaintexts whose prefix lies: 9 bytes announced, 1 follows; 0 announced, 1 follows.
    for (const plaintext of [
      [0, 0, 0, 9, 0x61],
      [0, 0, 0, 0, 0x61],
    ]) {
      const wire = craftRequest(Uint8Array.from(plaintext), operatorPublicKey);
      expect(errorCode(() => decryptRequest(wire, operatorSecretKey))).toBe('bad-length-prefix');
    }
    // The same plaintext with an honest prefix decrypts.
    expect(decryptRequest(craftRequest(Uint8Array.from([0, 0, 0, 1, 0x61]), operatorPublicKey), operatorSecretKey).json).toBe('a');
  });

  it('refuses a body that is not UTF-8 with bad-utf8', () => {
    expect(
      errorCode(() => decryptRequest(craftRequest(new Uint8Array([0, 0, 0, 2, 0xc3, 0x28]), operatorPublicKey), operatorSecretKey)),
    ).toBe('bad-utf8');
  });

  it('refuses an unusable operator secret key with bad-secret-key', () => {
    const wire = encryptRequest(json, operatorPublicKey);
    expect(errorCode(() => decryptRequest(wire, `0x${'00'.repeat(32)}`))).toBe('bad-secret-key');
    expect(errorCode(() => decryptRequest(wire, '0x1234'))).toBe('bad-secret-key');
  });

  it('refuses a bad operator public key or nonce when encrypting', () => {
    expect(errorCode(() => encryptRequest(json, `0x02${'00'.repeat(31)}05`))).toBe('bad-public-key');
    expect(errorCode(() => encryptRequest(json, operatorPublicKey, { nonce: '0x0102' }))).toBe('bad-nonce');
    expect(errorCode(() => encryptRequest('\ud800', operatorPublicKey))).toBe('bad-utf8');
  });

  it('fuzz: random and mutated wires only ever raise a typed EncryptionError', () => {
    const valid = encryptRequest(json, operatorPublicKey);
    const wires = fc.oneof(
      fc.uint8Array({ minLength: 0, maxLength: 200 }),
      // Random bodies with a valid client key: get past the key check to the tag check.
      fc.uint8Array({ minLength: 0, maxLength: 120 }).map((body) => {
        const out = new Uint8Array(body.length + 33);
        out.set(body);
        out.set(valid.subarray(valid.length - 33), body.length);
        return out;
      }),
      fc.tuple(fc.nat({ max: valid.length - 1 }), fc.integer({ min: 1, max: 255 })).map(([at, xor]) => {
        const out = Uint8Array.from(valid);
        out[at] = (out[at] ?? 0) ^ xor;
        return out;
      }),
      fc.nat({ max: valid.length }).map((cut) => valid.subarray(0, cut)),
    );
    fc.assert(
      fc.property(wires, (wire) => {
        try {
          decryptRequest(wire, operatorSecretKey);
          return true;
        } catch (error) {
          return error instanceof EncryptionError && typeof error.code === 'string';
        }
      }),
      { seed: 20260105, numRuns: 3000 },
    );
  });
});

/**
 * Encrypts raw plaintext bytes (prefix included) exactly as encryptRequest does, so tests can reach
 * the checks that come after authentication. Written independently with node:crypto.
 */
function craftRequest(plaintext: Uint8Array, operatorPublic: string): Uint8Array {
  const key = deriveSharedKey(v.clientSecretKey, operatorPublic);
  const nonce = getBytes(v.nonce);
  const cipher = createCipheriv('aes-128-gcm', key, nonce);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Uint8Array.from(Buffer.concat([ciphertext, cipher.getAuthTag(), nonce, getBytes(v.clientPublicKeyCompressed)]));
}
