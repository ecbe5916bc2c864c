import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SimClock } from '../../src/clock/clock.ts';
import { toIso } from '../../src/domain/periods.ts';
import type { Stopout, StopoutScope } from '../../src/domain/stopout.ts';
import type { StopoutStore, StoreChange } from '../../src/store/stopout-store.ts';

/** A scope as a caller outside TypeScript might send it: typed as a scope, checked by the store. */
function outsideScope(scope: string): StopoutScope {
  return scope as StopoutScope;
}

export const CONTRACT_START = Date.UTC(2026, 0, 5, 13, 0, 0);

export interface ContractSubject {
  store: StopoutStore;
  /** The store's clock (stoppedAt defaults), starting at CONTRACT_START. */
  clock: SimClock;
  /** Lets `ms` pass for breach TTLs: the memory store's SimClock moves; a Redis server's TTLs are its own real time. */
  elapse(ms: number): Promise<void>;
  close(): Promise<void>;
}

const manual = (over: Partial<Stopout> = {}): Stopout => ({
  scope: 'portfolio',
  id: 'core',
  reason: 'manual',
  closePositions: false,
  ...over,
});

/** What every StopoutStore must do, whatever holds the stopouts. */
export function stopoutStoreContract(name: string, open: () => Promise<ContractSubject>): void {
  describe(`StopoutStore contract: ${name}`, () => {
    let subject: ContractSubject;
    let store: StopoutStore;
    let changes: StoreChange[];

    beforeEach(async () => {
      subject = await open();
      store = subject.store;
      changes = [];
      store.watch((c) => changes.push(c));
    });
    afterEach(() => subject.close());

    it('starts empty and healthy', async () => {
      expect(store.healthy()).toBe(true);
      expect(await store.list()).toEqual([]);
      expect(await store.breaches()).toEqual([]);
      expect(await store.startTimes()).toEqual([]);
    });

    it('sets a stopout with a sequence and stoppedAt = now, and lists it', async () => {
      const stored = await store.set(manual({ by: 'ops' }));
      expect(stored).toEqual({
        scope: 'portfolio',
        id: 'core',
        reason: 'manual',
        closePositions: false,
        stoppedAt: toIso(CONTRACT_START),
        by: 'ops',
        sequence: stored.sequence,
      });
      expect(stored.sequence).toBeGreaterThan(0);
      expect(await store.list()).toEqual([stored]);
      expect(changes).toEqual([{ kind: 'set', stopout: stored }]);
    });

    it('keeps a given stoppedAt and stoppedTill, and ignores a given sequence', async () => {
      const stored = await store.set(
        manual({
          reason: 'day-balance-difference',
          closePositions: true,
          stoppedAt: '2026-01-05T12:00:00.000Z',
          stoppedTill: '2026-01-06T00:00:00.000Z',
          sequence: 999_999,
        }),
      );
      expect(stored).toMatchObject({
        closePositions: true,
        stoppedAt: '2026-01-05T12:00:00.000Z',
        stoppedTill: '2026-01-06T00:00:00.000Z',
      });
      expect(stored.sequence).not.toBe(999_999);
      expect(await store.list()).toEqual([stored]);
    });

    it('holds member ids with "/" and the fleet id "*"', async () => {
      const member = await store.set(manual({ scope: 'member', id: 'core/alpha' }));
      const fleet = await store.set(manual({ scope: 'fleet', id: '*', closePositions: true }));
      expect(await store.list()).toEqual([fleet, member]);
    });

    it('lists sorted by scope (fleet, portfolio, member, strategy, account, subscription, subscriber), id, reason', async () => {
      const order = [
        manual({ scope: 'subscriber', id: 'sub1' }),
        manual({ scope: 'account', id: 'beta', reason: 'manual' }),
        manual({ scope: 'account', id: 'alpha', reason: 'week-equity-difference' }),
        manual({ scope: 'account', id: 'alpha', reason: 'day-balance-difference' }),
        manual({ scope: 'fleet', id: '*' }),
        manual({ scope: 'member', id: 'core/alpha' }),
      ];
      for (const s of order) await store.set(s);
      expect((await store.list()).map((s) => `${s.scope} ${s.id} ${s.reason}`)).toEqual([
        'fleet * manual',
        'member core/alpha manual',
        'account alpha day-balance-difference',
        'account alpha week-equity-difference',
        'account beta manual',
        'subscriber sub1 manual',
      ]);
    });

    it('is idempotent per (scope, id, reason): the existing stopout is kept as it is', async () => {
      const first = await store.set(manual({ by: 'ops' }));
      subject.clock.advanceTo(CONTRACT_START + 60_000);
      const again = await store.set(manual({ by: 'someone-else', stoppedTill: '2026-02-01T00:00:00.000Z' }));
      expect(again).toEqual(first);
      expect(await store.list()).toEqual([first]);
      expect(changes).toEqual([{ kind: 'set', stopout: first }]);
    });

    it('upgrades to closePositions (new sequence, stoppedAt kept) and never downgrades', async () => {
      const first = await store.set(manual());
      subject.clock.advanceTo(CONTRACT_START + 60_000);
      const upgraded = await store.set(manual({ closePositions: true, by: 'risk' }));
      expect(upgraded).toMatchObject({ closePositions: true, stoppedAt: first.stoppedAt, by: 'risk' });
      expect(upgraded.sequence).toBeGreaterThan(first.sequence);
      const downgrade = await store.set(manual({ closePositions: false }));
      expect(downgrade).toEqual(upgraded);
      expect(await store.list()).toEqual([upgraded]);
      expect(changes).toEqual([
        { kind: 'set', stopout: first },
        { kind: 'set', stopout: upgraded },
      ]);
    });

    it('resets: true when it existed, false after', async () => {
      const stored = await store.set(manual());
      const other = await store.set(manual({ reason: 'day-balance-difference' }));
      expect(await store.reset('portfolio', 'core', 'manual')).toBe(true);
      expect(await store.reset('portfolio', 'core', 'manual')).toBe(false);
      expect(await store.list()).toEqual([other]);
      expect(changes.at(-1)).toEqual({ kind: 'reset', stopout: stored });
    });

    it('tells watchers every change, in order, until they unsubscribe', async () => {
      const seen: string[] = [];
      const stop = store.watch((c) =>
        seen.push(c.kind === 'set' || c.kind === 'reset' ? `${c.kind} ${c.stopout.scope} ${c.stopout.id} ${c.stopout.reason}` : c.kind),
      );
      await store.set(manual());
      await store.set(manual({ scope: 'account', id: 'alpha' }));
      await store.reset('portfolio', 'core', 'manual');
      await store.setStartTime('portfolio', 'core', '2026-01-05T13:30:00.000Z');
      stop();
      await store.reset('account', 'alpha', 'manual');
      expect(seen).toEqual(['set portfolio core manual', 'set account alpha manual', 'reset portfolio core manual', 'start-time']);
      expect(changes.map((c) => c.kind)).toEqual(['set', 'set', 'reset', 'start-time', 'reset']);
    });

    it('numbers stopouts with strictly increasing sequences', async () => {
      const sequences: number[] = [];
      for (const id of ['a', 'b', 'c', 'd', 'e']) sequences.push((await store.set(manual({ scope: 'account', id }))).sequence);
      sequences.push((await store.set(manual({ scope: 'account', id: 'a', closePositions: true }))).sequence);
      for (let i = 1; i < sequences.length; i++) expect(sequences[i]).toBeGreaterThan(sequences[i - 1] as number);
    });

    it('records breaches with a TTL, refreshed by recording again, and clears them', async () => {
      const breach = { scope: 'portfolio' as const, id: 'core', reason: 'day-balance-difference', message: 'drawdown 120 >= 100' };
      await store.recordBreach(breach, 300);
      await store.recordBreach(
        { ...breach, scope: 'account', id: 'alpha', reason: 'week-equity-difference', message: 'drawdown 5%' },
        10_000,
      );
      expect(await store.breaches()).toEqual([
        breach,
        { ...breach, scope: 'account', id: 'alpha', reason: 'week-equity-difference', message: 'drawdown 5%' },
      ]);
      await subject.elapse(200);
      await store.recordBreach({ ...breach, message: 'drawdown 130 >= 100' }, 300); // refreshed: lives until 200 + 300
      await subject.elapse(200); // 400 ms after the first record: gone without the refresh
      expect(await store.breaches()).toContainEqual({ ...breach, message: 'drawdown 130 >= 100' });
      await subject.elapse(250); // 450 ms after the refresh
      expect((await store.breaches()).map((b) => b.id)).toEqual(['alpha']);
      await store.clearBreach('account', 'alpha', 'week-equity-difference');
      expect(await store.breaches()).toEqual([]);
      expect(changes).toEqual([]); // breach records are not stopouts
    });

    it('persists and broadcasts start times', async () => {
      await store.setStartTime('portfolio', 'core', '2026-01-05T13:30:00.000Z');
      await store.setStartTime('portfolio', 'core', '2026-01-05T13:30:00.000Z');
      await store.setStartTime('member', 'core/alpha', '2026-01-05T14:00:00.000Z');
      await store.setStartTime('portfolio', 'core', '2026-01-05T15:00:00.000Z');
      expect(await store.startTimes()).toEqual([
        { scope: 'portfolio', id: 'core', startTime: '2026-01-05T15:00:00.000Z' },
        { scope: 'member', id: 'core/alpha', startTime: '2026-01-05T14:00:00.000Z' },
      ]);
      expect(changes).toEqual([
        { kind: 'start-time', scope: 'portfolio', id: 'core', startTime: '2026-01-05T13:30:00.000Z' },
        { kind: 'start-time', scope: 'member', id: 'core/alpha', startTime: '2026-01-05T14:00:00.000Z' },
        { kind: 'start-time', scope: 'portfolio', id: 'core', startTime: '2026-01-05T15:00:00.000Z' },
      ]);
    });

    it('refuses what cannot be a stopout, naming every field', async () => {
      await expect(store.set({ scope: outsideScope('galaxy'), id: 'x', reason: 'manual', closePositions: false })).rejects.toThrow(
        /set: scope: unknown scope "galaxy"/,
      );
      await expect(store.set(manual({ scope: 'member', id: 'alpha' }))).rejects.toThrow(/id: expected "<portfolio>\/<account>"/);
      await expect(store.set(manual({ scope: 'fleet', id: 'all' }))).rejects.toThrow(/the fleet scope has id "\*"/);
      await expect(store.set(manual({ id: 'a:b', reason: '', stoppedTill: 'tomorrow' }))).rejects.toThrow(
        /id: .*; reason: .*; stoppedTill: expected an ISO 8601 time/,
      );
      await expect(store.setStartTime('portfolio', 'core', 'yesterday')).rejects.toThrow(/startTime: expected an ISO 8601 time/);
      await expect(store.recordBreach({ scope: 'portfolio', id: 'core', reason: 'manual', message: 'm' }, 0)).rejects.toThrow(/ttlMs/);
      expect(await store.list()).toEqual([]);
    });

    it('refuses everything once closed', async () => {
      await store.close();
      expect(store.healthy()).toBe(false);
      await expect(store.set(manual())).rejects.toThrow(/stopout store unavailable: cannot set a stopout: the store is closed/);
      await expect(store.list()).rejects.toThrow(/closed/);
    });
  });
}
