import type { TimelineKind, TimelineRecord } from '../../src/timeline/timeline-record.ts';

export type RecordOf<K extends TimelineKind> = Extract<TimelineRecord, { kind: K }>;

/** Typed selections over a timeline, in timeline order, each with its index in the whole timeline. */
export class Timeline {
  constructor(readonly records: readonly TimelineRecord[]) {}

  /** Records of one kind (and, if given, one account), with their positions in the timeline. */
  of<K extends TimelineKind>(kind: K, account?: string): Array<RecordOf<K> & { index: number }> {
    const out: Array<RecordOf<K> & { index: number }> = [];
    this.records.forEach((r, index) => {
      if (r.kind !== kind) return;
      if (account !== undefined && (!('account' in r) || r.account !== account)) return;
      out.push({ ...(r as RecordOf<K>), index });
    });
    return out;
  }

  states(account: string): Array<RecordOf<'state'> & { index: number }> {
    return this.of('state', account);
  }

  /** The first record matching `match` (of `kind`), or fails naming what was looked for. */
  first<K extends TimelineKind>(kind: K, match: (r: RecordOf<K>) => boolean, what: string): RecordOf<K> & { index: number } {
    const found = this.of(kind).find(match);
    if (!found) throw new Error(`the timeline has no ${kind} record ${what}`);
    return found;
  }

  /** The order records of an account with the given purpose. */
  orders(account: string, purpose?: RecordOf<'order'>['purpose']): Array<RecordOf<'order'> & { index: number }> {
    return this.of('order', account).filter((o) => purpose === undefined || o.purpose === purpose);
  }

  /** Every order-update of one order. */
  updates(account: string, orderId: string): Array<RecordOf<'order-update'> & { index: number }> {
    return this.of('order-update', account).filter((u) => u.orderId === orderId);
  }

  /** The terminal order-update of one order, if it has one. */
  terminal(account: string, orderId: string): (RecordOf<'order-update'> & { index: number }) | undefined {
    return this.updates(account, orderId).find((u) => TERMINAL.has(u.status));
  }

  summary(): RecordOf<'summary'> {
    const last = this.records[this.records.length - 1];
    if (last?.kind !== 'summary') throw new Error('the timeline does not end with a summary record');
    return last;
  }

  /** The account's last `risk` record (the runner writes one for every account at the end). */
  lastRisk(account: string): RecordOf<'risk'> {
    const risks = this.of('risk', account);
    const last = risks[risks.length - 1];
    if (!last) throw new Error(`the timeline has no risk record for ${account}`);
    return last;
  }

  /** Marks of a symbol with their times. */
  marks(symbol: string): Array<RecordOf<'mark'> & { index: number }> {
    return this.of('mark').filter((m) => m.symbol === symbol);
  }
}

export const TERMINAL: ReadonlySet<string> = new Set(['filled', 'cancelled', 'rejected', 'liquidated']);
