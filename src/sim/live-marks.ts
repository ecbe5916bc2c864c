import type { Simulator } from './server.ts';
import { RandomWalk } from './marks.ts';
import { createRng } from './rng.ts';

/** Where each symbol's random walk starts and how far it may move per second. */
const WALKS: Record<string, { start: string; maxStepTicks: number }> = {
  ETHP: { start: '2000', maxStepTicks: 5 },
  BTCP: { start: '40000', maxStepTicks: 10 },
};

/**
 * Moves the simulator's marks on real time: a seeded random walk per product, one step a second. For a
 * simulator running alone or embedded in `riskwarden run`; scenarios script their marks instead.
 * Returns the function that stops it.
 */
export function startLiveMarks(sim: Simulator, seed: number, everyMs = 1000): () => void {
  const rng = createRng(seed);
  const walks = Object.keys(sim.exchange.products)
    .sort()
    .map((symbol) => {
      const spec = WALKS[symbol] ?? { start: '100', maxStepTicks: 5 };
      return {
        symbol,
        walk: new RandomWalk(rng.fork(), {
          start: spec.start,
          tickSize: sim.exchange.products[symbol]!.tickSize,
          maxStepTicks: spec.maxStepTicks,
        }),
      };
    });
  for (const { symbol, walk } of walks) sim.setMark(symbol, walk.price);
  const timer = setInterval(() => {
    for (const { symbol, walk } of walks) sim.setMark(symbol, walk.next());
  }, everyMs);
  return () => clearInterval(timer);
}
