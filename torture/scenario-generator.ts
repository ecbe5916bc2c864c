import { parseConfigDocument, type Problem } from '../src/config/load.ts';
import type { ScenarioConfig } from '../src/config/scenario-schema.ts';
import { Random } from './random.ts';

/**
 * Random scenarios for the seeded-runs campaign, written as a user would write the file (plain JSON, the
 * docs/contracts.md#scenario format) and validated by the real loader: marks that trend, whipsaw and gap,
 * a thin or deep synthetic book (partial fills), venue faults (rejections, delayed and lost answers,
 * dropped, paused, duplicated and reordered feeds, disconnects), operator stopouts and resets, budgets,
 * CopyFactory limits, portfolios and short reduction timeouts. Scenario `index` of campaign seed `seed`
 * is always the same document.
 */
export interface GeneratedScenario {
  seed: number;
  index: number;
  document: Record<string, unknown>;
}

const START = { ETHP: 2000, BTCP: 40000 } as const;
type Symbol = keyof typeof START;

const seconds = (s: number): string => `${s}s`;
const priceOf = (symbol: Symbol, p: number): string => (symbol === 'ETHP' ? (Math.round(p * 10) / 10).toFixed(1) : String(Math.round(p)));
const decimal = (rng: Random, min: number, max: number, places: number): string => (min + rng.next() * (max - min)).toFixed(places);

function markPath(rng: Random, symbol: Symbol, until: number): { at: string; price: string; jump?: boolean }[] {
  let price: number = START[symbol];
  const points: { at: string; price: string; jump?: boolean }[] = [{ at: '0s', price: priceOf(symbol, price) }];
  let at = 0;
  for (;;) {
    at += rng.int(2, 20);
    if (at > until) break;
    const move = rng.weighted<() => { factor: number; jump: boolean }>([
      [3, () => ({ factor: 1 + (rng.next() - 0.5) * 0.06, jump: false })], // drift
      [3, () => ({ factor: 1 - 0.03 - rng.next() * 0.12, jump: false })], // slide
      [3, () => ({ factor: 1 - 0.04 - rng.next() * 0.25, jump: true })], // gap down
      [1, () => ({ factor: 1 + 0.03 + rng.next() * 0.1, jump: true })], // gap up
      [2, () => ({ factor: rng.chance(0.5) ? 1.08 : 0.92, jump: rng.chance(0.5) })], // whipsaw leg
    ])();
    price = Math.max(START[symbol] * 0.2, Math.min(START[symbol] * 2, price * move.factor));
    points.push({ at: seconds(at), price: priceOf(symbol, price), ...(move.jump ? { jump: true } : {}) });
  }
  return points;
}

function signal(rng: Random, symbols: readonly Symbol[], until: number): Record<string, unknown> {
  const symbol = rng.pick(symbols);
  return rng.weighted<() => Record<string, unknown>>([
    [
      5,
      () => ({
        kind: 'scripted',
        orders: Array.from({ length: rng.int(1, 6) }, () => {
          const s = rng.pick(symbols);
          const amount = s === 'ETHP' ? decimal(rng, 0.1, 6, 4) : decimal(rng, 0.005, 0.3, 5);
          const market = rng.chance(0.6);
          return {
            at: seconds(rng.int(0, Math.max(0, until - 1))),
            symbol: s,
            side: rng.chance(0.7) ? 'buy' : 'sell',
            amount,
            type: market ? 'market' : 'limit',
            ...(market ? {} : { price: priceOf(s, START[s] * (0.85 + rng.next() * 0.3)) }),
          };
        }),
      }),
    ],
    [
      2,
      () => ({
        kind: 'ma-crossover',
        symbol,
        fast: rng.int(1, 4),
        slow: rng.int(5, 12),
        amount: symbol === 'ETHP' ? decimal(rng, 0.5, 5, 2) : '0.1',
      }),
    ],
    [
      2,
      () => ({
        kind: 'mean-reversion',
        symbol,
        window: rng.int(2, 10),
        threshold: decimal(rng, 0.002, 0.03, 3),
        amount: symbol === 'ETHP' ? decimal(rng, 0.5, 5, 2) : '0.1',
      }),
    ],
    [1, () => ({ kind: 'none' })],
  ])();
}

