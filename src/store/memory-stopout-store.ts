import { type Clock, wallClock } from '../clock/clock.ts';
import type { Stopout, StopoutScope } from '../domain/stopout.ts';
import { ChangeListeners } from './change-listeners.ts';
import { decideSet } from './set-decision.ts';
import { compareIdentities, scopeIdKey } from '../domain/stopout-identity.ts';
import type { StopoutBreach, StopoutStartTime, StopoutStore, StoreChange, StoredStopout } from './stopout-store.ts';
import { assertBreachInput, assertResetInput, assertStartTimeInput, assertStopoutInput } from './store-input.ts';
import { StoreMirror } from './store-mirror.ts';
import { StoreUnavailableError } from './store-unavailable-error.ts';

export interface MemoryStopoutStoreOptions {
  /** Time of stoppedAt defaults and of breach expiry (default: the wall clock). */
  clock?: Clock;
}

/**
 * The embedded store for one process: deterministic (sequence = a counter from 1, time from the clock),
 * nothing shared, nothing persisted.
 */
export class MemoryStopoutStore implements StopoutStore {
  readonly kind = 'memory';
  readonly #clock: Clock;
  readonly #mirror = new StoreMirror();
  readonly #listeners = new ChangeListeners();
  readonly #breaches = new Map<string, { breach: StopoutBreach; expiresAt: number }>();
  #sequence = 0;
  #closed = false;

  constructor(options: MemoryStopoutStoreOptions = {}) {
    this.#clock = options.clock ?? wallClock;
  }

  async list(): Promise<StoredStopout[]> {
    this.#assertOpen('list stopouts');
    return this.#mirror.list();
  }

  /** The stopouts now, without waiting. */
  snapshot(): StoredStopout[] {
    return this.#mirror.list();
  }

  async set(stopout: Stopout): Promise<StoredStopout> {
    this.#assertOpen('set a stopout');
    assertStopoutInput(stopout);
    const decision = decideSet(stopout, this.#mirror.get(stopout.scope, stopout.id, stopout.reason), this.#clock.now());
    if (decision.kind === 'keep') return decision.stopout;
    const stored = decision.stopout(++this.#sequence);
    this.#listeners.emit(this.#mirror.upsert(stored));
    return stored;
  }

  async reset(scope: StopoutScope, id: string, reason: string): Promise<boolean> {
    this.#assertOpen('reset a stopout');
    assertResetInput(scope, id, reason);
    const changes = this.#mirror.remove(scope, id, reason);
    this.#listeners.emit(changes);
    return changes.length > 0;
  }

  async recordBreach(breach: StopoutBreach, ttlMs: number): Promise<void> {
    this.#assertOpen('record a breach');
    assertBreachInput('recordBreach', breach, ttlMs);
    const { scope, id, reason, message } = breach;
    this.#breaches.set(breachKey(scope, id, reason), { breach: { scope, id, reason, message }, expiresAt: this.#clock.now() + ttlMs });
  }

  async clearBreach(scope: StopoutScope, id: string, reason: string): Promise<void> {
    this.#assertOpen('clear a breach');
    assertBreachInput('clearBreach', { scope, id, reason });
    this.#breaches.delete(breachKey(scope, id, reason));
  }

  async breaches(): Promise<StopoutBreach[]> {
    this.#assertOpen('list breaches');
    const now = this.#clock.now();
    for (const [key, { expiresAt }] of this.#breaches) if (expiresAt <= now) this.#breaches.delete(key);
    return [...this.#breaches.values()].map(({ breach }) => ({ ...breach })).sort(compareIdentities);
  }

  async setStartTime(scope: StopoutScope, id: string, startTimeIso: string): Promise<void> {
    this.#assertOpen('move a start time');
    assertStartTimeInput(scope, id, startTimeIso);
    this.#listeners.emit(this.#mirror.setStartTime(scope, id, startTimeIso));
  }

  async startTimes(): Promise<StopoutStartTime[]> {
    this.#assertOpen('list start times');
    return this.#mirror.startTimes();
  }

  watch(listener: (change: StoreChange) => void): () => void {
    return this.#listeners.add(listener);
  }

  healthy(): boolean {
    return !this.#closed;
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  #assertOpen(operation: string): void {
    if (this.#closed) throw new StoreUnavailableError(operation, 'the store is closed');
  }
}

function breachKey(scope: StopoutScope, id: string, reason: string): string {
  return `${scopeIdKey(scope, id)}\u0000${reason}`;
}
