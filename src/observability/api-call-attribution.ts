import type { StopoutScope } from '../domain/stopout.ts';
import type { AuditLog } from './audit-log.ts';

/** What the HTTP API's `audit` hook passes for each acting call (src/api ApiAuditEntry, structurally). */
export interface ApiCallNotice {
  who: string;
  action: string;
  /** The JSON body as sent: `{scope, id, …}`. */
  request: unknown;
  /** HTTP status answered: 200 done, 409 refused by the fleet; others never reached it. */
  status: number;
}

/**
 * The API's `audit` hook (`startApiServer({ audit: attributeApiCalls(fleet.observability.audit) })`): names
 * the caller (`api <role>:<token fingerprint>`) on the operator record the call produced. The hook runs
 * right after the action returns, before the audit log writes that record, so the record takes it.
 */
export function attributeApiCalls(audit: Pick<AuditLog, 'attribute'>): (notice: ApiCallNotice) => void {
  return (notice) => {
    if (notice.status !== 200 && notice.status !== 409) return;
    const body = notice.request as { scope?: unknown; id?: unknown } | null;
    if (typeof body !== 'object' || body === null || typeof body.scope !== 'string') return;
    const id = typeof body.id === 'string' ? body.id : body.scope === 'fleet' ? '*' : undefined;
    if (id === undefined) return;
    audit.attribute({ action: notice.action, scope: body.scope as StopoutScope, id }, `api ${notice.who}`);
  };
}
