/**
 * `npm run bench` (`-- --json` for one JSON object, docs/contracts.md#bench). Every figure is measured in this run
 * next to a naive baseline: one XState actor per account fed every mark, decimal.js arithmetic, and
 * ethers `signTypedData` per order. Accounts: BENCH_ACCOUNTS (default 10000).
 */
import { fork } from 'node:child_process';
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Wallet } from 'ethers';
import { Redis } from 'ioredis';
import { createActor } from 'xstate';
import { accountMachine } from '../machines/account.ts';
import { createAccountContext, type AccountContext } from '../machines/account-context.ts';
import { supervisorMachine } from '../machines/supervisor.ts';
import { createLedger, applyLedgerEvent } from '../src/domain/ledger.ts';
import { DEFAULT_PRODUCTS } from '../src/domain/products.ts';
import { provideAccountEffects, type AccountEffects } from '../src/runtime/account-effects.ts';
import { OrderDispatcher, orderPriority } from '../src/runtime/order-dispatcher.ts';
import { restorableAccount } from '../machines/restorable-account.ts';
import { orderTypedData, signOrder, type Eip712Venue } from '../src/derivadex/crypto/eip712.ts';
import { createNonceSource } from '../src/derivadex/crypto/nonce.ts';
import { ORDER_TYPE } from '../src/derivadex/codes.ts';
import { startRedisForBench } from './redis-for-bench.ts';

const ACCOUNTS = Number(process.env.BENCH_ACCOUNTS ?? 10_000);
const json = process.argv.includes('--json');
const T0 = Date.UTC(2026, 0, 5, 13);
const VENUE: Eip712Venue = { chainId: 1337, verifyingContract: '0xDDdDddDdDdddDDddDDddDDDDdDdDDdDDdDDDDDDd', decimals: 6 };
const wallet = new Wallet(`0x${'11'.repeat(32)}`);
const log = (line: string): void => void (json ? undefined : console.log(line));

/**
 * Half the fleet on ETHP, half on BTCP, each long 12000 of notional on 4200 of collateral (2.86x).
 * ETHP: equity = 6p − 7800, so the buffer (equity − 0.05·6p)/6p is below 0.10 under p ≈ 1529 and below the
 * panic level 0.03 under p ≈ 1413; BTCP the same at 40000·(p/2000) scale.
 */
function context(i: number): AccountContext {
  const symbol = i % 2 === 0 ? 'ETHP' : 'BTCP';
  const price = symbol === 'ETHP' ? '2000' : '40000';
  const size = symbol === 'ETHP' ? '6' : '0.3';
  let ledger = createLedger('4200');
  ledger = applyLedgerEvent(ledger, { kind: 'fill', id: `f${i}`, seq: 1, symbol, side: 'buy', amount: size, price }).state;
  return createAccountContext(
    {
      accountId: `a${i}`,
      budget: { maxPositionSize: { [symbol]: size }, minMarginBuffer: '0.10', panicMarginBuffer: '0.03' },
      products: { ETHP: DEFAULT_PRODUCTS.ETHP!, BTCP: DEFAULT_PRODUCTS.BTCP! },
      riskLimits: [],
      hysteresis: '0.2',
      reductionFraction: '0.25',
      reductionTimeoutMs: 15_000,
    },
    { collateral: '4200', at: T0, marks: { ETHP: '2000', BTCP: '40000' }, ledger },
  );
}

interface Fleet {
  send(symbol: string, price: string, at: number): void;
  orders: number;
  firstOrderAt: number;
  hundredthOrderAt: number;
  blocked(): number;
}

/**
 * Ours: the supervisor fans a mark out to its spawned accounts, and the runtime's order dispatcher signs
 * (our EIP-712 module) and sends once every account has seen the mark, most urgent first.
 */
function oursFleet(contexts: AccountContext[]): Fleet {
  const nonces = createNonceSource(new Uint8Array(32));
  const dispatcher = new OrderDispatcher();
  const fleet: Fleet = { send: () => {}, orders: 0, firstOrderAt: 0, hundredthOrderAt: 0, blocked: () => 0 };
  const noop = (): void => {};
  const effects: AccountEffects = {
    sendOrder: (placed, context) => {
      dispatcher.submit(orderPriority(placed.purpose, context.metrics?.marginBuffer ?? null), () => {
        signOrder(
          wallet,
          {
            symbol: placed.intent.symbol,
            strategy: 'main',
            side: placed.intent.side === 'buy' ? 'Bid' : 'Ask',
            orderType: ORDER_TYPE.Limit,
            nonce: nonces.next(),
            amount: placed.intent.amount,
            price: placed.intent.price ?? '0',
            stopPrice: '0',
          },
          VENUE,
        );
        fleet.orders += 1;
        if (fleet.orders === 1) fleet.firstOrderAt = performance.now();
        if (fleet.orders === 100) fleet.hundredthOrderAt = performance.now();
      });
    },
    cancelOrder: noop,
    decision: noop,
    raiseStopout: noop,
    reset: noop,
  };
  const supervisor = createActor(supervisorMachine.provide({ actors: { account: restorableAccount(provideAccountEffects(effects)) } }), {
    input: { groups: [] },
  });
  supervisor.start();
  for (const c of contexts) supervisor.send({ type: 'SPAWN', accountId: c.settings.accountId, input: { context: c }, scopes: [] });
  fleet.send = (symbol, price, at) => supervisor.send({ type: 'BROADCAST', event: { type: 'MARK', symbol, price, at } });
  fleet.blocked = () =>
    contexts.filter(
      (c) => (supervisor.system.get(c.settings.accountId)!.getSnapshot() as { context: AccountContext }).context.mode !== 'trading',
    ).length;
  return fleet;
}

