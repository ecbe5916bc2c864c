import type { StateValue } from 'xstate';
import { nodeById, type StateGraph } from './statechart-graph.ts';

/**
 * The ids of the states a state value makes active: each named state and its ancestors, root excluded.
 * `{ 'de-risking': 'awaiting' }` → `['account.de-risking', 'account.de-risking.awaiting']`.
 *
 * A value naming a state the machine lacks is an input from outside (a snapshot, a request): the error
 * names the place, e.g. `state value de-risking.waiting: account.de-risking has no state waiting`.
 */
export function activeStateIds(graph: StateGraph, value: StateValue): string[] {
  const active: string[] = [];
  const walk = (parentId: string, v: StateValue, at: string[]): void => {
    const parent = nodeById(graph, parentId);
    const entries: [string, StateValue | undefined][] = typeof v === 'string' ? [[v, undefined]] : Object.entries(v);
    for (const [key, nested] of entries) {
      const child = parent.children.map((id) => nodeById(graph, id)).find((n) => n.path[n.path.length - 1] === key);
      const place = [...at, key];
      if (!child) throw new Error(`state value ${place.join('.')}: ${parent.id} has no state ${key}`);
      active.push(child.id);
      if (nested !== undefined) walk(child.id, nested, place);
    }
  };
  walk(graph.root, value, []);
  return active;
}
