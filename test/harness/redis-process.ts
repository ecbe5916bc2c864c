import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A redis-server this process started: stop, kill and restart it on the same port. */
export interface RedisProcess {
  readonly port: number;
  readonly url: string;
  /** Its working directory (RDB, cluster config); removed by `remove()`. */
  readonly dir: string;
  /** SIGKILL and wait for the exit: the abrupt loss a supervisor must survive. */
  kill(): Promise<void>;
  /** Starts it again on the same port and directory (it loads `dump.rdb` from there if present). */
  restart(): Promise<void>;
  /** Kills it and removes its directory (unless the directory was given). */
  remove(): Promise<void>;
}

export interface RedisProcessOptions {
  port?: number;
  /** Extra redis-server arguments, e.g. ['--cluster-enabled', 'yes']. */
  args?: string[];
  /** Working directory to use (and load `dump.rdb` from); default: a new temporary one. */
  dir?: string;
  /** How long to wait for PING (default 10 s). */
  readyWithinMs?: number;
}

/** Starts a private redis-server on a loopback port (a free one unless given) and waits until it answers PING. */
export async function startRedisProcess(options: RedisProcessOptions = {}): Promise<RedisProcess> {
  const port = options.port ?? (await freeLoopbackPort());
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'riskwarden-redis-'));
  const readyWithinMs = options.readyWithinMs ?? 10_000;
  let child: ChildProcess | undefined;

  const launch = async (): Promise<void> => {
    const server = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...(options.args ?? [])],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    child = server;
    let stderr = '';
    server.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const spawnError = new Promise<never>((_, reject) =>
      server.once('error', (e) => reject(new Error(`cannot run redis-server: ${e.message}`))),
    );
    try {
      await Promise.race([waitForPing('127.0.0.1', port, readyWithinMs), spawnError]);
    } catch (error) {
      server.kill('SIGKILL');
      throw new Error(`redis-server on port ${port} did not start: ${(error as Error).message}${stderr ? ` (${stderr.trim()})` : ''}`);
    }
  };

  const kill = async (): Promise<void> => {
    const server = child;
    child = undefined;
    if (server === undefined || server.exitCode !== null || server.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
    server.kill('SIGKILL');
    await exited;
  };

  await launch();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    kill,
    restart: async () => {
      await kill();
      await launch();
    },
    remove: async () => {
      await kill();
      if (options.dir === undefined) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Sends one inline command over a raw socket and resolves to the raw reply (no client library involved). */
export function rawRedisCommand(host: string, port: number, command: string, timeoutMs = 1_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    let reply = '';
    socket.setTimeout(timeoutMs);
    socket.on('connect', () => socket.write(`${command}\r\n`));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      // A bulk string reply is complete once its announced length has arrived; simple replies end at CRLF.
      const bulk = /^\$(\d+)\r\n/.exec(reply);
      const complete = bulk ? reply.length >= bulk[0].length + Number(bulk[1]) + 2 : reply.endsWith('\r\n');
      if (complete) {
        socket.destroy();
        resolve(reply);
      }
    });
    socket.on('error', (error) => reject(error));
    socket.on('timeout', () => {
      socket.destroy();
      reject(new Error('timed out'));
    });
  });
}

/** PINGs until +PONG or the deadline. */
export async function waitForPing(host: string, port: number, withinMs: number): Promise<void> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const reason = await rawRedisCommand(host, port, 'PING', 500).then(
      (reply) => (reply.includes('PONG') ? undefined : reply.trim()),
      (error: Error) => error.message,
    );
    if (reason === undefined) return;
    if (Date.now() > deadline) throw new Error(reason);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A TCP port that was free on 127.0.0.1 a moment ago. */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
