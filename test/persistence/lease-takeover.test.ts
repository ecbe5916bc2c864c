import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { LeaseKeeper } from '../../src/persistence/lease-keeper.ts';
import { RedisLeaseManager } from '../../src/persistence/redis-lease-manager.ts';
import { testRedis, testRedisUrl, uniquePrefix } from '../harness/redis.ts';
import { sleep } from './lease-manager-contract.ts';

const TTL_MS = 400;
const RENEW_MS = Math.floor(TTL_MS / 3); // 133
const ACCOUNTS = ['acct-1', 'acct-2', 'acct-3'];
const HOLDER = fileURLToPath(new URL('./lease-holder-process.ts', import.meta.url));

describe('takeover after a supervisor process is SIGKILLed', () => {
  let child: ChildProcess | undefined;
  afterEach(() => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });

  it('another process acquires every account within ttl + renew interval of the kill', async () => {
    const prefix = uniquePrefix('takeover');
    child = spawn(process.execPath, ['--import', 'tsx', HOLDER, testRedisUrl(), prefix, String(TTL_MS), ...ACCOUNTS], {
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (chunk) => (stderr += String(chunk)));
    const childEpochs = new Map<string, number>();
    let childOwner = '';
    const allAcquired = new Promise<void>((resolve, reject) => {
      child!.once('exit', (code, signal) => reject(new Error(`lease holder exited early (${code ?? signal}): ${stderr}`)));
      createInterface({ input: child!.stdout! }).on('line', (line) => {
        const [what, id, epoch] = line.split(' ');
        if (what === 'owner') childOwner = id!;
        if (what === 'acquired') childEpochs.set(id!, Number(epoch));
        if (childEpochs.size === ACCOUNTS.length) resolve();
      });
    });
    await allAcquired;

    const redis = testRedis();
    const leases = new RedisLeaseManager({ client: redis, prefix, ttlMs: TTL_MS, ownerId: 'survivor:1:aa' });
    const keeper = new LeaseKeeper({ leases, accounts: () => ACCOUNTS });
    const acquiredAt = new Map<string, number>();
    keeper.on('acquired', (id) => acquiredAt.set(id, performance.now()));
    try {
      keeper.start();
      // While the holder lives and renews, nothing moves, across several of its ttls.
      await sleep(2 * TTL_MS);
      expect(acquiredAt.size).toBe(0);
      for (const id of ACCOUNTS) expect(await leases.owner(id)).toBe(childOwner);

      const exited = new Promise((resolve) => child!.once('exit', resolve));
      const killedAt = performance.now();
      child.kill('SIGKILL');
      await exited;

      const deadline = killedAt + TTL_MS + RENEW_MS;
      while (acquiredAt.size < ACCOUNTS.length && performance.now() < deadline + 1_000) await sleep(5);
      for (const id of ACCOUNTS) {
        const at = acquiredAt.get(id);
        expect(at, `${id} was not taken over`).toBeDefined();
        // Its last renewal gave it at most one ttl; our keeper retries right when that runs out.
        expect(at! - killedAt, `${id} taken over after ${Math.round(at! - killedAt)} ms`).toBeLessThanOrEqual(TTL_MS + RENEW_MS);
        expect(await leases.owner(id)).toBe('survivor:1:aa');
        expect(leases.epoch(id)).toBeGreaterThan(childEpochs.get(id)!);
      }
    } finally {
      await keeper.stop();
      await redis.quit();
    }
  });
});
