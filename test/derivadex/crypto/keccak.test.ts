import fc from 'fast-check';
import { keccak256 } from 'ethers';
import { describe, expect, it } from 'vitest';
import {
  chooseKeccak,
  ethersKeccak,
  keccak256Hex,
  keccakInfo,
  loadNativeKeccak,
  nativeKeccak,
} from '../../../src/derivadex/crypto/keccak.ts';

const hex = (bytes: Uint8Array): string => `0x${Buffer.from(bytes).toString('hex')}`;

describe('keccak256', () => {
  it('uses the native binding on this machine', () => {
    expect(chooseKeccak({ env: {} }).keccak.kind).toBe('native');
    expect(keccakInfo()).toEqual({ kind: 'native' });
  });

  it("gives ethers' bytes for any input: empty, one block, across block edges, a view into a larger buffer (seeded)", () => {
    const native = nativeKeccak(loadNativeKeccak());
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 700 }), fc.nat(8), (bytes, skip) => {
        const view = bytes.subarray(Math.min(skip, bytes.length));
        expect(hex(native.hash(view))).toBe(keccak256(view));
        expect(hex(ethersKeccak.hash(view))).toBe(keccak256(view));
        expect(keccak256Hex(view)).toBe(keccak256(view));
      }),
      { seed: 0x6b656363, numRuns: 400 },
    );
    for (const length of [135, 136, 137, 271, 272, 273]) {
      const bytes = new Uint8Array(length).fill(0xa5);
      expect(hex(native.hash(bytes))).toBe(keccak256(bytes));
    }
  });

  it('falls back to ethers when the binding cannot load, or hashes wrong, and says why', () => {
    const missing = chooseKeccak({
      env: {},
      load: () => {
        throw new Error('No native build was found');
      },
    });
    expect(missing.keccak.kind).toBe('ethers');
    expect(missing.fallbackReason).toBe('the keccak binding did not load (No native build was found)');
    class Wrong {
      initialize(): void {}
      absorb(): void {}
      absorbLastFewBits(): void {}
      squeeze(length: number): Buffer {
        return Buffer.alloc(length);
      }
    }
    const wrong = chooseKeccak({ env: {}, load: () => Wrong });
    expect(wrong.keccak.kind).toBe('ethers');
    expect(wrong.fallbackReason).toBe('the keccak binding did not load (the binding hashed its self-test wrong)');
  });

  it('falls back to ethers when RISKWARDEN_KECCAK=ethers, without loading the binding', () => {
    const choice = chooseKeccak({
      env: { RISKWARDEN_KECCAK: 'ethers' },
      load: () => {
        throw new Error('must not be called');
      },
    });
    expect(choice).toEqual({ keccak: ethersKeccak, fallbackReason: 'RISKWARDEN_KECCAK=ethers' });
  });
});
