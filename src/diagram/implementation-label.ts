/**
 * How a guard or an action referenced by a transition is named on a diagram.
 *
 * Machines here reference guards and actions by name (CONVENTIONS: `setup()` with guards and actions by
 * name), so a name is almost always available; inline functions fall back to their function name.
 */

/** `'mustPanic'` → `mustPanic`; `{ type: 'reductionDue', params: { mode: 'de-risking' } }` → `reductionDue(de-risking)`;
 * `not('a')` → `!a`, `and(['a', 'b'])` → `a && b`, `or([...])` → `a || b`. */
export function guardLabel(guard: unknown): string {
  if (typeof guard === 'function') {
    const combined = (guard as { guards?: unknown }).guards;
    if (Array.isArray(combined)) {
      // xstate's higher-order guards are functions named after their combinator, carrying `.guards`.
      const parts = combined.map((g) => wrap(guardLabel(g)));
      if (guard.name === 'not') return `!${parts[0] ?? ''}`;
      return parts.join(guard.name === 'or' ? ' || ' : ' && ');
    }
    return functionLabel(guard);
  }
  return referenceLabel(guard);
}

/** `'sendOrder'` → `sendOrder`; `{ type: 'placeReduction', params: { mode: 'panic-exit' } }` → `placeReduction(panic-exit)`. */
export function actionLabel(action: unknown): string {
  if (typeof action === 'function') {
    // Built-in action creators (assign, raise, …) carry their type, e.g. `xstate.assign`.
    const type = (action as { type?: unknown }).type;
    return typeof type === 'string' ? type : functionLabel(action);
  }
  return referenceLabel(action);
}

/** Params shown compactly: a single param by its value, several as `key=value`, dynamic params as `…`. */
export function paramsLabel(params: unknown): string {
  if (params === undefined) return '';
  if (typeof params === 'function') return '…';
  if (params === null || typeof params !== 'object' || Array.isArray(params)) return scalar(params);
  const entries = Object.entries(params as Record<string, unknown>);
  if (entries.length === 1) return scalar(entries[0]![1]);
  return entries.map(([key, value]) => `${key}=${scalar(value)}`).join(', ');
}

function referenceLabel(ref: unknown): string {
  if (typeof ref === 'string') return ref;
  if (ref !== null && typeof ref === 'object' && typeof (ref as { type?: unknown }).type === 'string') {
    const { type, params } = ref as { type: string; params?: unknown };
    const shown = paramsLabel(params);
    return params === undefined ? type : `${type}(${shown})`;
  }
  return 'inline';
}

function functionLabel(fn: { name: string }): string {
  return fn.name && fn.name !== 'anonymous' ? fn.name : 'inline';
}

function scalar(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  if (value === undefined) return 'undefined';
  if (typeof value === 'function') return '…';
  return JSON.stringify(value);
}

function wrap(label: string): string {
  return / (?:&&|\|\|) /.test(label) ? `(${label})` : label;
}
