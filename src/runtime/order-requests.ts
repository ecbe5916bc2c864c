import type { AccountContext, AccountOutbox } from '../../machines/account-context.ts';
import type { WorkTracker } from '../clock/work-tracker.ts';
import type { AccountMode } from '../domain/assessment.ts';
import type { VenueClient } from '../venue/venue-client.ts';
import { CANCEL_PRIORITY, OrderDispatcher, orderPriority } from './order-dispatcher.ts';
import type { RuntimeOutlet } from './runtime-outlet.ts';
import type { RunCounters } from './run-counters.ts';
import type { LifecycleUpdate } from './venue-inputs.ts';

type Placed = NonNullable<AccountOutbox['placed']>;

/** What order requests need around the venue: the records before each request and where a failure goes. */
export interface OrderRequestPorts {
  venue: Pick<VenueClient, 'placeOrder' | 'cancelOrder'>;
  outlet: RuntimeOutlet;
  work: Pick<WorkTracker, 'begin' | 'end'>;
  /** Simulation: one request at a time, in the order asked; live: dispatched by urgency (see OrderDispatcher). */
  serializeRequests: boolean;
  counters: Pick<RunCounters, 'orderSent'>;
  noteState(accountId: string, to: AccountMode, context: AccountContext): void;
  /** A request that threw, as the rejection the account sees. */
  onFailure(update: LifecycleUpdate): void;
}

/**
 * The accounts' `sendOrder` and `cancelOrder` effects: an `order` or `cancel` record, then the venue request,
 * sent one at a time (simulation) or by the dispatcher (live).
 */
export class OrderRequests {
  readonly #p: OrderRequestPorts;
  #requests: Promise<void> = Promise.resolve();
  /** Live: requests are sent after the burst of events that caused them, most urgent first. */
  readonly #dispatcher = new OrderDispatcher();

  constructor(ports: OrderRequestPorts) {
    this.#p = ports;
  }

  sendOrder(placed: Placed, context: AccountContext): void {
    const { outlet, venue } = this.#p;
    const account = context.settings.accountId;
    this.#p.noteState(account, context.mode, context);
    const t = outlet.clock.now() - outlet.origin;
    this.#p.counters.orderSent(account, placed.clientOrderId, placed.purpose);
    outlet.write({
      t,
      kind: 'order',
      account,
      orderId: placed.clientOrderId,
      symbol: placed.intent.symbol,
      side: placed.intent.side,
      amount: placed.intent.amount,
      price: placed.intent.type === 'market' ? '0' : (placed.intent.price ?? '0'),
      type: placed.intent.type,
      purpose: placed.purpose,
    });
    this.#venueCall(
      account,
      placed.clientOrderId,
      () => venue.placeOrder(account, placed.clientOrderId, placed.intent),
      orderPriority(placed.purpose, context.metrics?.marginBuffer ?? null),
    );
  }

  cancelOrder(cancel: { clientOrderId: string; reason: string }, context: AccountContext): void {
    const { outlet, venue } = this.#p;
    const account = context.settings.accountId;
    this.#p.noteState(account, context.mode, context);
    outlet.write({
      t: outlet.clock.now() - outlet.origin,
      kind: 'cancel',
      account,
      orderId: cancel.clientOrderId,
      reason: cancel.reason,
    });
    this.#venueCall(account, cancel.clientOrderId, () => venue.cancelOrder(account, cancel.clientOrderId));
  }

  /**
   * A venue request. It is counted as work only until the venue client has taken it (the client counts
   * its own requests from then on, and stops counting once the feed shows the venue has one — a receipt
   * the venue holds back must not keep the simulated clock from moving). A request that throws becomes a
   * rejection the account sees.
   */
  #venueCall(account: string, clientOrderId: string, call: () => Promise<unknown>, priority: readonly number[] = CANCEL_PRIORITY): void {
    const { work, outlet } = this.#p;
    work.begin();
    const run = (): Promise<void> => {
      let pending: Promise<unknown>;
      try {
        pending = call();
      } catch (error) {
        pending = Promise.reject(error);
      } finally {
        work.end();
      }
      return pending.then(
        () => undefined,
        (error: Error) => {
          outlet.report(`venue request for ${account} ${clientOrderId} failed: ${error.message}`);
          this.#p.onFailure({
            strategyId: account,
            clientOrderId,
            status: 'rejected',
            filled: '0',
            reason: error.name || 'RequestFailed',
            at: outlet.clock.now(),
          });
        },
      );
    };
    if (this.#p.serializeRequests) this.#requests = this.#requests.then(run);
    else this.#dispatcher.submit(priority, () => void run());
  }
}
