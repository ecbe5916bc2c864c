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

export type ParsedAuditEntry = { ok: true; entry: AuditEntry } | { ok: false; problem: string };

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
  const record = o.record as Record<string, unknown> | null | undefined;
  if (typeof record !== 'object' || record === null || typeof record.kind !== 'string' || typeof record.t !== 'number') {
    return { ok: false, problem: `${where}.record: expected a timeline record with t and kind` };
  }
  return { ok: true, entry: value as AuditEntry };
}

/** One readable line: time, who, and the record as the timeline prints it. */
export function formatAuditEntry(entry: AuditEntry): string {
  const who = entry.who === undefined ? '' : ` [${entry.who}]`;
  const line = formatRecord(entry.record, PLAIN)?.trim();
  // formatRecord skips the frequent kinds (sequenced/posted updates): the audit shows them anyway.
  return `${entry.at}${who} ${line ?? `${entry.record.kind} ${JSON.stringify(entry.record)}`}`;
}
