import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { TcpFaultProxy } from './tcp-fault-proxy.ts';

/*
 * The fault proxy on its own: a real echo server behind it on 127.0.0.1, real client sockets in front. Each
 * fault is checked from both ends: what the client receives and what the target received.
 */

interface Echo {
  server: Server;
  port: number;
  /** Bytes the target has received, over every connection. */
  received: () => string;
}

function startEcho(): Promise<Echo> {
  let received = '';
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    socket.on('error', () => {});
    socket.on('data', (chunk) => {
      received += chunk.toString();
      socket.write(chunk);
    });
    socket.on('end', () => socket.end());
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve({ server, port: typeof address === 'object' && address ? address.port : 0, received: () => received });
    }),
  );
}

interface Client {
  socket: Socket;
  text: () => string;
  closed: Promise<{ error?: string }>;
}

function client(port: number): Promise<Client> {
  return new Promise((resolve, reject) => {
    let text = '';
    let error: string | undefined;
    const socket = connect({ host: '127.0.0.1', port });
    socket.on('data', (chunk) => (text += chunk.toString()));
    socket.on('error', (e: NodeJS.ErrnoException) => (error = e.code ?? e.message));
    const closed = new Promise<{ error?: string }>((done) => socket.once('close', () => done(error === undefined ? {} : { error })));
    socket.once('connect', () => resolve({ socket, text: () => text, closed }));
    socket.once('error', reject);
  });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what: string, probe: () => boolean, withinMs = 2_000): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`not within ${withinMs} ms: ${what}`);
    await sleep(5);
  }
}

/** Lets sockets do their I/O for a few event-loop turns (setImmediate is not faked). */
async function turns(n = 5): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/**
 * Under fake timers: lets I/O run, then steps the simulated clock by `stepMs`, until `probe` holds; returns
 * the simulated milliseconds it took. With `stepMs` 0 the clock never moves (at most 2,000 turns).
 */
async function stepUntil(what: string, probe: () => boolean, stepMs = 10): Promise<number> {
  let stepped = 0;
  for (let turn = 0; !probe(); turn++) {
    if (turn >= 2_000) throw new Error(`not after ${turn} turns and ${stepped} simulated ms: ${what}`);
    await turns();
    if (probe()) break;
    vi.advanceTimersByTime(stepMs);
    stepped += stepMs;
  }
  return stepped;
}

