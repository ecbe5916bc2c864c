import { describe, expect, it } from 'vitest';
import type { AccountRef } from '../../machines/restorable-account.ts';
import type { SupervisorEvent } from '../../machines/supervisor.ts';
import { AccountLifecycle, type PersistedAccount } from '../../src/runtime/account-lifecycle.ts';
import type { FleetPlan } from '../../src/runtime/fleet-plan.ts';
import type { TimelineRecord } from '../../src/timeline/timeline-record.ts';
import type { TrackedOrder } from '../../src/venue/order-lifecycle.ts';
import { accountContext } from '../machines/account-fixture.ts';

const plan = { accounts: [{ settings: { ...accountContext().settings, accountId: 'a' }, scopes: [] }], groups: [] } as unknown as FleetPlan;
const open = {
  clientOrderId: 'old-1',
  orderHash: '0xold',
  symbol: 'ETHP',
  side: 'buy',
  amount: '1',
  status: 'open',
} as unknown as TrackedOrder;

function setup(options: { account?: AccountRef; cancelled?: () => boolean } = {}) {
  let now = 10_000;
  const sent: SupervisorEvent[] = [];
  const records: TimelineRecord[] = [];
  const reports: string[] = [];
  const persisted: Array<[string, PersistedAccount]> = [];
  const lifecycle = new AccountLifecycle({
    venue: {
      cancelOrder: async () => ({}) as never,
      liveOrders: () => [open],
      order: () => (options.cancelled?.() ? ({ ...open, status: 'cancelled' } as TrackedOrder) : open),
    },
    outlet: { clock: { now: () => now }, origin: 0, write: (r) => records.push(r), report: (m) => reports.push(m) },
    reconcileTimeoutMs: 1_000,
    persist: (id, p) => persisted.push([id, p]),
    plan: () => plan,
    send: (event) => sent.push(event),
    account: () => options.account,
    records: { noteState: () => {}, forget: () => {} },
    onLifecycle: () => {},
  });
  const settle = () => new Promise((resolve) => setImmediate(resolve));
  return { lifecycle, sent, records, reports, persisted, settle, advance: (ms: number) => (now += ms) };
}

describe('account lifecycle', () => {
  it('refuses to start an account that is not in the fleet', async () => {
    const { lifecycle } = setup();
    await expect(lifecycle.startAccount('z', { collateral: '1000' })).rejects.toThrow('account z is not in the fleet');
  });

  it('cancels an open order a takeover does not know and spawns nothing before its end is confirmed', async () => {
    let cancelled = false;
    const { lifecycle, sent, records, settle } = setup({ cancelled: () => cancelled });
    const started = lifecycle.startAccount('a', { collateral: '1000' });
    await settle();
    expect(lifecycle.reconciling()).toEqual(['a']);
    expect(records).toEqual([
      { t: 10_000, kind: 'cancel', account: 'a', orderId: 'old-1', reason: 'takeover: open on the venue, not in the snapshot' },
    ]);
    expect(sent).toEqual([]);
    cancelled = true;
    lifecycle.wake();
    await started;
    expect(sent.map((e) => e.type)).toEqual(['SPAWN_MANY']);
    expect(lifecycle.reconciling()).toEqual([]);
  });

  it('gives a takeover up when the venue does not confirm the cancel in time', async () => {
    const { lifecycle, settle, advance } = setup();
    const started = lifecycle.startAccount('a', { collateral: '1000' });
    await settle();
    advance(1_000);
    lifecycle.wake();
    await expect(started).rejects.toThrow('has not confirmed the cancel of 0xold within 1000 ms');
    expect(lifecycle.reconciling()).toEqual([]);
  });

  it('abandons a takeover whose account is removed while it reconciles', async () => {
    const { lifecycle, sent, settle } = setup();
    const started = lifecycle.startAccount('a', { collateral: '1000' });
    await settle();
    lifecycle.removeAccount('a');
    await started;
    expect(sent.map((e) => e.type)).toEqual(['DESPAWN']); // never spawned
  });

  it('persists the hash of a submitted order, and no longer once the order ended', () => {
    const context = { reduction: null, stopouts: [], orderSeq: 1, orders: { 'a-1': {} }, settings: { riskLimits: [] } };
    let snapshotValue = 'trading';
    const ref = { getSnapshot: () => ({ status: 'active', value: snapshotValue, context }) } as unknown as AccountRef;
    const { lifecycle, persisted } = setup({ account: ref });
    lifecycle.noteHash('a', 'a-1', '0xab');
    lifecycle.submitted('a');
    lifecycle.submitted('a'); // asked again: saved again, the hash may have changed
    lifecycle.forgetHash('a', 'a-1');
    snapshotValue = 'de-risking';
    lifecycle.submitted('a');
    const saved = (value: string) => ({ status: 'active', value, context, historyValue: {}, children: {} });
    expect(persisted).toEqual([
      ['a', { snapshot: saved('trading'), orderHashes: { 'a-1': '0xab' } }],
      ['a', { snapshot: saved('trading'), orderHashes: { 'a-1': '0xab' } }],
      ['a', { snapshot: saved('de-risking'), orderHashes: {} }],
    ]);
  });
});
