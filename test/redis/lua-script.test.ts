import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisConnection, type RedisConnection } from '../../src/redis/connection.ts';
import { LuaScript } from '../../src/redis/lua-script.ts';
import { testRedisCluster, testRedisClusterNodes } from '../harness/redis-cluster-nodes.ts';
import { testRedis, testRedisUrl, uniquePrefix } from '../harness/redis.ts';

const OPTIONS = { retryDelayMs: 200, commandTimeoutMs: 5_000 };

/** KEYS[1] counter, KEYS[2] log; ARGV[1] step: adds the step, appends it to the log, returns the new count. */
const COUNT = new LuaScript(`
local count = redis.call('INCRBY', KEYS[1], ARGV[1])
redis.call('RPUSH', KEYS[2], ARGV[1])
return count
`);

const FAILS = new LuaScript(`return redis.error_reply('script says no')`);

describe('LuaScript on a plain server', () => {
  const admin = testRedis();
  let connection: RedisConnection;
  let clientId: string;

  beforeAll(async () => {
    connection = createRedisConnection({ url: testRedisUrl() }, OPTIONS);
    connection.on('error', () => {});
    await connection.connect();
    clientId = String(await connection.client('ID'));
  });
  afterAll(async () => {
    connection.disconnect();
    await admin.quit();
  });

  /** The last command the script's connection sent, as the server saw it. */
  async function lastCommand(): Promise<string | undefined> {
    const line = String(await admin.client('LIST', 'ID', clientId));
    return /\bcmd=(\S+)/.exec(line)?.[1];
  }

  it('is named by the SHA1 of its source', () => {
    expect(COUNT.sha).toBe(createHash('sha1').update(COUNT.source).digest('hex'));
  });

  it('runs with its keys and arguments, by EVALSHA once the server has it', async () => {
    const prefix = uniquePrefix('lua');
    const keys = [`${prefix}:count`, `${prefix}:log`];
    expect(await COUNT.run(connection, keys, [2])).toBe(2);
    expect(await admin.script('EXISTS', COUNT.sha)).toEqual([1]);
    expect(await COUNT.run(connection, keys, ['3'])).toBe(5); // 2 + 3
    expect(await lastCommand()).toBe('evalsha');
    expect(await admin.lrange(keys[1] as string, 0, -1)).toEqual(['2', '3']);
    await admin.del(...keys);
  });

  it('recovers from NOSCRIPT after a SCRIPT FLUSH: sends the source once, then EVALSHA again', async () => {
    const prefix = uniquePrefix('lua-flush');
    const keys = [`${prefix}:count`, `${prefix}:log`];
    expect(await COUNT.run(connection, keys, [1])).toBe(1);
    // What a restart or a failover does to the script cache (every script user here falls back the same way).
    await admin.script('FLUSH');
    expect(await admin.script('EXISTS', COUNT.sha)).toEqual([0]);
    expect(await COUNT.run(connection, keys, [1])).toBe(2); // 1 + 1, run exactly once
    expect(await lastCommand()).toBe('eval');
    expect(await admin.script('EXISTS', COUNT.sha)).toEqual([1]);
    expect(await COUNT.run(connection, keys, [1])).toBe(3);
    expect(await lastCommand()).toBe('evalsha');
    expect(await admin.lrange(keys[1] as string, 0, -1)).toEqual(['1', '1', '1']);
    await admin.del(...keys);
  });

  it("gives the script's own error to the caller without resending it as EVAL", async () => {
    // The first run loads it (NOSCRIPT, then EVAL); the second finds it cached.
    await expect(FAILS.run(connection, [], [])).rejects.toThrow('script says no');
    await expect(FAILS.run(connection, [], [])).rejects.toThrow('script says no');
    expect(await lastCommand()).toBe('evalsha');
  });
});

describe('LuaScript on a three-master Redis Cluster', () => {
  const raw = testRedisCluster();
  let connection: RedisConnection;

  beforeAll(async () => {
    connection = createRedisConnection({ cluster: testRedisClusterNodes() }, OPTIONS);
    connection.on('error', () => {});
    await connection.connect();
    await raw.ping(); // ready: it knows its masters
  });
  afterAll(async () => {
    connection.disconnect();
    await raw.quit();
  });

  it("runs on the master of its keys' slot, and again on every master after they all forgot it", async () => {
    const prefix = uniquePrefix('lua-cluster');
    // Two keys of one slot each ({tag}), for tags that land on different masters.
    const groups = Array.from({ length: 12 }, (_, i) => [`${prefix}:{g${i}}:count`, `${prefix}:{g${i}}:log`]);
    for (const keys of groups) expect(await COUNT.run(connection, keys, [1])).toBe(1);
    const perMaster = await Promise.all(raw.nodes('master').map(async (node) => (await node.keys(`${prefix}:*`)).length));
    expect(perMaster).toHaveLength(3);
    expect(perMaster.every((n) => n > 0)).toBe(true);
    await Promise.all(raw.nodes('master').map((node) => node.script('FLUSH')));
    for (const keys of groups) expect(await COUNT.run(connection, keys, [4])).toBe(5); // 1 + 4
    const present = await Promise.all(raw.nodes('master').map((node) => node.script('EXISTS', COUNT.sha)));
    expect(present).toEqual([[1], [1], [1]]);
    await Promise.all(groups.flat().map((key) => raw.del(key)));
  });
});
