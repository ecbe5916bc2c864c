import { describe, expect, it } from 'vitest';
import { LeaseKeeper, type LeaseTimers } from '../../src/persistence/lease-keeper.ts';
import { emptyRenewOutcome, type LeaseManager, type RenewOutcome, type TenureStart } from '../../src/persistence/lease-manager.ts';

/** Timers on a simulated clock; `advance` runs due callbacks in order and lets their promises settle. */
class ManualTimers implements LeaseTimers {
  now = 0;
  readonly delays: number[] = [];
  #next = 0;
  readonly #queue = new Map<number, { at: number; callback: () => void }>();

  setTimeout(callback: () => void, ms: number): number {
    const id = ++this.#next;
    this.delays.push(ms);
    this.#queue.set(id, { at: this.now + ms, callback });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.#queue.delete(handle as number);
  }

  get pending(): number {
    return this.#queue.size;
  }

  async advance(ms: number): Promise<void> {
    const target = this.now + ms;
    await settle();
    for (;;) {
      const due = [...this.#queue].filter(([, t]) => t.at <= target).sort(([a, x], [b, y]) => x.at - y.at || a - b)[0];
      if (!due) break;
      this.#queue.delete(due[0]);
      this.now = due[1].at;
      due[1].callback();
      await settle();
    }
    this.now = target;
  }
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A lease manager the test steers: which accounts are free, which are lost at the next renewal. */
class ScriptedLeases implements LeaseManager {
  readonly ownerId = 'me';
  readonly ttlMs = 300;
  readonly free = new Set<string>();
  readonly loseNext = new Set<string>();
  readonly foreignLeft = new Map<string, number>();
  readonly failing = new Set<string>();
  /** Renewals cannot reach Redis: owned leases turn uncertain (as past their local deadline). */
  unreachable = false;
  readonly reassertNext = new Set<string>();
  readonly #uncertain = new Set<string>();
  renewals = 0;
  readonly #owned = new Set<string>();

  async acquire(accountId: string): Promise<boolean> {
    if (this.failing.has(accountId)) throw new Error(`acquire ${accountId}: connection lost`);
    if (!this.free.has(accountId)) return false;
    this.free.delete(accountId);
    this.#owned.add(accountId);
    return true;
  }
  async renewAll(): Promise<RenewOutcome> {
    this.renewals++;
    const outcome = emptyRenewOutcome();
    if (this.unreachable) {
      outcome.uncertain = [...this.#owned].filter((a) => !this.#uncertain.has(a));
      for (const a of outcome.uncertain) this.#uncertain.add(a);
      return outcome;
    }
    outcome.lost = [...this.loseNext].filter((a) => this.#owned.delete(a));
    this.loseNext.clear();
    outcome.confirmed = [...this.#uncertain].filter((a) => this.#owned.has(a));
    this.#uncertain.clear();
    outcome.reasserted = [...this.reassertNext].filter((a) => this.#owned.has(a));
    this.reassertNext.clear();
    return outcome;
  }
  uncertain(accountId: string): boolean {
    return this.#uncertain.has(accountId);
  }
  async release(accountId: string): Promise<void> {
    this.#owned.delete(accountId);
  }
  owned(): string[] {
    return [...this.#owned];
  }
  async owner(accountId: string): Promise<string | null> {
    return this.#owned.has(accountId) ? this.ownerId : null;
  }
  epoch(): number | undefined {
    return undefined;
  }
  tenureStart(accountId: string): TenureStart | undefined {
    return this.#owned.has(accountId) ? 'fresh' : undefined;
  }
  retryAfterMs(accountId: string): number | undefined {
    return this.foreignLeft.get(accountId);
  }
}

function keeperWith(accounts: string[]) {
  const timers = new ManualTimers();
  const leases = new ScriptedLeases();
  const keeper = new LeaseKeeper({ leases, accounts: () => accounts, timers });
  const events: string[] = [];
  keeper.on('acquired', (id) => void events.push(`acquired ${id}`));
  keeper.on('lost', (id) => void events.push(`lost ${id}`));
  keeper.on('uncertain', (id) => void events.push(`uncertain ${id}`));
  keeper.on('confirmed', (id) => void events.push(`confirmed ${id}`));
  keeper.on('reasserted', (id) => void events.push(`reasserted ${id}`));
  keeper.on('error', (error) => void events.push(`error ${(error as Error).message}`));
  return { timers, leases, keeper, events };
}

describe('LeaseKeeper (ttl 300 ms: renew every 100, acquire every 150)', () => {
  it('acquires at start, renews every ttl/3 and retries un-owned accounts every ttl/2', async () => {
    const { timers, leases, keeper, events } = keeperWith(['a1', 'a2', 'a3']);
    leases.free.add('a1').add('a2');
    keeper.start();
    await timers.advance(0);
    expect(events).toEqual(['acquired a1', 'acquired a2']);
    expect(timers.delays).toEqual([100, 150]); // renew, acquire

    await timers.advance(100);
    expect(leases.renewals).toBe(1);
    leases.free.add('a3'); // the other process's lease on a3 expired
    await timers.advance(50); // t = 150: acquire round
    expect(events).toEqual(['acquired a1', 'acquired a2', 'acquired a3']);
    await timers.advance(150); // t = 300
    expect(leases.renewals).toBe(3);
    await keeper.stop();
  });

  it('reports a lost lease at the next renewal and takes the account back when it is free again', async () => {
    const { timers, leases, keeper, events } = keeperWith(['a1']);
    leases.free.add('a1');
    keeper.start();
    await timers.advance(0);
    leases.loseNext.add('a1');
    await timers.advance(100);
    expect(events).toEqual(['acquired a1', 'lost a1']);
    expect(leases.owned()).toEqual([]);
    leases.free.add('a1');
    await timers.advance(50); // t = 150
    expect(events).toEqual(['acquired a1', 'lost a1', 'acquired a1']);
    await keeper.stop();
  });

  // Issue 12, failure 3: an outage longer than the ttl turned every lease into `lost`.
  it('keeps a lease Redis cannot confirm as uncertain, re-validates every ttl/10 meanwhile, and confirms it when Redis answers', async () => {
    const { timers, leases, keeper, events } = keeperWith(['a1']);
    leases.free.add('a1');
    keeper.start();
    await timers.advance(0);
    leases.unreachable = true;
    await timers.advance(100); // t = 100: renewal without an answer
    expect(events).toEqual(['acquired a1', 'uncertain a1']);
    expect(leases.owned()).toEqual(['a1']);
    const before = timers.delays.length;
    await timers.advance(300); // t = 400: renewals every 30 ms (ttl/10) while uncertain, no second event
    expect(events).toEqual(['acquired a1', 'uncertain a1']);
    expect(timers.delays.slice(before).filter((d) => d === 30).length).toBeGreaterThanOrEqual(9);
    leases.unreachable = false;
    leases.reassertNext.add('a1'); // Redis came back empty: the lease is written back
    await timers.advance(30);
    expect(events).toEqual(['acquired a1', 'uncertain a1', 'reasserted a1', 'confirmed a1']);
    expect(timers.delays.at(-1)).toBe(100); // back to the ttl/3 rhythm
    await keeper.stop();
  });

  it('brings the acquire round forward to when a foreign lease runs out', async () => {
    const { timers, leases, keeper, events } = keeperWith(['a1']);
    leases.foreignLeft.set('a1', 40);
    keeper.start();
    await timers.advance(0);
    expect(timers.delays).toEqual([100, 41]); // 40 ms left + 1
    leases.free.add('a1');
    leases.foreignLeft.delete('a1');
    await timers.advance(41);
    expect(events).toEqual(['acquired a1']);
    await keeper.stop();
  });

  it('reports errors (of the lease manager and of listeners) as `error` and keeps going', async () => {
    const { timers, leases, keeper, events } = keeperWith(['a1', 'a2']);
    leases.free.add('a1').add('a2');
    leases.failing.add('a1');
    keeper.on('acquired', () => {
      throw new Error('listener broke');
    });
    keeper.start();
    await timers.advance(0);
    expect(events).toEqual(['error acquire a1: connection lost', 'acquired a2', 'error listener broke']);
    leases.failing.delete('a1');
    await timers.advance(150);
    expect(events.slice(3)).toEqual(['acquired a1', 'error listener broke']);
    await keeper.stop();
  });

  it('stop() leaves no timer behind; a listener can be removed', async () => {
    const { timers, leases, keeper, events } = keeperWith(['a1']);
    const off = keeper.on('acquired', () => void events.push('second listener'));
    off();
    keeper.start();
    await timers.advance(0);
    await keeper.stop();
    expect(timers.pending).toBe(0);
    leases.free.add('a1');
    await timers.advance(1_000);
    expect(events).toEqual([]);
    expect(leases.renewals).toBe(0);
  });
});
