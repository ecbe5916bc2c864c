import { STOPOUT_SCOPES, type StopoutScope } from './stopout.ts';

/** What names one stopout: at most one stopout per (scope, id, reason). */
export interface StopoutIdentity {
  scope: StopoutScope;
  id: string;
  reason: string;
}

// The config's id rule (src/config/primitives.ts `identifier`): ids go into Redis keys.
const ID_PART = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const ID_RULE = 'letters, digits, "_", "." and "-", starting with a letter or digit';

export function isStopoutScope(value: unknown): value is StopoutScope {
  return typeof value === 'string' && (STOPOUT_SCOPES as readonly string[]).includes(value);
}

/** Why `scope` is not a stopout scope, or undefined. */
export function scopeProblem(scope: unknown): string | undefined {
  if (isStopoutScope(scope)) return undefined;
  return `unknown scope ${JSON.stringify(scope)}; expected one of ${STOPOUT_SCOPES.join(', ')}`;
}

/**
 * Why `id` cannot name something at `scope`, or undefined: `*` for fleet, `<portfolio>/<account>` for
 * member, `<subscriber>/<target>` for subscription, a plain id otherwise.
 */
export function stopoutIdProblem(scope: StopoutScope, id: string): string | undefined {
  if (scope === 'fleet') return id === '*' ? undefined : `the fleet scope has id "*", got ${JSON.stringify(id)}`;
  if (scope === 'member' || scope === 'subscription') {
    const shape = scope === 'member' ? '<portfolio>/<account>' : '<subscriber>/<target>';
    const parts = id.split('/');
    return parts.length === 2 && parts.every((p) => ID_PART.test(p))
      ? undefined
      : `expected "${shape}" (each part ${ID_RULE}), got ${JSON.stringify(id)}`;
  }
  return ID_PART.test(id) ? undefined : `expected an id of ${ID_RULE}, got ${JSON.stringify(id)}`;
}

/** Why `reason` cannot be a stopout reason (a hash field an operator types), or undefined. */
export function reasonProblem(reason: string): string | undefined {
  return ID_PART.test(reason)
    ? undefined
    : `expected a reason of ${ID_RULE} (e.g. "manual", "day-balance-difference"), got ${JSON.stringify(reason)}`;
}

/** Every problem of an identity a caller wants to write, named by field. */
export function identityProblems(identity: { scope: unknown; id: unknown; reason?: unknown }): string[] {
  const problems: string[] = [];
  const scope = scopeProblem(identity.scope);
  if (scope !== undefined) problems.push(`scope: ${scope}`);
  if (typeof identity.id !== 'string') problems.push('id: expected a string');
  else if (scope === undefined) {
    const id = stopoutIdProblem(identity.scope as StopoutScope, identity.id);
    if (id !== undefined) problems.push(`id: ${id}`);
  }
  if ('reason' in identity) {
    if (typeof identity.reason !== 'string') problems.push('reason: expected a string');
    else {
      const reason = reasonProblem(identity.reason);
      if (reason !== undefined) problems.push(`reason: ${reason}`);
    }
  }
  return problems;
}

function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Scope in STOPOUT_SCOPES order (fleet first), then id, then reason, by code unit (locale-independent). */
export function compareIdentities(
  a: { scope: StopoutScope; id: string; reason?: string },
  b: { scope: StopoutScope; id: string; reason?: string },
): number {
  return (
    STOPOUT_SCOPES.indexOf(a.scope) - STOPOUT_SCOPES.indexOf(b.scope) ||
    byCodeUnit(a.id, b.id) ||
    byCodeUnit(a.reason ?? '', b.reason ?? '')
  );
}

/** A map key for (scope, id); NUL never occurs in a scope. */
export function scopeIdKey(scope: StopoutScope, id: string): string {
  return `${scope}\u0000${id}`;
}

/** A map key for one stopout, (scope, id, reason): what makes two stopouts the same one. */
export function stopoutKey(s: StopoutIdentity): string {
  return `${s.scope}\u0000${s.id}\u0000${s.reason}`;
}

/** The key of the accounts a stopout at (scope, id) covers, in the supervisor's `scopes` and `groups`. */
export function scopeKey(scope: StopoutScope, id: string): string {
  return `${scope}:${id}`;
}
