import { createServer, connect, type Server, type Socket } from 'node:net';

/** Which way bytes travel through the proxy: from the client to the target, or back. */
export type ProxyDirection = 'to-target' | 'to-client';

/**
 * How a partition looks to the process behind the proxy:
 * - `refuse`: every connection is reset at once and new ones are reset on accept (a host that is down);
 * - `blackhole`: nothing is forwarded and nothing is closed; new connections are accepted but never joined
 *   to the target (packets dropped on the floor: only the client's own timeouts can notice).
 */
export type PartitionMode = 'refuse' | 'blackhole';

export interface ProxyFaults {
  /** Added to every chunk, each way; order is kept. */
  latencyMs: number;
  /** Directions that are held: bytes wait (with TCP back-pressure) and flow again when the hold ends. */
  held: ReadonlySet<ProxyDirection>;
  partition: PartitionMode | undefined;
}

export interface ProxyStats {
  accepted: number;
  /** Connections reset on accept by a `refuse` partition. */
  refused: number;
  /** Connections destroyed by `reset()` or by a `refuse` partition. */
  resets: number;
  open: number;
  bytes: Record<ProxyDirection, number>;
}

interface Leg {
  from: Socket;
  to: Socket;
  direction: ProxyDirection;
  queue: Array<{ due: number; chunk: Buffer }>;
  lastDue: number;
  timer: NodeJS.Timeout | undefined;
}

interface Pair {
  client: Socket;
  target: Socket | undefined;
  legs: Leg[];
  /** Accepted during a blackhole: joined to the target when it ends. */
  parked: boolean;
}

/**
 * A real TCP proxy on 127.0.0.1 (port 0 unless given) in front of one target, whose faults a test turns on
 * and off while connections live: added latency, a stall (nothing forwarded either way, nothing closed),
 * a half-open connection (one direction held), resets (sockets destroyed with RST), and partitions.
 * Held bytes are not lost: the proxy stops reading, so TCP back-pressure holds them, as a congested or
 * stalled path would; they flow once the fault is healed.
 */
export class TcpFaultProxy {
  readonly host = '127.0.0.1';
  readonly port: number;
  readonly target: { host: string; port: number };
  readonly #server: Server;
  readonly #pairs = new Set<Pair>();
  #latencyMs = 0;
  readonly #held = new Set<ProxyDirection>();
  #partition: PartitionMode | undefined;
  readonly #stats: ProxyStats = { accepted: 0, refused: 0, resets: 0, open: 0, bytes: { 'to-target': 0, 'to-client': 0 } };

