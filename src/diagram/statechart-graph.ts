import type { AnyStateMachine, AnyStateNode, AnyTransitionDefinition } from 'xstate';
import { actionLabel, guardLabel } from './implementation-label.ts';

/**
 * A statechart as a neutral graph: what the Mermaid and DOT renderers (and later the dashboard) draw.
 *
 * Order is the machine's own definition order (states as declared, then each state's eventless
 * transitions, then its `on` handlers in declaration order, candidates in priority order), so the same
 * machine always yields the same graph and golden files stay stable.
 */

export type StateKind = 'atomic' | 'compound' | 'parallel' | 'final' | 'history';

export interface StateGraphNode {
  /** The xstate id, unique within the machine, e.g. `account.de-risking.cancelling`. */
  id: string;
  /** The state's key, e.g. `cancelling`; for a history state `H` (shallow) or `H*` (deep). */
  label: string;
  /** Keys from the root, e.g. `['de-risking', 'cancelling']`; `[]` for the root. */
  path: string[];
  /** Id of the parent state; `null` for the root. */
  parent: string | null;
  kind: StateKind;
  /** Id of the initial child of a compound state; `null` otherwise (parallel regions all start). */
  initial: string | null;
  /** Ids of the child states, in definition order. */
  children: string[];
}

export interface StateGraphEdge {
  /** Id of the state that declares the transition. */
  source: string;
  /** Ids of the target states; empty for a targetless transition (see `internal`). */
  targets: string[];
  /** The event type, readable (`after 500ms` for delayed transitions); `always` for an eventless one. */
  event: string;
  eventless: boolean;
  /** The guard as written, e.g. `mustPanic`, `reductionDue(de-risking)`; `null` when unguarded. */
  guard: string | null;
  /** The transition's actions, by name, in order. */
  actions: string[];
  /** Targetless: it runs actions (context updates, effects) without leaving or re-entering its state. */
  internal: boolean;
  /** Position among the candidates for the same event on the same source (0 is tried first). */
  candidate: number;
}

export interface StateGraph {
  /** The machine id, e.g. `account`. */
  id: string;
  /** Id of the root state node (the machine itself). */
  root: string;
  /** Every state node, root first, in pre-order. */
  nodes: StateGraphNode[];
  edges: StateGraphEdge[];
}

export const EVENTLESS = 'always';

/** Walks `machine.root` into a {@link StateGraph}. */
export function statechartGraph(machine: AnyStateMachine): StateGraph {
  const nodes: StateGraphNode[] = [];
  const edges: StateGraphEdge[] = [];

  const visit = (state: AnyStateNode, parent: string | null): void => {
    const children = Object.values(state.states) as AnyStateNode[];
    nodes.push({
      id: state.id,
      label: state.type === 'history' ? (state.history === 'deep' ? 'H*' : 'H') : state.key,
      path: [...state.path],
      parent,
      kind: state.type,
      initial: state.type === 'compound' ? (state.initial?.target[0]?.id ?? null) : null,
      children: children.map((child) => child.id),
    });
    (state.always ?? []).forEach((t, i) => edges.push(edge(t, EVENTLESS, true, i)));
    for (const [eventType, transitions] of state.transitions) {
      transitions.forEach((t, i) => edges.push(edge(t, eventLabel(eventType), false, i)));
    }
    for (const child of children) visit(child, state.id);
  };
  visit(machine.root, null);

  return { id: machine.root.id, root: machine.root.id, nodes, edges };
}

/** `event [guard]`, with ` / action, …` appended when `withActions`. */
export function transitionLabel(edge: StateGraphEdge, withActions = false): string {
  const guarded = edge.guard === null ? edge.event : `${edge.event} [${edge.guard}]`;
  return withActions && edge.actions.length > 0 ? `${guarded} / ${edge.actions.join(', ')}` : guarded;
}

/** The node with `id`; throws when the graph has none (a renderer bug, not an input problem). */
export function nodeById(graph: StateGraph, id: string): StateGraphNode {
  const node = graph.nodes.find((n) => n.id === id);
  if (!node) throw new Error(`statechart graph ${graph.id}: no state ${id}`);
  return node;
}

/** Whether `id` is `ancestor` or lies inside it. */
export function isWithin(graph: StateGraph, id: string, ancestor: string): boolean {
  for (let at: string | null = id; at !== null; at = nodeById(graph, at).parent) if (at === ancestor) return true;
  return false;
}

function edge(t: AnyTransitionDefinition, event: string, eventless: boolean, candidate: number): StateGraphEdge {
  const targets = (t.target ?? []).map((s) => s.id);
  return {
    source: t.source.id,
    targets,
    event,
    eventless,
    guard: t.guard === undefined ? null : guardLabel(t.guard),
    actions: t.actions.map(actionLabel),
    internal: targets.length === 0,
    candidate,
  };
}

/** xstate's internal event types, made readable: `xstate.after.500.account.x` → `after 500ms`. */
function eventLabel(type: string): string {
  const after = /^xstate\.after\.([^.]+)\./.exec(type);
  if (after) return Number.isNaN(Number(after[1])) ? `after ${after[1]}` : `after ${after[1]}ms`;
  if (type.startsWith('xstate.done.state.')) return 'done';
  const actor = /^xstate\.(done|error)\.actor\.(.+)$/.exec(type);
  if (actor) return `${actor[1]}(${actor[2]})`;
  return type;
}
