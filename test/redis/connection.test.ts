import { createServer, type Server } from 'node:net';
import { Cluster, Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createRedisConnection, describeRedisTarget, duplicateForSubscriber, type RedisConnection } from '../../src/redis/connection.ts';
import { testRedisClusterNodes } from '../harness/redis-cluster-nodes.ts';
import { freeLoopbackPort } from '../harness/redis-process.ts';
import { testRedis, testRedisUrl, uniquePrefix } from '../harness/redis.ts';

const OPTIONS = { retryDelayMs: 200, commandTimeoutMs: 2_000 };

describe('describeRedisTarget', () => {
  it('names every kind of target, never with its password', () => {
    expect(describeRedisTarget({ url: 'rediss://ops:s3cret@redis.example:6380/2' })).toBe('Redis rediss://ops:***@redis.example:6380/2');
    expect(describeRedisTarget({ url: 'redis://127.0.0.1:6379' })).toBe('Redis redis://127.0.0.1:6379');
    expect(describeRedisTarget({ url: 'not a url' })).toBe('Redis (unparseable URL)');
    expect(
      describeRedisTarget({
        sentinels: [
          { host: 's1', port: 26379 },
          { host: 's2', port: 26380 },
        ],
        sentinelName: 'main',
      }),
    ).toBe('Redis Sentinel group main via s1:26379,s2:26380');
    expect(describeRedisTarget({ sentinels: [{ host: 's1', port: 26379 }] })).toBe('Redis Sentinel group (unnamed) via s1:26379');
    expect(
      describeRedisTarget({
        cluster: [
          { host: 'c1', port: 7000 },
          { host: 'c2', port: 7001 },
        ],
      }),
    ).toBe('Redis Cluster c1:7000,c2:7001');
    expect(describeRedisTarget({})).toBe('Redis (no target)');
  });
});

