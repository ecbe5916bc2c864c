import { describe, expect, it } from 'vitest';
import { parseConfigDocument } from '../../src/config/load.ts';
import type { ScenarioConfig } from '../../src/config/scenario-schema.ts';
import { buildReportModel, stateBands } from '../../src/report/report-model.ts';
import type { TimelineRecord } from '../../src/timeline/timeline-record.ts';

function scenario(): ScenarioConfig {
  const loaded = parseConfigDocument(
    {
      name: 'hand-built',
      accounts: [
        { id: 'alpha', collateral: '2200', budget: { minMarginBuffer: '0.15' }, signal: { kind: 'scripted', orders: [] } },
        { id: 'beta', collateral: '1000', signal: { kind: 'scripted', orders: [] } },
      ],
      portfolios: [{ id: 'core', members: [{ account: 'alpha' }] }],
      marks: { ETHP: [{ at: '0s', price: '2000' }] },
      defaults: { budget: { minMarginBuffer: '0.2', panicMarginBuffer: '0.05' } },
      until: '60s',
    },
    { expect: 'scenario' },
  );
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
  return loaded.value as ScenarioConfig;
}

const risk = (
  t: number,
  size: string | null,
  rest: { grossNotional: string; equity: string; buffer: string | null; state?: 'trading' | 'de-risking' },
): TimelineRecord => ({
  t,
  kind: 'risk',
  account: 'alpha',
  position: size === null ? {} : { ETHP: size },
  grossNotional: rest.grossNotional,
  equity: rest.equity,
  marginFraction: null,
  maintenance: size === null ? '0' : '0.05',
  marginBuffer: rest.buffer,
  sessionPnl: '0',
  ...(rest.state ? { state: rest.state } : {}),
});

const records: TimelineRecord[] = [
  { t: 0, kind: 'mark', symbol: 'ETHP', price: '2000' },
  risk(0, null, { grossNotional: '0', equity: '2200', buffer: null, state: 'trading' }),
  {
    t: 0,
    kind: 'order',
    account: 'alpha',
    orderId: 'alpha-1',
    symbol: 'ETHP',
    side: 'buy',
    amount: '2.5',
    price: '0',
    type: 'market',
    purpose: 'entry',
  },
  { t: 0, kind: 'order-update', account: 'alpha', orderId: 'alpha-1', status: 'sequenced', filled: '0' },
  { t: 0, kind: 'order-update', account: 'alpha', orderId: 'alpha-1', status: 'filled', filled: '2.5' },
  // 2.5 ETHP at 1520 is a gross notional of 3800
  { t: 10_000, kind: 'mark', symbol: 'ETHP', price: '1520' },
  risk(10_000, '2.5', { grossNotional: '3800', equity: '806', buffer: '0.162105263157' }),
  {
    t: 12_000,
    kind: 'decision',
    account: 'alpha',
    allowed: false,
    rules: ['min-margin-buffer'],
    order: { symbol: 'ETHP', side: 'buy', amount: '1', type: 'market' },
    reasons: ['too thin'],
  },
  {
    t: 20_000,
    kind: 'state',
    account: 'alpha',
    from: 'trading',
    to: 'de-risking',
    reason: 'min-margin-buffer',
    detail: 'de-risking.awaiting',
  },
  { t: 20_000, kind: 'state', account: 'alpha', from: 'de-risking', to: 'de-risking', reason: 'order-sent', detail: 'de-risking.reducing' },
  {
    t: 20_000,
    kind: 'order',
    account: 'alpha',
    orderId: 'alpha-2',
    symbol: 'ETHP',
    side: 'sell',
    amount: '0.6',
    price: '1500',
    type: 'limit',
    purpose: 'reduce',
  },
  { t: 20_000, kind: 'order-update', account: 'alpha', orderId: 'alpha-2', status: 'rejected', filled: '0', reason: 'NoLiquidity' },
  {
    t: 21_000,
    kind: 'order',
    account: 'alpha',
    orderId: 'alpha-3',
    symbol: 'ETHP',
    side: 'sell',
    amount: '0.6',
    price: '1500',
    type: 'limit',
    purpose: 'reduce',
  },
  { t: 36_000, kind: 'cancel', account: 'alpha', orderId: 'alpha-3', reason: 'reduction timed out' },
  { t: 36_000, kind: 'order-update', account: 'alpha', orderId: 'alpha-3', status: 'cancelled', filled: '0.2' },
  { t: 40_000, kind: 'state', account: 'alpha', from: 'de-risking', to: 'trading', reason: 'budget-has-room' },
  { t: 45_000, kind: 'stopout', scope: 'portfolio', id: 'core', reason: 'manual', closePositions: false, action: 'set' },
  { t: 46_000, kind: 'stopout', scope: 'account', id: 'beta', reason: 'manual', closePositions: false, action: 'set' },
  {
    t: 47_000,
    kind: 'operator',
    action: 'reset-stopout',
    scope: 'account',
    id: 'alpha',
    result: 'refused',
    reason: 'no stopout manual on account alpha',
  },
  risk(50_000, null, { grossNotional: '0', equity: '700', buffer: null }),
  {
    t: 60_000,
    kind: 'summary',
    liquidated: [],
    finalStates: { alpha: 'trading', beta: 'stopped-out' },
    orders: { alpha: { entry: 1, reduce: 2 }, beta: {} },
    maxReductionsInFlight: { alpha: 1, beta: 0 },
    blockedEntries: { alpha: 1, beta: 0 },
  },
];