/** Naive: one root actor per account, every mark sent to every actor, ethers signTypedData per order. */
function naiveFleet(contexts: AccountContext[]): Fleet & { signing: Promise<unknown>[] } {
  const fleet = {
    send: (_s: string, _p: string, _a: number) => {},
    orders: 0,
    firstOrderAt: 0,
    hundredthOrderAt: 0,
    blocked: () => 0,
    signing: [] as Promise<unknown>[],
  };
  const nonces = createNonceSource(new Uint8Array(32));
  const machine = accountMachine.provide({
    actions: {
      sendOrder: ({ context }) => {
        const placed = context.outbox.placed!;
        const data = orderTypedData(
          {
            symbol: placed.intent.symbol,
            strategy: 'main',
            side: placed.intent.side === 'buy' ? 'Bid' : 'Ask',
            orderType: ORDER_TYPE.Limit,
            nonce: nonces.next(),
            amount: placed.intent.amount,
            price: placed.intent.price ?? '0',
            stopPrice: '0',
          },
          VENUE,
        );
        fleet.signing.push(
          wallet.signTypedData(data.domain, data.types, data.message).then(() => {
            fleet.orders += 1;
            if (fleet.orders === 1) fleet.firstOrderAt = performance.now();
            if (fleet.orders === 100) fleet.hundredthOrderAt = performance.now();
          }),
        );
      },
    },
  });
  const actors = contexts.map((c) => createActor(machine, { input: c }).start());
  fleet.send = (symbol, price, at) => {
    for (const actor of actors) actor.send({ type: 'MARK', symbol, price, at });
  };
  fleet.blocked = () => actors.filter((a) => a.getSnapshot().context.mode !== 'trading').length;
  return fleet;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
}

const round = (n: number, digits = 3): number => Number(n.toFixed(digits));

async function steadyTick(make: (c: AccountContext[]) => Fleet): Promise<number> {
  const fleet = make(Array.from({ length: ACCOUNTS }, (_, i) => context(i)));
  const marks = 10;
  const began = performance.now();
  for (let k = 1; k <= marks; k += 1) {
    // Small moves, alternating symbols: what a fleet sees all day.
    fleet.send(k % 2 ? 'ETHP' : 'BTCP', k % 2 ? String(2000 + (k % 4)) : String(40000 + (k % 4) * 10), T0 + k * 1000);
  }
  return ((performance.now() - began) * 1000) / (marks * ACCOUNTS);
}

async function fleetCrash(make: (c: AccountContext[]) => Fleet & { signing?: Promise<unknown>[] }) {
  const fleet = make(Array.from({ length: ACCOUNTS }, (_, i) => context(i)));
  const began = performance.now();
  fleet.send('ETHP', '1400', T0 + 1000); // below the panic level: every account exits, one order each
  fleet.send('BTCP', '28000', T0 + 1000);
  const allBlockedMs = performance.now() - began;
  await Promise.all(fleet.signing ?? []);
  await new Promise((resolve) => setImmediate(resolve)); // after the dispatcher's flush
  return {
    allBlockedMs: round(allBlockedMs, 1),
    blocked: fleet.blocked(),
    firstReductionsSentMs: fleet.firstOrderAt ? round(fleet.firstOrderAt - began, 1) : null,
    top100ReductionsSentMs: fleet.hundredthOrderAt ? round(fleet.hundredthOrderAt - began, 1) : null,
  };
}

async function memory(): Promise<number> {
  globalThis.gc?.();
  const before = process.memoryUsage().heapUsed;
  const fleet = oursFleet(Array.from({ length: ACCOUNTS }, (_, i) => context(i)));
  globalThis.gc?.();
  const after = process.memoryUsage().heapUsed;
  void fleet;
  return Math.round((after - before) / ACCOUNTS);
}

