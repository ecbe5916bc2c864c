import type { AnyStateMachine } from 'xstate';
import { accountMachine } from '../../machines/account.ts';
import { orderMachine } from '../../machines/order.ts';
import { supervisorMachine } from '../../machines/supervisor.ts';

/** The statecharts `riskwarden diagram <name>` can draw, by name; the command's errors list these. */
export const DIAGRAM_MACHINES: Readonly<Record<string, AnyStateMachine>> = {
  account: accountMachine,
  supervisor: supervisorMachine,
  order: orderMachine,
};

export const DIAGRAM_MACHINE_NAMES: readonly string[] = Object.keys(DIAGRAM_MACHINES);

/** The machine called `name`, or `undefined` when there is none. */
export function diagramMachine(name: string): AnyStateMachine | undefined {
  return Object.hasOwn(DIAGRAM_MACHINES, name) ? DIAGRAM_MACHINES[name] : undefined;
}
