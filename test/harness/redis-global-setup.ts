import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startTestRedisCluster } from './redis-cluster.ts';
import { freeLoopbackPort, waitForPing } from './redis-process.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}

const HOW_TO_FIX =
  'Install it (Debian: apt-get install redis-server, or run .ci/run) or point the tests at a server with REDIS_URL=redis://host:port.';

/**
 * Gives every test file a real Redis and a real three-master Redis Cluster (redis-cluster.ts), started
 * side by side. Never skips: without either the run fails.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const [single, cluster] = await Promise.allSettled([setupSingleRedis(project), startTestRedisCluster()]);
  if (single.status === 'rejected' || cluster.status === 'rejected') {
    if (single.status === 'fulfilled') await single.value();
    if (cluster.status === 'fulfilled') await cluster.value.stop();
    throw single.status === 'rejected' ? single.reason : (cluster as PromiseRejectedResult).reason;
  }
  project.provide('redisClusterNodes', cluster.value.nodes);
  project.provide('redisClusterStartupMs', cluster.value.startupMs);
  return async () => {
    await Promise.all([single.value(), cluster.value.stop()]);
  };
}

/**
 * The real Redis of every test file: the one named by REDIS_URL, or a private redis-server on a free
 * loopback port that lives exactly as long as the test run. Never skips: without Redis the run fails.
 */
async function setupSingleRedis(project: TestProject): Promise<() => Promise<void>> {
  const given = process.env.REDIS_URL;
  if (given) {
    const url = new URL(given);
    await waitForPing(url.hostname, Number(url.port || 6379), 3_000).catch((error: Error) => {
      throw new Error(`REDIS_URL=${given} does not answer PING (${error.message}). ${HOW_TO_FIX}`);
    });
    project.provide('redisUrl', given);
    return async () => {};
  }

  if (spawnSync('redis-server', ['--version']).error) {
    throw new Error(`redis-server is not installed and REDIS_URL is not set. ${HOW_TO_FIX}`);
  }
  const port = await freeLoopbackPort();
  const dir = mkdtempSync(join(tmpdir(), 'riskwarden-redis-'));
  const server: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    { stdio: 'ignore' },
  );
  try {
    await waitForPing('127.0.0.1', port, 10_000);
  } catch (error) {
    server.kill('SIGKILL');
    throw new Error(`could not start a private redis-server on port ${port}: ${(error as Error).message}. ${HOW_TO_FIX}`);
  }
  const url = `redis://127.0.0.1:${port}`;
  process.env.RISKWARDEN_TEST_REDIS_URL = url;
  project.provide('redisUrl', url);
  return async () => {
    server.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  };
}
