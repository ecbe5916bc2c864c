import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { ACCOUNT_MODES, type AccountMode } from '../domain/assessment.ts';
import { ORDER_PURPOSES } from '../domain/order.ts';
import { isTerminal, ORDER_STATUSES } from '../domain/order-status.ts';
import { GATE_RULES } from '../domain/pre-trade-gate.ts';
import { STOPOUT_SCOPES } from '../domain/stopout.ts';
import { FEEDS } from '../derivadex/feed-messages.ts';
import type { TimelineRecord } from '../timeline/timeline-record.ts';

/**
 * The fleet's Prometheus metrics. Most are fed by `observe(record)` with every timeline record; feed
 * staleness, Redis health and lease ownership come from explicit setters (they are not timeline records).
 *
 * | metric | type | labels |
 * |---|---|---|
 * | `riskwarden_accounts` | gauge | `state` (the five top-level states): accounts in it |
 * | `riskwarden_decisions_total` | counter | `allowed` (`true`/`false`), `rule`: an allowed entry counts once with rule `none`; a blocked one once per rule that blocked it |
 * | `riskwarden_orders_total` | counter | `purpose`, `status`: `sent` for each order record, then each status its order-updates report (a repeated status counts once) |
 * | `riskwarden_reduction_latency_seconds` | histogram | `purpose` (`reduce`/`exit`): from the order record to its terminal order-update, timeline time |
 * | `riskwarden_feed_stale` | gauge | `feed`: 1 stale, 0 fresh |
 * | `riskwarden_redis_up` | gauge | — 1 the shared store is reachable, 0 not |
 * | `riskwarden_leased_accounts` | gauge | — accounts whose lease this process holds |
 * | `riskwarden_liquidations_total` | counter | — |
 * | `riskwarden_stopouts_total` | counter | `scope`, `action` (`set`/`reset`) |
 * | `riskwarden_faults` | gauge | `fault`: how often since start the store came back empty (`store-data-loss`), a corrupt stopout sequence was repaired (`store-sequence-repaired`), a stored snapshot was refused (`snapshot-refused`); now: leases that cannot be confirmed (`lease-uncertain`), stopout writes held for the store (`store-writes-held`) |
 *
 * Label values come from fixed sets (anything else is `other`), so nothing from outside — an account id,
 * a reason, a secret pasted into one — can reach the exposition or grow its cardinality.
 */
export const FAULT_FIGURES = [
  'store-data-loss',
  'store-sequence-repaired',
  'snapshot-refused',
  'lease-uncertain',
  'store-writes-held',
] as const;
export type FaultFigure = (typeof FAULT_FIGURES)[number];

export interface FleetMetrics {
  readonly registry: Registry;
  /** Counts a timeline record. */
  observe(record: TimelineRecord): void;
  /** Replaces the known accounts and their states (a periodic sync from the runtime, authoritative). */
  setAccountStates(states: Record<string, AccountMode>): void;
  setFeedStale(feed: string, stale: boolean): void;
  setRedisHealthy(healthy: boolean): void;
  setOwnedAccounts(count: number): void;
  /** The fault figures an operator alerts on (see the table above). */
  setFaults(faults: Readonly<Record<FaultFigure, number>>): void;
  /** The Prometheus text exposition. */
  text(): Promise<string>;
}

export interface FleetMetricsOptions {
  /** Also Node's process metrics (CPU, heap, event-loop lag) with prefix `riskwarden_`. */
  processMetrics?: boolean;
}

/** Seconds: one de-risking order should be done within a few seconds; 15 s is the default replacement timeout. */
export const REDUCTION_LATENCY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 15, 30, 60, 120];

/** What an order-update record can report: every status after the receipt. */
const STATUSES = ORDER_STATUSES.filter((s) => s !== 'submitted');
/** Orders remembered for their purpose; the oldest are forgotten beyond this (an update that never came). */
const MAX_TRACKED_ORDERS = 50_000;

const known = (set: readonly string[], value: string): string => (set.includes(value) ? value : 'other');

