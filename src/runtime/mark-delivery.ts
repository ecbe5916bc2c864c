import type { AccountContext, AccountEvent } from '../../machines/account-context.ts';
import type { AccountSnapshot } from '../../machines/restorable-account.ts';
import { statePath } from '../../machines/snapshot-state.ts';
import type { AssessmentBand, BlockingLevel } from '../domain/assessment-band.ts';
import { dec, type DecimalString } from '../domain/decimal.ts';
import { accountReach } from './account-reach.ts';
import { MarkIndex, type FloatBand } from './mark-index.ts';
import { UrgencyTable, type Urgency } from './urgency-table.ts';
import { VisitQueue } from './visit-queue.ts';

/** A mark as the venue reports it. */
export interface Mark {
  symbol: string;
  price: DecimalString;
  at: number;
}

/**
 * `indexed`: a mark reaches only the accounts whose band it left (and those that need every mark).
 * `every-account`: every mark reaches every account — the reference the indexed path is tested against
 * (test/runtime/mark-delivery-differential.test.ts). Both deliver in the same order: most urgent first.
 */
export type MarkDeliveryMode = 'indexed' | 'every-account';

/** Why an account refuses entries before its statechart has seen the mark that crossed one of its levels. */
export interface EntryFlag {
  rule: string;
  /** The level crossed, in words, and the mark that crossed it. */
  level: string;
  mark: DecimalString;
}

/** An entry flag said in words. */
export function flagMessage(flag: EntryFlag): string {
  return `${flag.level}: mark ${flag.mark}`;
}

export interface MarkDeliveryOptions {
  mode: MarkDeliveryMode;
  /** Sends an event to the account's actor (undefined when not spawned here). */
  send(accountId: string, event: AccountEvent): boolean;
  /**
   * Simulation (absent): every visit happens inside the mark's own handling. Live: the 100 most urgent right
   * after the turn's marks (all symbols ranked together) and the rest in chunks on later turns of the event
   * loop, so the first reducing orders leave while the rest of the fleet is still being visited (entries of
   * accounts not yet visited are judged by their flags or after a visit of their own).
   */
  schedule?: (next: () => void) => void;
}

/** What a slot keeps of an account's reach (src/runtime/account-reach.ts). */
type Reach = { kind: 'every'; why: string } | { kind: 'band'; bands: Record<string, FloatBand>; blocking: Blocking | null };

/** An entry-blocking level as a slot keeps it: the price as text, its words interned (fleets share budgets). */
interface KeptLevel {
  price: DecimalString;
  /** The price as the nearest double: decides alone only when the mark is clearly past it or clearly not. */
  near: number;
  rule: string;
  message: string;
}

interface Blocking {
  symbol: string;
  below: KeptLevel | null;
  above: KeptLevel | null;
}

/** Visits done right after the turn's marks, before the rest is scheduled (live). */
const FIRST_CHUNK = 100;
/** Visits per later turn of the event loop (live). */
const CHUNK = 250;
/** First bands computed per turn of the event loop (live). */
const BACKLOG_CHUNK = 500;

interface Slot {
  id: string;
  /**
   * What the last assessment of its reach kept (the band's decimal edges are not kept: only the doubles the
   * index needs, the blocking levels and the urgency floats). null: not assessed yet.
   */
  reach: Reach | null;
  /** Context identity of what the band was computed from (see bandKey). */
  key: unknown[] | null;
  flag: EntryFlag | null;
  queued: boolean;
  /** A visit removed the account from the index: its band must be computed again. */
  stale: boolean;
  /** Live: the latest snapshot of an account not assessed yet, waiting in the backlog. */
  deferred: AccountSnapshot | null;
}

/**
 * Carries marks to accounts: the latest mark of each symbol, the index of the accounts' bands, the accounts
 * that need every mark, the queue of visits in triage order (panic and thinnest margin buffer first), and the
 * entry flags set when a mark is certainly past an account's entry-blocking level. Anything that reads an
 * account or sends it another event calls `catchUp` first, so the account then holds exactly the context it
 * would hold had it seen every mark.
 */
