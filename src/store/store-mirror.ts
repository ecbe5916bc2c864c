import type { StopoutScope } from '../domain/stopout.ts';
import { compareIdentities, scopeIdKey } from '../domain/stopout-identity.ts';
import type { StopoutStartTime, StoreChange, StoredStopout } from './stopout-store.ts';
import { sameStoredStopout } from './stopout-value.ts';

/**
 * What a process knows of the shared store: the stopouts per (scope, id) and the start times. Every update
 * returns the changes it made, so the store can report exactly the differences, whoever caused them.
 */
export class StoreMirror {
  readonly #stopouts = new Map<string, { scope: StopoutScope; id: string; byReason: Map<string, StoredStopout> }>();
  readonly #startTimes = new Map<string, StopoutStartTime>();

  /** Replaces everything known of one (scope, id) with what was read there. */
  replaceScope(scope: StopoutScope, id: string, stopouts: readonly StoredStopout[]): StoreChange[] {
    const key = scopeIdKey(scope, id);
    const before = this.#stopouts.get(key)?.byReason ?? new Map<string, StoredStopout>();
    const after = new Map(stopouts.map((s) => [s.reason, s]));
    const changes: StoreChange[] = [];
    for (const [reason, old] of [...before].sort(([a], [b]) => compareIdentities({ scope, id, reason: a }, { scope, id, reason: b }))) {
      if (!after.has(reason)) changes.push({ kind: 'reset', stopout: old });
    }
    for (const stopout of [...after.values()].sort(compareIdentities)) {
      const old = before.get(stopout.reason);
      if (old === undefined || !sameStoredStopout(old, stopout)) changes.push({ kind: 'set', stopout });
    }
    if (after.size === 0) this.#stopouts.delete(key);
    else this.#stopouts.set(key, { scope, id, byReason: after });
    return changes;
  }

  upsert(stopout: StoredStopout): StoreChange[] {
    const key = scopeIdKey(stopout.scope, stopout.id);
    const entry = this.#stopouts.get(key) ?? { scope: stopout.scope, id: stopout.id, byReason: new Map<string, StoredStopout>() };
    const old = entry.byReason.get(stopout.reason);
    if (old !== undefined && sameStoredStopout(old, stopout)) return [];
    entry.byReason.set(stopout.reason, stopout);
    this.#stopouts.set(key, entry);
    return [{ kind: 'set', stopout }];
  }

  remove(scope: StopoutScope, id: string, reason: string): StoreChange[] {
    const key = scopeIdKey(scope, id);
    const entry = this.#stopouts.get(key);
    const old = entry?.byReason.get(reason);
    if (entry === undefined || old === undefined) return [];
    entry.byReason.delete(reason);
    if (entry.byReason.size === 0) this.#stopouts.delete(key);
    return [{ kind: 'reset', stopout: old }];
  }

  get(scope: StopoutScope, id: string, reason: string): StoredStopout | undefined {
    return this.#stopouts.get(scopeIdKey(scope, id))?.byReason.get(reason);
  }

  /** Sorted by scope, id, reason. */
  list(): StoredStopout[] {
    return [...this.#stopouts.values()].flatMap((e) => [...e.byReason.values()]).sort(compareIdentities);
  }

  /** Every (scope, id) that holds at least one stopout. */
  scopes(): Array<{ scope: StopoutScope; id: string }> {
    return [...this.#stopouts.values()].map(({ scope, id }) => ({ scope, id }));
  }

  /** `startTime` undefined: the start time is gone. Reports only a start time that is new or different. */
  setStartTime(scope: StopoutScope, id: string, startTime: string | undefined): StoreChange[] {
    const key = scopeIdKey(scope, id);
    const old = this.#startTimes.get(key);
    if (startTime === undefined) {
      this.#startTimes.delete(key);
      return [];
    }
    if (old?.startTime === startTime) return [];
    this.#startTimes.set(key, { scope, id, startTime });
    return [{ kind: 'start-time', scope, id, startTime }];
  }

  startTimes(): StopoutStartTime[] {
    return [...this.#startTimes.values()].sort(compareIdentities);
  }

  startTimeScopes(): Array<{ scope: StopoutScope; id: string }> {
    return [...this.#startTimes.values()].map(({ scope, id }) => ({ scope, id }));
  }
}
