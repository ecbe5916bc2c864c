import { wallClock } from '../clock/clock.ts';
import type { DecimalString } from '../domain/decimal.ts';
import { startLiveMarks } from '../sim/live-marks.ts';
import { startSimulator } from '../sim/server.ts';
import { EXIT_OK, type CliIo } from './io.ts';

export interface SimCommandOptions {
  port: number;
  host?: string;
  seed?: number;
  /** Collateral to credit at start (DerivaDEX deposits happen on chain; the simulator just credits them). */
  deposits?: Array<{ trader: string; strategyId: string; amount: DecimalString }>;
  /** Stops the simulator like SIGINT does (for tests and embedding). */
  signal?: AbortSignal;
}

/**
 * `riskwarden sim --port N`: the exchange simulator alone, on real time (immediate mode, wall clock),
 * with a seeded random-walk mark for ETHP and BTCP every second. Prints its URLs and operator key and
 * runs until SIGINT (or `signal`), then closes and resolves to exit code 0.
 */
export async function simCommand(opts: SimCommandOptions, io: CliIo): Promise<number> {
  const seed = opts.seed ?? 1;
  const sim = await startSimulator({
    clock: wallClock,
    mode: 'immediate',
    port: opts.port,
    seed,
    ...(opts.host === undefined ? {} : { host: opts.host }),
  });
  for (const d of opts.deposits ?? []) sim.exchange.deposit(d.trader, d.strategyId, d.amount);

  const stopMarks = startLiveMarks(sim, seed);

  io.out(`simulator REST      ${sim.url}`);
  io.out(`simulator WebSocket ${sim.wsUrl}`);
  io.out(`operator public key ${sim.operatorPublicKey}`);
  io.out(`chainId ${String(sim.venue.chainId)}, verifyingContract ${sim.venue.verifyingContract}, amount decimals ${sim.venue.decimals}`);
  io.out('press Ctrl-C to stop');

  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      opts.signal?.removeEventListener('abort', stop);
      resolve();
    };
    process.once('SIGINT', stop);
    if (opts.signal?.aborted) stop();
    else opts.signal?.addEventListener('abort', stop, { once: true });
  });
  stopMarks();
  await sim.close();
  io.out('simulator stopped');
  return EXIT_OK;
}
