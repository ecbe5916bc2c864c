import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAULT_FIGURES, createFleetMetrics } from '../../src/observability/fleet-metrics.ts';
import { metricsRoute } from '../../src/observability/metrics-route.ts';
import type { TimelineRecord } from '../../src/timeline/timeline-record.ts';
import { runScenarioFile } from '../scenarios/scenario-file.ts';
import { parseExposition, sampleValue } from './exposition.ts';

const order = (t: number, account: string, orderId: string, purpose: 'entry' | 'close' | 'reduce' | 'exit'): TimelineRecord => ({
  t,
  kind: 'order',
  account,
  orderId,
  symbol: 'ETHP',
  side: 'sell',
  amount: '1',
  price: '0',
  type: 'market',
  purpose,
});
const update = (t: number, account: string, orderId: string, status: string, filled = '0'): TimelineRecord => ({
  t,
  kind: 'order-update',
  account,
  orderId,
  status,
  filled,
});
const risk = (account: string, state: 'trading'): TimelineRecord => ({
  t: 0,
  kind: 'risk',
  account,
  position: {},
  grossNotional: '0',
  equity: '10000',
  marginFraction: null,
  maintenance: '0',
  marginBuffer: null,
  sessionPnl: '0',
  state,
});
const entry = { symbol: 'ETHP', side: 'buy' as const, amount: '1', type: 'market' as const };

/** A short fleet history with every kind the metrics count; the expected numbers are worked out beside each test. */
const HISTORY: TimelineRecord[] = [
  risk('alpha', 'trading'),
  risk('beta', 'trading'),
  risk('gamma', 'trading'),
  { t: 0, kind: 'decision', account: 'alpha', allowed: true, rules: [], order: entry },
  order(0, 'alpha', 'alpha-1', 'entry'),
  update(100, 'alpha', 'alpha-1', 'sequenced'),
  update(500, 'alpha', 'alpha-1', 'filled', '1'),
  { t: 20_000, kind: 'decision', account: 'alpha', allowed: true, rules: [], order: entry },
  { t: 20_000, kind: 'state', account: 'alpha', from: 'trading', to: 'entries-blocked', reason: 'max-position-size' },
  { t: 30_000, kind: 'decision', account: 'alpha', allowed: false, rules: ['max-position-size', 'state'], order: entry },
  { t: 30_000, kind: 'state', account: 'beta', from: 'trading', to: 'de-risking', reason: 'min-margin-buffer' },
  order(30_000, 'beta', 'beta-1', 'reduce'),
  update(30_100, 'beta', 'beta-1', 'sequenced'),
  update(30_500, 'beta', 'beta-1', 'partially-filled', '0.4'),
  update(31_000, 'beta', 'beta-1', 'partially-filled', '0.7'),
  update(32_500, 'beta', 'beta-1', 'filled', '1'),
  { t: 35_000, kind: 'stopout', scope: 'account', id: 'beta', reason: 'manual', closePositions: true, action: 'set' },
  { t: 35_000, kind: 'decision', account: 'beta', allowed: false, rules: ['stopout'], order: entry },
  { t: 40_000, kind: 'state', account: 'beta', from: 'de-risking', to: 'panic-exit', reason: 'panic-margin-buffer' },
  order(40_000, 'beta', 'beta-2', 'exit'),
  update(40_050, 'beta', 'beta-2', 'sequenced'),
  update(40_200, 'beta', 'beta-2', 'rejected', '0'),
  order(41_000, 'beta', 'beta-3', 'exit'),
  update(41_100, 'beta', 'beta-3', 'sequenced'),
  update(48_000, 'beta', 'beta-3', 'filled', '1'),
  update(49_000, 'beta', 'ghost-1', 'cancelled'),
  { t: 50_000, kind: 'liquidation', account: 'gamma', symbol: 'ETHP' },
  { t: 51_000, kind: 'mark', symbol: 'ETHP', price: '1900' },
];