describe('buildReportModel', () => {
  const model = buildReportModel(scenario(), records);
  const alpha = model.accounts.find((a) => a.id === 'alpha')!;
  const beta = model.accounts.find((a) => a.id === 'beta')!;

  it('takes the header from the scenario and the end from its until', () => {
    expect(model).toMatchObject({ name: 'hand-built', seed: 1, start: '2026-01-05T13:00:00Z', end: 60_000 });
    expect(buildReportModel(scenario(), records, { seed: 42 }).seed).toBe(42);
    expect(model.marks.ETHP).toEqual([
      { t: 0, value: '2000' },
      { t: 10_000, value: '1520' },
    ]);
  });

  it('merges the account budget over defaults.budget rule by rule', () => {
    expect(alpha.budget).toEqual({ minMarginBuffer: '0.15', panicMarginBuffer: '0.05' });
    expect(beta.budget).toEqual({ minMarginBuffer: '0.2', panicMarginBuffer: '0.05' });
  });

  it('bands the top-level states, ignoring nested changes, up to the end of the run', () => {
    expect(alpha.bands.map(({ from, to, state }) => ({ from, to, state }))).toEqual([
      { from: 0, to: 20_000, state: 'trading' },
      { from: 20_000, to: 40_000, state: 'de-risking' },
      { from: 40_000, to: 60_000, state: 'trading' },
    ]);
    expect(beta.bands).toEqual([{ from: 0, to: 60_000, state: 'trading', reason: 'start' }]);
    expect(alpha.finalState).toBe('trading');
    expect(beta.finalState).toBe('stopped-out');
  });

  it('computes the price levels from each risk record while a position is held', () => {
    expect(alpha.levels.ETHP).toEqual([
      // mark = 3800 / 2.5 = 1520; liq = (3800 − 806) / (2.5 · 0.95) = 1260.63…; min 0.15: 2994 / (2.5 · 0.8) = 1497;
      // panic 0.05: 2994 / (2.5 · 0.9) = 1330.67
      { t: 10_000, liquidation: '1260.63157895', minBuffer: '1497', panicBuffer: '1330.66666667' },
      // flat again: no levels
      { t: 50_000, liquidation: null, minBuffer: null, panicBuffer: null },
    ]);
    expect(alpha.position.ETHP).toEqual([
      { t: 0, value: '0' },
      { t: 10_000, value: '2.5' },
      { t: 50_000, value: '0' },
    ]);
    expect(alpha.marginBuffer.map((p) => p.value)).toEqual([null, '0.162105263157', null]);
    expect(beta.symbols).toEqual([]);
  });

  it('gives every order its last status, fill and reasons', () => {
    expect(alpha.orders.map((o) => [o.orderId, o.purpose, o.status, o.filled, o.reason, o.cancel?.reason ?? null, o.markAtOrder])).toEqual([
      ['alpha-1', 'entry', 'filled', '2.5', null, null, '2000'],
      ['alpha-2', 'reduce', 'rejected', '0', 'NoLiquidity', null, '1520'],
      ['alpha-3', 'reduce', 'cancelled', '0.2', null, 'reduction timed out', '1520'],
    ]);
  });

  it('logs blocked entries, state changes, and the stopouts and operator actions that concern the account', () => {
    expect(alpha.log.map((e) => `${e.t} ${e.kind}`)).toEqual([
      '12000 blocked',
      '20000 state',
      '20000 state',
      '40000 state',
      '45000 stopout',
      '47000 operator',
    ]);
    expect(alpha.log[0]).toMatchObject({ kind: 'blocked', rules: ['min-margin-buffer'], reasons: ['too thin'] });
    expect(beta.log.map((e) => `${e.t} ${e.kind}`)).toEqual(['46000 stopout']);
    expect(model.fleetLog.map((e) => `${e.t} ${e.kind}`)).toEqual(['45000 stopout', '46000 stopout', '47000 operator']);
  });
});

describe('stateBands', () => {
  it('keeps an instant state as a zero-width band, and lets a change at t=0 replace the initial state', () => {
    expect(
      stateBands(
        'trading',
        [
          { t: 0, to: 'entries-blocked', reason: 'max-position-size' },
          { t: 5000, to: 'panic-exit', reason: 'panic-margin-buffer' },
          { t: 5000, to: 'trading', reason: 'budget-has-room' },
        ],
        9000,
      ).map(({ from, to, state }) => [from, to, state]),
    ).toEqual([
      [0, 5000, 'entries-blocked'],
      [5000, 5000, 'panic-exit'],
      [5000, 9000, 'trading'],
    ]);
  });
});
