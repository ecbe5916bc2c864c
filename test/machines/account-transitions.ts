import type { AnyStateMachine, AnyStateNode } from 'xstate';

/** A transition's identity: source state, event (`always` for eventless) and its index among those. */
export function transitionKey(t: { source: AnyStateNode; eventType: string }): string {
  const list = t.eventType === '' || t.eventType === undefined ? (t.source.always ?? []) : (t.source.transitions.get(t.eventType) ?? []);
  const index = (list as readonly unknown[]).indexOf(t);
  const guard = (t as { guard?: { type?: string } | string }).guard;
  const guardName = typeof guard === 'string' ? guard : (guard?.type ?? '');
  return `${t.source.id} ${t.eventType || 'always'}#${index}${guardName ? ` [${guardName}]` : ''}`;
}

/** Every transition and state of a machine, walked from `machine.root`. */
export function machineInventory(machine: AnyStateMachine): { states: string[]; transitions: string[] } {
  const states: string[] = [];
  const transitions: string[] = [];
  const walk = (node: AnyStateNode): void => {
    states.push(node.id);
    for (const [, list] of node.transitions) for (const t of list) transitions.push(transitionKey(t));
    for (const t of node.always ?? []) transitions.push(transitionKey(t));
    for (const child of Object.values(node.states)) walk(child);
  };
  walk(machine.root);
  return { states, transitions };
}
