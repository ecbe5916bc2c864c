import { Cluster, type Redis } from 'ioredis';
import type { RedisConnection } from './connection.ts';

/**
 * Every key matching `pattern` (a SCAN MATCH glob; escape literal parts yourself), on every master of a
 * Cluster (it spreads keys over them) or on the one server. Unordered, each key once.
 */
export async function scanKeys(connection: RedisConnection, pattern: string): Promise<string[]> {
  // A Cluster knows its masters only once ready; a PING waits for that within the connection's own retry limits.
  if (connection instanceof Cluster && connection.status !== 'ready') await connection.ping();
  const nodes = connection instanceof Cluster ? connection.nodes('master') : [connection];
  // Finding nothing because there was nowhere to look must not read as "no keys".
  if (nodes.length === 0) throw new Error('no Redis node to scan');
  const perNode = await Promise.all(nodes.map((node) => scanNode(node, pattern)));
  return [...new Set(perNode.flat())];
}

async function scanNode(node: Redis, pattern: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  return keys;
}
