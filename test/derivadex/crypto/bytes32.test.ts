import { keccak256 } from 'ethers';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  Bytes32Error,
  decodeBytes32String,
  encodeBytes32String,
  strategyIdHash,
  strategyKey,
} from '../../../src/derivadex/crypto/bytes32.ts';
import vectors from './derivadex-vectors.json' with { type: 'json' };

describe('encodeBytes32String (DerivaDEX form)', () => {
  it('writes the UTF-8 length, the bytes, then zeros', () => {
    // "main" = 6d 61 69 6e, 4 bytes → 04 6d61696e 00×27
    expect(encodeBytes32String('main')).toBe(`0x046d61696e${'00'.repeat(27)}`);
    // "ETHP" = 45 54 48 50
    expect(encodeBytes32String('ETHP')).toBe(`0x0445544850${'00'.repeat(27)}`);
    expect(encodeBytes32String('')).toBe(`0x${'00'.repeat(32)}`);
    // "é" is 2 UTF-8 bytes c3 a9
    expect(encodeBytes32String('é')).toBe(`0x02c3a9${'00'.repeat(29)}`);
  });

  it('takes 31 bytes and refuses 32 with a clear error', () => {
    expect(encodeBytes32String('a'.repeat(31))).toBe(`0x1f${'61'.repeat(31)}`);
    expect(() => encodeBytes32String('a'.repeat(32))).toThrow(/32 UTF-8 bytes does not fit a DerivaDEX bytes32 \(at most 31\)/);
    // 16 two-byte characters = 32 bytes although only 16 characters
    const error = (() => {
      try {
        encodeBytes32String('é'.repeat(16));
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(Bytes32Error);
    expect((error as Bytes32Error).code).toBe('too-long');
  });

  it('refuses lone surrogates instead of silently replacing them', () => {
    expect(() => encodeBytes32String('a\ud800')).toThrow(Bytes32Error);
  });

  it('decodes what it encodes, and only that (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 10 }), (s) => {
        fc.pre(new TextEncoder().encode(s).length <= 31);
        return decodeBytes32String(encodeBytes32String(s)) === s;
      }),
      { seed: 4242, numRuns: 2000 },
    );
    expect(() => decodeBytes32String(`0x04${'61'.repeat(5)}${'00'.repeat(26)}`)).toThrow(/non-zero bytes after/);
    expect(() => decodeBytes32String(`0x20${'00'.repeat(31)}`)).toThrow(/length byte 32/);
    expect(() => decodeBytes32String('0x1234')).toThrow(/64 hex digits/);
  });
});

describe('strategyIdHash', () => {
  it('reproduces the venue vector: "main" → 0x2576ebd1', () => {
    expect(strategyIdHash('main')).toBe(vectors.strategyIdHash.main);
    expect(strategyIdHash('main')).toBe('0x2576ebd1');
  });

  it('is the first 4 bytes of keccak256 of the bytes32 form', () => {
    expect(strategyIdHash('alpha')).toBe(keccak256(encodeBytes32String('alpha')).slice(0, 10));
  });
});

describe('strategyKey', () => {
  const example = vectors.strategyKeyExample;

  it('reproduces the venue vector', () => {
    expect(strategyKey(example.traderAddress, example.strategyId, example.chainDiscriminant)).toBe(example.key);
    expect(strategyKey(example.traderAddress, example.strategyId)).toBe(example.key);
  });

  it('has the documented layout, byte by byte', () => {
    const key = example.key.slice(2);
    const byte = (from: number, to: number) => key.slice(2 * from, 2 * to);
    expect(byte(0, 1)).toBe('01'); // item kind: Strategy
    expect(byte(1, 2)).toBe('00'); // chain discriminant 0
    expect(byte(2, 22)).toBe(example.traderAddress.slice(2).toLowerCase()); // 20-byte address
    expect(byte(22, 26)).toBe('2576ebd1'); // strategyIdHash("main")
    expect(byte(26, 32)).toBe('00'.repeat(6)); // padding
    // A different chain discriminant lands in byte 1.
    expect(strategyKey(example.traderAddress, 'main', 7).slice(2, 6)).toBe('0107');
  });

  it('refuses a bad address or discriminant', () => {
    expect(() => strategyKey('0x1234', 'main')).toThrow(Bytes32Error);
    // Wrong checksum (mixed case with one letter flipped).
    expect(() => strategyKey('0x603699848c84529987E14Ba32C8a66DEF67E9ece', 'main')).toThrow(/checksum/);
    expect(() => strategyKey(example.traderAddress, 'main', 256)).toThrow(/0 to 255/);
  });
});
