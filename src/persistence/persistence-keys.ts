/**
 * Redis key names for per-account persistence. Every key carries the account's group as a Redis Cluster
 * hash tag (`{group}`), so all keys of one group (a portfolio) hash to the same slot: Lua scripts may touch
 * several of them at once, and a portfolio moves between Cluster nodes as a whole.
 *
 *   <prefix>:snapshot:{<group>}:<accountId>     the account actor's persisted snapshot (JSON)
 *   <prefix>:lease:{<group>}:<accountId>        the owner id of the process running the account (PX ttl)
 *   <prefix>:lease-epoch:{<group>}:<accountId>  fencing token, INCR on every acquire; never expires
 *   <prefix>:lease-released:{<group>}:<accountId>  the epoch of the last clean release; never expires
 */
export type PersistenceKeyKind = 'snapshot' | 'lease' | 'lease-epoch' | 'lease-released';

/** Maps an account to its group (hash tag), e.g. its portfolio id. */
export type GroupOf = (accountId: string) => string;

export const DEFAULT_PREFIX = 'riskwarden';

/** Default grouping: every account is its own group. */
export const groupByAccount: GroupOf = (accountId) => accountId;

/**
 * The key of one account's record. Throws, naming the argument, when a part would break the hash tag:
 * Redis takes the tag from the first `{` to the next `}`, so neither prefix nor group may contain braces.
 */
export function persistenceKey(prefix: string, kind: PersistenceKeyKind, group: string, accountId: string): string {
  checkPrefix(prefix);
  if (group === '') throw new Error(`group of account ${JSON.stringify(accountId)}: expected a non-empty string`);
  if (/[{}]/.test(group)) {
    throw new Error(
      `group of account ${JSON.stringify(accountId)}: ${JSON.stringify(group)} must not contain "{" or "}" (it is a Redis Cluster hash tag)`,
    );
  }
  if (accountId === '') throw new Error('accountId: expected a non-empty string');
  return `${prefix}:${kind}:{${group}}:${accountId}`;
}

/** The key for `accountId` using `groupOf` to find its hash tag. */
export function accountKey(prefix: string, kind: PersistenceKeyKind, groupOf: GroupOf, accountId: string): string {
  return persistenceKey(prefix, kind, groupOf(accountId), accountId);
}

/** A SCAN MATCH pattern for every key of one kind under `prefix` (glob characters in the prefix escaped). */
export function keyPattern(prefix: string, kind: PersistenceKeyKind): string {
  checkPrefix(prefix);
  return `${`${prefix}:${kind}:`.replace(/[*?[\]\\]/g, '\\$&')}{*`;
}

/** The account id inside a key of `kind`, or null when the key is not one of ours. */
export function accountIdOfKey(prefix: string, kind: PersistenceKeyKind, key: string): string | null {
  const head = `${prefix}:${kind}:{`;
  if (!key.startsWith(head)) return null;
  // Groups never contain braces, so the first `}` closes the tag.
  const close = key.indexOf('}', head.length);
  if (close <= head.length || key[close + 1] !== ':') return null;
  const accountId = key.slice(close + 2);
  return accountId === '' ? null : accountId;
}

function checkPrefix(prefix: string): void {
  if (prefix === '') throw new Error('prefix: expected a non-empty string');
  if (/[{}]/.test(prefix))
    throw new Error(`prefix: ${JSON.stringify(prefix)} must not contain "{" or "}" (the hash tag must be the group)`);
}
