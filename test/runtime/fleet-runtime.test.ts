import { describe, expect, it } from 'vitest';
import { SimClock } from '../../src/clock/clock.ts';
import type { FleetConfig } from '../../src/config/fleet-schema.ts';
import { parseConfigDocument } from '../../src/config/load.ts';
import { DEFAULT_PRODUCTS } from '../../src/domain/products.ts';
import { planFleet } from '../../src/runtime/fleet-plan.ts';
import { FleetRuntime, STORE_UNREACHABLE } from '../../src/runtime/fleet-runtime.ts';
import { MemoryStopoutStore } from '../../src/store/memory-stopout-store.ts';
import type { TimelineRecord } from '../../src/timeline/timeline-record.ts';

const T0 = Date.parse('2026-03-01T00:00:00.000Z');

function fleet(): FleetConfig {
  const parsed = parseConfigDocument(
    {
      accounts: [
        { id: 'alpha', collateral: '10000', budget: { maxPositionSize: { ETHP: '5' } } },
        { id: 'beta', collateral: '5000', budget: { maxPositionSize: { ETHP: '5' } } },
      ],
    },
    { expect: 'fleet' },
  );
  if (!parsed.ok) throw new Error(`test fleet: ${JSON.stringify(parsed.problems)}`);
  return parsed.value as FleetConfig;
}

/** A fleet on a venue that only emits what the test hands it. */
function runtime() {
  const handlers = new Map<string, (payload: never) => void>();
  const clock = new SimClock(T0);
  const timeline: TimelineRecord[] = [];
  const fleetRuntime = new FleetRuntime({
    plan: planFleet(fleet(), DEFAULT_PRODUCTS),
    clock,
    venue: {
      placeOrder: async () => ({}) as never,
      cancelOrder: async () => ({}) as never,
      on: ((name: string, handler: (payload: never) => void) => {
        handlers.set(name, handler);
      }) as never,
    },
    store: new MemoryStopoutStore({ clock }),
    timeline: { write: (record) => timeline.push(record) },
    origin: T0,
    serializeRequests: true,
  });
  const emit = (name: string, payload: unknown) => handlers.get(name)!(payload as never);
  return { fleetRuntime, emit, timeline, clock };
}

describe('fleet runtime', () => {
  it('stop stops every account actor and the supervisor', () => {
    const { fleetRuntime } = runtime();
    fleetRuntime.start({ alpha: { collateral: '10000' }, beta: { collateral: '5000' } });
    const refs = fleetRuntime.accountIds().map((id) => fleetRuntime.account(id)!);
    fleetRuntime.stop();
    expect(refs.map((ref) => ref.getSnapshot().status)).toEqual(['stopped', 'stopped']);
    expect(fleetRuntime.supervisor.getSnapshot().status).toBe('stopped');
  });

  it('delivers a mark to every account once, after the mark record', () => {
    const { fleetRuntime, emit, timeline } = runtime();
    fleetRuntime.start({ alpha: { collateral: '10000' }, beta: { collateral: '5000' } });
    expect(fleetRuntime.accountIds()).toEqual(['alpha', 'beta']);
    emit('mark', { symbol: 'ETHP', price: '2100', globalOrdinal: 1, at: T0 + 1_000 });
    expect(timeline[0]).toEqual({ t: 1_000, kind: 'mark', symbol: 'ETHP', price: '2100' });
    expect(fleetRuntime.accountContext('alpha')?.marks.ETHP).toBe('2100');
    expect(fleetRuntime.accountContext('beta')?.marks.ETHP).toBe('2100');
    fleetRuntime.stop();
  });

  it('sets a stopout for an operator and lets the store change reach the account', async () => {
    const { fleetRuntime, timeline } = runtime();
    fleetRuntime.start({ alpha: { collateral: '10000' }, beta: { collateral: '5000' } });
    const outcome = await fleetRuntime.operate({ action: 'set-stopout', scope: 'account', id: 'alpha', reason: 'manual', by: 'ops' });
    expect(outcome).toEqual({ result: 'ok' });
    expect(timeline.map((r) => r.kind)).toContain('stopout');
    expect(timeline.at(-1)).toMatchObject({ kind: 'operator', action: 'set-stopout', result: 'ok', by: 'ops' });
    expect(fleetRuntime.accountContext('alpha')?.stopouts.map((s) => s.reason)).toEqual(['manual']);
    expect(fleetRuntime.accountContext('beta')?.stopouts).toEqual([]);
    expect(fleetRuntime.summary()).toMatchObject({ kind: 'summary', blockedEntries: { alpha: 0, beta: 0 }, liquidated: [] });
    fleetRuntime.stop();
  });

  it('keeps its public API and the names other code imports', () => {
    const names = Object.getOwnPropertyNames(FleetRuntime.prototype).sort();
    expect(names).toEqual(
      [
        'account',
        'accountContext',
        'accountIds',
        'addAccount',
        'checkEntry',
        'constructor',
        'markCounts',
        'onForeignOrder',
        'operate',
        'plan',
        'ready',
        'reconciling',
        'removeAccount',
        'replacePlan',
        'requestEntry',
        'resetRefusal',
        'resumeAccount',
        'spawnOwnership',
        'start',
        'startAccount',
        'stop',
        'summary',
        'tick',
        'writeRiskRecords',
      ].sort(),
    );
    expect(STORE_UNREACHABLE).toBe('store-unreachable');
  });
});
