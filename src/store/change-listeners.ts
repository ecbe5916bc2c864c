import type { StoreChange } from './stopout-store.ts';

/**
 * The listeners of `StopoutStore.watch`. Each change goes to every listener synchronously, in order; a
 * listener that throws does not keep the others from hearing it, and the first error is rethrown once all
 * have been called (the store's own state is already updated by then).
 */
export class ChangeListeners {
  readonly #listeners = new Set<(change: StoreChange) => void>();

  add(listener: (change: StoreChange) => void): () => void {
    // A wrapper per subscription, so the same function may watch twice and unsubscribe each separately.
    const entry = (change: StoreChange): void => listener(change);
    this.#listeners.add(entry);
    return () => {
      this.#listeners.delete(entry);
    };
  }

  emit(changes: readonly StoreChange[]): void {
    let failure: { error: unknown } | undefined;
    for (const change of changes) {
      for (const listener of [...this.#listeners]) {
        try {
          listener(change);
        } catch (error) {
          failure ??= { error };
        }
      }
    }
    if (failure !== undefined) throw failure.error;
  }
}
