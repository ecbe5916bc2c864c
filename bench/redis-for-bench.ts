import { spawn } from 'node:child_process';
import { freeLoopbackPort, waitForPing } from '../test/harness/redis-process.ts';

/** A private redis-server for the propagation benchmark (REDIS_URL when set). */
export async function startRedisForBench(): Promise<{ url: string; stop(): Promise<void> }> {
  if (process.env.REDIS_URL) return { url: process.env.REDIS_URL, stop: async () => {} };
  const port = await freeLoopbackPort();
  const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  await waitForPing('127.0.0.1', port, 10_000);
  return { url: `redis://127.0.0.1:${port}`, stop: async () => void server.kill('SIGKILL') };
}
