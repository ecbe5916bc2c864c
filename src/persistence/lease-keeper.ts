import { emptyRenewOutcome, type LeaseManager } from './lease-manager.ts';

/** The timer functions the keeper uses; inject fakes to drive it in tests. */
export interface LeaseTimers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimers: LeaseTimers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export interface LeaseKeeperOptions {
  leases: LeaseManager;
  /** The accounts this process may run; asked again on every acquire round. */
  accounts: () => Iterable<string>;
  timers?: LeaseTimers;
  /** Default ttl/3: two renewals can fail before a lease expires. */
  renewEveryMs?: number;
  /** Default ttl/2; a round is brought forward to the moment a known foreign lease expires. */
  acquireEveryMs?: number;
  /** While a lease is uncertain (Redis unreachable): renew this often, so it is re-validated soon after Redis returns. Default ttl/10. */
  revalidateEveryMs?: number;
}

/**
 * `acquired`, `lost`: the account starts or stops here. `uncertain`: its lease could not be confirmed past
 * its deadline (Redis unreachable) — it keeps running, with ownership uncertain. `confirmed`: an uncertain
 * lease is ours again. `reasserted`: the lease was gone with its epoch (Redis lost its data) and is written back.
 */
type AccountEvent = 'acquired' | 'lost' | 'uncertain' | 'confirmed' | 'reasserted';
type Listener<E> = E extends 'error' ? (error: unknown) => void : (accountId: string) => void;

/**
 * Keeps this process's leases: renews owned leases every ttl/3 and reports those lost (`lost`: stop the
 * account locally at once) or uncertain (`uncertain`: Redis cannot be asked; renewed every ttl/10 then), and tries to acquire the accounts it should run but does not own every ttl/2
 * (`acquired`: load the snapshot, start the actor). This is how a dead process's accounts are taken over
 * once its leases expire. Rounds of one kind never overlap; the next is scheduled when one ends.
 */
export class LeaseKeeper {
  readonly #leases: LeaseManager;
  readonly #accounts: () => Iterable<string>;
  readonly #timers: LeaseTimers;
  readonly #renewEveryMs: number;
  readonly #acquireEveryMs: number;
  readonly #revalidateEveryMs: number;
  readonly #listeners = {
    acquired: new Set<(accountId: string) => void>(),
    lost: new Set<(accountId: string) => void>(),
    uncertain: new Set<(accountId: string) => void>(),
    confirmed: new Set<(accountId: string) => void>(),
    reasserted: new Set<(accountId: string) => void>(),
    error: new Set<(error: unknown) => void>(),
  };
  #running = false;
  #renewTimer: unknown = undefined;
  #acquireTimer: unknown = undefined;
  #renewing: Promise<unknown> = Promise.resolve();
  #acquiring: Promise<unknown> = Promise.resolve();

  constructor(options: LeaseKeeperOptions) {
    this.#leases = options.leases;
    this.#accounts = options.accounts;
    this.#timers = options.timers ?? realTimers;
    this.#renewEveryMs = options.renewEveryMs ?? Math.max(1, Math.floor(options.leases.ttlMs / 3));
    this.#acquireEveryMs = options.acquireEveryMs ?? Math.max(1, Math.floor(options.leases.ttlMs / 2));
    this.#revalidateEveryMs = Math.min(this.#renewEveryMs, options.revalidateEveryMs ?? Math.max(1, Math.floor(options.leases.ttlMs / 10)));
  }

  on<E extends AccountEvent | 'error'>(event: E, listener: Listener<E>): () => void {
    const set = this.#listeners[event] as Set<Listener<E>>;
    set.add(listener);
    return () => set.delete(listener);
  }

  /** Starts with an acquire round at once, then keeps both rhythms until `stop`. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#acquiring = this.#acquireRound();
    this.#scheduleRenew();
  }

  /**
   * Stops the timers and waits for a round in progress. Leases are kept (they expire unless released):
   * on a graceful shutdown stop the actors, `flush()` the snapshot store, then `release` each owned lease
   * so other processes take over at once from the latest snapshot.
   */
  async stop(): Promise<void> {
    this.#running = false;
    this.#timers.clearTimeout(this.#renewTimer);
    this.#timers.clearTimeout(this.#acquireTimer);
    await Promise.all([this.#renewing, this.#acquiring]);
  }

  /** One renew round now; resolves with the accounts lost (also emitted as `lost`, with the other events). */
  async renewNow(): Promise<string[]> {
    let outcome = emptyRenewOutcome();
    try {
      outcome = await this.#leases.renewAll();
    } catch (error) {
      this.#emitError(error);
    }
    for (const accountId of outcome.uncertain) this.#emit('uncertain', accountId);
    for (const accountId of outcome.reasserted) this.#emit('reasserted', accountId);
    for (const accountId of outcome.confirmed) this.#emit('confirmed', accountId);
    for (const accountId of outcome.lost) this.#emit('lost', accountId);
    return outcome.lost;
  }

  /** One acquire round now; resolves with the accounts acquired (also emitted as `acquired`). */
  async acquireNow(): Promise<string[]> {
    const owned = new Set(this.#leases.owned());
    const wanted = [...new Set(this.#accounts())].filter((accountId) => !owned.has(accountId));
    const results = await Promise.all(
      wanted.map((accountId) =>
        this.#leases.acquire(accountId).then(
          (got) => got,
          (error: unknown) => {
            this.#emitError(error);
            return false;
          },
        ),
      ),
    );
    const acquired = wanted.filter((_, i) => results[i]);
    for (const accountId of acquired) this.#emit('acquired', accountId);
    return acquired;
  }

  async #acquireRound(): Promise<void> {
    await this.acquireNow();
    if (!this.#running) return;
    // Retry right after the soonest foreign lease runs out, rather than up to a whole round later.
    let delay = this.#acquireEveryMs;
    const owned = new Set(this.#leases.owned());
    for (const accountId of this.#accounts()) {
      const left = owned.has(accountId) ? undefined : this.#leases.retryAfterMs(accountId);
      if (left !== undefined) delay = Math.min(delay, left + 1);
    }
    this.#acquireTimer = this.#timers.setTimeout(() => {
      if (this.#running) this.#acquiring = this.#acquireRound();
    }, delay);
  }

  #scheduleRenew(): void {
    const uncertain = this.#leases.owned().some((accountId) => this.#leases.uncertain(accountId));
    this.#renewTimer = this.#timers.setTimeout(
      () => {
        if (!this.#running) return;
        this.#renewing = this.renewNow().then(() => {
          if (this.#running) this.#scheduleRenew();
        });
      },
      uncertain ? this.#revalidateEveryMs : this.#renewEveryMs,
    );
  }

  #emit(event: AccountEvent, accountId: string): void {
    for (const listener of this.#listeners[event]) {
      try {
        listener(accountId);
      } catch (error) {
        this.#emitError(error);
      }
    }
  }

  #emitError(error: unknown): void {
    if (this.#listeners.error.size === 0) {
      // Nobody listens: say so rather than crash the supervisor over a Redis blip.
      console.error('riskwarden lease keeper:', error);
      return;
    }
    for (const listener of this.#listeners.error) {
      try {
        listener(error);
      } catch {
        // An error listener that throws has nowhere left to report to.
      }
    }
  }
}
