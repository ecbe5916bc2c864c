/**
 * Fencing: every lease acquire increments the account's epoch (`INCR <prefix>:lease-epoch:{group}:<id>`,
 * in the same script as the SET, so no owner ever holds a lease without a fresh epoch). Snapshot versions
 * are derived from it:
 *
 *   version = epoch × 1e9 + counter        counter = 1, 2, 3 … within one tenure (one acquire)
 *
 * A new owner's epoch is higher, so its first write (epoch' × 1e9 + 1) beats any write the old owner
 * can still make (at most epoch × 1e9 + 999 999 999), and the store's compare-and-set ignores the slow
 * old write. Versions stay exact doubles up to epoch 9 007 198 (just under 2^53 / 1e9): ample, a takeover per second
 * for a hundred days per account. The epoch key never expires: delete it (or let Redis evict it) and
 * epochs restart, which `VersionCounter` detects against the loaded snapshot instead of losing writes.
 */
export const EPOCH_FACTOR = 1_000_000_000;

/** Largest epoch whose versions stay exact in a double. */
export const MAX_EPOCH = Math.floor(Number.MAX_SAFE_INTEGER / EPOCH_FACTOR) - 1;

export function fencedVersion(epoch: number, counter: number): number {
  if (!Number.isSafeInteger(epoch) || epoch < 1 || epoch > MAX_EPOCH)
    throw new Error(`fencing epoch: expected a whole number from 1 to ${MAX_EPOCH}, got ${epoch}`);
  if (!Number.isSafeInteger(counter) || counter < 0 || counter >= EPOCH_FACTOR) {
    throw new Error(`fencing counter: expected a whole number from 0 to ${EPOCH_FACTOR - 1}, got ${counter}`);
  }
  return epoch * EPOCH_FACTOR + counter;
}

/** The epoch a version was written under. */
export function epochOfVersion(version: number): number {
  return Math.floor(version / EPOCH_FACTOR);
}

/** Raised when a stored snapshot claims an epoch at or above the one just acquired: the epoch key was lost. */
export class FencingError extends Error {
  override readonly name = 'FencingError';
}

/**
 * Hands out the versions of one tenure. Create one right after `acquire` with the lease's epoch and the
 * version of the snapshot just loaded (if any); call `next()` for every save.
 */
export class VersionCounter {
  readonly epoch: number;
  #counter = 0;

  constructor(accountId: string, epoch: number, loadedVersion?: number) {
    fencedVersion(epoch, 0);
    if (loadedVersion !== undefined && epochOfVersion(loadedVersion) >= epoch) {
      throw new FencingError(
        `account ${JSON.stringify(accountId)}: stored snapshot version ${loadedVersion} is from epoch ${epochOfVersion(loadedVersion)}, ` +
          `not older than the lease's epoch ${epoch}; the lease-epoch key was deleted or evicted (run Redis with maxmemory-policy noeviction)`,
      );
    }
    this.epoch = epoch;
  }

  next(): number {
    this.#counter++;
    return fencedVersion(this.epoch, this.#counter);
  }
}