describe('TcpFaultProxy', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await Promise.resolve(c()).catch(() => {});
  });

  async function setup(): Promise<{ echo: Echo; proxy: TcpFaultProxy }> {
    const echo = await startEcho();
    cleanups.push(() => new Promise<void>((resolve) => echo.server.close(() => resolve())));
    const proxy = await TcpFaultProxy.start({ host: '127.0.0.1', port: echo.port });
    cleanups.push(() => proxy.close());
    return { echo, proxy };
  }

  async function open(proxy: TcpFaultProxy): Promise<Client> {
    const c = await client(proxy.port);
    cleanups.push(() => void c.socket.destroy());
    return c;
  }

  it('listens on a free loopback port and forwards both ways; rewrites a URL onto itself', async () => {
    const { proxy, echo } = await setup();
    expect(proxy.port).toBeGreaterThan(0);
    expect(proxy.port).not.toBe(echo.port);
    const c = await open(proxy);
    c.socket.write('hello');
    await until('the echo', () => c.text() === 'hello');
    expect(proxy.stats).toMatchObject({ accepted: 1, open: 1, bytes: { 'to-target': 5, 'to-client': 5 } });
    expect(proxy.rewrite(`ws://127.0.0.1:${echo.port}/realtime-api`)).toBe(`ws://127.0.0.1:${proxy.port}/realtime-api`);
    expect(proxy.rewrite(`redis://127.0.0.1:${echo.port}`)).toBe(`redis://127.0.0.1:${proxy.port}`);
  });

  it('adds latency each way and keeps the order of chunks (on a stepped clock)', async () => {
    const { proxy, echo } = await setup();
    const c = await open(proxy);
    c.socket.write('z');
    await until('both legs joined', () => c.text() === 'z');
    // Behaviour, not time: the proxy's clock and timers are stepped by hand, so "held for 150 ms each way"
    // and "prompt at 0" are counted in steps of simulated time, however fast the machine is.
    vi.useFakeTimers({ toFake: ['Date', 'setTimeout', 'clearTimeout'] });
    try {
      proxy.setLatency(150);
      for (const part of ['a', 'b', 'c', 'd']) c.socket.write(part);
      const there = await stepUntil('the delayed chunks at the target', () => echo.received() === 'zabcd');
      expect(there).toBeGreaterThanOrEqual(150);
      const back = await stepUntil('the delayed echo', () => c.text() === 'zabcd');
      expect(back).toBeGreaterThanOrEqual(150);
      proxy.setLatency(0);
      c.socket.write('e');
      // No simulated time passes: at 0 latency the chunk goes through on I/O alone.
      expect(await stepUntil('the prompt echo', () => c.text() === 'zabcde', 0)).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it('a stall forwards nothing and closes nothing; what was held flows when healed', async () => {
    const { proxy, echo } = await setup();
    const c = await open(proxy);
    proxy.stall();
    c.socket.write('held');
    await sleep(200);
    expect(echo.received()).toBe('');
    expect(c.text()).toBe('');
    expect(c.socket.destroyed).toBe(false);
    proxy.heal();
    await until('the held bytes to arrive', () => c.text() === 'held');
  });

  it('half-open: one direction held, the other still flows, nothing closed', async () => {
    const { proxy, echo } = await setup();
    const c = await open(proxy);
    proxy.hold('to-client');
    c.socket.write('ping');
    await until('the target to receive', () => echo.received() === 'ping');
    await sleep(150);
    expect(c.text()).toBe('');
    expect(c.socket.destroyed).toBe(false);
    proxy.release('to-client');
    await until('the answer to arrive', () => c.text() === 'ping');
  });

  it('reset destroys open connections with RST; new ones work', async () => {
    const { proxy } = await setup();
    const c = await open(proxy);
    c.socket.write('x');
    await until('the echo', () => c.text() === 'x');
    expect(proxy.reset()).toBe(1);
    expect(await c.closed).toEqual({ error: 'ECONNRESET' });
    const d = await open(proxy);
    d.socket.write('y');
    await until('the echo on a new connection', () => d.text() === 'y');
    expect(proxy.stats.resets).toBe(1);
  });

  it('a refusing partition resets existing and new connections until healed', async () => {
    const { proxy } = await setup();
    const c = await open(proxy);
    proxy.partition('refuse');
    expect(await c.closed).toEqual({ error: 'ECONNRESET' });
    const refused = await client(proxy.port).then(
      (d) => d.closed,
      (e: NodeJS.ErrnoException) => ({ error: e.code }),
    );
    expect(refused).toEqual({ error: 'ECONNRESET' });
    expect(proxy.stats.refused).toBe(1);
    proxy.heal();
    const d = await open(proxy);
    d.socket.write('back');
    await until('the echo after healing', () => d.text() === 'back');
  });

  it('a blackhole accepts, forwards nothing, closes nothing; healed, parked and live connections flow', async () => {
    const { proxy, echo } = await setup();
    const live = await open(proxy);
    proxy.partition('blackhole');
    live.socket.write('one');
    const parked = await open(proxy);
    parked.socket.write('two');
    await sleep(200);
    expect(echo.received()).toBe('');
    expect([live.text(), parked.text()]).toEqual(['', '']);
    expect([live.socket.destroyed, parked.socket.destroyed]).toEqual([false, false]);
    proxy.heal();
    await until('both echoes', () => live.text() === 'one' && parked.text() === 'two');
  });

  it('a target that is down looks like a reset connection, not a hang', async () => {
    const { proxy, echo } = await setup();
    await new Promise<void>((resolve) => echo.server.close(() => resolve()));
    const c = await open(proxy);
    expect(await c.closed).toEqual({ error: 'ECONNRESET' });
  });

  it('rejects a negative latency, naming the place', async () => {
    const { proxy } = await setup();
    expect(() => proxy.setLatency(-1)).toThrow('tcp-fault-proxy.setLatency: expected ms ≥ 0, got -1');
  });
});
