import { concat, keccak256 } from 'ethers';
import { describe, expect, it } from 'vitest';
import { createNonceSource } from '../../../src/derivadex/crypto/nonce.ts';

describe('createNonceSource', () => {
  it('never repeats within 100k nonces, seeded or not', () => {
    for (const source of [createNonceSource(), createNonceSource(new TextEncoder().encode('sim-seed-7'))]) {
      const seen = new Set<string>();
      let malformed = 0;
      for (let i = 0; i < 100_000; i += 1) {
        const nonce = source.next();
        if (!/^0x[0-9a-f]{64}$/.test(nonce)) malformed += 1;
        seen.add(nonce);
      }
      expect(malformed).toBe(0);
      expect(seen.size).toBe(100_000);
      expect(source.issued).toBe(100_000n);
    }
  });

  it('is deterministic when seeded: keccak256(seed ‖ counter as 8-byte big-endian)', () => {
    const seed = '0x0102';
    const a = createNonceSource(seed);
    const b = createNonceSource(seed);
    const first = a.next();
    expect(first).toBe(b.next());
    expect(first).toBe(keccak256(concat(['0x0102', '0x0000000000000000'])));
    expect(a.next()).toBe(keccak256(concat(['0x0102', '0x0000000000000001'])));
    expect(createNonceSource('0x0103').next()).not.toBe(first);
  });

  it('unseeded sources share no prefix: random 24 bytes then the counter', () => {
    const a = createNonceSource();
    const b = createNonceSource();
    const [a0, a1, b0] = [a.next(), a.next(), b.next()];
    expect(a0.slice(0, 50)).toBe(a1.slice(0, 50));
    expect(a0.slice(50)).toBe('0000000000000000');
    expect(a1.slice(50)).toBe('0000000000000001');
    expect(b0.slice(0, 50)).not.toBe(a0.slice(0, 50));
  });
});
