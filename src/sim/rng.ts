/**
 * A seeded pseudo-random generator: xoshiro128** over 32-bit integers, seeded through splitmix32.
 * Every random choice the simulator makes comes from one of these, so the same seed gives the same run.
 * Never Math.random, never wall time.
 */
export interface Rng {
  /** A uniformly distributed 32-bit unsigned integer. */
  nextUint32(): number;
  /** A uniformly distributed integer in [0, n) for 0 < n <= 2^32 (rejection sampling: no modulo bias). */
  int(n: number): number;
  /** An integer in [min, max], both inclusive. */
  between(min: number, max: number): number;
  /** `n` random bytes. */
  bytes(n: number): Uint8Array;
  /** An independent generator derived from this one (for a sub-system that must not shift the others' draws). */
  fork(): Rng;
}

const UINT32 = 0x1_0000_0000;

function splitmix32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** A generator for `seed` (any safe integer; its low 32 bits and high bits both matter). */
export function createRng(seed: number): Rng {
  if (!Number.isSafeInteger(seed)) throw new RangeError(`rng seed: expected a safe integer, got ${String(seed)}`);
  const high = Math.floor(seed / UINT32) >>> 0;
  const mix = splitmix32((seed >>> 0) ^ Math.imul(high, 0x27d4eb2d));
  const s = [mix(), mix(), mix(), mix()] as [number, number, number, number];
  if (s.every((x) => x === 0)) s[0] = 1; // the all-zero state is a fixed point
  return fromState(s);
}

function fromState(s: [number, number, number, number]): Rng {
  const nextUint32 = (): number => {
    const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] = (s[2] ^ s[0]) >>> 0;
    s[3] = (s[3] ^ s[1]) >>> 0;
    s[1] = (s[1] ^ s[2]) >>> 0;
    s[0] = (s[0] ^ s[3]) >>> 0;
    s[2] = (s[2] ^ t) >>> 0;
    s[3] = rotl(s[3], 11);
    return result;
  };
  const int = (n: number): number => {
    if (!Number.isInteger(n) || n <= 0 || n > UINT32) throw new RangeError(`rng.int: expected an integer in (0, 2^32], got ${n}`);
    const limit = UINT32 - (UINT32 % n);
    for (;;) {
      const x = nextUint32();
      if (x < limit) return x % n;
    }
  };
  return {
    nextUint32,
    int,
    between(min, max) {
      if (!Number.isInteger(min) || !Number.isInteger(max) || max < min) throw new RangeError(`rng.between: bad range [${min}, ${max}]`);
      return min + int(max - min + 1);
    },
    bytes(n) {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i += 4) {
        const x = nextUint32();
        for (let j = 0; j < 4 && i + j < n; j++) out[i + j] = (x >>> (8 * j)) & 0xff;
      }
      return out;
    },
    fork() {
      const mix = splitmix32(nextUint32() ^ nextUint32());
      const state = [mix(), mix(), mix(), mix()] as [number, number, number, number];
      if (state.every((x) => x === 0)) state[0] = 1;
      return fromState(state);
    },
  };
}
