import type { AccountContext, AccountOutbox } from '../../machines/account-context.ts';
import { accountMachine } from '../../machines/account.ts';
import type { GateDecision } from '../domain/pre-trade-gate.ts';
import type { Stopout } from '../domain/stopout.ts';

type Placed = NonNullable<AccountOutbox['placed']>;
type ResetOutcome = NonNullable<AccountOutbox['reset']>;

/**
 * What an account actor asks of the world. The machine stays pure: it writes its wishes to
 * `context.outbox` and these callbacks carry them out (venue requests, the stopout store, the timeline).
 * Each receives the account's context at that moment, for the numbers behind the action.
 */
export interface AccountEffects {
  sendOrder(order: Placed, context: AccountContext): void;
  cancelOrder(cancel: { clientOrderId: string; reason: string }, context: AccountContext): void;
  decision(decision: GateDecision, context: AccountContext): void;
  raiseStopout(stopout: Stopout, context: AccountContext): void;
  reset(outcome: ResetOutcome, context: AccountContext): void;
}

/** The account machine with its effect actions implemented by `effects`. */
export function provideAccountEffects(effects: AccountEffects) {
  return accountMachine.provide({
    actions: {
      sendOrder: ({ context }) => {
        if (context.outbox.placed) effects.sendOrder(context.outbox.placed, context);
      },
      cancelOrders: ({ context }) => {
        for (const cancel of context.outbox.cancels) effects.cancelOrder(cancel, context);
      },
      emitDecision: ({ context }) => {
        if (context.lastDecision) effects.decision(context.lastDecision, context);
      },
      raiseStopouts: ({ context }) => {
        for (const stopout of context.outbox.raised) effects.raiseStopout(stopout, context);
      },
      reportReset: ({ context }) => {
        if (context.outbox.reset) effects.reset(context.outbox.reset, context);
      },
    },
  });
}
