import { SigningKey, hexlify, keccak256, toUtf8Bytes } from 'ethers';
import { describe, expect, it } from 'vitest';
import { decryptRequest, encryptRequest, encryptWithMaterial } from '../../src/derivadex/crypto/encryption.ts';
import { EphemeralPool } from '../../src/venue/ephemeral-pool.ts';
import { createEphemeralSource } from '../../src/venue/ephemeral-source.ts';
import vectors from '../derivadex/crypto/derivadex-vectors.json' with { type: 'json' };

const operatorSecretKey = keccak256(toUtf8Bytes('riskwarden-test-operator'));
const operatorPublicKey = new SigningKey(operatorSecretKey).compressedPublicKey;
const otherSecretKey = keccak256(toUtf8Bytes('riskwarden-test-operator-rotated'));
const otherPublicKey = new SigningKey(otherSecretKey).compressedPublicKey;

/** Until the idle refills have prepared `count` materials (they run on timers between turns). */
async function prepared(pool: EphemeralPool, count: number): Promise<void> {
  for (let turn = 0; pool.stats.ready < count; turn += 1) {
    if (turn > 10_000) throw new Error(`the pool prepared ${pool.stats.ready} of ${count} materials`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

const json = (i: number) => JSON.stringify({ t: 'CancelAll', c: { symbol: 'ETHP', strategy: 'main', i } });

describe('EphemeralPool', () => {
  it('puts the same bytes on the wire as drawing from the seeded source at each request, prepared ahead or not', async () => {
    const reference = createEphemeralSource('0x02');
    const expected = Array.from({ length: 12 }, (_, i) => hexlify(encryptRequest(json(i), operatorPublicKey, reference())));

    const pool = new EphemeralPool(createEphemeralSource('0x02'), { capacity: 4 });
    const wires: string[] = [];
    // Before the operator key is known nothing can be prepared: inline.
    wires.push(hexlify(encryptWithMaterial(json(0), pool.take(operatorPublicKey))));
    await prepared(pool, 4);
    for (let i = 1; i < 5; i += 1) wires.push(hexlify(encryptWithMaterial(json(i), pool.take(operatorPublicKey))));
    // Drained: inline again, then prepared again.
    for (let i = 5; i < 8; i += 1) wires.push(hexlify(encryptWithMaterial(json(i), pool.take(operatorPublicKey))));
    await prepared(pool, 4);
    for (let i = 8; i < 12; i += 1) wires.push(hexlify(encryptWithMaterial(json(i), pool.take(operatorPublicKey))));
    expect(wires).toEqual(expected);
    expect(pool.stats.taken).toBe(12);
    // Inline: request 0 (no operator key yet) and 5, 6, 7 (taken in one turn from a drained pool) = 4 of 12.
    expect(pool.stats.derivedInline).toBe(4);
    pool.close();
  });

  it('hands out every key once, and the operator decrypts each request', async () => {
    const pool = new EphemeralPool(createEphemeralSource(), { capacity: 8 });
    pool.prime(operatorPublicKey);
    await prepared(pool, 8);
    const keys = new Set<string>();
    const nonces = new Set<string>();
    for (let i = 0; i < 40; i += 1) {
      const material = pool.take(operatorPublicKey);
      keys.add(hexlify(material.clientPublicKey));
      nonces.add(hexlify(material.nonce));
      const wire = encryptWithMaterial(json(i), material);
      expect(decryptRequest(wire, operatorSecretKey)).toEqual({ json: json(i), clientPublicKey: hexlify(material.clientPublicKey) });
      if (i % 10 === 9) await prepared(pool, 8);
    }
    expect(keys.size).toBe(40);
    expect(nonces.size).toBe(40);
    pool.close();
  });

  it('material prepared for a rotated operator key is derived again for the new one, in the same order', async () => {
    const reference = createEphemeralSource('0x05');
    const pool = new EphemeralPool(createEphemeralSource('0x05'), { capacity: 3 });
    pool.prime(operatorPublicKey);
    await prepared(pool, 3);
    const wire = encryptWithMaterial(json(0), pool.take(otherPublicKey));
    expect(hexlify(wire)).toBe(hexlify(encryptRequest(json(0), otherPublicKey, reference())));
    expect(decryptRequest(wire, otherSecretKey).json).toBe(json(0));
    await prepared(pool, 3);
    expect(hexlify(encryptWithMaterial(json(1), pool.take(otherPublicKey)))).toBe(
      hexlify(encryptRequest(json(1), otherPublicKey, reference())),
    );
    pool.close();
  });

  it('reproduces the venue vector through prepared material', async () => {
    const v = vectors.encryption;
    const pool = new EphemeralPool(() => ({ clientSecretKey: v.clientSecretKey, nonce: v.nonce }), { capacity: 1 });
    pool.prime(v.operatorPublicKeyExample);
    await prepared(pool, 1);
    const material = pool.take(v.operatorPublicKeyExample);
    expect(hexlify(material.aesKey)).toBe(v.sharedKey16);
    expect(hexlify(material.clientPublicKey)).toBe(v.clientPublicKeyCompressed);
    expect(hexlify(encryptWithMaterial(v.plaintext, material))).toBe(v.wire);
    pool.close();
  });

  it('a bad operator key fails the request that uses it, as encryption always did', () => {
    const pool = new EphemeralPool(createEphemeralSource('0x02'));
    expect(() => pool.take(`0x02${'00'.repeat(31)}05`)).toThrow(/not a valid secp256k1 public key/);
    pool.close();
  });
});
