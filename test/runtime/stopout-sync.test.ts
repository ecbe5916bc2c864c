import { describe, expect, it } from 'vitest';
import type { AccountContext } from '../../machines/account-context.ts';
import type { SupervisorContext, SupervisorEvent } from '../../machines/supervisor.ts';
import type { Stopout } from '../../src/domain/stopout.ts';
import { STORE_UNREACHABLE, StopoutSync } from '../../src/runtime/stopout-sync.ts';
import type { StopoutStore, StoreChange } from '../../src/store/stopout-store.ts';
import type { TimelineRecord } from '../../src/timeline/timeline-record.ts';
import { accountContext, DAY_LIMIT } from '../machines/account-fixture.ts';

const DAY: Stopout = { scope: 'account', id: 'a', reason: 'day-drawdown', closePositions: true };

function setup(store: Partial<StopoutStore>, accounts: Record<string, AccountContext> = {}) {
  const sent: SupervisorEvent[] = [];
  const records: TimelineRecord[] = [];
  const reports: string[] = [];
  let work = 0;
  const sync = new StopoutSync({
    store: { kind: 'memory', healthy: () => true, ...store } as StopoutStore,
    outlet: { clock: { now: () => 3_000 }, origin: 1_000, write: (r) => records.push(r), report: (m) => reports.push(m) },
    work: { begin: () => void (work += 1), end: () => void (work -= 1) },
    send: (event) => sent.push(event),
    supervisorContext: () => ({ groups: {} }) as unknown as SupervisorContext,
    accountIds: () => Object.keys(accounts),
    accountContext: (id) => accounts[id],
  });
  return { sync, sent, records, reports, work: () => work };
}

