import { createRequire } from 'node:module';
import { Signature, SigningKey, getBytes, hexlify } from 'ethers';

/**
 * The secp256k1 arithmetic behind signing and request encryption: libsecp256k1 through the `secp256k1`
 * package's prebuilt binding when it loads, else ethers (pure JavaScript, about 20× slower to sign).
 * Both give the same bytes: ECDSA with an RFC 6979 nonce and low s, so a signature depends only on the
 * key and the digest, whichever backend made it.
 *
 * RISKWARDEN_SECP256K1=ethers forces the fallback (a machine whose binding misbehaves; the tests).
 */

/** The part of the `secp256k1` package's API used here (its lib/index.js). */
export interface NativeSecp256k1 {
  ecdsaSign(msg32: Uint8Array, seckey: Uint8Array): { signature: Uint8Array; recid: number };
  publicKeyCreate(seckey: Uint8Array, compressed?: boolean): Uint8Array;
  publicKeyTweakMul(pubkey: Uint8Array, tweak: Uint8Array, compressed?: boolean): Uint8Array;
  ecdsaRecover(sig: Uint8Array, recid: number, msg32: Uint8Array, compressed?: boolean): Uint8Array;
}

export type Secp256k1BackendKind = 'native' | 'ethers';

export interface Secp256k1Backend {
  readonly kind: Secp256k1BackendKind;
  /** 65 bytes r ‖ s ‖ v with v = 27/28: low s, RFC 6979 nonce. Throws on a key outside the curve's range. */
  sign(digest: Uint8Array, secretKey: Uint8Array): Uint8Array;
  /** The 33-byte compressed public key of `secretKey`. */
  compressedPublicKey(secretKey: Uint8Array): Uint8Array;
  /** secretKey × publicKey as a compressed point (33 bytes): the ECDH shared point. Throws on a bad point. */
  sharedPoint(secretKey: Uint8Array, publicKey: Uint8Array): Uint8Array;
  /** The uncompressed public key (65 bytes) that made `rs` (r ‖ s, 64 bytes) over `digest`. Throws when none did. */
  recoverPublicKey(digest: Uint8Array, rs: Uint8Array, yParity: 0 | 1): Uint8Array;
}

export const ethersBackend: Secp256k1Backend = {
  kind: 'ethers',
  sign(digest, secretKey) {
    return getBytes(new SigningKey(secretKey).sign(digest).serialized);
  },
  compressedPublicKey(secretKey) {
    return getBytes(SigningKey.computePublicKey(secretKey, true));
  },
  sharedPoint(secretKey, publicKey) {
    return getBytes(SigningKey.computePublicKey(new SigningKey(secretKey).computeSharedSecret(hexlify(publicKey)), true));
  },
  recoverPublicKey(digest, rs, yParity) {
    const signature = Signature.from({ r: hexlify(rs.subarray(0, 32)), s: hexlify(rs.subarray(32, 64)), v: 27 + yParity });
    return getBytes(SigningKey.recoverPublicKey(digest, signature));
  },
};

export function nativeBackend(native: NativeSecp256k1): Secp256k1Backend {
  return {
    kind: 'native',
    sign(digest, secretKey) {
      const { signature, recid } = native.ecdsaSign(digest, secretKey);
      const out = new Uint8Array(65);
      out.set(signature, 0);
      out[64] = 27 + recid;
      return out;
    },
    compressedPublicKey(secretKey) {
      return native.publicKeyCreate(secretKey, true);
    },
    sharedPoint(secretKey, publicKey) {
      return native.publicKeyTweakMul(publicKey, secretKey, true);
    },
    recoverPublicKey(digest, rs, yParity) {
      return native.ecdsaRecover(rs, yParity, digest, false);
    },
  };
}

const require = createRequire(import.meta.url);

/**
 * The binding itself, never the package's own pure-JavaScript fallback (`secp256k1` alone silently
 * falls back to elliptic, which is slower than ethers): throws when the prebuilt binary cannot load.
 */
export function loadNativeSecp256k1(): NativeSecp256k1 {
  return require('secp256k1/bindings.js') as NativeSecp256k1;
}

export interface BackendChoice {
  backend: Secp256k1Backend;
  /** Why the native binding is not used; absent when it is. */
  fallbackReason?: string;
}

export interface ChooseBackendOptions {
  env?: Readonly<Record<string, string | undefined>>;
  load?: () => NativeSecp256k1;
}

/** Native when it loads and is not switched off, else ethers with the reason. */
export function chooseSecp256k1Backend(options: ChooseBackendOptions = {}): BackendChoice {
  const env = options.env ?? process.env;
  if (env.RISKWARDEN_SECP256K1 === 'ethers') return { backend: ethersBackend, fallbackReason: 'RISKWARDEN_SECP256K1=ethers' };
  try {
    return { backend: nativeBackend((options.load ?? loadNativeSecp256k1)()) };
  } catch (error) {
    return {
      backend: ethersBackend,
      fallbackReason: `the secp256k1 binding did not load (${error instanceof Error ? error.message : 'unknown error'})`,
    };
  }
}

let chosen: BackendChoice | undefined;

/** The process's backend, chosen on first use; a fallback is announced once as a process warning. */
export function secp256k1Backend(): Secp256k1Backend {
  if (chosen === undefined) {
    chosen = chooseSecp256k1Backend();
    if (chosen.fallbackReason !== undefined) {
      process.emitWarning(`signing with ethers, not libsecp256k1: ${chosen.fallbackReason}`, { code: 'RISKWARDEN_SECP256K1_FALLBACK' });
    }
  }
  return chosen.backend;
}

/** Which backend signs, and why not the native one: for the bench and the startup report. */
export function secp256k1BackendInfo(): { kind: Secp256k1BackendKind; fallbackReason?: string } {
  const backend = secp256k1Backend();
  return chosen?.fallbackReason === undefined ? { kind: backend.kind } : { kind: backend.kind, fallbackReason: chosen.fallbackReason };
}