export function createFleetMetrics(registry: Registry = new Registry(), options: FleetMetricsOptions = {}): FleetMetrics {
  const registers = [registry];
  const accounts = new Gauge({
    name: 'riskwarden_accounts',
    help: 'Supervised accounts per top-level state',
    labelNames: ['state'] as const,
    registers,
  });
  const decisions = new Counter({
    name: 'riskwarden_decisions_total',
    help: 'Entry decisions of the pre-trade gate, by outcome and blocking rule',
    labelNames: ['allowed', 'rule'] as const,
    registers,
  });
  const orders = new Counter({
    name: 'riskwarden_orders_total',
    help: 'Orders by purpose: sent, then each status the venue reported',
    labelNames: ['purpose', 'status'] as const,
    registers,
  });
  const latency = new Histogram({
    name: 'riskwarden_reduction_latency_seconds',
    help: 'Seconds from a reduce/exit order to its terminal order-update',
    labelNames: ['purpose'] as const,
    buckets: REDUCTION_LATENCY_BUCKETS,
    registers,
  });
  const feedStale = new Gauge({
    name: 'riskwarden_feed_stale',
    help: 'Venue feed staleness: 1 stale, 0 fresh',
    labelNames: ['feed'] as const,
    registers,
  });
  const redisUp = new Gauge({ name: 'riskwarden_redis_up', help: 'The shared stopout store is reachable: 1 yes, 0 no', registers });
  const leased = new Gauge({ name: 'riskwarden_leased_accounts', help: 'Accounts whose lease this process holds', registers });
  const liquidations = new Counter({ name: 'riskwarden_liquidations_total', help: 'Liquidations the venue reported', registers });
  const stopouts = new Counter({
    name: 'riskwarden_stopouts_total',
    help: 'Stopouts set and reset, by scope',
    labelNames: ['scope', 'action'] as const,
    registers,
  });
  const faults = new Gauge({
    name: 'riskwarden_faults',
    help: 'Faults to alert on: store data loss, sequence repairs, refused snapshots (since start); uncertain leases, held writes (now)',
    labelNames: ['fault'] as const,
    registers,
  });
  for (const fault of FAULT_FIGURES) faults.set({ fault }, 0);
  if (options.processMetrics) collectDefaultMetrics({ register: registry, prefix: 'riskwarden_' });

  // Every state has a series from the start, so a dashboard shows 0 rather than nothing.
  for (const state of ACCOUNT_MODES) accounts.set({ state }, 0);
  liquidations.inc(0);
  const states = new Map<string, string>();
  const publishStates = (): void => {
    const counts = new Map<string, number>(ACCOUNT_MODES.map((m) => [m, 0]));
    for (const s of states.values()) {
      const label = known(ACCOUNT_MODES, s);
      counts.set(label, (counts.get(label) ?? 0) + 1);
    }
    for (const [state, n] of counts) accounts.set({ state }, n);
  };

  interface Tracked {
    purpose: string;
    t: number;
    status: string;
  }
  const tracked = new Map<string, Tracked>();
  const keyOf = (account: string, orderId: string): string => `${account}\u0000${orderId}`;

  const observe = (record: TimelineRecord): void => {
    switch (record.kind) {
      case 'state':
        states.set(record.account, record.to);
        publishStates();
        break;
      case 'risk':
        if (record.state !== undefined && states.get(record.account) !== record.state) {
          states.set(record.account, record.state);
          publishStates();
        }
        break;
      case 'decision':
        if (record.allowed || record.rules.length === 0) decisions.inc({ allowed: String(record.allowed), rule: 'none' });
        else for (const rule of new Set(record.rules)) decisions.inc({ allowed: 'false', rule: known(GATE_RULES, rule) });
        break;
      case 'order': {
        const purpose = known(ORDER_PURPOSES, record.purpose);
        orders.inc({ purpose, status: 'sent' });
        tracked.set(keyOf(record.account, record.orderId), { purpose, t: record.t, status: 'sent' });
        if (tracked.size > MAX_TRACKED_ORDERS) tracked.delete(tracked.keys().next().value!);
        break;
      }
      case 'order-update': {
        const key = keyOf(record.account, record.orderId);
        const order = tracked.get(key);
        const status = known(STATUSES, record.status);
        if (order?.status === status) break;
        orders.inc({ purpose: order?.purpose ?? 'unknown', status });
        if (!order) break;
        order.status = status;
        if (isTerminal(status)) {
          tracked.delete(key);
          if (order.purpose === 'reduce' || order.purpose === 'exit')
            latency.observe({ purpose: order.purpose }, Math.max(0, record.t - order.t) / 1000);
        }
        break;
      }
      case 'liquidation':
        liquidations.inc();
        break;
      case 'stopout':
        stopouts.inc({ scope: known(STOPOUT_SCOPES, record.scope), action: record.action === 'reset' ? 'reset' : 'set' });
        break;
      default:
        break;
    }
  };

  return {
    registry,
    observe,
    setAccountStates(next) {
      states.clear();
      for (const [account, state] of Object.entries(next)) states.set(account, state);
      publishStates();
    },
    setFeedStale(feed, stale) {
      feedStale.set({ feed: known(FEEDS, feed) }, stale ? 1 : 0);
    },
    setRedisHealthy(healthy) {
      redisUp.set(healthy ? 1 : 0);
    },
    setOwnedAccounts(count) {
      leased.set(count);
    },
    setFaults(figures) {
      for (const fault of FAULT_FIGURES) faults.set({ fault }, figures[fault]);
    },
    text: () => registry.metrics(),
  };
}
