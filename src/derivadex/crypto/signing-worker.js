// @ts-check
import { createRequire } from 'node:module';
import { parentPort } from 'node:worker_threads';

/*
 * A worker thread that signs the prepared EIP-712 digests of a burst (the main thread computes them: an
 * order's hash is announced before it is sent). Plain JavaScript so that a worker needs no TypeScript
 * loader; the same libsecp256k1 binding as the main thread, ethers when it cannot load (the same bytes
 * either way: RFC 6979, low s).
 *
 * In:  { id, digests: Uint8Array[], keys: Uint8Array[] }
 * Out: first { backend: 'native' | 'ethers' }; then { id, results: Uint8Array } with 65 bytes r ‖ s ‖ v
 *      per job, or { id, error }.
 */

/** @type {{ ecdsaSign(msg: Uint8Array, key: Uint8Array): { signature: Uint8Array, recid: number } } | undefined} */
let native;
if (process.env.RISKWARDEN_SECP256K1 !== 'ethers') {
  try {
    native = createRequire(import.meta.url)('secp256k1/bindings.js');
  } catch {
    native = undefined;
  }
}

// ethers only for the fallback: a thread with the binding starts in milliseconds.
/** @type {((digest: Uint8Array, key: Uint8Array) => Uint8Array) | undefined} */
let fallback;
if (native === undefined) {
  const { SigningKey, getBytes } = await import('ethers');
  fallback = (digest, key) => getBytes(new SigningKey(key).sign(digest).serialized);
}

const RESULT_BYTES = 65;

/**
 * @param {Uint8Array} digest
 * @param {Uint8Array} key
 * @param {Uint8Array} out
 * @param {number} at
 */
function signOne(digest, key, out, at) {
  if (native !== undefined) {
    const { signature, recid } = native.ecdsaSign(digest, key);
    out.set(signature, at);
    out[at + 64] = 27 + recid;
  } else if (fallback !== undefined) {
    out.set(fallback(digest, key), at);
  }
}

const port = parentPort;
if (port === null) throw new Error('signing-worker.js runs as a worker thread');
port.postMessage({ backend: native === undefined ? 'ethers' : 'native' });
port.on('message', (/** @type {{ id: number, digests: Uint8Array[], keys: Uint8Array[] }} */ message) => {
  const { id, digests, keys } = message;
  try {
    const results = new Uint8Array(RESULT_BYTES * digests.length);
    for (let i = 0; i < digests.length; i += 1) {
      signOne(/** @type {Uint8Array} */ (digests[i]), /** @type {Uint8Array} */ (keys[i]), results, RESULT_BYTES * i);
    }
    port.postMessage({ id, results }, [results.buffer]);
  } catch (error) {
    // Never the key: only what went wrong.
    port.postMessage({ id, error: error instanceof Error ? error.message : 'signing failed' });
  }
});
