import { describe, expect, it } from 'vitest';
import { simCommand } from '../../src/cli/sim-command.ts';
import { PATHS } from '../../src/derivadex/paths.ts';
import { markPricesPageSchema, strategyBodySchema } from '../../src/derivadex/rest-bodies.ts';

describe('simCommand', () => {
  it('starts the simulator alone, prints its URLs and key, and stops on the signal', async () => {
    const lines: string[] = [];
    const stop = new AbortController();
    const trader = '0x603699848c84529987E14Ba32C8a66DEF67E9eCE';
    const done = simCommand(
      { port: 0, seed: 4, deposits: [{ trader, strategyId: 'main', amount: '5000' }], signal: stop.signal },
      { out: (l) => lines.push(l), err: (l) => lines.push(l) },
    );
    // Wait (on real I/O) for the start-up lines.
    while (!lines.some((l) => l.startsWith('press Ctrl-C'))) await new Promise((resolve) => setImmediate(resolve));
    const url = /^simulator REST\s+(\S+)$/.exec(lines[0]!)![1]!;
    expect(lines[1]).toMatch(/^simulator WebSocket\s+ws:\/\/127\.0\.0\.1:\d+\/realtime-api$/);
    expect(lines[2]).toMatch(/^operator public key 0x0[23][0-9a-f]{64}$/);
    const marks = markPricesPageSchema.parse(await (await fetch(`${url}${PATHS.markPrices}`)).json());
    // The first mark of each product is its random walk's start.
    expect(
      marks.value
        .slice(0, 2)
        .map((m) => [m.symbol, m.price])
        .sort(),
    ).toEqual([
      ['BTCP', '40000'],
      ['ETHP', '2000'],
    ]);
    const state = strategyBodySchema.parse(await (await fetch(`${url}${PATHS.strategy}?trader=${trader}&strategyId=main`)).json());
    expect(state.value?.availCollateral).toBe('5000');
    stop.abort();
    expect(await done).toBe(0);
    expect(lines.at(-1)).toBe('simulator stopped');
  });
});