export class MarkDelivery {
  readonly #o: MarkDeliveryOptions;
  readonly #index = new MarkIndex();
  readonly #latest = new Map<string, { price: DecimalString; at: number; seq: number }>();
  /** Per symbol, by slot: the sequence number of the last mark of that symbol the account has seen. */
  readonly #seen = new Map<string, number[]>();
  readonly #slots: Slot[] = [];
  readonly #byId = new Map<string, number>();
  readonly #freeSlots: number[] = [];
  /** Words of blocking levels, shared between accounts with the same levels. */
  readonly #words = new Map<string, string>();
  /** Slots that need every mark. */
  readonly #every = new Set<number>();
  /** Slots a tick can change. */
  readonly #timed = new Set<number>();
  /** Live: accounts whose first band is still to be computed (a fleet's start or recovery is not held up by it). */
  #backlog: number[] = [];
  #backlogScheduled = false;
  readonly #whenAssessed: Array<() => void> = [];
  readonly #urgency = new UrgencyTable();
  readonly #queue = new VisitQueue((slot) => this.#urgency.key(slot));
  #scheduled = false;
  #firstScheduled = false;
  /** The slot whose pending marks are being delivered, and its latest snapshot meanwhile (see noteSnapshot). */
  #delivering: number | null = null;
  #afterDelivery: AccountSnapshot | null = null;
  /** Marks moved since the queue was last ordered: its keys must be read again before the next visit. */
  #unordered = false;
  #seq = 0;
  /** Marks received, account visits they caused, MARK events delivered (visits and catch-ups). */
  readonly counts = { marks: 0, visits: 0, delivered: 0 };

  constructor(options: MarkDeliveryOptions) {
    this.#o = options;
  }

