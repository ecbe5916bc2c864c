import type { AccountEvent } from '../../machines/account-context.ts';
import type { SupervisorEvent } from '../../machines/supervisor.ts';
import type { DecimalString } from '../domain/decimal.ts';
import { isTerminal, type OrderStatus } from '../domain/order-status.ts';
import type { ForeignOrderNotice, MarkEvent, VenueClient } from '../venue/venue-client.ts';
import type { RuntimeOutlet } from './runtime-outlet.ts';
import type { RunCounters } from './run-counters.ts';

/** An order's new status as the venue (or a failed request, or a takeover) reports it. */
export interface LifecycleUpdate {
  strategyId: string;
  clientOrderId: string;
  orderHash?: string;
  status: OrderStatus;
  filled: DecimalString;
  reason?: string;
  at: number;
}

/** A mark price as the venue's feed gives it. */
export type MarkUpdate = Pick<MarkEvent, 'symbol' | 'price' | 'at'>;

/** Where the venue's inputs go: the supervisor and its accounts, the counters, the order hashes kept for takeovers. */
export interface VenueInputPorts {
  venue: Pick<VenueClient, 'on'>;
  outlet: Pick<RuntimeOutlet, 'origin' | 'write'>;
  send(event: SupervisorEvent): void;
  route(accountId: string, event: AccountEvent): void;
  /** Carries a mark to the accounts it can move (src/runtime/mark-delivery.ts). */
  deliverMark(mark: MarkUpdate): void;
  /** Group limits are measured again after every mark. */
  observeGroups(): void;
  /** Something a takeover may wait for happened (see AccountLifecycle). */
  wake(): void;
  counters: Pick<RunCounters, 'liquidated' | 'orderEnded'>;
  orders: {
    /** The venue hash of an order is known (persisted with the next snapshot). */
    noteHash(accountId: string, clientOrderId: string, orderHash: string): void;
    forgetHash(accountId: string, clientOrderId: string): void;
    /** The order was submitted: its hash must be persisted now, so a successor can follow it. */
    submitted(accountId: string): void;
  };
}

/**
 * The venue client's events, turned into what the fleet acts on: marks, ledger updates, order lifecycle,
 * liquidations, feed status and notices of orders this process did not send.
 */
export class VenueInputs {
  readonly #p: VenueInputPorts;
  readonly #staleFeeds = new Set<string>();
  readonly #foreignListeners = new Set<(notice: ForeignOrderNotice) => void>();

  constructor(ports: VenueInputPorts) {
    this.#p = ports;
  }

  /** Subscribes to every venue event the fleet acts on. */
  attach(): void {
    const { venue, outlet } = this.#p;
    venue.on('mark', (mark) => {
      outlet.write({ t: mark.at - outlet.origin, kind: 'mark', symbol: mark.symbol, price: mark.price });
      this.#p.deliverMark(mark);
      this.#p.observeGroups();
    });
    venue.on('ledger', (update) => {
      this.#p.route(update.strategyId, { type: 'LEDGER', event: update.event, at: update.at });
    });
    venue.on('lifecycle', (event) => this.onLifecycle(event));
    venue.on('foreign-order', (notice) => {
      for (const listener of this.#foreignListeners) listener(notice);
    });
    venue.on('liquidation', (notice) => {
      this.#p.counters.liquidated(notice.strategyId);
      outlet.write({
        t: notice.at - outlet.origin,
        kind: 'liquidation',
        account: notice.strategyId,
        symbol: notice.symbol,
        price: notice.price,
      });
    });
    venue.on('feed-status', (status) => {
      if (status.stale) this.#staleFeeds.add(status.feed);
      else this.#staleFeeds.delete(status.feed);
      this.#p.send({ type: 'BROADCAST', event: { type: 'FEED_STATUS', stale: this.#staleFeeds.size > 0, at: status.at } });
    });
  }

  /** Listens to the venue's `foreign-order` notices (orders of our strategies this process did not send). */
  onForeignOrder(listener: (notice: ForeignOrderNotice) => void): () => void {
    this.#foreignListeners.add(listener);
    return () => this.#foreignListeners.delete(listener);
  }

  /** An order's new status: an `order-update` record, then the account's `ORDER_UPDATE` (a submit only saves its hash). */
  onLifecycle(event: LifecycleUpdate): void {
    const { outlet, orders } = this.#p;
    this.#p.wake();
    if (event.orderHash) orders.noteHash(event.strategyId, event.clientOrderId, event.orderHash);
    if (event.status === 'submitted') {
      orders.submitted(event.strategyId);
      return;
    }
    const account = event.strategyId;
    if (isTerminal(event.status)) {
      this.#p.counters.orderEnded(account, event.clientOrderId);
      orders.forgetHash(account, event.clientOrderId);
    }
    outlet.write({
      t: event.at - outlet.origin,
      kind: 'order-update',
      account,
      orderId: event.clientOrderId,
      status: event.status,
      filled: event.filled,
      ...(event.reason ? { reason: event.reason } : {}),
    });
    this.#p.route(account, {
      type: 'ORDER_UPDATE',
      clientOrderId: event.clientOrderId,
      status: event.status,
      filled: event.filled,
      ...(event.reason ? { reason: event.reason } : {}),
      at: event.at,
    });
  }
}
