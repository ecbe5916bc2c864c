import type { StopoutScope } from '../domain/stopout.ts';
import type { AuditLog } from './audit-log.ts';

/** What the HTTP API's `audit` hook passes for each acting call (src/api ApiAuditEntry, structurally). */
export interface ApiCallNotice {
  who: string;
  action: string;
  /** The JSON body as sent: `{scope, id, …}`; null when it was not read or not JSON. */
  request: unknown;
  /** HTTP status answered: 200 done, 409 refused by the fleet; any other was refused before the fleet saw it. */
  status: number;
  /** The outcome: `refused` with the reason for everything but 200. */
  result: { result: 'ok' | 'refused'; reason?: string };
}

/**
 * The API's `audit` hook (`startApiServer({ audit: attributeApiCalls(fleet.observability.audit) })`). Every
 * acting call is written as a call entry (audit-entry.ts ApiCallAuditEntry) whatever its outcome: a call
 * refused before the fleet (401, 403, 400, 413, 405, 500) or by the view (409 "not running yet") leaves no
 * other trace (docs/api.md). A call the fleet handled (200, 409) also wrote an `operator` record: the hook
 * names the caller on it (`api <role>:<token fingerprint>`); it runs right after the action returns, before
 * the audit log writes that record, so the record takes it.
 */
export function attributeApiCalls(audit: Pick<AuditLog, 'attribute' | 'call'>): (notice: ApiCallNotice) => void {
  return (notice) => {
    const body = notice.request as { scope?: unknown; id?: unknown } | null;
    if (notice.status === 200 || notice.status === 409) {
      if (typeof body === 'object' && body !== null && typeof body.scope === 'string') {
        const id = typeof body.id === 'string' ? body.id : body.scope === 'fleet' ? '*' : undefined;
        if (id !== undefined) audit.attribute({ action: notice.action, scope: body.scope as StopoutScope, id }, `api ${notice.who}`);
      }
    }
    audit.call(
      {
        action: notice.action,
        status: notice.status,
        result: notice.result.result,
        ...(notice.result.reason !== undefined ? { reason: notice.result.reason } : {}),
        request: notice.request ?? null,
      },
      `api ${notice.who}`,
    );
  };
}
