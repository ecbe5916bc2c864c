import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { getBytes, keccak256 as ethersKeccak256 } from 'ethers';

/*
 * Keccak-256 (Ethereum's: the original padding 0x01, not SHA3-256's 0x06) for the hashes every order pays
 * for: the EIP-712 digest (two hashes), the AES key of request encryption, the simulator's request hash and
 * signature recovery. Through the `keccak` package's prebuilt binding (the reference C implementation) when
 * it loads, else ethers' pure-JavaScript keccak — about 10× slower on this project's 2-core bench machine
 * (25 µs against 2.8 µs for one 136-byte block), which made hashing half the time of signing an order.
 * Both give the same bytes (the differential test). RISKWARDEN_KECCAK=ethers forces the fallback.
 */

/** The binding's state object (the `keccak` package's src/addon.cc). */
interface NativeKeccakState {
  initialize(rate: number, capacity: number): void;
  absorb(data: Buffer): void;
  absorbLastFewBits(bits: number): void;
  squeeze(length: number): Buffer;
}

export type KeccakKind = 'native' | 'ethers';

export interface Keccak {
  readonly kind: KeccakKind;
  /** keccak256(data), 32 bytes. */
  hash(data: Uint8Array): Uint8Array;
}

/** Keccak-256: rate 1088 bits, capacity 512, the original Keccak padding. */
const RATE = 1088;
const CAPACITY = 512;
const KECCAK_PADDING = 0x01;

export const ethersKeccak: Keccak = {
  kind: 'ethers',
  hash: (data) => getBytes(ethersKeccak256(data)),
};

export function nativeKeccak(State: new () => NativeKeccakState): Keccak {
  // One state, reused: a hash is initialize → absorb → squeeze with nothing in between (synchronous).
  const state = new State();
  return {
    kind: 'native',
    hash(data) {
      state.initialize(RATE, CAPACITY);
      state.absorb(Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength));
      state.absorbLastFewBits(KECCAK_PADDING);
      return new Uint8Array(state.squeeze(32));
    },
  };
}

const require = createRequire(import.meta.url);

/**
 * The binding itself, never the package's own JavaScript fallback nor its stream wrapper (an object per
 * hash): throws when the prebuilt binary cannot load.
 */
export function loadNativeKeccak(): new () => NativeKeccakState {
  const packageDir = dirname(require.resolve('keccak/package.json'));
  const load = createRequire(`${packageDir}/`)('node-gyp-build') as (dir: string) => unknown;
  const State = load(packageDir);
  if (typeof State !== 'function') throw new Error('the keccak binding is not a constructor');
  return State as new () => NativeKeccakState;
}

export interface KeccakChoice {
  keccak: Keccak;
  /** Why the native binding is not used; absent when it is. */
  fallbackReason?: string;
}

/** Native when it loads, hashes its self-test right and is not switched off; else ethers, with the reason. */
export function chooseKeccak(
  options: { env?: Readonly<Record<string, string | undefined>>; load?: () => new () => NativeKeccakState } = {},
): KeccakChoice {
  const env = options.env ?? process.env;
  if (env.RISKWARDEN_KECCAK === 'ethers') return { keccak: ethersKeccak, fallbackReason: 'RISKWARDEN_KECCAK=ethers' };
  try {
    const keccak = nativeKeccak((options.load ?? loadNativeKeccak)());
    // keccak256("") from the Keccak team's test vectors: a binding that answers anything else is not used.
    if (Buffer.from(keccak.hash(new Uint8Array(0))).toString('hex') !== EMPTY_KECCAK256)
      throw new Error('the binding hashed its self-test wrong');
    return { keccak };
  } catch (error) {
    return {
      keccak: ethersKeccak,
      fallbackReason: `the keccak binding did not load (${error instanceof Error ? error.message : 'unknown error'})`,
    };
  }
}

const EMPTY_KECCAK256 = 'c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470';

let chosen: KeccakChoice | undefined;

function current(): Keccak {
  if (chosen === undefined) {
    chosen = chooseKeccak();
    if (chosen.fallbackReason !== undefined)
      process.emitWarning(`hashing with ethers' keccak: ${chosen.fallbackReason}`, { code: 'RISKWARDEN_KECCAK_FALLBACK' });
  }
  return chosen.keccak;
}

/** keccak256(data) as 32 bytes, by the process's implementation (chosen on first use). */
export function keccak256Bytes(data: Uint8Array): Uint8Array {
  return current().hash(data);
}

/** keccak256(data) as 0x-hex, as ethers' `keccak256` returns it. */
export function keccak256Hex(data: Uint8Array): string {
  const bytes = current().hash(data);
  return `0x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')}`;
}

/** Which implementation hashes, and why not the native one: for the bench and the startup report. */
export function keccakInfo(): { kind: KeccakKind; fallbackReason?: string } {
  const keccak = current();
  return chosen?.fallbackReason === undefined ? { kind: keccak.kind } : { kind: keccak.kind, fallbackReason: chosen.fallbackReason };
}
