import type { AnyStateMachine } from 'xstate';
import { accountMachine } from '../../machines/account.ts';

/**
 * The statecharts `riskwarden diagram <name>` can draw, by name. Add a machine here when it exists
 * (supervisor, order): the command's error message lists whatever this holds.
 */
export const DIAGRAM_MACHINES: Readonly<Record<string, AnyStateMachine>> = {
  account: accountMachine,
};

export const DIAGRAM_MACHINE_NAMES: readonly string[] = Object.keys(DIAGRAM_MACHINES);

/** The machine called `name`, or `undefined` when there is none. */
export function diagramMachine(name: string): AnyStateMachine | undefined {
  return Object.hasOwn(DIAGRAM_MACHINES, name) ? DIAGRAM_MACHINES[name] : undefined;
}
