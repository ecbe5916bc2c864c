import { SnapshotRefusedError, type SnapshotCheck } from './snapshot-refusal.ts';
import type { SnapshotLoad, SnapshotMeta, StoredSnapshot } from './snapshot-store.ts';

/**
 * The schema of what this version writes, `meta.schema` in the stored form. Bump it when a snapshot this
 * version writes would be misread by an older one or the other way round (a state renamed or removed, a
 * context field changed in meaning), and read older schemas by migrating them in `decodeStoredSnapshot`
 * or stop reading them by raising `OLDEST_SNAPSHOT_SCHEMA`. Schema 1 is the form written before the field
 * existed: the same layout, so a value without `meta.schema` is read as schema 1.
 */
export const SNAPSHOT_SCHEMA = 2;
/** The oldest schema this version still reads. */
export const OLDEST_SNAPSHOT_SCHEMA = 1;

/**
 * The stored form of a snapshot: `{"meta":{"version":…,"owner":…,"at":…,"schema":2},"snapshot":…}`.
 * `version` comes first so the compare-and-set script can read it with one anchored match instead of
 * decoding the whole snapshot on every save (and without cjson re-encoding numbers).
 */
export function encodeStoredSnapshot(accountId: string, snapshot: unknown, meta: SnapshotMeta): string {
  let body: string | undefined;
  try {
    body = JSON.stringify(snapshot);
  } catch (error) {
    throw new Error(`save(${JSON.stringify(accountId)}).snapshot: not JSON-serialisable: ${(error as Error).message}`);
  }
  if (body === undefined) throw new Error(`save(${JSON.stringify(accountId)}).snapshot: not JSON-serialisable (${typeof snapshot})`);
  const head = JSON.stringify({ version: meta.version, owner: meta.owner, at: meta.at, schema: SNAPSHOT_SCHEMA });
  return `{"meta":${head},"snapshot":${body}}`;
}

/**
 * Parses and validates a stored value of `accountId`, then what it holds with `check` (the caller's:
 * what it saved). Throws `SnapshotRefusedError` with every problem by path when the value is not JSON, not
 * the stored form, of a schema this version does not read, or refused by `check`; `where` names the value
 * (e.g. the Redis key). Never throws anything else.
 */
export function decodeStoredSnapshot(accountId: string, where: string, raw: string, check?: SnapshotCheck): StoredSnapshot {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (error) {
    throw new SnapshotRefusedError(accountId, where, [`not valid JSON: ${(error as Error).message}`]);
  }
  if (!isRecord(parsed)) throw new SnapshotRefusedError(accountId, where, ['expected a JSON object {meta, snapshot}']);
  const problems: string[] = [];
  const meta = parsed.meta;
  if (!isRecord(meta)) {
    problems.push('meta: expected an object {version, owner, at, schema}');
  } else {
    if (typeof meta.owner !== 'string') problems.push('meta.owner: expected a string');
    if (typeof meta.at !== 'number' || !Number.isFinite(meta.at)) problems.push('meta.at: expected epoch milliseconds');
    if (!Number.isSafeInteger(meta.version) || (meta.version as number) < 0) problems.push('meta.version: expected a whole number ≥ 0');
    const schema = meta.schema ?? 1;
    if (!Number.isSafeInteger(schema)) problems.push(`meta.schema: expected a whole number, got ${JSON.stringify(schema)}`);
    else if ((schema as number) > SNAPSHOT_SCHEMA) {
      problems.push(`meta.schema: ${schema} is newer than this riskwarden reads (${OLDEST_SNAPSHOT_SCHEMA} to ${SNAPSHOT_SCHEMA})`);
    } else if ((schema as number) < OLDEST_SNAPSHOT_SCHEMA) {
      problems.push(`meta.schema: ${schema} is older than this riskwarden reads (${OLDEST_SNAPSHOT_SCHEMA} to ${SNAPSHOT_SCHEMA})`);
    }
  }
  if (!('snapshot' in parsed)) problems.push('snapshot: missing');
  // What the value holds is judged only under a schema this version reads.
  else if (problems.length === 0 && check) problems.push(...check(parsed.snapshot, 'snapshot'));
  const version =
    isRecord(meta) && Number.isSafeInteger(meta.version) && (meta.version as number) >= 0 ? (meta.version as number) : undefined;
  if (problems.length > 0) throw new SnapshotRefusedError(accountId, where, problems, version);
  const m = meta as { owner: string; at: number; version: number; schema?: number };
  return { snapshot: parsed.snapshot, meta: { owner: m.owner, at: m.at, version: m.version }, schema: m.schema ?? 1 };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * `decodeStoredSnapshot` as a `loadMany` answer: a stored value (`null` when there is none) decoded, or the
 * refusal it raised; `refused` counts each refusal.
 */
export function decodedLoad(
  accountId: string,
  where: string,
  raw: string | null,
  refused: () => void,
  check?: SnapshotCheck,
): SnapshotLoad {
  if (raw === null) return { accountId, kind: 'missing' };
  try {
    return { accountId, kind: 'loaded', stored: decodeStoredSnapshot(accountId, where, raw, check) };
  } catch (error) {
    if (!(error instanceof SnapshotRefusedError)) throw error;
    refused();
    return { accountId, kind: 'refused', error };
  }
}
