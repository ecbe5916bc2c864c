/**
 * Heap per supervised account: `node --expose-gc --import tsx bench/memory.ts [--json]` (BENCH_ACCOUNTS,
 * default 10000), for a fleet started from contexts and for one resumed from snapshots read back from JSON.
 * The heap is measured after full collections before and after spawning each fleet, repeated until the
 * heap settles; a run without `--expose-gc`, or one that measures no growth, fails
 * instead of printing a number that means nothing.
 */
import { pathToFileURL } from 'node:url';
import { createActor, type Snapshot } from 'xstate';
import { accountMachine } from '../machines/account.ts';
import { createAccountContext, type AccountContext } from '../machines/account-context.ts';
import { restorableAccount } from '../machines/restorable-account.ts';
import { supervisorMachine, type AccountSpawn } from '../machines/supervisor.ts';
import { applyLedgerEvent, createLedger } from '../src/domain/ledger.ts';
import { DEFAULT_PRODUCTS } from '../src/domain/products.ts';
import { provideAccountEffects } from '../src/runtime/account-effects.ts';

export const T0 = Date.UTC(2026, 0, 5, 13);

/** The products every bench account trades: one object, shared by every account's settings. */
const PRODUCTS = { ETHP: DEFAULT_PRODUCTS.ETHP!, BTCP: DEFAULT_PRODUCTS.BTCP! };

/**
 * Account `i` of the bench fleet (as bench/run.ts's `context(i)`): half on ETHP, half on BTCP, each long
 * 12000 of notional on 4200 of collateral.
 */
export function benchAccountContext(i: number): AccountContext {
  const symbol = i % 2 === 0 ? 'ETHP' : 'BTCP';
  const price = symbol === 'ETHP' ? '2000' : '40000';
  const size = symbol === 'ETHP' ? '6' : '0.3';
  let ledger = createLedger('4200');
  ledger = applyLedgerEvent(ledger, { kind: 'fill', id: `f${i}`, seq: 1, symbol, side: 'buy', amount: size, price }).state;
  return createAccountContext(
    {
      accountId: `a${i}`,
      budget: { maxPositionSize: { [symbol]: size }, minMarginBuffer: '0.10', panicMarginBuffer: '0.03' },
      products: PRODUCTS,
      riskLimits: [],
      hysteresis: '0.2',
      reductionFraction: '0.25',
      reductionTimeoutMs: 15_000,
    },
    { collateral: '4200', at: T0, marks: { ETHP: '2000', BTCP: '40000' }, ledger },
  );
}

/** The account logic as the runtime spawns it, with effects that do nothing. */
export function benchAccountLogic() {
  return restorableAccount(provideAccountEffects({ sendOrder() {}, cancelOrder() {}, decision() {}, raiseStopout() {}, reset() {} }));
}

const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 20));

/** Heap in use after full collections, repeated until two in a row agree within 64 KB (at most 10). */
async function settledHeap(gc: () => void): Promise<number> {
  let last = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 10; round += 1) {
    gc();
    await settle();
    gc();
    const used = process.memoryUsage().heapUsed;
    if (Math.abs(used - last) < 64 * 1024) return used;
    last = used;
  }
  return last;
}

export interface MemoryFigures {
  accounts: number;
  /** Accounts started from their contexts (a fresh fleet). */
  bytesPerAccount: number;
  /** Accounts resumed from their snapshots as read back from JSON (a recovered fleet). */
  restoredBytesPerAccount: number;
}

/** Heap per account of a supervisor running `accounts` bench accounts, spawned in one SPAWN_MANY. */
export async function measureMemory(accounts: number): Promise<MemoryFigures> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('memory: run node with --expose-gc (e.g. node --expose-gc --import tsx bench/memory.ts)');
  if (!Number.isSafeInteger(accounts) || accounts < 1) throw new Error(`memory: accounts: expected a whole number ≥ 1, got ${accounts}`);
  const machine = supervisorMachine.provide({ actors: { account: benchAccountLogic() } });
  // Warm up once (compiled code, the machine's lazily built state nodes) so the figure is the accounts'.
  const warm = createActor(machine, { input: { groups: [] } }).start();
  warm.send({ type: 'SPAWN_MANY', accounts: [spawnOf(0)] });
  warm.stop();
  // Snapshot texts as a store holds them, made before the heap is measured (they are not the accounts').
  const texts = Array.from({ length: accounts }, (_, i) =>
    JSON.stringify(createActor(accountMachine, { input: benchAccountContext(i) }).getPersistedSnapshot()),
  );
  const perAccount = async (what: string, spawns: () => AccountSpawn[]): Promise<number> => {
    const before = await settledHeap(gc);
    const supervisor = createActor(machine, { input: { groups: [] } }).start();
    supervisor.send({ type: 'SPAWN_MANY', accounts: spawns() });
    const after = await settledHeap(gc);
    // Not stopped: XState copies the children once per child stopped, which takes far longer than the run.
    const running = supervisor.getSnapshot().context.accounts.length;
    if (running !== accounts) throw new Error(`memory: ${what}: ${running} of ${accounts} accounts running`);
    const bytes = Math.round((after - before) / accounts);
    if (bytes <= 0)
      throw new Error(`memory: ${what}: the heap did not grow (${before} B before, ${after} B after): the measurement is broken`);
    return bytes;
  };
  const bytesPerAccount = await perAccount('fresh', () => Array.from({ length: accounts }, (_, i) => spawnOf(i)));
  const restoredBytesPerAccount = await perAccount('restored', () =>
    texts.map((text, i) => ({ ...spawnOf(i), input: { persisted: JSON.parse(text) as Snapshot<unknown> } })),
  );
  return { accounts, bytesPerAccount, restoredBytesPerAccount };
}

function spawnOf(i: number): AccountSpawn {
  return { accountId: `a${i}`, input: { context: benchAccountContext(i) }, scopes: [{ scope: 'fleet', id: '*' }] };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const figures = await measureMemory(Number(process.env.BENCH_ACCOUNTS ?? 10_000));
  if (process.argv.includes('--json')) console.log(JSON.stringify(figures));
  else
    console.log(
      `memory: ${figures.bytesPerAccount} B per account started, ${figures.restoredBytesPerAccount} B per account restored (${figures.accounts} accounts)`,
    );
  process.exit(0);
}
