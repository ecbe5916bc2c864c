import type { StopoutScope } from '../domain/stopout.ts';
import type { TimelineRecord } from '../timeline/timeline-record.ts';
import { isAudited, type AnyAuditEntry, type ApiCallAudit } from './audit-entry.ts';
import { defaultScrubber, type Scrubber } from './secret-scrubber.ts';

/** Where audit lines go: the JSONL file, the Redis Stream. A write takes a batch of serialised entries. */
export interface AuditSink {
  /** For problem reports: `file /var/log/rw.jsonl`, `Redis stream riskwarden:audit`. */
  readonly name: string;
  write(lines: string[]): Promise<void>;
  close?(): Promise<void>;
}

export interface AuditLogOptions {
  sinks: AuditSink[];
  /** Entries are scrubbed with it before they are written (default: shapes and field names only). */
  scrubber?: Scrubber;
  /** Wall clock of `at` (default Date.now). */
  now?: () => number;
  /** Problems of a sink: reported once when a burst of failures starts, and once when it ends. */
  report?: (message: string) => void;
  /** How long entries wait to be written together (default 50 ms). */
  flushAfterMs?: number;
  /** Entries held per sink while it fails; beyond this the oldest are dropped and counted (default 10 000). */
  maxBuffered?: number;
  /** How long a failing sink rests before it is tried again (default 1 s). */
  retryAfterMs?: number;
}

export interface AuditStats {
  /** Entries accepted (scrubbed and queued). */
  accepted: number;
  /** Per sink: entries written, waiting, and dropped because the buffer was full. */
  sinks: Record<string, { written: number; pending: number; dropped: number; failing: boolean }>;
}

/** An operator action a caller is about to take, so its timeline record can be audited with `who`. */
export interface AttributedAction {
  action: string;
  scope: StopoutScope;
  id: string;
}

const BATCH = 500;
/** How long an attribution waits for its operator record before it is forgotten. */
const ATTRIBUTION_TTL_MS = 5_000;

interface SinkState {
  sink: AuditSink;
  queue: string[];
  busy: boolean;
  /** Entries of the batch being written. */
  inFlight: number;
  failing: boolean;
  written: number;
  dropped: number;
  /** Dropped entries already reported. */
  droppedReported: number;
  /** Dropping since the last successful write (reported once). */
  overflowing: boolean;
  retryTimer: NodeJS.Timeout | undefined;
}

/**
 * The audit log: every decision, transition, order, cancel, order-update, stopout, liquidation and operator
 * action, with its reason and numbers, written to each sink as one JSON object per line (audit-entry.ts).
 *
 * It never blocks the fleet: `observe` queues the record and returns; entries are scrubbed, serialised and
 * written in batches in the background (every `flushAfterMs`), each on its own (a failing Redis does not hold up the file). A failing sink
 * keeps its entries (up to `maxBuffered`, oldest dropped first) and is retried; its problem is reported
 * once per burst of failures, and its recovery once, with how many entries were lost.
 *
 * Entries are scrubbed with the same scrubber as the logs (secret-scrubber.ts): a reason or a refusal that
 * quotes a key, a token or a signature is written with `[redacted]` in its place. The audit trail is read
 * by more people than the process's own secrets should be, and what an entry is about (who, what, which
 * account, the numbers) never needs a secret to be understood.
 */
export class AuditLog {
  readonly #sinks: SinkState[] = [];
  readonly #scrubber: Scrubber;
  readonly #now: () => number;
  readonly #report: (message: string) => void;
  readonly #flushAfterMs: number;
  readonly #maxBuffered: number;
  readonly #retryAfterMs: number;
  readonly #attributions: Array<AttributedAction & { who: string; until: number }> = [];
  /** Accepted, not yet serialised: an operator entry can still learn its `who` until then. */
  readonly #staged: Array<
    { at: string; who: string | undefined; record: TimelineRecord } | { at: string; who: string; call: ApiCallAudit }
  > = [];
  #timer: NodeJS.Timeout | undefined;
  #accepted = 0;
  #closed = false;
  #idle: Array<() => void> = [];

  constructor(options: AuditLogOptions) {
    for (const sink of options.sinks) this.addSink(sink);
    this.#scrubber = options.scrubber ?? defaultScrubber;
    this.#now = options.now ?? Date.now;
    this.#report = options.report ?? (() => {});
    this.#flushAfterMs = options.flushAfterMs ?? 50;
    this.#maxBuffered = options.maxBuffered ?? 10_000;
    this.#retryAfterMs = options.retryAfterMs ?? 1_000;
  }

