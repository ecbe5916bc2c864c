import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStopoutStore } from '../../src/store/redis-stopout-store.ts';
import { Redis } from 'ioredis';
import { freeLoopbackPort, startRedisProcess, waitForPing, type RedisProcess } from '../harness/redis-process.ts';

/**
 * Sentinel through ioredis: a real master and a real `redis-server --sentinel` that monitors it. The store
 * is given only the sentinel's address and the group name, and finds the master through it.
 */
describe('Redis stopout store through Sentinel', () => {
  let master: RedisProcess;
  let sentinel: ChildProcess;
  let sentinelPort: number;
  let dir: string;

  beforeAll(async () => {
    master = await startRedisProcess();
    sentinelPort = await freeLoopbackPort();
    dir = mkdtempSync(join(tmpdir(), 'riskwarden-sentinel-'));
    const conf = join(dir, 'sentinel.conf');
    writeFileSync(
      conf,
      [`port ${sentinelPort}`, 'bind 127.0.0.1', `dir ${dir}`, `sentinel monitor riskwarden-test 127.0.0.1 ${master.port} 1`, ''].join(
        '\n',
      ),
    );
    sentinel = spawn('redis-server', [conf, '--sentinel'], { stdio: 'ignore' });
    await waitForPing('127.0.0.1', sentinelPort, 10_000);
    // The sentinel knows the master once it answers for the group name.
    const probe = new Redis({ host: '127.0.0.1', port: sentinelPort, lazyConnect: true });
    await probe.connect();
    try {
      for (let i = 0; i < 50; i += 1) {
        const answer = (await probe.call('SENTINEL', 'get-master-addr-by-name', 'riskwarden-test').catch(() => null)) as string[] | null;
        if (answer?.[1] === String(master.port)) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      probe.disconnect();
    }
  });

  afterAll(async () => {
    sentinel?.kill('SIGKILL');
    await master?.remove();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('sets, lists and resets stopouts on the master the sentinel names, with the contract key layout', async () => {
    const store = await createRedisStopoutStore({
      sentinels: [{ host: '127.0.0.1', port: sentinelPort }],
      sentinelName: 'riskwarden-test',
      prefix: 'sentinel-test',
    });
    try {
      await store.set({ scope: 'portfolio', id: 'core', reason: 'manual', closePositions: true });
      expect((await store.list()).map((s) => `${s.scope}:${s.id}:${s.reason}:${s.closePositions}`)).toEqual(['portfolio:core:manual:true']);
      // Written to the master itself, under the documented key (docs/contracts.md#redis).
      const direct = new Redis(master.url);
      expect(await direct.hkeys('sentinel-test:stopout:portfolio:core')).toEqual(['manual']);
      direct.disconnect();
      expect(await store.reset('portfolio', 'core', 'manual')).toBe(true);
      expect(await store.list()).toEqual([]);
    } finally {
      await store.close();
    }
  });
});