function fault(rng: Random, accounts: readonly string[], until: number): Record<string, unknown> {
  const at = seconds(rng.int(1, Math.max(1, until - 1)));
  const feed = rng.pick(['MARK_PRICE', 'ORDER_UPDATE', 'STRATEGY_UPDATE', 'ORDER_BOOK_L2']);
  const duration = seconds(rng.int(1, 12));
  return rng.weighted<Record<string, unknown>>([
    [
      3,
      {
        at,
        kind: 'reject-next-order',
        account: rng.pick(accounts),
        reason: rng.pick(['SelfMatch', 'SolvencyGuard', 'MaxTakerPriceDeviation', 'NoLiquidity']),
      },
    ],
    [2, { at, kind: 'drop-feed', feed, duration }],
    [2, { at, kind: 'pause-feed', feed, duration }],
    [2, { at, kind: 'delay-acks', duration, count: rng.int(1, 4) }],
    [2, { at, kind: 'drop-acks', count: rng.int(1, 3) }],
    [1, { at, kind: 'duplicate-messages', ...(rng.chance(0.5) ? { feed } : {}), count: rng.int(1, 5) }],
    [1, { at, kind: 'reorder-messages', ...(rng.chance(0.5) ? { feed } : {}), count: rng.int(1, 5) }],
    [2, { at, kind: 'disconnect' }],
  ]);
}

function operator(rng: Random, accounts: readonly string[], portfolio: string | undefined, until: number): Record<string, unknown>[] {
  const actions: Record<string, unknown>[] = [];
  for (
    let n = rng.weighted([
      [5, 0],
      [3, 1],
      [1, 2],
    ]);
    n > 0;
    n -= 1
  ) {
    const [scope, id] = rng.weighted<[string, string]>([
      [2, ['fleet', '*']],
      [3, ['account', rng.pick(accounts)]],
      [1, portfolio ? ['portfolio', portfolio] : ['strategy', rng.pick(accounts)]],
    ]);
    const setAt = rng.int(1, Math.max(1, until - 2));
    actions.push({ at: seconds(setAt), action: 'set-stopout', scope, id, reason: 'manual', closePositions: rng.chance(0.4) });
    if (rng.chance(0.7)) actions.push({ at: seconds(rng.int(setAt, until)), action: 'reset-stopout', scope, id, reason: 'manual' });
  }
  // A reset with nothing to reset, and a start time moved: both must be answered, neither may release anything.
  if (rng.chance(0.15))
    actions.push({
      at: seconds(rng.int(0, until)),
      action: 'reset-stopout',
      scope: 'account',
      id: rng.pick(accounts),
      reason: 'day-balance-difference',
    });
  if (rng.chance(0.15))
    actions.push({ at: seconds(rng.int(0, until)), action: 'move-start-time', scope: 'strategy', id: rng.pick(accounts) });
  return actions;
}

