import { accountSnapshotProblems } from '../../machines/restorable-account.ts';
import { SnapshotRefusedError, type SnapshotCheck } from '../persistence/snapshot-refusal.ts';
import type { SnapshotStore } from '../persistence/snapshot-store.ts';
import type { PersistedAccount } from './fleet-runtime.ts';

/**
 * How a process that just acquired an account's lease starts it: resumed from its stored snapshot, or
 * fresh from the venue (no snapshot, or one that was refused). `version` is the stored snapshot's, for
 * the tenure's `VersionCounter`.
 */
export type AccountTakeover =
  | { kind: 'resume'; persisted: PersistedAccount; version: number }
  | { kind: 'fresh'; version?: undefined; refusal?: string };

/**
 * What `FleetRuntime.persist` saves, checked before it is resumed: `{snapshot, orderHashes}` with the
 * account actor's snapshot inside (machines/restorable-account.ts: outer shape, every state path against
 * the machine's state nodes, the context) and the venue hash of each awaited order.
 */
export const checkPersistedAccount: SnapshotCheck = (value, path) => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [`${path}: expected an object {snapshot, orderHashes}`];
  const { snapshot, orderHashes } = value as { snapshot?: unknown; orderHashes?: unknown };
  const problems = accountSnapshotProblems(snapshot, `${path}.snapshot`);
  if (typeof orderHashes !== 'object' || orderHashes === null || Array.isArray(orderHashes)) {
    problems.push(`${path}.orderHashes: expected an object (client order id → venue hash)`);
  } else {
    for (const [id, hash] of Object.entries(orderHashes)) {
      if (typeof hash !== 'string' || hash === '') problems.push(`${path}.orderHashes[${JSON.stringify(id)}]: expected a non-empty string`);
    }
  }
  return problems;
};

/**
 * Reads the account's stored snapshot for a takeover. A snapshot that is refused (not JSON, of an unknown
 * schema, an unknown state, a wrong type: `SnapshotRefusedError`, counted by the store) is deleted — this
 * version cannot resume from it, and its version must not fence out the saves of the fresh start — and the
 * account is started fresh from the venue, as on a first start: its ledger from the venue, its stopouts
 * from the stopout store. `refusal` says what was refused and why, by path, to be reported. Any other
 * error (the store is unreachable) is thrown: the lease is released and the takeover tried again.
 */
export async function loadForTakeover(snapshots: SnapshotStore, accountId: string): Promise<AccountTakeover> {
  try {
    const stored = await snapshots.load(accountId, checkPersistedAccount);
    if (!stored) return { kind: 'fresh' };
    return { kind: 'resume', persisted: stored.snapshot as PersistedAccount, version: stored.meta.version };
  } catch (error) {
    if (!(error instanceof SnapshotRefusedError)) throw error;
    await snapshots.delete(accountId);
    return {
      kind: 'fresh',
      refusal:
        `snapshot of ${accountId} refused: ${error.message}; ` +
        'rebuilt from the venue (fresh start from its ledger, stopouts from the stopout store)',
    };
  }
}
