import type { AccountContext } from '../../machines/account-context.ts';
import type { AccountMode } from '../domain/assessment.ts';
import type { RuntimeOutlet } from './runtime-outlet.ts';

/**
 * The `state` and `risk` records of each account: a `state` record (with a `risk` record) when its
 * top-level state changes, and a `risk` record whenever one is due or asked for.
 */
export class AccountRecords {
  readonly #outlet: Pick<RuntimeOutlet, 'clock' | 'origin' | 'write'>;
  readonly #lastState = new Map<string, AccountMode>();
  readonly #lastRiskAt = new Map<string, number>();

  constructor(outlet: Pick<RuntimeOutlet, 'clock' | 'origin' | 'write'>) {
    this.#outlet = outlet;
  }

  /**
   * Writes a `state` record (and a `risk` record) when the account's top-level state changed. Called from
   * the snapshot subscription, and first thing in every effect: an order sent on entering de-risking then
   * comes after the state change that caused it, not before. The first state seen is only remembered.
   */
  noteState(accountId: string, to: AccountMode, context: AccountContext, detail?: string): void {
    const from = this.#lastState.get(accountId);
    if (from === to) return;
    this.#lastState.set(accountId, to);
    if (from === undefined) return;
    this.#outlet.write({
      t: this.#outlet.clock.now() - this.#outlet.origin,
      kind: 'state',
      account: accountId,
      from,
      to,
      reason: context.reason.rule,
      ...(detail ? { detail } : {}),
      numbers: context.reason.numbers,
    });
    this.writeRisk(accountId, context, to);
  }

  /** The account is no longer supervised here: its next first state is only remembered again. */
  forget(accountId: string): void {
    this.#lastState.delete(accountId);
  }

  /** Whether the account's last `risk` record is at least `everyMs` old at `at`. */
  riskDue(accountId: string, at: number, everyMs: number): boolean {
    return at - (this.#lastRiskAt.get(accountId) ?? -Infinity) >= everyMs;
  }

  /** Writes a `risk` record of the account now (nothing before its first metrics). */
  writeRisk(accountId: string, ctx: AccountContext | undefined, state?: AccountMode): void {
    const mode = state ?? (ctx ? ctx.mode : undefined);
    if (!ctx?.metrics || !mode) return;
    const at = this.#outlet.clock.now();
    this.#lastRiskAt.set(accountId, at);
    const m = ctx.metrics;
    this.#outlet.write({
      t: at - this.#outlet.origin,
      kind: 'risk',
      account: accountId,
      position: Object.fromEntries(Object.values(m.positions).map((p) => [p.symbol, p.size])),
      grossNotional: m.grossNotional,
      equity: m.equity,
      marginFraction: m.marginFraction,
      maintenance: m.maintenance,
      marginBuffer: m.marginBuffer,
      sessionPnl: m.sessionPnl,
      state: mode,
    });
  }
}
