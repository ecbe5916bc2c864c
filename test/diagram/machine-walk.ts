import type { AnyStateMachine, AnyStateNode } from 'xstate';

/**
 * What a diagram must show, read straight off `machine.root` (independently of src/diagram), so the
 * tests check the renderers against the machine rather than against their own graph.
 */

export interface WalkedState {
  id: string;
  key: string;
  path: string[];
}

export interface WalkedTransition {
  source: string;
  targets: string[];
  /** `event` or `event [guard]`, as the diagrams label an arrow. */
  label: string;
}

export function walkStates(machine: AnyStateMachine): WalkedState[] {
  const out: WalkedState[] = [];
  const visit = (node: AnyStateNode): void => {
    for (const child of Object.values(node.states) as AnyStateNode[]) {
      out.push({ id: child.id, key: child.key, path: [...child.path] });
      visit(child);
    }
  };
  visit(machine.root);
  return out;
}

/** Every transition of the machine; guards here are names or `{ type, params }` with one param. */
export function walkTransitions(machine: AnyStateMachine): WalkedTransition[] {
  const out: WalkedTransition[] = [];
  const visit = (node: AnyStateNode): void => {
    const all = [
      ...(node.always ?? []).map((t) => ['always', t] as const),
      ...[...node.transitions].flatMap(([event, ts]) => ts.map((t) => [event, t] as const)),
    ];
    for (const [event, t] of all) {
      const guard = t.guard === undefined ? '' : ` [${guardText(t.guard)}]`;
      out.push({ source: node.id, targets: (t.target ?? []).map((s: AnyStateNode) => s.id), label: `${event}${guard}` });
    }
    for (const child of Object.values(node.states) as AnyStateNode[]) visit(child);
  };
  visit(machine.root);
  return out;
}

function guardText(guard: unknown): string {
  if (typeof guard === 'string') return guard;
  const { type, params } = guard as { type: string; params: Record<string, unknown> };
  return `${type}(${Object.values(params).join(', ')})`;
}