  private constructor(server: Server, port: number, target: { host: string; port: number }) {
    this.#server = server;
    this.port = port;
    this.target = target;
    server.on('connection', (socket) => this.#accept(socket));
  }

  static start(target: { host: string; port: number }, options: { port?: number } = {}): Promise<TcpFaultProxy> {
    return new Promise((resolve, reject) => {
      const server = createServer({ pauseOnConnect: true, allowHalfOpen: true });
      server.once('error', reject);
      server.listen(options.port ?? 0, '127.0.0.1', () => {
        server.off('error', reject);
        const address = server.address();
        if (typeof address !== 'object' || address === null) return reject(new Error('tcp-fault-proxy: no address after listen'));
        resolve(new TcpFaultProxy(server, address.port, target));
      });
    });
  }

  /** `http://127.0.0.1:<port>` etc.: the target URL with the proxy's host and port in its place. */
  rewrite(url: string): string {
    if (!/^[a-z][a-z0-9+.-]*:\/\/[^/]+/i.test(url)) throw new Error(`tcp-fault-proxy.rewrite: not an absolute URL: ${url}`);
    return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/]+/i, `$1${this.host}:${this.port}`);
  }

  get faults(): ProxyFaults {
    return { latencyMs: this.#latencyMs, held: new Set(this.#held), partition: this.#partition };
  }

  get stats(): ProxyStats {
    return { ...this.#stats, open: this.#pairs.size, bytes: { ...this.#stats.bytes } };
  }

  /** Adds `ms` to every chunk each way (0 removes it). Chunks already queued keep their due time. */
  setLatency(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new Error(`tcp-fault-proxy.setLatency: expected ms ≥ 0, got ${ms}`);
    this.#latencyMs = ms;
  }

  /** Stops forwarding both ways without closing anything. */
  stall(): void {
    this.hold('to-target');
    this.hold('to-client');
  }

  /** Stops forwarding one way without closing: the half-open connection (the other way still flows). */
  hold(direction: ProxyDirection): void {
    this.#held.add(direction);
    for (const pair of this.#pairs) for (const leg of pair.legs) if (leg.direction === direction) leg.from.pause();
  }

  /** Forwards one way again (what was held flows first). */
  release(direction: ProxyDirection): void {
    this.#held.delete(direction);
    for (const pair of this.#pairs) for (const leg of pair.legs) if (leg.direction === direction) this.#resumeLeg(leg);
  }

  /** Destroys every open connection with a TCP RST, both sides; new connections are accepted as usual. */
  reset(): number {
    const pairs = [...this.#pairs];
    for (const pair of pairs) this.#destroy(pair);
    this.#stats.resets += pairs.length;
    return pairs.length;
  }

  /** Cuts the target off: see PartitionMode. `heal()` ends it. */
  partition(mode: PartitionMode): void {
    this.#partition = mode;
    if (mode === 'refuse') {
      this.reset();
      return;
    }
    for (const pair of this.#pairs) for (const leg of pair.legs) leg.from.pause();
  }

  /** Ends every fault: no latency, nothing held, no partition; parked connections are joined to the target. */
  heal(): void {
    this.#latencyMs = 0;
    this.#held.clear();
    this.#partition = undefined;
    for (const pair of [...this.#pairs]) {
      if (pair.parked) this.#join(pair);
      else for (const leg of pair.legs) this.#resumeLeg(leg);
    }
  }

  async close(): Promise<void> {
    for (const pair of [...this.#pairs]) this.#destroy(pair);
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(client: Socket): void {
    this.#stats.accepted += 1;
    client.on('error', () => {}); // a reset peer is the point of this proxy, not a failure of it
    if (this.#partition === 'refuse') {
      this.#stats.refused += 1;
      client.resetAndDestroy();
      return;
    }
    const pair: Pair = { client, target: undefined, legs: [], parked: false };
    this.#pairs.add(pair);
    client.once('close', (hadError) => this.#destroy(pair, hadError));
    if (this.#partition === 'blackhole') {
      pair.parked = true;
      return;
    }
    this.#join(pair);
  }

  #join(pair: Pair): void {
    pair.parked = false;
    const target = connect({ host: this.target.host, port: this.target.port, allowHalfOpen: true });
    pair.target = target;
    target.on('error', () => {});
    target.once('close', (hadError) => this.#destroy(pair, hadError));
    target.pause();
    target.once('connect', () => {
      pair.legs = [this.#leg(pair.client, target, 'to-target'), this.#leg(target, pair.client, 'to-client')];
      for (const leg of pair.legs) this.#resumeLeg(leg);
    });
  }

  #leg(from: Socket, to: Socket, direction: ProxyDirection): Leg {
    const leg: Leg = { from, to, direction, queue: [], lastDue: 0, timer: undefined };
    from.on('data', (chunk: Buffer) => {
      const due = Math.max(Date.now() + this.#latencyMs, leg.lastDue);
      leg.lastDue = due;
      leg.queue.push({ due, chunk });
      this.#pump(leg);
    });
    // A FIN is forwarded as a FIN (after the bytes before it): the far side may still answer.
    from.once('end', () => {
      leg.queue.push({ due: Math.max(Date.now() + this.#latencyMs, leg.lastDue), chunk: Buffer.alloc(0) });
      this.#pump(leg);
    });
    return leg;
  }

  #blocked(leg: Leg): boolean {
    return this.#held.has(leg.direction) || this.#partition !== undefined;
  }

  #resumeLeg(leg: Leg): void {
    if (this.#blocked(leg)) return;
    leg.from.resume();
    this.#pump(leg);
  }

  #pump(leg: Leg): void {
    if (leg.timer !== undefined) return;
    while (leg.queue.length > 0) {
      if (this.#blocked(leg)) {
        leg.from.pause();
        return;
      }
      const next = leg.queue[0]!;
      const wait = next.due - Date.now();
      if (wait > 0) {
        leg.timer = setTimeout(() => {
          leg.timer = undefined;
          this.#pump(leg);
        }, wait);
        return;
      }
      leg.queue.shift();
      if (next.chunk.length === 0) {
        leg.to.end();
        continue;
      }
      this.#stats.bytes[leg.direction] += next.chunk.length;
      if (!leg.to.write(next.chunk)) {
        leg.from.pause();
        leg.to.once('drain', () => this.#resumeLeg(leg));
      }
    }
  }

  /** Ends both sides of a pair: with RST after a reset or an error, quietly after an orderly close of both ways. */
  #destroy(pair: Pair, rst = true): void {
    if (!this.#pairs.delete(pair)) return;
    for (const leg of pair.legs) if (leg.timer !== undefined) clearTimeout(leg.timer);
    for (const socket of [pair.client, pair.target]) {
      if (socket === undefined || socket.destroyed) continue;
      if (rst) socket.resetAndDestroy();
      else socket.destroy();
    }
  }
}