  add(accountId: string): void {
    if (this.#byId.has(accountId)) return;
    const slot = this.#freeSlots.pop() ?? this.#slots.length;
    this.#slots[slot] = {
      id: accountId,
      reach: null,
      key: null,
      flag: null,
      queued: false,
      stale: true,
      deferred: null,
    };
    this.#byId.set(accountId, slot);
    this.#urgency.set(slot, null);
    for (const seen of this.#seen.values()) seen[slot] = 0;
    this.#every.add(slot);
  }

  remove(accountId: string): void {
    const slot = this.#byId.get(accountId);
    if (slot === undefined) return;
    this.#index.remove(slot);
    this.#every.delete(slot);
    this.#timed.delete(slot);
    this.#slots[slot]!.queued = false;
    this.#slots[slot]!.deferred = null;
    this.#byId.delete(accountId);
    this.#freeSlots.push(slot);
  }

  /** The latest mark of every symbol. */
  latestMarks(): Record<string, DecimalString> {
    return Object.fromEntries([...this.#latest].map(([symbol, m]) => [symbol, m.price]));
  }

  /** Accounts a tick can change now. */
  timedAccounts(): string[] {
    return [...this.#timed].sort((a, b) => a - b).map((slot) => this.#slots[slot]!.id);
  }

  /** The flag that refuses the account's entries until its visit, or null. */
  flag(accountId: string): EntryFlag | null {
    const slot = this.#byId.get(accountId);
    return slot === undefined ? null : this.#slots[slot]!.flag;
  }

  /** Resolves once every account's first band has been computed (live; at once in simulation). */
  assessed(): Promise<void> {
    if (this.#backlog.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#whenAssessed.push(resolve));
  }

  /** A mark arrived: who it reaches, in which order, and the entry flags it sets. */
  mark(mark: Mark): void {
    this.#seq += 1;
    this.counts.marks += 1;
    this.#latest.set(mark.symbol, { price: mark.price, at: mark.at, seq: this.#seq });
    const price = Number(mark.price);
    this.#urgency.mark(mark.symbol, price);
    const visits: number[] =
      this.#o.mode === 'every-account' ? [...this.#byId.values()] : [...this.#index.visit(mark.symbol, price), ...this.#every];
    this.counts.visits += visits.length;
    if (visits.length === 0) return;
    for (const slot of visits) {
      const s = this.#slots[slot]!;
      s.stale = true;
      if (s.flag === null && s.reach?.kind === 'band') s.flag = flagFor(s.reach.blocking, mark, price);
      if (!s.queued) {
        s.queued = true;
        this.#queue.push(slot);
      }
    }
    // Ordered when the visits begin: the marks of one turn (a crash moves every symbol) are ranked once, together.
    this.#unordered = true;
    if (!this.#o.schedule) this.#drain(Number.POSITIVE_INFINITY);
    else if (!this.#firstScheduled) {
      // Right after the marks of this turn (a crash moves every symbol at once): the most urgent across all
      // of them first, then the rest over later turns.
      this.#firstScheduled = true;
      queueMicrotask(() => {
        this.#firstScheduled = false;
        this.#drain(FIRST_CHUNK);
        this.#scheduleRest();
      });
    }
  }

  /** Delivers the marks the account has not seen, oldest first. Returns whether anything was delivered. */
  catchUp(accountId: string): boolean {
    const slot = this.#byId.get(accountId);
    return slot === undefined ? false : this.#deliver(slot);
  }

  /** Every account catches up (a period boundary, a fleet-wide event). */
  catchUpAll(): void {
    for (const slot of [...this.#byId.values()].sort((a, b) => a - b)) this.#deliver(slot);
  }

  /** The account's snapshot after an event: its band and timers, computed again when what they depend on changed. */
  noteSnapshot(accountId: string, snapshot: AccountSnapshot): void {
    const slot = this.#byId.get(accountId);
    if (slot === undefined || snapshot.status !== 'active') return;
    const s = this.#slots[slot]!;
    if (this.#delivering === slot) {
      // More marks follow in this delivery: the band is computed once, from the snapshot after the last.
      this.#afterDelivery = snapshot;
      return;
    }
    if (this.#o.schedule && s.reach === null) {
      // Live, first seen: it gets every mark and every tick (exact) until its band is computed in the backlog.
      if (s.deferred === null) this.#backlog.push(slot);
      s.deferred = snapshot;
      this.#timed.add(slot);
      this.#scheduleBacklog();
      return;
    }
    this.#assess(slot, snapshot);
  }

  #assess(slot: number, snapshot: AccountSnapshot): void {
    const s = this.#slots[slot]!;
    const c = snapshot.context;
    const path = statePath(snapshot.value);
    const key = bandKey(c, path);
    if (!s.stale && s.key !== null && key.every((v, i) => v === s.key![i])) return;
    s.key = key;
    s.stale = false;
    const reach = accountReach(c, path);
    if (reach.timed) this.#timed.add(slot);
    else this.#timed.delete(slot);
    s.reach =
      reach.marks.kind === 'every'
        ? { kind: 'every', why: reach.marks.why }
        : {
            kind: 'band',
            bands: floatBands(reach.marks.band.symbols),
            blocking: this.#keptBlocking(reach.marks.band.blocking),
          };
    this.#urgency.set(slot, reach.marks.kind === 'every' ? null : compactUrgency(reach.marks.band.urgency));
    if (!s.queued) this.#reindex(slot); // a queued account is indexed again after its visit
  }

  #scheduleBacklog(): void {
    if (this.#backlogScheduled || !this.#o.schedule) return;
    this.#backlogScheduled = true;
    this.#o.schedule(() => {
      this.#backlogScheduled = false;
      for (const slot of this.#backlog.splice(0, BACKLOG_CHUNK)) {
        const s = this.#slots[slot];
        const snapshot = s?.deferred;
        if (!s || !snapshot) continue;
        s.deferred = null;
        if (snapshot.status === 'active') this.#assess(slot, snapshot);
      }
      if (this.#backlog.length > 0) this.#scheduleBacklog();
      else for (const resolve of this.#whenAssessed.splice(0)) resolve();
    });
  }

  #deliver(slot: number): boolean {
    const s = this.#slots[slot]!;
    s.queued = false;
    s.flag = null;
    const pending = [...this.#latest]
      .filter(([symbol, m]) => (this.#seenOf(symbol)[slot] ?? 0) < m.seq)
      .sort((a, b) => a[1].seq - b[1].seq);
    if (pending.length > 1) {
      const outer = this.#delivering;
      this.#delivering = slot;
      this.#afterDelivery = null;
      try {
        for (const [symbol, m] of pending) this.#send(slot, symbol, m);
      } finally {
        this.#delivering = outer;
      }
      const last = this.#afterDelivery;
      this.#afterDelivery = null;
      if (last !== null) this.noteSnapshot(s.id, last);
    } else if (pending.length === 1) this.#send(slot, pending[0]![0], pending[0]![1]);
    // Visited without news (a slack visit) or after the queue changed: index it again from its current snapshot.
    if (s.stale && s.reach !== null && pending.length === 0) this.#reindex(slot);
    return pending.length > 0;
  }

  #send(slot: number, symbol: string, m: { price: DecimalString; at: number; seq: number }): void {
    this.#seenOf(symbol)[slot] = m.seq;
    this.counts.delivered += 1;
    this.#o.send(this.#slots[slot]!.id, { type: 'MARK', symbol, price: m.price, at: m.at });
  }

  #keptBlocking(blocking: AssessmentBand['blocking']): Blocking | null {
    if (blocking === null) return null;
    const keep = (level: BlockingLevel | null): KeptLevel | null =>
      level === null
        ? null
        : { price: level.price.toFixed(), near: level.price.toNumber(), rule: level.rule, message: this.#intern(level.message) };
    return { symbol: blocking.symbol, below: keep(blocking.below), above: keep(blocking.above) };
  }

  #intern(text: string): string {
    const known = this.#words.get(text);
    if (known !== undefined) return known;
    if (this.#words.size > 10_000) this.#words.clear();
    this.#words.set(text, text);
    return text;
  }

  #seenOf(symbol: string): number[] {
    let seen = this.#seen.get(symbol);
    if (!seen) this.#seen.set(symbol, (seen = []));
    return seen;
  }

  #reindex(slot: number): void {
    const s = this.#slots[slot]!;
    s.stale = false;
    if (s.reach?.kind === 'band') {
      this.#every.delete(slot);
      this.#index.set(slot, s.reach.bands);
    } else {
      this.#index.remove(slot);
      this.#every.add(slot);
    }
  }

  #drain(limit: number): void {
    if (this.#unordered) {
      this.#unordered = false;
      this.#queue.rekey();
    }
    let done = 0;
    while (this.#queue.size > 0 && done < limit) {
      const slot = this.#queue.pop()!;
      if (!this.#slots[slot]!.queued) continue;
      this.#deliver(slot);
      done += 1;
    }
  }

  #scheduleRest(): void {
    if (this.#scheduled || this.#queue.size === 0 || !this.#o.schedule) return;
    this.#scheduled = true;
    this.#o.schedule(() => {
      this.#scheduled = false;
      this.#drain(CHUNK);
      this.#scheduleRest();
    });
  }
}

/** What a band is computed from: context parts replaced (never mutated) when they change, and the state. */
function bandKey(c: AccountContext, path: string): unknown[] {
  return [
    path,
    c.ledger,
    c.settings,
    c.sessionStart,
    c.stopouts,
    c.reduction,
    c.metrics === null,
    c.drawdown.first,
    c.drawdown.dayOpens,
    c.drawdown.anchors,
    c.feedStale,
  ];
}

function floatBands(
  symbols: Record<string, { lo: { toNumber(): number } | null; hi: { toNumber(): number } | null }>,
): Record<string, FloatBand> {
  const out: Record<string, FloatBand> = {};
  for (const [symbol, b] of Object.entries(symbols))
    out[symbol] = { lo: b.lo === null ? null : b.lo.toNumber(), hi: b.hi === null ? null : b.hi.toNumber() };
  return out;
}

/** Relative distance beyond which a double comparison of a mark with a level cannot be wrong. */
const CLEARLY = 1e-9;

function flagFor(blocking: Blocking | null, mark: Mark, near: number): EntryFlag | null {
  if (blocking === null || blocking.symbol !== mark.symbol) return null;
  const below = blocking.below;
  const above = blocking.above;
  const at = { near, price: mark.price };
  const level = below !== null && isBelow(at, below) ? below : above !== null && isBelow(above, at) ? above : null;
  if (level === null) return null;
  return { rule: level.rule, level: level.message, mark: mark.price };
}

/**
 * Whether `a` is strictly below `b` (positive prices, each with its nearest double): the doubles decide when
 * they are more than 1e-9 apart (relative), the decimals otherwise.
 */
function isBelow(a: { near: number; price: DecimalString }, b: { near: number; price: DecimalString }): boolean {
  if (a.near < b.near * (1 - CLEARLY)) return true;
  if (a.near > b.near * (1 + CLEARLY)) return false;
  return dec(a.price).lt(b.price);
}

function compactUrgency(u: AssessmentBand['urgency']): Urgency {
  const symbols = Object.keys(u.slope);
  const terms = [u.k];
  for (const symbol of symbols) terms.push(u.slope[symbol]!, u.gross[symbol]!);
  return { symbols, terms };
}
