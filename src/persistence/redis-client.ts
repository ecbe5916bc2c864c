import { Cluster, type Redis } from 'ioredis';

/**
 * The clients persistence accepts: a single Redis (standalone, or Sentinel-managed through ioredis's
 * `sentinels` option) or a Redis Cluster. Every command names keys of one hash slot, so both work alike.
 */
export type RedisClient = Redis | Cluster;

/** Every key matching `pattern`, on every master (a Cluster spreads keys over its masters). */
export async function scanKeys(client: RedisClient, pattern: string): Promise<string[]> {
  // A Cluster knows its masters only once ready; a PING waits for that within the client's own retry limits.
  if (client instanceof Cluster && client.status !== 'ready') await client.ping();
  const nodes = client instanceof Cluster ? client.nodes('master') : [client];
  const found = new Set<string>();
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      for (const key of keys) found.add(key);
      cursor = next;
    } while (cursor !== '0');
  }
  return [...found];
}