  /** Writes to `sink` too, from the next entry on (Redis becomes known after the log has started). */
  addSink(sink: AuditSink): void {
    this.#sinks.push({
      sink,
      queue: [],
      busy: false,
      inFlight: 0,
      failing: false,
      written: 0,
      dropped: 0,
      droppedReported: 0,
      overflowing: false,
      retryTimer: undefined,
    });
  }

  /** A timeline record: written when it is of an audited kind, ignored otherwise (marks, risk, summary). */
  observe(record: TimelineRecord): void {
    if (!isAudited(record)) return;
    this.write(record, record.kind === 'operator' ? this.#attributed(record) : undefined);
  }

  /**
   * Writes any record, with an explicit `who`. An operator record without one takes it from `attribute`
   * (before or shortly after), else from a `by` field on the record, else `unknown`.
   */
  write(record: TimelineRecord, who?: string): void {
    if (this.#closed || this.#sinks.length === 0) return;
    this.#accepted++;
    this.#staged.push({ at: new Date(this.#now()).toISOString(), who, record });
    this.#schedule();
  }

  /**
   * An acting API call refused before it reached the fleet (so no operator record will name it): 401, 403,
   * 400, 413, 405, 429, 500. `who` is the caller's `<role>:<fingerprint>` (or `unknown:…`, `anonymous`).
   */
  call(call: ApiCallAudit, who: string): void {
    if (this.#closed || this.#sinks.length === 0) return;
    this.#accepted++;
    this.#staged.push({ at: new Date(this.#now()).toISOString(), who, call: { ...call, request: keptRequest(call.request) } });
    this.#schedule();
  }

  /**
   * Names who takes an operator action (the timeline's operator record does not carry it). Call it before
   * `runtime.operate(...)`, or right after it returns: an operator record of the same action, scope and id
   * that is not yet written takes it, else the next such record within a few seconds.
   */
  attribute(action: AttributedAction, who: string): void {
    const waiting = this.#staged.find(
      (e) => 'record' in e && e.who === undefined && e.record.kind === 'operator' && sameAction(e.record, action),
    );
    if (waiting) waiting.who = who;
    else
      this.#attributions.push({ action: action.action, scope: action.scope, id: action.id, who, until: this.#now() + ATTRIBUTION_TTL_MS });
  }

  /** Resolves when everything accepted so far has been written, or its sink has failed at it. */
  flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    return new Promise((resolve) => {
      this.#idle.push(resolve);
      this.#drainAll(true);
    });
  }

  /**
   * Flushes (waiting at most `withinMs` for a sink that hangs) and closes the sinks; what could not be
   * written is reported. Later records are ignored.
   */
  async close(withinMs = 5_000): Promise<void> {
    if (this.#closed) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.flush(), new Promise<void>((resolve) => (timer = setTimeout(resolve, withinMs)))]);
    clearTimeout(timer);
    this.#closed = true;
    for (const s of this.#sinks) {
      clearTimeout(s.retryTimer);
      const lost = s.queue.length + s.inFlight;
      if (lost > 0) this.#report(`audit: ${s.sink.name}: closed with ${lost} entr${lost === 1 ? 'y' : 'ies'} not written`);
      await s.sink.close?.().catch(() => {});
    }
  }

  stats(): AuditStats {
    return {
      accepted: this.#accepted,
      sinks: Object.fromEntries(
        this.#sinks.map((s) => [
          s.sink.name,
          { written: s.written, pending: s.queue.length + s.inFlight, dropped: s.dropped, failing: s.failing },
        ]),
      ),
    };
  }

  /** An attribution made before the record, if any (expired ones are forgotten). */
  #attributed(record: Extract<TimelineRecord, { kind: 'operator' }>): string | undefined {
    const now = this.#now();
    for (let i = this.#attributions.length - 1; i >= 0; i--) if (this.#attributions[i]!.until < now) this.#attributions.splice(i, 1);
    const i = this.#attributions.findIndex((a) => sameAction(record, a));
    return i >= 0 ? this.#attributions.splice(i, 1)[0]!.who : undefined;
  }

  /** Serialises the staged entries (scrubbed) into every sink's queue. */
  #stage(): void {
    for (const staged of this.#staged.splice(0)) {
      let entry: AnyAuditEntry;
      if ('call' in staged) entry = staged;
      else {
        let who = staged.who;
        if (who === undefined && staged.record.kind === 'operator') {
          const by = (staged.record as { by?: unknown }).by;
          who = typeof by === 'string' && by !== '' ? by : 'unknown';
        }
        entry = { at: staged.at, ...(who !== undefined ? { who } : {}), record: staged.record };
      }
      let line: string;
      try {
        line = JSON.stringify(this.#scrubber.value(entry));
      } catch (error) {
        this.#report(`audit: entry not written: ${this.#scrubber.text((error as Error).message)}`);
        continue;
      }
      for (const s of this.#sinks) {
        s.queue.push(line);
        this.#trim(s);
      }
    }
  }

  #schedule(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#drainAll(false);
    }, this.#flushAfterMs);
    this.#timer.unref();
  }

  /** `now`: also the sinks resting after a failure (a flush tries them once more). */
  #drainAll(now: boolean): void {
    this.#stage();
    for (const s of this.#sinks) {
      if (now) {
        clearTimeout(s.retryTimer);
        s.retryTimer = undefined;
      }
      if (s.retryTimer === undefined) void this.#drain(s);
    }
    this.#settleIdle();
  }

  /** Writes the sink's queue batch by batch; on failure puts the batch back and rests until a retry. */
  async #drain(s: SinkState): Promise<void> {
    if (s.busy) return;
    s.busy = true;
    try {
      while (s.queue.length > 0) {
        // Out of the queue while in flight, so trimming the queue meanwhile cannot touch it.
        const batch = s.queue.splice(0, BATCH);
        s.inFlight = batch.length;
        try {
          await s.sink.write(batch);
        } catch (error) {
          s.inFlight = 0;
          s.queue.unshift(...batch);
          this.#trim(s);
          if (!s.failing) {
            s.failing = true;
            this.#report(`audit: ${s.sink.name}: ${this.#scrubber.text((error as Error).message)}; entries are kept and retried`);
          }
          if (!this.#closed) {
            s.retryTimer = setTimeout(() => {
              s.retryTimer = undefined;
              void this.#drain(s);
            }, this.#retryAfterMs);
            s.retryTimer.unref();
          }
          return;
        }
        s.inFlight = 0;
        s.written += batch.length;
        if (s.failing || s.overflowing) {
          const lost = s.dropped - s.droppedReported;
          s.droppedReported = s.dropped;
          this.#report(
            `audit: ${s.sink.name}: ${s.failing ? 'writing again' : 'keeping up again'}${lost > 0 ? ` (${lost} entries were dropped)` : ''}`,
          );
          s.failing = false;
          s.overflowing = false;
        }
      }
    } finally {
      s.busy = false;
      this.#settleIdle();
    }
  }

  #trim(s: SinkState): void {
    const over = s.queue.length - this.#maxBuffered;
    if (over <= 0) return;
    s.queue.splice(0, over);
    s.dropped += over;
    if (!s.overflowing) {
      s.overflowing = true;
      this.#report(`audit: ${s.sink.name}: more than ${this.#maxBuffered} entries waiting: dropping the oldest`);
    }
  }

  #settleIdle(): void {
    if (this.#idle.length === 0) return;
    // Done when no sink is writing: each is empty or has just failed (and rests until its retry).
    if (this.#sinks.some((s) => s.busy)) return;
    for (const resolve of this.#idle.splice(0)) resolve();
  }
}

/** The largest request body an entry keeps, in characters of JSON: the line is for people, the body came from outside. */
const MAX_REQUEST_CHARS = 4_096;

/**
 * The body of a call as the entry keeps it: as sent when small, else a note of its size. A body from
 * outside may be nested thousands deep (JSON.parse copes, a recursive scrubber might not): bounding its
 * text bounds its depth, so the entry is always written.
 */
function keptRequest(request: unknown): unknown {
  let text: string | undefined;
  try {
    text = JSON.stringify(request);
  } catch {
    return '(not kept: too deeply nested to serialise)';
  }
  if (text !== undefined && text.length > MAX_REQUEST_CHARS) return `(not kept: ${text.length} characters of JSON)`;
  return request ?? null;
}

function sameAction(record: Extract<TimelineRecord, { kind: 'operator' }>, action: AttributedAction): boolean {
  return record.action === action.action && record.scope === action.scope && record.id === action.id;
}
