import type { AccountMode } from '../domain/assessment.ts';
import type { OrderPurpose } from '../domain/order.ts';
import type { TimelineRecord } from '../timeline/timeline-record.ts';

export type SummaryRecord = Extract<TimelineRecord, { kind: 'summary' }>;

/**
 * What a run counts for its `summary` record: orders sent per purpose, entries the gate blocked, the most
 * reducing orders (reduce or exit) in flight at once, and the accounts the venue liquidated.
 */
export class RunCounters {
  readonly #orderCounts = new Map<string, Partial<Record<OrderPurpose, number>>>();
  readonly #blocked = new Map<string, number>();
  readonly #reductionsInFlight = new Map<string, Set<string>>();
  readonly #maxReductions = new Map<string, number>();
  readonly #liquidated = new Set<string>();

  orderSent(account: string, clientOrderId: string, purpose: OrderPurpose): void {
    const counts = this.#orderCounts.get(account) ?? {};
    counts[purpose] = (counts[purpose] ?? 0) + 1;
    this.#orderCounts.set(account, counts);
    if (purpose === 'reduce' || purpose === 'exit') {
      const inFlight = this.#reductionsInFlight.get(account) ?? new Set<string>();
      inFlight.add(clientOrderId);
      this.#reductionsInFlight.set(account, inFlight);
      this.#maxReductions.set(account, Math.max(this.#maxReductions.get(account) ?? 0, inFlight.size));
    }
  }

  /** The order reached a terminal status: it no longer counts as in flight. */
  orderEnded(account: string, clientOrderId: string): void {
    this.#reductionsInFlight.get(account)?.delete(clientOrderId);
  }

  entryBlocked(account: string): void {
    this.#blocked.set(account, (this.#blocked.get(account) ?? 0) + 1);
  }

  liquidated(account: string): void {
    this.#liquidated.add(account);
  }

  /** The `summary` record at `t`, its per-account maps in the order of `finalStates`. */
  summary(t: number, finalStates: Record<string, AccountMode>): SummaryRecord {
    const orders: Record<string, Partial<Record<OrderPurpose, number>>> = {};
    const maxReductionsInFlight: Record<string, number> = {};
    const blockedEntries: Record<string, number> = {};
    for (const accountId of Object.keys(finalStates)) {
      orders[accountId] = { ...(this.#orderCounts.get(accountId) ?? {}) };
      maxReductionsInFlight[accountId] = this.#maxReductions.get(accountId) ?? 0;
      blockedEntries[accountId] = this.#blocked.get(accountId) ?? 0;
    }
    return {
      t,
      kind: 'summary',
      liquidated: [...this.#liquidated].sort(),
      finalStates,
      orders,
      maxReductionsInFlight,
      blockedEntries,
    };
  }
}
