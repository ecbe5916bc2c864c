import { prepareEncryption, type EncryptionMaterial, type EncryptOptions } from '../derivadex/crypto/encryption.ts';
import type { EphemeralSource } from './ephemeral-source.ts';

/*
 * Request encryption with its ECDH done ahead of time: a few single-use ephemeral keys, each with the AES
 * key it shares with the operator, prepared while the process is idle, so that a request in a burst
 * only pays for AES-GCM. When the pool is empty (or was prepared for another operator key) the
 * material is derived inline: slower, never different.
 *
 * Determinism: the pool draws from its source in order and hands the draws out in the same order, so
 * the n-th request encrypted gets the source's n-th key and nonce, pool or not (the seeded simulation
 * puts the same bytes on the wire). Every draw is used once: taken materials leave the pool.
 */

interface Entry {
  draw: EncryptOptions;
  /** The operator key `material` was derived for. */
  for?: string;
  material?: EncryptionMaterial;
}

export interface EphemeralPoolOptions {
  /** Keys kept ready (default 2: a crash sends each account about one reduction and one cancel). */
  capacity?: number;
}

export interface EphemeralPoolStats {
  /** Materials handed out. */
  taken: number;
  /** Of those, derived on the request's path (pool empty, or prepared for another operator key). */
  derivedInline: number;
  /** Ready for the current operator key now. */
  ready: number;
}

export class EphemeralPool {
  readonly #source: EphemeralSource;
  readonly #capacity: number;
  readonly #entries: Entry[] = [];
  #operatorKey: string | undefined;
  #taken = 0;
  #derivedInline = 0;
  #closed = false;

  constructor(source: EphemeralSource, options: EphemeralPoolOptions = {}) {
    this.#source = source;
    this.#capacity = options.capacity ?? 2;
    if (!Number.isInteger(this.#capacity) || this.#capacity < 0) throw new RangeError('capacity must be an integer >= 0');
  }

  /** The operator key to prepare for (learnt from the first request or the key cache); starts a refill. */
  prime(operatorKey: string): void {
    this.#operatorKey = operatorKey;
    refills.want(this);
  }

  /** The next material for `operatorKey`, used once. Throws what encryption would (a bad operator key). */
  take(operatorKey: string): EncryptionMaterial {
    refills.touched();
    if (operatorKey !== this.#operatorKey) this.prime(operatorKey);
    const entry = this.#entries.shift() ?? { draw: this.#source() };
    this.#taken += 1;
    if (!this.#closed) refills.want(this);
    if (entry.material !== undefined && entry.for === operatorKey) return entry.material;
    this.#derivedInline += 1;
    return prepareEncryption(operatorKey, entry.draw);
  }

  get stats(): EphemeralPoolStats {
    const key = this.#operatorKey;
    const ready = this.#entries.filter((e) => e.material !== undefined && e.for === key).length;
    return { taken: this.#taken, derivedInline: this.#derivedInline, ready };
  }

  /** Stops refilling; `take` still works (inline). */
  close(): void {
    this.#closed = true;
    refills.drop(this);
  }

  /** One unit of refill work; false when there is nothing left to do. */
  refillOne(): boolean {
    const key = this.#operatorKey;
    if (this.#closed || key === undefined) return false;
    if (this.#entries.length < this.#capacity) this.#entries.push({ draw: this.#source() });
    const entry = this.#entries.find((e) => e.material === undefined || e.for !== key);
    if (entry === undefined) return false;
    try {
      entry.material = prepareEncryption(key, entry.draw);
      entry.for = key;
    } catch {
      // A key the backend refuses: `take` derives it again on the request's path and reports the error there.
      return false;
    }
    return true;
  }
}

/** Derivations per idle turn: about a millisecond with the native backend. */
const REFILLS_PER_TURN = 16;

/**
 * One scheduler for every pool of the process (a fleet has a pool per strategy): refills run on timers
 * that do not keep the process alive, a few per turn, and skip a turn in which a request took material
 * (a burst is running: leave it the CPU).
 */
class IdleRefills {
  readonly #wanting = new Set<EphemeralPool>();
  #timer: NodeJS.Timeout | undefined;
  #busy = false;

  want(pool: EphemeralPool): void {
    this.#wanting.add(pool);
    this.#schedule();
  }

  drop(pool: EphemeralPool): void {
    this.#wanting.delete(pool);
  }

  touched(): void {
    this.#busy = true;
  }

  #schedule(): void {
    if (this.#timer !== undefined || this.#wanting.size === 0) return;
    this.#timer = setTimeout(() => this.#turn(), 0);
    this.#timer.unref();
  }

  #turn(): void {
    this.#timer = undefined;
    if (this.#busy) {
      this.#busy = false;
      this.#schedule();
      return;
    }
    let budget = REFILLS_PER_TURN;
    for (const pool of this.#wanting) {
      while (budget > 0 && pool.refillOne()) budget -= 1;
      if (budget === 0) break;
      this.#wanting.delete(pool);
    }
    this.#schedule();
  }
}

const refills = new IdleRefills();
