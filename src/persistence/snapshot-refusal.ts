/**
 * Checks what a stored snapshot holds (the value that was saved) before anyone resumes from it: returns
 * every problem as `<path>: <message>` with `path` starting at `path` (`snapshot.snapshot.value: unknown
 * state "no-such-state"`), or none. The store knows the stored form; the caller knows what it saved.
 */
export type SnapshotCheck = (snapshot: unknown, path: string) => string[];

const MAX_PROBLEMS_SHOWN = 10;

/**
 * A stored snapshot that must not be resumed from: not JSON, not the stored form, written under a schema
 * this version does not read, or refused by the caller's check. Thrown by `SnapshotStore.load` (and
 * counted in `stats().refused`); any other error of `load` is the store's (unreachable, timed out).
 */
export class SnapshotRefusedError extends Error {
  override readonly name = 'SnapshotRefusedError';
  readonly accountId: string;
  /** Where the value was read, e.g. `Redis value at riskwarden:snapshot:{a1}:a1`. */
  readonly where: string;
  /** Each problem as `<path>: <message>`, paths from the stored value's root. */
  readonly problems: string[];
  /** `meta.version` of the refused value, when it could be read. */
  readonly storedVersion: number | undefined;

  constructor(accountId: string, where: string, problems: string[], storedVersion?: number) {
    // The first problems say enough; a value wrong everywhere must not make a message of megabytes.
    const shown = problems.slice(0, MAX_PROBLEMS_SHOWN).join('; ');
    super(`${where}: ${shown}${problems.length > MAX_PROBLEMS_SHOWN ? `; and ${problems.length - MAX_PROBLEMS_SHOWN} more` : ''}`);
    this.accountId = accountId;
    this.where = where;
    this.problems = problems;
    this.storedVersion = storedVersion;
  }
}
