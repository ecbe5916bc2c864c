import type { AccountContext } from '../../machines/account-context.ts';
import type { SupervisorContext, SupervisorEvent } from '../../machines/supervisor.ts';
import type { WorkTracker } from '../clock/work-tracker.ts';
import { toIso } from '../domain/periods.ts';
import { evaluateRiskLimits, raisedByLimits } from '../domain/risk-limits.ts';
import type { Stopout, StopoutScope } from '../domain/stopout.ts';
import { stopoutKey } from '../domain/stopout-identity.ts';
import type { StopoutStore, StoreChange } from '../store/stopout-store.ts';
import type { RuntimeOutlet } from './runtime-outlet.ts';

/** Reason of the synthetic stopout that keeps entries closed while the shared store cannot be read. */
export const STORE_UNREACHABLE = 'store-unreachable';

/** What the stopout sync reads (the accounts' and groups' drawdowns) and where it sends what the store says. */
export interface StopoutSyncPorts {
  store: StopoutStore;
  outlet: RuntimeOutlet;
  work: Pick<WorkTracker, 'begin' | 'end'>;
  send(event: SupervisorEvent): void;
  supervisorContext(): SupervisorContext;
  accountIds(): string[];
  accountContext(accountId: string): AccountContext | undefined;
}

/**
 * Keeps the fleet and the shared stopout store in step: store changes become supervisor events and
 * `stopout` records, an unreachable store becomes a fleet-wide stopout (fail closed), stopouts this fleet
 * raises are written to the store (again once it is back, if it refused them), and live breach records
 * are published for resets decided elsewhere.
 */
export class StopoutSync {
  readonly #p: StopoutSyncPorts;
  #storeDown = false;
  /** Stopouts this fleet raised that the store could not take (unreachable): written again once it is back. */
  readonly #unsaved = new Map<string, Stopout>();
  #breaches = new Map<string, { scope: StopoutScope; id: string; reason: string }>();

  constructor(ports: StopoutSyncPorts) {
    this.#p = ports;
  }

  /** Follows the store's changes and learns the stopouts it holds now; returns the unwatch. */
  connect(): () => void {
    const unwatch = this.#p.store.watch((change) => this.onStoreChange(change));
    void this.#p.store.list().then(
      (stopouts) => stopouts.forEach((stopout) => this.#p.send({ type: 'STOPOUT_SEEN', stopout })),
      (error: Error) => this.#p.outlet.report(`reading stopouts failed: ${error.message}`),
    );
    return unwatch;
  }

