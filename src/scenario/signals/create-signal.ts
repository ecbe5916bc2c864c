import type { SignalConfig } from '../../config/signal-schema.ts';
import { MaCrossoverSignal } from './ma-crossover-signal.ts';
import { MeanReversionSignal } from './mean-reversion-signal.ts';
import { ScriptedSignal } from './scripted-signal.ts';
import type { Signal } from './signal.ts';

/** The strategy a scenario account runs. */
export function createSignal(config: SignalConfig): Signal {
  switch (config.kind) {
    case 'scripted':
      return new ScriptedSignal(config.orders);
    case 'ma-crossover':
      return new MaCrossoverSignal(config);
    case 'mean-reversion':
      return new MeanReversionSignal(config);
    case 'none':
      return { decide: () => [] };
  }
}
