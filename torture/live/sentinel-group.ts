import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freeLoopbackPort, startRedisProcess, waitForPing, type RedisProcess } from '../../test/harness/redis-process.ts';
import { untilOr } from './waiting.ts';

export const SENTINEL_NAME = 'torture';

/**
 * A Sentinel group on loopback: two redis-servers (a master and its replica) and one sentinel (quorum 1)
 * that fails over 1 s after the master stops answering. `failover()` SIGKILLs whichever is master now,
 * waits until the sentinel names the other, and starts the old one again (the sentinel makes it a replica).
 */
export class SentinelGroup {
  readonly nodes: RedisProcess[];
  readonly sentinelPort: number;
  readonly #sentinel: ChildProcess;
  readonly #dir: string;

  private constructor(nodes: RedisProcess[], sentinelPort: number, sentinel: ChildProcess, dir: string) {
    this.nodes = nodes;
    this.sentinelPort = sentinelPort;
    this.#sentinel = sentinel;
    this.#dir = dir;
  }

  static async start(): Promise<SentinelGroup> {
    const master = await startRedisProcess();
    const replica = await startRedisProcess({ args: ['--replicaof', '127.0.0.1', String(master.port)] });
    const sentinelPort = await freeLoopbackPort();
    const dir = mkdtempSync(join(tmpdir(), 'riskwarden-torture-sentinel-'));
    const conf = join(dir, 'sentinel.conf');
    writeFileSync(
      conf,
      [
        `port ${sentinelPort}`,
        'bind 127.0.0.1',
        `dir ${dir}`,
        `sentinel monitor ${SENTINEL_NAME} 127.0.0.1 ${master.port} 1`,
        `sentinel down-after-milliseconds ${SENTINEL_NAME} 1000`,
        `sentinel failover-timeout ${SENTINEL_NAME} 5000`,
        '',
      ].join('\n'),
    );
    const sentinel = spawn('redis-server', [conf, '--sentinel'], { stdio: 'ignore' });
    await waitForPing('127.0.0.1', sentinelPort, 10_000);
    const group = new SentinelGroup([master, replica], sentinelPort, sentinel, dir);
    const known = await untilOr(10_000, async () => (await group.masterPort()) === master.port);
    // The replica must have synced before anything depends on it.
    const synced = await untilOr(10_000, async () => {
      const probe = new Redis(replica.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
      try {
        await probe.connect();
        return /master_link_status:up/.test(await probe.info('replication'));
      } finally {
        probe.disconnect();
      }
    });
    if (!known || !synced) {
      await group.close();
      throw new Error(`sentinel group: ${known ? 'the replica did not sync' : 'the sentinel does not name the master'} within 10 s`);
    }
    return group;
  }

  get sentinels(): Array<{ host: string; port: number }> {
    return [{ host: '127.0.0.1', port: this.sentinelPort }];
  }

  /** A client that finds the master through the sentinel (as the supervisors do). */
  client(): Redis {
    const client = new Redis({ sentinels: this.sentinels, name: SENTINEL_NAME, maxRetriesPerRequest: 1, sentinelRetryStrategy: () => 100 });
    client.on('error', () => {});
    return client;
  }

  async masterPort(): Promise<number | undefined> {
    const probe = new Redis({ host: '127.0.0.1', port: this.sentinelPort, lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await probe.connect();
      const answer = (await probe.call('SENTINEL', 'get-master-addr-by-name', SENTINEL_NAME)) as string[] | null;
      return answer ? Number(answer[1]) : undefined;
    } finally {
      probe.disconnect();
    }
  }

  /**
   * SIGKILLs the master and waits (up to `withinMs`) until the sentinel names the other node; then starts
   * the old master again. Resolves to how long the promotion took, or undefined when it did not happen.
   */
  async failover(withinMs: number): Promise<number | undefined> {
    const before = await this.masterPort();
    const old = this.nodes.find((n) => n.port === before);
    if (old === undefined) return undefined;
    const killedAt = Date.now();
    await old.kill();
    const promoted = await untilOr(withinMs, async () => {
      const now = await this.masterPort();
      return now !== undefined && now !== before;
    });
    const took = Date.now() - killedAt;
    // Back as a replica of the new master: the sentinel reconfigures it once it answers.
    await old.restart().catch(() => {});
    return promoted ? took : undefined;
  }

  async close(): Promise<void> {
    this.#sentinel.kill('SIGKILL');
    await Promise.allSettled(this.nodes.map((n) => n.remove()));
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
