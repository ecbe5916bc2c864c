import { formatRecord, PLAIN } from '../timeline/format-record.ts';
import type { TimelineKind, TimelineRecord } from '../timeline/timeline-record.ts';

/**
 * One line of the audit log, in the JSONL file and in the Redis Stream's `data` field alike:
 *
 *   {"at":"2026-01-05T13:00:42.000Z","who":"api:ops","record":{"t":42000,"kind":"operator",…}}
 *
 * `at` is when it was written (ISO 8601), `record` the timeline record unchanged (docs/contracts.md#timeline — it
 * already carries the reason and the numbers), `who` is present on operator actions: the person or
 * client named when the action was taken (`unknown` when nobody was named).
 */
export interface AuditEntry {
  at: string;
  who?: string;
  record: TimelineRecord;
}

/**
 * An acting API call, whatever its outcome: done (200), refused by the fleet or the view (409), or refused
 * before it reached them (401 no or an unknown token, 403 a read token or a cross-site cookie, 400 a bad
 * body, 413 too large, 405, 500). A call the fleet handled also has its `operator` record, with `who`.
 *
 *   {"at":"…","who":"read:3f2a09c1","call":{"action":"set-stopout","status":403,"result":"refused","reason":"…","request":null}}
 */
export interface ApiCallAudit {
  /** The operator action the route performs (`set-stopout`, `reset-stopout`, `move-start-time`). */
  action: string;
  /** The HTTP status answered. */
  status: number;
  result: 'ok' | 'refused';
  reason?: string;
  /** The JSON body as sent; null when it was not read (refused before), empty, too large or not JSON. */
  request: unknown;
}

export interface ApiCallAuditEntry {
  at: string;
  /** `<role>:<fingerprint>`, `unknown:<fingerprint>` for a token no role has, `anonymous` for none. */
  who: string;
  call: ApiCallAudit;
}

/** A line of the audit log: a timeline record, or an API call refused before the fleet. */
export type AnyAuditEntry = AuditEntry | ApiCallAuditEntry;

export function isRecordEntry(entry: AnyAuditEntry): entry is AuditEntry {
  return 'record' in entry;
}

/** What goes into the audit log: every decision, transition, order, cancel, update, stopout, liquidation and operator action. */
export const AUDITED_KINDS: readonly TimelineKind[] = [
  'decision',
  'state',
  'order',
  'cancel',
  'order-update',
  'stopout',
  'liquidation',
  'operator',
];

export function isAudited(record: TimelineRecord): boolean {
  return AUDITED_KINDS.includes(record.kind);
}

export type ParsedAuditEntry = { ok: true; entry: AnyAuditEntry } | { ok: false; problem: string };

/** Reads one line back; `where` names it in the problem (a file line, a stream id). */
export function parseAuditEntry(text: string, where: string): ParsedAuditEntry {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, problem: `${where}: not JSON` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, problem: `${where}: expected an object` };
  const o = value as Record<string, unknown>;
  if (typeof o.at !== 'string') return { ok: false, problem: `${where}.at: expected an ISO 8601 string` };
  if (o.who !== undefined && typeof o.who !== 'string') return { ok: false, problem: `${where}.who: expected a string` };
  if (o.call !== undefined && o.record === undefined) {
    const call = o.call as Record<string, unknown> | null;
    if (typeof o.who !== 'string') return { ok: false, problem: `${where}.who: expected a string` };
    if (typeof call !== 'object' || call === null || Array.isArray(call))
      return { ok: false, problem: `${where}.call: expected an object` };
    if (typeof call.action !== 'string') return { ok: false, problem: `${where}.call.action: expected a string` };
    if (typeof call.status !== 'number') return { ok: false, problem: `${where}.call.status: expected a number` };
    if (call.result !== 'ok' && call.result !== 'refused')
      return { ok: false, problem: `${where}.call.result: expected "ok" or "refused"` };
    if (call.reason !== undefined && typeof call.reason !== 'string')
      return { ok: false, problem: `${where}.call.reason: expected a string` };
    return { ok: true, entry: value as ApiCallAuditEntry };
  }
  const record = o.record as Record<string, unknown> | null | undefined;
  if (typeof record !== 'object' || record === null || typeof record.kind !== 'string' || typeof record.t !== 'number') {
    return { ok: false, problem: `${where}.record: expected a timeline record with t and kind` };
  }
  return { ok: true, entry: value as AuditEntry };
}

/** One readable line: time, who, and the record as the timeline prints it. */
export function formatAuditEntry(entry: AnyAuditEntry): string {
  const who = entry.who === undefined ? '' : ` [${entry.who}]`;
  if (!isRecordEntry(entry)) {
    const { action, status, result, reason } = entry.call;
    return `${entry.at}${who} api ${action}: ${result} (HTTP ${status})${reason !== undefined ? `: ${reason}` : ''}`;
  }
  const line = formatRecord(entry.record, PLAIN)?.trim();
  // formatRecord skips the frequent kinds (sequenced/posted updates): the audit shows them anyway.
  return `${entry.at}${who} ${line ?? `${entry.record.kind} ${JSON.stringify(entry.record)}`}`;
}
