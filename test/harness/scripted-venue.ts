import { EventEmitter } from 'node:events';
import type { LedgerEvent } from '../../src/domain/ledger.ts';
import type { OrderIntent } from '../../src/domain/order.ts';

/** The exchange as a test scripts it: orders rest until `fillOldest` or `rejectOldest` takes the oldest. */
export class ScriptedVenue extends EventEmitter {
  /** Every order placed, in the order the runtime sent them. */
  readonly placed: Array<{ account: string; clientOrderId: string; intent: OrderIntent }> = [];
  readonly resting: Array<{ account: string; clientOrderId: string; intent: OrderIntent }> = [];
  #seq = new Map<string, number>();
  marks: Record<string, string> = { ETHP: '2000', BTCP: '40000' };

  placeOrder(account: string, clientOrderId: string, intent: OrderIntent): Promise<void> {
    this.resting.push({ account, clientOrderId, intent });
    this.placed.push({ account, clientOrderId, intent });
    return Promise.resolve();
  }

  cancelOrder(account: string, clientOrderId: string): Promise<void> {
    const i = this.resting.findIndex((o) => o.account === account && o.clientOrderId === clientOrderId);
    if (i >= 0) {
      this.resting.splice(i, 1);
      queueMicrotask(() => this.#lifecycle(account, clientOrderId, 'cancelled', '0'));
    }
    return Promise.resolve();
  }

  ledger(account: string, event: Omit<LedgerEvent, 'seq' | 'id'> & Record<string, unknown>, at: number): void {
    const seq = (this.#seq.get(account) ?? 1) + 1;
    this.#seq.set(account, seq);
    this.emit('ledger', { strategyId: account, event: { ...event, id: `${account}-${seq}`, seq } as LedgerEvent, outcome: 'applied', at });
  }

  fillOldest(at: number): void {
    const order = this.resting.shift();
    if (!order) return;
    const price = order.intent.price ?? this.marks[order.intent.symbol]!;
    this.ledger(
      order.account,
      { kind: 'fill', symbol: order.intent.symbol, side: order.intent.side, amount: order.intent.amount, price },
      at,
    );
    this.#lifecycle(order.account, order.clientOrderId, 'filled', order.intent.amount, at);
  }

  rejectOldest(at: number): void {
    const order = this.resting.shift();
    if (order) this.#lifecycle(order.account, order.clientOrderId, 'rejected', '0', at, 'NoLiquidity');
  }

  #lifecycle(account: string, clientOrderId: string, status: string, filled: string, at = 0, reason?: string): void {
    this.emit('lifecycle', { strategyId: account, clientOrderId, status, filled, ...(reason ? { reason } : {}), at });
  }
}

/** Lets promises and setImmediate callbacks of the runtime run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 6; i += 1) await new Promise((resolve) => setImmediate(resolve));
}
