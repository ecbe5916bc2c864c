/**
 * The naive baseline every figure is compared with (docs/contracts.md#bench): one XState actor per account, every
 * mark sent to every actor, decimal.js arithmetic, ethers `signTypedData` (async, per order) for every order.
 */
import { performance } from 'node:perf_hooks';
import { createActor, type Actor } from 'xstate';
import { createAccountContext } from '../machines/account-context.ts';
import { accountMachine } from '../machines/account.ts';
import { ORDER_TYPE } from '../src/derivadex/codes.ts';
import { orderTypedData } from '../src/derivadex/crypto/eip712.ts';
import { createNonceSource } from '../src/derivadex/crypto/nonce.ts';
import { BENCH_TRADER, BENCH_VENUE, benchLedger, benchPlan, entryOf, START_MARKS, T0, type BenchAccount } from './bench-fleet.ts';

export interface NaiveFleet {
  mark(symbol: string, price: string, at: number): void;
  /** Sends one entry to every account; returns how many were refused. */
  entries(at: number): number;
  /** performance.now() of each signed order, in signing order. */
  signedAt: number[];
  /** Every signature asked for so far. */
  signing: Promise<unknown>[];
  stop(): void;
}

export function naiveFleet(accounts: readonly BenchAccount[]): NaiveFleet {
  const plan = benchPlan(accounts);
  const nonces = createNonceSource(new Uint8Array(32));
  const signedAt: number[] = [];
  const signing: Promise<unknown>[] = [];
  let refused = 0;
  const machine = accountMachine.provide({
    actions: {
      sendOrder: ({ context }) => {
        const placed = context.outbox.placed;
        if (!placed) return;
        const data = orderTypedData(
          {
            symbol: placed.intent.symbol,
            strategy: 'main',
            side: placed.intent.side === 'buy' ? 'Bid' : 'Ask',
            orderType: placed.intent.type === 'market' ? ORDER_TYPE.Market : ORDER_TYPE.Limit,
            nonce: nonces.next(),
            amount: placed.intent.amount,
            price: placed.intent.price ?? '0',
            stopPrice: '0',
          },
          BENCH_VENUE,
        );
        signing.push(BENCH_TRADER.signTypedData(data.domain, data.types, data.message).then(() => void signedAt.push(performance.now())));
      },
      emitDecision: ({ context }) => {
        if (context.lastDecision && !context.lastDecision.allowed) refused += 1;
      },
    },
  });
  const actors: Actor<typeof machine>[] = plan.accounts.map((p, i) =>
    createActor(machine, {
      input: createAccountContext(p.settings, {
        collateral: accounts[i]!.collateral,
        at: T0,
        marks: { ...START_MARKS },
        ledger: benchLedger(accounts[i]!),
      }),
    }).start(),
  );
  return {
    mark(symbol, price, at) {
      for (const actor of actors) actor.send({ type: 'MARK', symbol, price, at });
    },
    entries(at) {
      const before = refused;
      actors.forEach((actor, i) => actor.send({ type: 'ENTRY_REQUEST', order: entryOf(accounts[i]!), at }));
      return refused - before;
    },
    signedAt,
    signing,
    stop() {
      for (const actor of actors) actor.stop();
    },
  };
}