  /** On every tick: breach records (shared store only), then the stopouts the store refused, once it is healthy. */
  tick(): void {
    if (this.#p.store.kind === 'redis') this.#publishBreaches();
    if (this.#unsaved.size > 0 && this.#p.store.healthy()) {
      const again = [...this.#unsaved.values()];
      this.#unsaved.clear();
      for (const stopout of again) this.raise(stopout);
    }
  }

  /**
   * Writes a stopout this fleet raised to the shared store. The account keeps it either way; one the store
   * refused is kept and written again on the first tick the store is healthy, so other processes and the
   * CLI learn of it after an outage too.
   */
  raise(stopout: Stopout): void {
    const { work, store, outlet } = this.#p;
    work.begin();
    store
      .set(stopout)
      .catch((error: Error) => {
        this.#unsaved.set(stopoutKey(stopout), stopout);
        outlet.report(
          `stopout store: raise ${stopout.reason} on ${stopout.scope} ${stopout.id} failed: ${error.message}; it will be written when the store is back`,
        );
      })
      .finally(() => work.end());
  }

  /**
   * An account resumed from a snapshot holds the stopouts its previous owner saw; the store may have changed
   * while no process ran it (a reset published then reached nobody). Read the store once, after the spawn
   * (later changes arrive through the watch), and for each stopout of the snapshot the store no longer holds:
   * one the account's own limits raise is written again — its write may have died with the previous owner,
   * and dropping it would lose a stopout; any other (set from outside, or by a group) was reset, and the
   * reset is applied now. While the store cannot be read, the snapshot's stopouts are kept (fail closed).
   */
  async reconcileResumed(accountId: string, restored: readonly Stopout[]): Promise<void> {
    if (restored.length === 0) return;
    const { store, outlet, work } = this.#p;
    work.begin();
    try {
      let held: Set<string>;
      try {
        held = new Set((await store.list()).map(stopoutKey));
      } catch (error) {
        outlet.report(
          `takeover of ${accountId}: reading the stopout store failed (${(error as Error).message}); its snapshot's stopouts are kept`,
        );
        return;
      }
      const context = this.#p.accountContext(accountId);
      if (context === undefined) return; // removed meanwhile
      const current = new Set(context.stopouts.map(stopoutKey));
      for (const stopout of restored) {
        const key = stopoutKey(stopout);
        if (held.has(key) || this.#unsaved.has(key) || !current.has(key) || stopout.reason === STORE_UNREACHABLE) continue;
        if (raisedByLimits(stopout, context.settings.riskLimits)) {
          outlet.report(
            `takeover of ${accountId}: stopout ${stopout.reason} on ${stopout.scope} ${stopout.id} is not in the store; written again`,
          );
          this.raise(stopout);
          continue;
        }
        outlet.report(
          `takeover of ${accountId}: stopout ${stopout.reason} on ${stopout.scope} ${stopout.id} was reset while no process ran the account; reset here`,
        );
        const at = outlet.clock.now();
        this.#p.send({
          type: 'ROUTE',
          accountId,
          event: { type: 'STOPOUT_RESET', scope: stopout.scope, id: stopout.id, reason: stopout.reason, at },
        });
      }
    } finally {
      work.end();
    }
  }

  /** The `stopout` record of a stopout set in or removed from the store (`stoppedTill` only on a set). */
  #record(t: number, stopout: Stopout, action: 'set' | 'reset'): void {
    this.#p.outlet.write({
      t,
      kind: 'stopout',
      scope: stopout.scope,
      id: stopout.id,
      reason: stopout.reason,
      closePositions: stopout.closePositions,
      action,
      ...(action === 'set' && stopout.stoppedTill ? { stoppedTill: stopout.stoppedTill } : {}),
    });
  }

  onStoreChange(change: StoreChange): void {
    const { outlet, send } = this.#p;
    const t = outlet.clock.now() - outlet.origin;
    switch (change.kind) {
      case 'set':
        this.#record(t, change.stopout, 'set');
        send({ type: 'STOPOUT_SEEN', stopout: change.stopout });
        break;
      case 'reset':
        this.#record(t, change.stopout, 'reset');
        send({ type: 'STOPOUT_GONE', scope: change.stopout.scope, id: change.stopout.id, reason: change.stopout.reason });
        break;
      case 'start-time':
        send({ type: 'MOVE_START_TIME', scope: change.scope, id: change.id, at: Date.parse(change.startTime) });
        break;
      case 'health': {
        // Fail closed: while the shared flags cannot be read, no process may assume there is no stopout.
        const stopout: Stopout = { scope: 'fleet', id: '*', reason: STORE_UNREACHABLE, closePositions: false };
        if (!change.healthy && !this.#storeDown) {
          this.#storeDown = true;
          outlet.report(`stopout store unreachable${change.reason ? `: ${change.reason}` : ''}: entries refused until it is back`);
          send({ type: 'STOPOUT_SEEN', stopout });
        } else if (change.healthy && this.#storeDown) {
          this.#storeDown = false;
          send({ type: 'STOPOUT_GONE', scope: 'fleet', id: '*', reason: STORE_UNREACHABLE });
        }
        break;
      }
    }
  }

  /**
   * Live breach records, so a reset from another process or the CLI can be refused while a cause holds;
   * a record whose breach ended (startTime moved, a new period) is cleared at once rather than left to expire.
   */
  #publishBreaches(): void {
    const { store } = this.#p;
    const ttl = 5_000;
    const now = new Map<string, { scope: StopoutScope; id: string; reason: string; message: string }>();
    const sources = [
      ...this.#p.accountIds().flatMap((accountId) => {
        const ctx = this.#p.accountContext(accountId);
        return ctx?.drawdown.latest ? [{ limits: ctx.settings.riskLimits, drawdown: ctx.drawdown, latest: ctx.drawdown.latest }] : [];
      }),
      ...Object.values(this.#p.supervisorContext().groups).flatMap((g) =>
        g.drawdown.latest ? [{ limits: g.limits, drawdown: g.drawdown, latest: g.drawdown.latest }] : [],
      ),
    ];
    for (const source of sources) {
      for (const b of evaluateRiskLimits(source.limits, source.drawdown, source.latest)) {
        now.set(stopoutKey(b.stopout), {
          scope: b.stopout.scope,
          id: b.stopout.id,
          reason: b.stopout.reason,
          message: `drawdown ${b.measure.drawdown} since ${toIso(b.measure.periodStart)}`,
        });
      }
    }
    for (const breach of now.values()) this.#storeWrite('breach record', () => store.recordBreach(breach, ttl));
    for (const [key, breach] of this.#breaches) {
      if (!now.has(key)) this.#storeWrite('breach record', () => store.clearBreach(breach.scope, breach.id, breach.reason));
    }
    this.#breaches = now;
  }

  #storeWrite(what: string, write: () => Promise<unknown>): void {
    const { work, outlet } = this.#p;
    work.begin();
    write()
      .catch((error: Error) => outlet.report(`stopout store: ${what} failed: ${error.message}`))
      .finally(() => work.end());
  }
}