describe('fleet metrics', () => {
  it('counts a known history: states, decisions, orders, reduction latency, liquidations, stopouts', async () => {
    const metrics = createFleetMetrics();
    for (const record of HISTORY) metrics.observe(record);
    metrics.setFeedStale('MARK_PRICE', true);
    metrics.setFeedStale('ORDER_UPDATE', false);
    metrics.setRedisHealthy(true);
    metrics.setOwnedAccounts(3);
    const s = parseExposition(await metrics.text());

    // gamma trading; alpha trading → entries-blocked; beta trading → de-risking → panic-exit.
    expect(sampleValue(s, 'riskwarden_accounts', { state: 'trading' })).toBe(1);
    expect(sampleValue(s, 'riskwarden_accounts', { state: 'entries-blocked' })).toBe(1);
    expect(sampleValue(s, 'riskwarden_accounts', { state: 'de-risking' })).toBe(0);
    expect(sampleValue(s, 'riskwarden_accounts', { state: 'panic-exit' })).toBe(1);
    expect(sampleValue(s, 'riskwarden_accounts', { state: 'stopped-out' })).toBe(0);

    // Two allowed entries; the blocked ones count once per rule: [max-position-size, state] and [stopout].
    expect(sampleValue(s, 'riskwarden_decisions_total', { allowed: 'true', rule: 'none' })).toBe(2);
    expect(sampleValue(s, 'riskwarden_decisions_total', { allowed: 'false', rule: 'max-position-size' })).toBe(1);
    expect(sampleValue(s, 'riskwarden_decisions_total', { allowed: 'false', rule: 'state' })).toBe(1);
    expect(sampleValue(s, 'riskwarden_decisions_total', { allowed: 'false', rule: 'stopout' })).toBe(1);

    // One entry, one reduce (its two partial fills count once), two exits (one rejected, one filled).
    const orders = (purpose: string, status: string) => sampleValue(s, 'riskwarden_orders_total', { purpose, status });
    expect([orders('entry', 'sent'), orders('entry', 'sequenced'), orders('entry', 'filled')]).toEqual([1, 1, 1]);
    expect([
      orders('reduce', 'sent'),
      orders('reduce', 'sequenced'),
      orders('reduce', 'partially-filled'),
      orders('reduce', 'filled'),
    ]).toEqual([1, 1, 1, 1]);
    expect([orders('exit', 'sent'), orders('exit', 'sequenced'), orders('exit', 'rejected'), orders('exit', 'filled')]).toEqual([
      2, 2, 1, 1,
    ]);
    // An update for an order never seen sent: counted, purpose unknown.
    expect(orders('unknown', 'cancelled')).toBe(1);

    // reduce beta-1: 30.0 s → 32.5 s = 2.5 s. exit beta-2: 40.0 → 40.2 = 0.2 s; beta-3: 41 → 48 = 7 s.
    const bucket = (purpose: string, le: string) => sampleValue(s, 'riskwarden_reduction_latency_seconds_bucket', { purpose, le });
    expect([bucket('reduce', '2'), bucket('reduce', '5'), bucket('reduce', '+Inf')]).toEqual([0, 1, 1]);
    expect(sampleValue(s, 'riskwarden_reduction_latency_seconds_sum', { purpose: 'reduce' })).toBe(2.5);
    expect([bucket('exit', '0.1'), bucket('exit', '0.25'), bucket('exit', '5'), bucket('exit', '10'), bucket('exit', '+Inf')]).toEqual([
      0, 1, 1, 2, 2,
    ]);
    expect(sampleValue(s, 'riskwarden_reduction_latency_seconds_count', { purpose: 'exit' })).toBe(2);
    expect(sampleValue(s, 'riskwarden_reduction_latency_seconds_sum', { purpose: 'exit' })).toBeCloseTo(7.2, 9);

    expect(sampleValue(s, 'riskwarden_liquidations_total')).toBe(1);
    expect(sampleValue(s, 'riskwarden_stopouts_total', { scope: 'account', action: 'set' })).toBe(1);
    expect(sampleValue(s, 'riskwarden_feed_stale', { feed: 'MARK_PRICE' })).toBe(1);
    expect(sampleValue(s, 'riskwarden_feed_stale', { feed: 'ORDER_UPDATE' })).toBe(0);
    expect(sampleValue(s, 'riskwarden_redis_up')).toBe(1);
    expect(sampleValue(s, 'riskwarden_leased_accounts')).toBe(3);
  });

  it('exposes the fault figures an operator alerts on, each from 0', async () => {
    const metrics = createFleetMetrics();
    const zero = parseExposition(await metrics.text());
    for (const fault of FAULT_FIGURES) expect(sampleValue(zero, 'riskwarden_faults', { fault })).toBe(0);
    metrics.setFaults({
      'store-data-loss': 1,
      'store-sequence-repaired': 2,
      'snapshot-refused': 3,
      'lease-uncertain': 4,
      'store-writes-held': 5,
    });
    const s = parseExposition(await metrics.text());
    expect(FAULT_FIGURES.map((fault) => sampleValue(s, 'riskwarden_faults', { fault }))).toEqual([1, 2, 3, 4, 5]);
  });

  it('setAccountStates replaces what the records said (accounts handed to another process disappear)', async () => {
    const metrics = createFleetMetrics();
    for (const record of HISTORY) metrics.observe(record);
    metrics.setAccountStates({ gamma: 'stopped-out' });
    const s = parseExposition(await metrics.text());
    expect(sampleValue(s, 'riskwarden_accounts', { state: 'stopped-out' })).toBe(1);
    expect(sampleValue(s, 'riskwarden_accounts', { state: 'panic-exit' })).toBe(0);
    expect(sampleValue(s, 'riskwarden_accounts', { state: 'entries-blocked' })).toBe(0);
  });

  it('keeps label values to fixed sets: an unknown rule or status is "other"', async () => {
    const metrics = createFleetMetrics();
    metrics.observe({ t: 0, kind: 'decision', account: 'a', allowed: false, rules: ['made-up-rule'], order: entry });
    metrics.observe(order(0, 'a', 'a-1', 'reduce'));
    metrics.observe(update(10, 'a', 'a-1', 'teleported'));
    const text = await metrics.text();
    expect(text).not.toContain('made-up-rule');
    expect(text).not.toContain('teleported');
    const s = parseExposition(text);
    expect(sampleValue(s, 'riskwarden_decisions_total', { allowed: 'false', rule: 'other' })).toBe(1);
    expect(sampleValue(s, 'riskwarden_orders_total', { purpose: 'reduce', status: 'other' })).toBe(1);
  });

  it('agrees with the stress-pass scenario timeline, fed record by record as it runs', async () => {
    const metrics = createFleetMetrics();
    const { records } = await runScenarioFile('stress-pass', { onRecord: (record) => metrics.observe(record) });
    const s = parseExposition(await metrics.text());

    const decisions = records.filter((r) => r.kind === 'decision');
    expect(sampleValue(s, 'riskwarden_decisions_total', { allowed: 'true', rule: 'none' })).toBe(decisions.filter((d) => d.allowed).length);
    const blockedBy = (rule: string) => decisions.filter((d) => !d.allowed && d.rules.includes(rule)).length;
    expect(blockedBy('max-position-size')).toBeGreaterThan(0);
    expect(sampleValue(s, 'riskwarden_decisions_total', { allowed: 'false', rule: 'max-position-size' })).toBe(
      blockedBy('max-position-size'),
    );

    const summary = records.at(-1)!;
    expect(summary.kind).toBe('summary');
    if (summary.kind !== 'summary') return;
    for (const purpose of ['entry', 'close', 'reduce', 'exit'] as const) {
      const sent = Object.values(summary.orders).reduce((n, counts) => n + (counts[purpose] ?? 0), 0);
      expect(sampleValue(s, 'riskwarden_orders_total', { purpose, status: 'sent' }) ?? 0, purpose).toBe(sent);
    }
    // Every reduction that reached a terminal update is one latency observation.
    const reductions = new Map(
      records.flatMap((r) =>
        r.kind === 'order' && (r.purpose === 'reduce' || r.purpose === 'exit') ? [[`${r.account}/${r.orderId}`, r]] : [],
      ),
    );
    const finished = records.filter(
      (r) =>
        r.kind === 'order-update' &&
        ['filled', 'cancelled', 'rejected', 'liquidated'].includes(r.status) &&
        reductions.has(`${r.account}/${r.orderId}`),
    );
    expect(finished.length).toBeGreaterThan(0);
    const count = ['reduce', 'exit'].reduce(
      (n, purpose) => n + (sampleValue(s, 'riskwarden_reduction_latency_seconds_count', { purpose }) ?? 0),
      0,
    );
    expect(count).toBe(finished.length);

    const finalStates = Object.values(summary.finalStates);
    for (const state of ['trading', 'entries-blocked', 'de-risking', 'panic-exit', 'stopped-out']) {
      expect(sampleValue(s, 'riskwarden_accounts', { state }), state).toBe(finalStates.filter((f) => f === state).length);
    }
    expect(sampleValue(s, 'riskwarden_liquidations_total')).toBe(summary.liquidated.length);
  });
});

describe('GET /metrics', () => {
  let server: Server;
  let base: string;
  beforeAll(async () => {
    const metrics = createFleetMetrics();
    for (const record of HISTORY) metrics.observe(record);
    const route = metricsRoute(metrics.registry);
    server = createServer((req, res) => {
      if (route(req, res)) return;
      res.writeHead(404).end('not here');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const call = (method: string, path: string) =>
    new Promise<{ status: number; type: string | undefined; body: string }>((resolve, reject) => {
      const req = request(`${base}${path}`, { method }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], body }));
      });
      req.on('error', reject);
      req.end();
    });

  it('answers with the Prometheus text format', async () => {
    const { status, type, body } = await call('GET', '/metrics');
    expect(status).toBe(200);
    expect(type).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(body).toContain('# TYPE riskwarden_reduction_latency_seconds histogram');
    expect(sampleValue(parseExposition(body), 'riskwarden_liquidations_total')).toBe(1);
  });

  it('leaves other paths to the server and refuses other methods', async () => {
    expect(await call('GET', '/elsewhere')).toMatchObject({ status: 404, body: 'not here' });
    expect((await call('GET', '/metrics?x=1')).status).toBe(200);
    expect((await call('POST', '/metrics')).status).toBe(405);
  });
});
