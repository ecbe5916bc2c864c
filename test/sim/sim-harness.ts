import { Wallet } from 'ethers';
import { WebSocket } from 'ws';
import { SimClock } from '../../src/clock/clock.ts';
import { WorkTracker } from '../../src/clock/work-tracker.ts';
import { ORDER_TYPE } from '../../src/derivadex/codes.ts';
import { type Ack, ackSchema, frameEnvelopeSchema } from '../../src/derivadex/feed-messages.ts';
import { SERVER_CLOSE_CODE } from '../../src/derivadex/paths.ts';
import { traderAddress21 } from '../../src/derivadex/trader-address.ts';
import type { ExchangeRequest } from '../../src/sim/exchange.ts';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/sim/server.ts';

/*
 * The whole simulator over real sockets on 127.0.0.1 (port 0), driven without signed requests: orders go
 * straight to `sim.exchange.submit` (the signed-request path has its own tests), frames are read by a
 * deliberately tiny WebSocket client that ends its tracker work once it has recorded a frame.
 */

export const START = Date.parse('2026-01-05T13:00:00Z');
// Fixed test keys (never used anywhere real).
export const ALICE = new Wallet('0x0123456789012345678901234567890123456789012345678901234567890123');
export const BOB = new Wallet('0x3210987654321098765432109876543210987654321098765432109876543210');
export const ALICE21 = traderAddress21(ALICE.address);
export const BOB21 = traderAddress21(BOB.address);

/** A feed frame as received (envelope checked; rows as JSON). */
export interface ReceivedFrame {
  sequence: number;
  ordinal: number;
  feed: string;
  subscriptionKey: string;
  contents: { messageType: 'PARTIAL' | 'UPDATE'; data: Array<Record<string, unknown>> };
}

export type Received = { kind: 'ack'; ack: Ack; raw: unknown } | { kind: 'feed'; frame: ReceivedFrame; raw: unknown };

export class RawClient {
  readonly received: Received[] = [];
  readonly closed: Promise<number>;
  readonly #ws: WebSocket;
  #waiters: Array<() => void> = [];

  private constructor(ws: WebSocket, tracker: WorkTracker) {
    this.#ws = ws;
    ws.on('message', (data) => {
      const raw: unknown = JSON.parse(data.toString());
      const ack = ackSchema.safeParse(raw);
      if (typeof raw === 'object' && raw !== null && 'result' in raw && ack.success)
        this.received.push({ kind: 'ack', ack: ack.data, raw });
      else this.received.push({ kind: 'feed', frame: frameEnvelopeSchema.parse(raw) as ReceivedFrame, raw });
      tracker.end();
      for (const w of this.#waiters.splice(0)) w();
    });
    this.closed = new Promise((resolve) =>
      ws.on('close', (code) => {
        // The simulator counts its deliberate close (SERVER_CLOSE_CODE) as a frame in flight.
        if (code === SERVER_CLOSE_CODE) tracker.end();
        resolve(code);
      }),
    );
  }

  static async connect(url: string, tracker: WorkTracker): Promise<RawClient> {
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return new RawClient(ws, tracker);
  }

  send(message: unknown): void {
    this.#ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** Waits (on socket I/O) until `count` messages have arrived. */
  async waitFor(count: number): Promise<void> {
    while (this.received.length < count) await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  acks(): Ack[] {
    return this.received.flatMap((r) => (r.kind === 'ack' ? [r.ack] : []));
  }

  frames(): ReceivedFrame[] {
    return this.received.flatMap((r) => (r.kind === 'feed' ? [r.frame] : []));
  }

  close(): void {
    this.#ws.close();
  }
}

export interface SimSetup {
  sim: Simulator;
  clock: SimClock;
  tracker: WorkTracker;
  client: RawClient;
  /** A verified order (as the gateway would hand it over) from `trader`, submitted at once. */
  order(o: Partial<ExchangeRequest & { kind: 'Order' }>): string;
  cancel(orderHash: string, trader?: string): void;
  get(path: string): Promise<{ status: number; body: unknown }>;
  /** Sends a control message and waits for its ack and every frame it causes. */
  control(message: unknown): Promise<Ack>;
  idle(): Promise<void>;
  close(): Promise<void>;
}

export async function simSetup(options: Partial<SimulatorOptions> = {}): Promise<SimSetup> {
  const clock = new SimClock(START);
  const tracker = new WorkTracker();
  const sim = await startSimulator({ clock, tracker, seed: 3, ...options });
  sim.exchange.deposit(ALICE.address, 'main', '100000');
  sim.setMark('ETHP', '2000');
  const client = await RawClient.connect(sim.wsUrl, tracker);
  let n = 0;
  const nextNonce = (): string => `0x${(++n).toString(16).padStart(64, '0')}`;
  return {
    sim,
    clock,
    tracker,
    client,
    order(o) {
      const nonce = nextNonce();
      const receipt = sim.exchange.submit({
        kind: 'Order',
        trader: ALICE.address,
        strategyId: 'main',
        symbol: 'ETHP',
        side: 0,
        orderType: ORDER_TYPE.Market,
        amount: '1',
        price: '0',
        stopPrice: '0',
        nonce,
        signature: `0x${'5a'.repeat(65)}`,
        orderHash: `0x${nonce.slice(-50)}`,
        ...o,
      });
      return receipt.orderHash!;
    },
    cancel(orderHash, trader = ALICE.address) {
      sim.exchange.submit({ kind: 'CancelOrder', trader, symbol: 'ETHP', orderHash, nonce: nextNonce() });
    },
    async get(path) {
      const response = await fetch(`${sim.url}${path}`);
      return { status: response.status, body: (await response.json()) as unknown };
    },
    async control(message) {
      const before = client.acks().length;
      client.send(message);
      while (client.acks().length === before) await client.waitFor(client.received.length + 1);
      await tracker.whenIdle();
      return client.acks().at(-1)!;
    },
    idle: () => tracker.whenIdle(),
    async close() {
      client.close();
      await sim.close();
    },
  };
}
