import type { SnapshotMeta, StoredSnapshot } from './snapshot-store.ts';

/**
 * The stored form of a snapshot: `{"meta":{"version":…,"owner":…,"at":…},"snapshot":…}`. `version` comes
 * first so the compare-and-set script can read it with one anchored match instead of decoding the whole
 * snapshot on every save (and without cjson re-encoding numbers).
 */
export function encodeStoredSnapshot(accountId: string, snapshot: unknown, meta: SnapshotMeta): string {
  let body: string | undefined;
  try {
    body = JSON.stringify(snapshot);
  } catch (error) {
    throw new Error(`save(${JSON.stringify(accountId)}).snapshot: not JSON-serialisable: ${(error as Error).message}`);
  }
  if (body === undefined) throw new Error(`save(${JSON.stringify(accountId)}).snapshot: not JSON-serialisable (${typeof snapshot})`);
  const head = JSON.stringify({ version: meta.version, owner: meta.owner, at: meta.at });
  return `{"meta":${head},"snapshot":${body}}`;
}

/** Parses and validates a stored value; `where` names it in errors (e.g. the Redis key). */
export function decodeStoredSnapshot(where: string, raw: string): StoredSnapshot {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (error) {
    throw new Error(`${where}: not valid JSON: ${(error as Error).message}`);
  }
  if (!isRecord(parsed)) throw new Error(`${where}: expected a JSON object {meta, snapshot}`);
  if (!('snapshot' in parsed)) throw new Error(`${where}.snapshot: missing`);
  const meta = parsed.meta;
  if (!isRecord(meta)) throw new Error(`${where}.meta: expected an object {owner, at, version}`);
  if (typeof meta.owner !== 'string') throw new Error(`${where}.meta.owner: expected a string`);
  if (typeof meta.at !== 'number') throw new Error(`${where}.meta.at: expected epoch milliseconds`);
  if (typeof meta.version !== 'number' || !Number.isSafeInteger(meta.version) || meta.version < 0) {
    throw new Error(`${where}.meta.version: expected a whole number ≥ 0`);
  }
  return { snapshot: parsed.snapshot, meta: { owner: meta.owner, at: meta.at, version: meta.version } };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