describe('stopout sync', () => {
  it('turns store changes into stopout records and supervisor events', () => {
    const { sync, sent, records } = setup({});
    sync.onStoreChange({ kind: 'set', stopout: { ...DAY, stoppedTill: '2026-01-02T00:00:00.000Z' } } as StoreChange);
    sync.onStoreChange({ kind: 'reset', stopout: DAY } as StoreChange);
    sync.onStoreChange({ kind: 'start-time', scope: 'account', id: 'a', startTime: '2026-01-01T00:00:00.000Z' } as StoreChange);
    expect(records).toEqual([
      { t: 2_000, kind: 'stopout', ...DAY, action: 'set', stoppedTill: '2026-01-02T00:00:00.000Z' },
      { t: 2_000, kind: 'stopout', ...DAY, action: 'reset' },
    ]);
    expect(sent.map((e) => e.type)).toEqual(['STOPOUT_SEEN', 'STOPOUT_GONE', 'MOVE_START_TIME']);
    expect(sent[2]).toEqual({ type: 'MOVE_START_TIME', scope: 'account', id: 'a', at: Date.parse('2026-01-01T00:00:00.000Z') });
  });

  it('fails closed once while the store is unreachable, and lifts it once when it is back', () => {
    const { sync, sent, reports } = setup({});
    sync.onStoreChange({ kind: 'health', healthy: false, reason: 'ECONNREFUSED' } as StoreChange);
    sync.onStoreChange({ kind: 'health', healthy: false } as StoreChange);
    sync.onStoreChange({ kind: 'health', healthy: true } as StoreChange);
    sync.onStoreChange({ kind: 'health', healthy: true } as StoreChange);
    expect(sent).toEqual([
      { type: 'STOPOUT_SEEN', stopout: { scope: 'fleet', id: '*', reason: STORE_UNREACHABLE, closePositions: false } },
      { type: 'STOPOUT_GONE', scope: 'fleet', id: '*', reason: STORE_UNREACHABLE },
    ]);
    expect(reports).toEqual(['stopout store unreachable: ECONNREFUSED: entries refused until it is back']);
  });

  it('writes a raised stopout the store refused again on the first tick it is healthy', async () => {
    let healthy = false;
    const writes: Stopout[] = [];
    const { sync, reports, work } = setup({
      healthy: () => healthy,
      set: async (stopout) => {
        writes.push(stopout);
        if (!healthy) throw new Error('connection lost');
        return { ...stopout, sequence: 1, stoppedAt: '' } as never;
      },
    });
    sync.raise(DAY);
    expect(work()).toBe(1); // counted until the store answered
    await new Promise((resolve) => setImmediate(resolve));
    expect(work()).toBe(0);
    expect(reports[0]).toContain('raise day-drawdown on account a failed: connection lost');
    sync.tick(); // still unhealthy: not tried
    expect(writes).toHaveLength(1);
    healthy = true;
    sync.tick();
    sync.tick(); // written once, not again
    await new Promise((resolve) => setImmediate(resolve));
    expect(writes).toEqual([DAY, DAY]);
  });

  it('watches the store and learns the stopouts it holds', async () => {
    const listeners: Array<(change: StoreChange) => void> = [];
    const { sync, sent } = setup({
      watch: (listener) => {
        listeners.push(listener);
        return () => listeners.splice(0);
      },
      list: async () => [{ ...DAY, sequence: 1, stoppedAt: '2026-01-01T00:00:00.000Z' }],
    });
    const unwatch = sync.connect();
    await new Promise((resolve) => setImmediate(resolve));
    expect(sent.map((e) => e.type)).toEqual(['STOPOUT_SEEN']);
    expect(listeners).toHaveLength(1);
    unwatch();
    expect(listeners).toHaveLength(0);
  });

  it('publishes a breach record while a limit breaches (shared store only) and clears it once the breach ended', async () => {
    const calls: string[] = [];
    // A day limit of 0: the account's drawdown of 0 already reaches it.
    const breaching = accountContext({ riskLimits: [{ ...DAY_LIMIT, maxAbsoluteRisk: '0' }] });
    const accounts: Record<string, AccountContext> = { alpha: breaching };
    const store = {
      recordBreach: async (breach: { reason: string; message: string }, ttl: number) =>
        void calls.push(`record ${breach.reason} ${ttl}: ${breach.message}`),
      clearBreach: async (_scope: string, _id: string, reason: string) => void calls.push(`clear ${reason}`),
    };
    const memory = setup({ kind: 'memory', ...store } as never, accounts);
    memory.sync.tick();
    expect(calls).toEqual([]); // one process alone: nobody else to refuse a reset
    const { sync } = setup({ kind: 'redis', ...store } as never, accounts);
    sync.tick();
    expect(calls).toEqual([expect.stringMatching(/^record .+ 5000: drawdown 0 since 2026-01-05T00:00:00.000Z$/)]);
    accounts.alpha = accountContext();
    sync.tick();
    sync.tick(); // cleared once
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls.slice(1)).toEqual([expect.stringMatching(/^clear /)]);
  });

  describe('an account resumed from a snapshot', () => {
    const OWN: Stopout = { scope: 'strategy', id: 'alpha', reason: 'day-equity-difference', closePositions: false };
    const MANUAL: Stopout = { scope: 'account', id: 'alpha', reason: 'manual', closePositions: true };
    const KEPT: Stopout = { scope: 'fleet', id: '*', reason: 'manual', closePositions: false };
    const resumed = (stopouts: Stopout[]) => ({ alpha: { ...accountContext(), stopouts } });

    it("applies a reset made while no process ran it, writes its own limits' stopouts again, leaves the store's alone", async () => {
      const written: Stopout[] = [];
      const { sync, sent, reports, work } = setup(
        { list: async () => [KEPT] as never, set: async (s: Stopout) => void written.push(s) } as unknown as Partial<StopoutStore>,
        resumed([OWN, MANUAL, KEPT]),
      );
      await sync.reconcileResumed('alpha', [OWN, MANUAL, KEPT]);
      expect(sent).toEqual([
        { type: 'ROUTE', accountId: 'alpha', event: { type: 'STOPOUT_RESET', scope: 'account', id: 'alpha', reason: 'manual', at: 3_000 } },
      ]);
      expect(written).toEqual([OWN]);
      expect(reports).toEqual([
        'takeover of alpha: stopout day-equity-difference on strategy alpha is not in the store; written again',
        'takeover of alpha: stopout manual on account alpha was reset while no process ran the account; reset here',
      ]);
      await new Promise((resolve) => setImmediate(resolve)); // the write again settles
      expect(work()).toBe(0);
    });

    it('keeps every stopout while the store cannot be read (fail closed), and does not reset one already gone', async () => {
      const down = setup({ list: async () => Promise.reject(new Error('ECONNREFUSED')) } as Partial<StopoutStore>, resumed([MANUAL]));
      await down.sync.reconcileResumed('alpha', [MANUAL]);
      expect(down.sent).toEqual([]);
      expect(down.reports).toEqual([
        "takeover of alpha: reading the stopout store failed (ECONNREFUSED); its snapshot's stopouts are kept",
      ]);
      // Reset through the watch between the spawn and the read: nothing left to reset.
      const gone = setup({ list: async () => [] as never } as Partial<StopoutStore>, resumed([]));
      await gone.sync.reconcileResumed('alpha', [MANUAL]);
      expect(gone.sent).toEqual([]);
    });
  });
});
