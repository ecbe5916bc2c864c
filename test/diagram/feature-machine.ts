import { and, not, or, setup } from 'xstate';

/**
 * A small machine with what the account machine lacks (parallel regions, final and history states,
 * combined and parameterised guards, delayed and targeted self transitions, a transition into a child,
 * awkward keys), so the renderers are exercised on every shape a statechart can take.
 */
export const featureMachine = setup({
  types: { events: {} as { type: 'GO' } | { type: 'STOP' } | { type: 'RESET' } | { type: 'PING' } | { type: 'NEXT' } },
  guards: {
    ready: () => true,
    armed: () => true,
    'over.limit': () => false,
    within: (_, _params: { limit: number; unit: string }) => true,
  },
  actions: { log: () => {}, notify: (_, _params: { channel: string }) => {} },
  delays: { patience: 1000 },
}).createMachine({
  id: 'feature',
  initial: 'idle',
  on: { PING: { actions: 'log' }, RESET: { target: '.idle', reenter: true } },
  states: {
    idle: {
      on: {
        GO: [
          { guard: and(['ready', not('over.limit')]), target: 'running' },
          { guard: or(['armed', { type: 'within', params: { limit: 3, unit: 'x' } }]), target: 'running.hist' },
        ],
        NEXT: { target: 'idle', reenter: true, actions: { type: 'notify', params: { channel: 'ops' } } },
      },
    },
    running: {
      type: 'parallel',
      on: { STOP: 'done', NEXT: '.motor.fast' },
      states: {
        motor: {
          initial: 'slow',
          states: {
            slow: { after: { 500: 'fast' } },
            fast: { after: { patience: 'slow' } },
          },
        },
        'lamp-1': {
          initial: 'off',
          states: { off: { on: { GO: 'on' } }, on: { on: { GO: 'off' } } },
        },
        hist: { type: 'history', history: 'deep' },
      },
    },
    done: { type: 'final' },
  },
});
