/**
 * memory.bytesPerAccount: heap per account of a FleetRuntime supervising the bench fleet, measured in a
 * child process started with --expose-gc (the parent's heap holds everything else the bench built). The
 * heap is read after full collections and a settle, before and after the runtime starts; a negative,
 * zero or impossible value fails the bench instead of becoming a number.
 */
import { fork } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { benchAccounts, benchRuntime, quietMark, T0 } from './bench-fleet.ts';

export interface MemoryFigure {
  accounts: number;
  bytesPerAccount: number;
  heapBeforeBytes: number;
  heapAfterBytes: number;
}

/** Anything above this per account is a broken measurement, not a footprint. */
const IMPOSSIBLE_BYTES = 64 * 1024 * 1024;

const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 20));

/** Heap in use after full collections, repeated until two readings in a row agree within 64 KB (at most 10). */
async function settledHeap(gc: () => void): Promise<number> {
  let last = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 10; i += 1) {
    gc();
    await settle();
    gc();
    const used = process.memoryUsage().heapUsed;
    if (Math.abs(used - last) < 64 * 1024) return used;
    last = used;
  }
  return last;
}

/** In this process (which must have --expose-gc). */
export async function measureInProcess(n: number): Promise<MemoryFigure> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('memory: this process has no gc(): start it with --expose-gc');
  // Warm up: compiled code and lazily built machine nodes are not the accounts' memory.
  const warm = benchRuntime(benchAccounts(2));
  warm.venue.mark('ETHP', '2001', T0 + 1000);
  warm.runtime.stop();
  const accounts = benchAccounts(n);
  const heapBeforeBytes = await settledHeap(gc);
  const bench = benchRuntime(accounts);
  await bench.runtime.ready();
  // A few quiet marks: what a running fleet holds, not a fleet that has never seen a mark.
  for (let k = 0; k < 4; k += 1) {
    const { symbol, price } = quietMark(k);
    bench.venue.mark(symbol, price, T0 + (k + 1) * 1000);
  }
  const heapAfterBytes = await settledHeap(gc);
  const running = bench.runtime.accountIds().length;
  bench.runtime.stop();
  if (running !== n) throw new Error(`memory: ${running} of ${n} accounts running`);
  return { accounts: n, bytesPerAccount: Math.round((heapAfterBytes - heapBeforeBytes) / n), heapBeforeBytes, heapAfterBytes };
}

/** In a child process started with --expose-gc; throws on a value that cannot be a footprint. */
export async function memoryFootprint(n: number): Promise<MemoryFigure> {
  const child = fork(fileURLToPath(import.meta.url), [String(n)], {
    execArgv: ['--expose-gc', '--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const figure = await new Promise<MemoryFigure | { error: string }>((resolve, reject) => {
    child.once('message', (m) => resolve(m as MemoryFigure | { error: string }));
    child.once('exit', (code) => reject(new Error(`memory: the measuring process exited (${code}) without a figure`)));
  });
  child.kill();
  if ('error' in figure) throw new Error(figure.error);
  if (!Number.isFinite(figure.bytesPerAccount) || figure.bytesPerAccount <= 0 || figure.bytesPerAccount > IMPOSSIBLE_BYTES) {
    throw new Error(
      `memory: ${figure.bytesPerAccount} B per account (heap ${figure.heapBeforeBytes} B before, ${figure.heapAfterBytes} B after) is not a footprint: the measurement is broken`,
    );
  }
  return figure;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href && process.send) {
  measureInProcess(Number(process.argv[2] ?? 10_000)).then(
    (figure) => process.send!(figure),
    (error: Error) => process.send!({ error: error.message }),
  );
}