describe('createRedisConnection', () => {
  const admin = testRedis();
  const opened: RedisConnection[] = [];
  const servers: Server[] = [];
  const users: string[] = [];
  afterAll(async () => {
    for (const connection of opened) connection.disconnect();
    for (const server of servers) server.close();
    for (const user of users) await admin.call('ACL', 'DELUSER', user);
    await admin.quit();
  });

  function open(...args: Parameters<typeof createRedisConnection>): RedisConnection {
    const connection = createRedisConnection(...args);
    // Without an 'error' listener an unreachable Redis would crash the test process.
    connection.on('error', () => {});
    opened.push(connection);
    return connection;
  }

  it('connects to a plain URL only when asked, and runs commands', async () => {
    const connection = open({ url: testRedisUrl() }, OPTIONS);
    expect(connection).toBeInstanceOf(Redis);
    expect(connection.status).toBe('wait');
    await connection.connect();
    const key = `${uniquePrefix('connection')}:plain`;
    await connection.set(key, 'v', 'PX', 10_000);
    expect(await connection.get(key)).toBe('v');
  });

  it('authenticates with the user and password in the URL', async () => {
    const prefix = uniquePrefix('auth');
    const user = `${prefix}-user`;
    users.push(user);
    // A user that may touch its own keys only: proof that the connection is that user, not the default one.
    await admin.call('ACL', 'SETUSER', user, 'on', '>pa:ss@word', `~${prefix}:*`, '+@all');
    const url = new URL(testRedisUrl());
    url.username = user;
    url.password = 'pa:ss@word'; // percent-encoded by URL, decoded by the client
    const connection = open({ url: url.toString() }, OPTIONS);
    await connection.connect();
    expect(await connection.call('ACL', 'WHOAMI')).toBe(user);
    expect(await connection.set(`${prefix}:mine`, '1', 'PX', 10_000)).toBe('OK');
    await expect(connection.get('someone-else:key')).rejects.toThrow(/NOPERM/);

    url.password = 'wrong';
    const refused = open({ url: url.toString() }, OPTIONS);
    const errors: string[] = [];
    refused.on('error', (error: Error) => errors.push(error.message));
    await expect(refused.connect()).rejects.toThrow();
    expect(errors.some((message) => message.startsWith('WRONGPASS'))).toBe(true);
  });

  it('speaks TLS to a rediss:// URL, with the user, password and db from it', async () => {
    // A bare TCP listener: the first bytes a TLS client sends are a handshake record (content type 0x16).
    const server = createServer();
    servers.push(server);
    const firstByte = new Promise<number>((resolve) => {
      server.on('connection', (socket) =>
        socket.once('data', (chunk: Buffer) => {
          resolve(chunk[0] ?? -1);
          socket.destroy();
        }),
      );
    });
    const port = await new Promise<number>((resolve) =>
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        resolve(typeof address === 'object' && address !== null ? address.port : -1);
      }),
    );
    const connection = open({ url: `rediss://ops:pw@127.0.0.1:${port}/3` }, OPTIONS) as Redis;
    connection.connect().catch(() => {});
    expect(await firstByte).toBe(0x16);
    const { tls, username, password, db } = connection.options;
    expect({ tls: Boolean(tls), username, password, db }).toEqual({ tls: true, username: 'ops', password: 'pw', db: 3 });
  });

  it('refuses commands at once while the server is down instead of queueing them', async () => {
    const connection = open({ url: `redis://127.0.0.1:${await freeLoopbackPort()}` }, OPTIONS);
    connection.connect().catch(() => {});
    await expect(connection.set('k', 'v')).rejects.toThrow(/enableOfflineQueue|writeable/);
  });

  it('fails a command the server does not answer within commandTimeoutMs', async () => {
    const connection = open({ url: testRedisUrl() }, { retryDelayMs: 200, commandTimeoutMs: 200 });
    await connection.connect();
    // BLPOP holds the reply for 2 s: far beyond the 200 ms timeout.
    await expect(connection.blpop(`${uniquePrefix('timeout')}:never`, 2)).rejects.toThrow(/timed out/);
  });

  it('backs off between reconnections from 50 ms up to retryDelayMs', () => {
    const single = open({ url: testRedisUrl() }, { retryDelayMs: 300, commandTimeoutMs: 2_000 }) as Redis;
    const retry = single.options.retryStrategy;
    expect([1, 2, 6, 7, 100].map((times) => retry?.(times))).toEqual([50, 100, 300, 300, 300]);
    const cluster = open({ cluster: [{ host: '127.0.0.1', port: 1 }] }, { retryDelayMs: 300, commandTimeoutMs: 2_000 }) as Cluster;
    expect([1, 7].map((times) => cluster.options.clusterRetryStrategy?.(times))).toEqual([50, 300]);
    expect(cluster.options.redisOptions?.commandTimeout).toBe(2_000);
  });

  it('builds a Sentinel connection from the group name and its sentinels, and requires the name', () => {
    const sentinels = [{ host: '127.0.0.1', port: 26379 }];
    const connection = open({ sentinels, sentinelName: 'main' }, OPTIONS) as Redis;
    expect(connection.options.sentinels).toEqual(sentinels);
    expect(connection.options.name).toBe('main');
    expect(connection.options.enableOfflineQueue).toBe(false);
    expect(() => createRedisConnection({ sentinels }, OPTIONS)).toThrow(/sentinelName: required with sentinels/);
    expect(() => createRedisConnection({}, OPTIONS)).toThrow(/url: a Redis URL, sentinels or cluster nodes are required/);
  });

  it('connects to a Cluster from its seed nodes and routes keys of every slot', async () => {
    const connection = open({ cluster: testRedisClusterNodes() }, OPTIONS);
    expect(connection).toBeInstanceOf(Cluster);
    await connection.connect();
    const prefix = uniquePrefix('cluster-connection');
    const keys = Array.from({ length: 12 }, (_, i) => `${prefix}:${i}`);
    for (const key of keys) await connection.set(key, key, 'PX', 10_000);
    expect(await Promise.all(keys.map((key) => connection.get(key)))).toEqual(keys);
  });

  it('gives the subscriber a duplicate that queues its SUBSCRIBE until connected', async () => {
    const command = open({ url: testRedisUrl() }, OPTIONS);
    const subscriber = duplicateForSubscriber(command);
    subscriber.on('error', () => {});
    opened.push(subscriber);
    const channel = `${uniquePrefix('subscriber')}:events`;
    const heard = new Promise<string>((resolve) => subscriber.on('message', (_channel: string, message: string) => resolve(message)));
    // Not connected yet: a plain command connection would refuse this.
    await subscriber.subscribe(channel);
    await command.connect();
    await command.publish(channel, 'hello');
    expect(await heard).toBe('hello');
  });
});