/** The scenario document for (seed, index), unvalidated. */
export function generateScenarioDocument(seed: number, index: number): Record<string, unknown> {
  const rng = Random.derive(seed, index);
  const until = rng.int(20, 120);
  const symbols: Symbol[] = rng.chance(0.25) ? ['ETHP', 'BTCP'] : ['ETHP'];
  const accounts = Array.from(
    {
      length: rng.weighted([
        [5, 1],
        [3, 2],
        [1, 3],
      ]),
    },
    (_, i) => `a${i}`,
  );
  const portfolio = accounts.length > 1 && rng.chance(0.4) ? 'core' : undefined;
  const minBuffer = 0.05 + rng.next() * 0.3;
  const document: Record<string, unknown> = {
    name: `torture-${seed}-${index}`,
    seed: rng.int(0, 1_000_000),
    liquidity: { depth: rng.pick(['0.3', '1', '5', '50']), levels: rng.int(1, 20), spreadTicks: rng.int(1, 5) },
    accounts: accounts.map((id) => {
      const min = rng.chance(0.8) ? minBuffer * (0.7 + rng.next() * 0.6) : undefined;
      const collateral = rng.int(800, 20_000);
      const strategy = signal(rng, symbols, until);
      // Most scripted accounts open a leveraged long at once, just inside what the gate allows (a margin
      // buffer a little above minMarginBuffer, at most 2.9x: the venue allows 3x), so the slides and gaps
      // that follow take them into de-risking and panic exit.
      const leverage = Math.min(2.9, min === undefined ? 2 + rng.next() * 0.9 : 1 / (min + 0.05 + 0.02 + rng.next() * 0.08));
      const opening = strategy.kind === 'scripted' && rng.chance(0.7) ? (collateral * leverage) / START.ETHP : 0;
      if (opening > 0)
        (strategy.orders as unknown[]).unshift({ at: '0s', symbol: 'ETHP', side: 'buy', amount: opening.toFixed(4), type: 'market' });
      const cap = (s: Symbol): string =>
        s === 'ETHP' ? Math.max(opening * (1 + rng.next() * 0.3), 1 + rng.next() * 9).toFixed(1) : decimal(rng, 0.05, 0.5, 3);
      return {
        id,
        collateral: String(collateral),
        budget: {
          maxPositionSize: Object.fromEntries(symbols.map((s) => [s, cap(s)])),
          ...(rng.chance(0.3) ? { maxGrossNotional: String(Math.round(Math.max(opening * START.ETHP * 1.3, rng.int(2000, 30_000)))) } : {}),
          ...(min !== undefined ? { minMarginBuffer: min.toFixed(3) } : {}),
          ...(min !== undefined && rng.chance(0.8) ? { panicMarginBuffer: (min * (0.1 + rng.next() * 0.7)).toFixed(3) } : {}),
          ...(rng.chance(0.4) ? { sessionLossLimit: String(rng.int(20, 2000)) } : {}),
        },
        ...(rng.chance(0.35)
          ? {
              riskLimits: [
                {
                  type: rng.pick(['day', 'week', 'lifetime']),
                  applyTo: rng.pick(['balance-difference', 'balance-minus-equity', 'equity-difference']),
                  maxRelativeRisk: decimal(rng, 0.02, 0.3, 2),
                  closePositions: rng.chance(0.5),
                },
              ],
            }
          : {}),
        signal: strategy,
      };
    }),
    ...(portfolio
      ? {
          portfolios: [
            {
              id: portfolio,
              members: accounts.map((account) => ({ account })),
              ...(rng.chance(0.5)
                ? {
                    riskLimits: [
                      {
                        type: 'day',
                        applyTo: 'equity-difference',
                        maxAbsoluteRisk: String(rng.int(100, 3000)),
                        closePositions: rng.chance(0.5),
                      },
                    ],
                  }
                : {}),
            },
          ],
        }
      : {}),
    marks: Object.fromEntries(symbols.map((s) => [s, markPath(rng, s, until)])),
    faults: Array.from({ length: rng.int(0, 4) }, () => fault(rng, accounts, until)),
    operator: operator(rng, accounts, portfolio, until),
    defaults: {
      hysteresis: decimal(rng, 0.02, 0.3, 2),
      reductionFraction: decimal(rng, 0.1, 1, 2),
      reductionTimeout: seconds(rng.int(2, 20)),
    },
    until: seconds(until),
  };
  return document;
}

/** Generates and validates scenario (seed, index): the config, or the loader's problems (a generator bug). */
export function generateScenario(
  seed: number,
  index: number,
):
  | { ok: true; scenario: ScenarioConfig; document: Record<string, unknown> }
  | { ok: false; problems: Problem[]; document: Record<string, unknown> } {
  const document = generateScenarioDocument(seed, index);
  const loaded = parseConfigDocument(document, { expect: 'scenario' });
  if (!loaded.ok) return { ok: false, problems: loaded.problems, document };
  return { ok: true, scenario: loaded.value as ScenarioConfig, document };
}
