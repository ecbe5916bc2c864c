import { Signature, TypedDataEncoder, Wallet, getBytes, hexlify, recoverAddress } from 'ethers';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ORDER_TYPE, type OrderTypeCode } from '../../../src/derivadex/codes.ts';
import {
  cancelAllTypedData,
  cancelOrderTypedData,
  orderTypedData,
  recoverCancelAllSigner,
  recoverCancelSigner,
  recoverOrderSigner,
  signCancel,
  signCancelAll,
  signOrder,
  signerSecretKey,
  type Eip712Venue,
  type OrderParams,
  type TypedData,
} from '../../../src/derivadex/crypto/eip712.ts';
import { ethersBackend, secp256k1BackendInfo } from '../../../src/derivadex/crypto/secp256k1-backend.ts';

/*
 * The licence for the native signer and the precomputed digest: for random keys, venues and requests,
 * the native signature, the ethers fallback's and ethers' own `Wallet.signTypedData` are the same bytes
 * (RFC 6979: deterministic), the digest is ethers' TypedDataEncoder hash, and recovery gives the trader.
 */

const SECP256K1_ORDER = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

const secretKey = fc
  .uint8Array({ minLength: 32, maxLength: 32 })
  .filter((b) => {
    const n = BigInt(hexlify(b));
    return n > 0n && n < SECP256K1_ORDER;
  })
  .map((b) => hexlify(b));
const bytes32 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => hexlify(b));
const venue: fc.Arbitrary<Eip712Venue> = fc.record({
  chainId: fc.oneof(fc.constantFrom(1, 11155111), fc.integer({ min: 0, max: 2 ** 40 })),
  verifyingContract: fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => hexlify(b)),
  decimals: fc.constantFrom(0, 6, 18),
});
const name = fc.oneof(fc.constantFrom('ETHP', 'BTCP', 'main', ''), fc.string({ unit: 'grapheme-ascii', maxLength: 31 }));
/** A decimal with at most `decimals` fractional digits, e.g. "2472.1". */
const amount = (decimals: number): fc.Arbitrary<string> =>
  fc
    .tuple(fc.bigInt({ min: 0n, max: 10n ** 12n }), fc.bigInt({ min: 0n, max: 10n ** BigInt(decimals) - 1n }))
    .map(([whole, fraction]) => (decimals === 0 ? String(whole) : `${whole}.${String(fraction).padStart(decimals, '0')}`));

const orderCase = venue.chain((v) =>
  fc.record({
    key: secretKey,
    venue: fc.constant(v),
    order: fc.record({
      symbol: name,
      strategy: name,
      side: fc.constantFrom('Bid' as const, 'Ask' as const),
      orderType: fc.constantFrom(...(Object.values(ORDER_TYPE) as OrderTypeCode[])),
      nonce: bytes32,
      amount: amount(v.decimals),
      price: amount(v.decimals),
      stopPrice: amount(v.decimals),
    }) as fc.Arbitrary<OrderParams>,
  }),
);

async function threeWays(wallet: Wallet, data: TypedData, signed: { signature: string; digest: string }): Promise<void> {
  // The digest: the precomputed path against ethers' generic encoder.
  expect(signed.digest).toBe(TypedDataEncoder.hash(data.domain, data.types, data.message));
  // The fallback (ethers' SigningKey on the same digest) and ethers' typed-data signer.
  expect(hexlify(ethersBackend.sign(getBytes(signed.digest), signerSecretKey(wallet)))).toBe(signed.signature);
  expect(await wallet.signTypedData(data.domain, data.types, data.message)).toBe(signed.signature);
}

describe('native, fallback and ethers signTypedData sign the same bytes', () => {
  it('runs on the native binding (else this test would compare ethers with itself)', () => {
    expect(secp256k1BackendInfo().kind).toBe('native');
  });

  it('orders', async () => {
    await fc.assert(
      fc.asyncProperty(orderCase, async ({ key, venue, order }) => {
        const wallet = new Wallet(key);
        const signed = signOrder(wallet, order, venue);
        await threeWays(wallet, orderTypedData(order, venue), signed);
        expect(signed.orderHash).toBe(signed.digest.slice(0, 2 + 50));
        expect(recoverOrderSigner(order, signed.signature, venue)).toBe(wallet.address);
      }),
      { seed: 20261203, numRuns: 150 },
    );
  });

  it('cancels', async () => {
    const cancel = fc.record({
      key: secretKey,
      venue,
      cancel: fc.record({
        symbol: name,
        orderHash: fc.uint8Array({ minLength: 25, maxLength: 25 }).map((b) => hexlify(b)),
        nonce: bytes32,
      }),
    });
    await fc.assert(
      fc.asyncProperty(cancel, async ({ key, venue, cancel }) => {
        const wallet = new Wallet(key);
        const signed = signCancel(wallet, cancel, venue);
        await threeWays(wallet, cancelOrderTypedData(cancel, venue), signed);
        expect(recoverCancelSigner(cancel, signed.signature, venue)).toBe(wallet.address);
      }),
      { seed: 20261204, numRuns: 100 },
    );
  });

  it('recovery agrees with ethers recoverAddress on any 65 bytes: the same address, or both refuse', () => {
    const order = orderCase.map(({ venue, order }) => ({ venue, order }));
    // Mostly garbage, sometimes a real signature with one byte changed, and v in and out of range.
    const signature = fc.tuple(fc.uint8Array({ minLength: 64, maxLength: 64 }), fc.constantFrom(0, 1, 27, 28, 29, 35, 36, 255));
    fc.assert(
      fc.property(order, signature, ({ venue, order }, [rs, v]) => {
        const sig = hexlify(new Uint8Array([...rs, v]));
        const data = orderTypedData(order, venue);
        const digest = TypedDataEncoder.hash(data.domain, data.types, data.message);
        let expected: string;
        try {
          expected = recoverAddress(digest, Signature.from(sig));
        } catch {
          expected = 'refused';
        }
        let actual: string;
        try {
          actual = recoverOrderSigner(order, sig, venue);
        } catch {
          actual = 'refused';
        }
        expect(actual).toBe(expected);
      }),
      { seed: 20261206, numRuns: 300 },
    );
  });

  it('cancel-alls', async () => {
    const cancelAll = fc.record({ key: secretKey, venue, cancelAll: fc.record({ symbol: name, strategy: name, nonce: bytes32 }) });
    await fc.assert(
      fc.asyncProperty(cancelAll, async ({ key, venue, cancelAll }) => {
        const wallet = new Wallet(key);
        const signed = signCancelAll(wallet, cancelAll, venue);
        await threeWays(wallet, cancelAllTypedData(cancelAll, venue), signed);
        expect(recoverCancelAllSigner(cancelAll, signed.signature, venue)).toBe(wallet.address);
      }),
      { seed: 20261205, numRuns: 100 },
    );
  });
});
