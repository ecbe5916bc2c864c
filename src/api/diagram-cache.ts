import type { AnyStateMachine, StateValue } from 'xstate';
import { renderDiagram } from '../diagram/diagram-format.ts';

/**
 * SVG statecharts with an active state marked, remembered by (machine, active state): rendering goes
 * through Graphviz (WebAssembly) and takes milliseconds, while a fleet has only a handful of distinct
 * states to show. Bounded: the oldest entry goes when it is full.
 */
export class DiagramCache {
  readonly #entries = new Map<string, Promise<string>>();
  readonly #capacity: number;

  constructor(capacity = 64) {
    this.#capacity = capacity;
  }

  svg(name: string, machine: AnyStateMachine, active: StateValue | undefined): Promise<string> {
    const key = `${name}\u0000${JSON.stringify(active ?? null)}`;
    const cached = this.#entries.get(key);
    if (cached) return cached;
    const rendered = renderDiagram(machine, 'svg', active === undefined ? {} : { active });
    this.#entries.set(key, rendered);
    rendered.catch(() => this.#entries.delete(key));
    if (this.#entries.size > this.#capacity) this.#entries.delete(this.#entries.keys().next().value!);
    return rendered;
  }
}