async function recovery(): Promise<number> {
  const logic = restorableAccount(
    provideAccountEffects({ sendOrder() {}, cancelOrder() {}, decision() {}, raiseStopout() {}, reset() {} }),
  );
  const persisted = Array.from({ length: ACCOUNTS }, (_, i) =>
    JSON.stringify(
      createActor(accountMachine, { input: context(i) })
        .start()
        .getPersistedSnapshot(),
    ),
  );
  const began = performance.now();
  const supervisor = createActor(supervisorMachine.provide({ actors: { account: logic } }), { input: { groups: [] } }).start();
  persisted.forEach((text, i) =>
    supervisor.send({ type: 'SPAWN', accountId: `a${i}`, input: { persisted: JSON.parse(text) }, scopes: [] }),
  );
  return round(performance.now() - began, 1);
}

async function tickToOrder(): Promise<{ p50Us: number; p99Us: number }> {
  const samples: number[] = [];
  for (let i = 0; i < 200; i += 1) {
    let sentAt = 0;
    const effects: AccountEffects = {
      sendOrder: (placed) => {
        signOrder(
          wallet,
          {
            symbol: placed.intent.symbol,
            strategy: 'main',
            side: 'Ask',
            orderType: ORDER_TYPE.Limit,
            nonce: `0x${i.toString(16).padStart(64, '0')}`,
            amount: placed.intent.amount,
            price: placed.intent.price ?? '0',
            stopPrice: '0',
          },
          VENUE,
        );
        sentAt = performance.now();
      },
      cancelOrder() {},
      decision() {},
      raiseStopout() {},
      reset() {},
    };
    const actor = createActor(provideAccountEffects(effects), { input: context(0) }).start();
    const began = performance.now();
    actor.send({ type: 'MARK', symbol: 'ETHP', price: '1400', at: T0 + 1000 });
    samples.push(sentAt ? (sentAt - began) * 1000 : -1);
    actor.stop();
  }
  if (samples.some((s) => s <= 0)) throw new Error('tickToOrder: a crash mark sent no order');
  samples.sort((a, b) => a - b);
  return { p50Us: round(percentile(samples, 0.5), 1), p99Us: round(percentile(samples, 0.99), 1) };
}

/** Three processes watch one Redis; the time from HSET+PUBLISH to each seeing the stopout. */
async function propagation() {
  const redis = await startRedisForBench();
  try {
    const prefix = `bench-${process.pid}`;
    const children = Array.from({ length: 3 }, () =>
      fork(new URL('./propagation-watcher.ts', import.meta.url).pathname, [redis.url, prefix], {
        execArgv: ['--import', 'tsx'],
        stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      }),
    );
    await Promise.all(children.map((c) => new Promise((resolve) => c.once('message', resolve))));
    const client = new Redis(redis.url);
    const pings: number[] = [];
    for (let i = 0; i < 50; i += 1) {
      const t = performance.now();
      await client.ping();
      pings.push(performance.now() - t);
    }
    const delays: number[] = [];
    for (let i = 0; i < 30; i += 1) {
      const seen = children.map((c) => new Promise<number>((resolve) => c.once('message', (m: { seenAt: number }) => resolve(m.seenAt))));
      const sentAt = performance.timeOrigin + performance.now();
      await client.hset(`${prefix}:stopout:portfolio:p${i}`, 'manual', '{}');
      await client.publish(`${prefix}:events`, JSON.stringify({ type: 'stopout', scope: 'portfolio', id: `p${i}` }));
      for (const at of await Promise.all(seen)) delays.push(at - sentAt);
    }
    for (const c of children) c.kill();
    await client.quit();
    delays.sort((a, b) => a - b);
    pings.sort((a, b) => a - b);
    return {
      processes: 3,
      p50Ms: round(percentile(delays, 0.5)),
      p99Ms: round(percentile(delays, 0.99)),
      redisPingP50Ms: round(percentile(pings, 0.5)),
    };
  } finally {
    await redis.stop();
  }
}

log(`riskwarden bench: ${ACCOUNTS} accounts, ${cpus().length} cpus, node ${process.version}`);
const result = {
  machine: { cpus: cpus().length, node: process.version },
  fleetCrash: { accounts: ACCOUNTS, ...(await fleetCrash(oursFleet)), naive: await fleetCrash(naiveFleet) },
  steadyTick: {
    accounts: ACCOUNTS,
    usPerTick: round(await steadyTick(oursFleet)),
    naive: { usPerTick: round(await steadyTick(naiveFleet)) },
  },
  propagation: await propagation(),
  memory: { accounts: ACCOUNTS, bytesPerAccount: await memory() },
  recovery: { accounts: ACCOUNTS, ms: await recovery() },
  tickToOrder: await tickToOrder(),
};
if (json) console.log(JSON.stringify(result));
else console.log(JSON.stringify(result, null, 2));
process.exit(0);
