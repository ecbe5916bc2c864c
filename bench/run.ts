/**
 * `npm run bench` (`-- --json` for one JSON object on one line, docs/contracts.md#bench). Every figure is
 * measured through the real FleetRuntime (public API only) on the fleet of bench-fleet.ts, next to the naive
 * baseline in the same run (naive-fleet.ts). Accounts: BENCH_ACCOUNTS (default 10000).
 *
 * Knobs (docs/contracts.md#bench): BENCH_RATE_MS (time per rate of maxMarksPerSecond, default 1000),
 * BENCH_SAMPLES (tickToOrder samples, default 200), BENCH_ROUNDS (propagation rounds, default 40),
 * BENCH_SOCKET_ACCOUNTS (fleet of the socket figure, default 1000), BENCH_SOCKET_WAIT_MS and
 * BENCH_SCALE_WAIT_MS (how long the socket and scale-out figures wait, default 120000).
 * A figure that cannot be measured honestly (a negative memory figure, a refusal that never comes) fails
 * the run with its reason: exit 1, no number.
 */
import { cpus } from 'node:os';
import { BENCH_ACCOUNTS } from './bench-fleet.ts';
import { crashOnSocket } from './crash-on-socket.ts';
import { fleetCrash } from './fleet-crash.ts';
import { formatTable, goalsMet, type BenchResult } from './bench-table.ts';
import { memoryFootprint } from './memory-footprint.ts';
import { propagation } from './propagation.ts';
import { recovery } from './recovery-from-redis.ts';
import { scaleOut } from './scale-out.ts';
import { steadyTick } from './steady-tick.ts';
import { tickToOrder } from './tick-to-order.ts';

const json = process.argv.includes('--json');
const log = (line: string): void => void (json ? undefined : console.error(line));
const knob = (name: string, fallback: number): number => Number(process.env[name] ?? fallback);

async function figure<T>(name: string, measure: () => Promise<T>): Promise<T> {
  log(`  ${name} …`);
  const began = Date.now();
  try {
    const value = await measure();
    log(`  ${name}: done in ${((Date.now() - began) / 1000).toFixed(1)} s`);
    return value;
  } catch (error) {
    console.error(`bench: ${name} failed: ${(error as Error).message}`);
    process.exit(1);
  }
}

log(`riskwarden bench: ${BENCH_ACCOUNTS} accounts, ${cpus().length} cpus, node ${process.version}`);
const steady = await figure('steadyTick', () => steadyTick(BENCH_ACCOUNTS, { rateDurationMs: knob('BENCH_RATE_MS', 1000) }));
const crash = await figure('fleetCrash (in process)', () => fleetCrash(BENCH_ACCOUNTS));
const socket = await figure('fleetCrash (venue client to the simulator)', () => crashOnSocket(BENCH_ACCOUNTS));
const restored = await figure('recovery', () => recovery(BENCH_ACCOUNTS));
const memory = await figure('memory', () => memoryFootprint(BENCH_ACCOUNTS));
const ticks = await figure('tickToOrder', () => tickToOrder(knob('BENCH_SAMPLES', 200)));
const spread = await figure('propagation', () => propagation({ rounds: knob('BENCH_ROUNDS', 40) }));
const scaled = await figure('scaleOut', () => scaleOut({ accounts: BENCH_ACCOUNTS }));

const { naive: crashNaive, ...crashOurs } = crash;
const result: BenchResult = {
  machine: { cpus: cpus().length, node: process.version },
  fleetCrash: {
    ...crashOurs,
    socketAccounts: socket.accounts,
    allFirstReductionsSentMs: socket.allFirstReductionsSentMs,
    firstOnSocketMs: socket.firstOnSocketMs,
    allFirstReductionsReceivedMs: socket.allFirstReductionsReceivedMs,
    onSocket: socket.onSocket,
    withinMs: socket.withinMs,
    naive: crashNaive,
  },
  steadyTick: steady,
  propagation: spread,
  memory,
  recovery: restored,
  tickToOrder: ticks,
  scaleOut: scaled,
};
const report = { ...result, goalsMet: goalsMet(result) };

if (json) console.log(JSON.stringify(report));
else {
  console.log(formatTable(result));
  console.log('');
  console.log(`reproduce: BENCH_ACCOUNTS=${BENCH_ACCOUNTS} npm run bench   (one JSON line: npm run bench -- --json)`);
}
process.exit(0);
