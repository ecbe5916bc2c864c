import { describe, expect, it } from 'vitest';
import { SimClock } from '../../src/clock/clock.ts';
import type { FleetConfig } from '../../src/config/fleet-schema.ts';
import { parseConfigDocument } from '../../src/config/load.ts';
import { applyLedgerEvent, createLedger } from '../../src/domain/ledger.ts';
import { DEFAULT_PRODUCTS } from '../../src/domain/products.ts';
import { planFleet } from '../../src/runtime/fleet-plan.ts';
import { FleetRuntime } from '../../src/runtime/fleet-runtime.ts';
import { MemoryStopoutStore } from '../../src/store/memory-stopout-store.ts';
import type { TimelineRecord } from '../../src/timeline/timeline-record.ts';
import { ScriptedVenue, settle } from '../harness/scripted-venue.ts';

const T0 = Date.UTC(2026, 0, 5, 13);
const N = 200;

/** N accounts long 6 ETHP from 2000, collateral 4200 + i: buffers differ, account 0 the thinnest. */
function fleet(live: boolean) {
  const parsed = parseConfigDocument(
    {
      accounts: Array.from({ length: N }, (_, i) => ({
        id: `a${i}`,
        collateral: String(4200 + i),
        budget: { minMarginBuffer: '0.10', panicMarginBuffer: '0.03', maxGrossNotional: '13000' },
      })),
    },
    { expect: 'fleet' },
  );
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  const clock = new SimClock(T0);
  const venue = new ScriptedVenue();
  const timeline: TimelineRecord[] = [];
  const runtime = new FleetRuntime({
    plan: planFleet(parsed.value as FleetConfig, { ETHP: DEFAULT_PRODUCTS.ETHP!, BTCP: DEFAULT_PRODUCTS.BTCP! }),
    clock,
    venue: venue as never,
    store: new MemoryStopoutStore(),
    origin: T0,
    timeline: { write: (record) => void timeline.push(record) },
    serializeRequests: !live,
  });
  const starts = Object.fromEntries(
    Array.from({ length: N }, (_, i) => {
      const ledger = applyLedgerEvent(createLedger(String(4200 + i)), {
        kind: 'fill',
        id: 'open',
        seq: 1,
        symbol: 'ETHP',
        side: 'buy',
        amount: '6',
        price: '2000',
      }).state;
      return [`a${i}`, { collateral: String(4200 + i), ledger, marks: { ETHP: '2000', BTCP: '40000' } }];
    }),
  );
  runtime.start(starts);
  const mark = (price: string) => venue.emit('mark', { symbol: 'ETHP', price, globalOrdinal: 0, at: clock.now() });
  return { runtime, venue, timeline, mark, clock };
}

describe('mark delivery through the index', () => {
  it('a quiet mark reaches no account, and a read still sees the latest mark', () => {
    const { runtime, mark } = fleet(false);
    for (let k = 0; k < 50; k += 1) mark(String(2000 + (k % 7) - 3));
    expect(runtime.markCounts()).toMatchObject({ marks: 50, visits: 0, delivered: 0 });
    // The last mark, k = 49: 2000 + 49 % 7 − 3 = 1997; 6 ETHP from 2000: equity 4200 + 6·(−3) = 4182
    expect(runtime.accountContext('a0')?.marks.ETHP).toBe('1997');
    expect(runtime.accountContext('a0')?.metrics?.equity).toBe('4182');
    expect(runtime.markCounts().delivered).toBe(1);
  });

  it('an entry is judged at the latest mark even when no mark reached the account', async () => {
    const { runtime, mark, timeline } = fleet(false);
    mark('2080'); // gross 6·2080 = 12480: still below maxGrossNotional 13000, no visit
    expect(runtime.markCounts().visits).toBe(0);
    // 0.3 more at 2080: 6.3·2080 = 13104 > 13000 — at the start mark 2000 it would pass (12600)
    runtime.requestEntry('a5', { symbol: 'ETHP', side: 'buy', amount: '0.3', type: 'limit', price: '2080' });
    await settle();
    const decision = timeline.find((r) => r.kind === 'decision');
    expect(decision).toMatchObject({ account: 'a5', allowed: false });
    expect(JSON.stringify(decision)).toContain('max-gross-notional');
  });

  it('a crash: every account refuses entries at once, reductions go out thinnest buffer first, one each', async () => {
    const { runtime, mark, timeline, venue } = fleet(true);
    await runtime.ready(); // live: the accounts' first bands are computed in the background
    // At 1400: equity 600 + i, gross 8400, maintenance 420: buffer (180 + i)/8400 ≤ 0.045 < 0.10 for every
    // account (de-risking), below 0.03 for i < 72 (panic exit).
    mark('1400');
    // Straight after the mark, before the rest of the fleet's visits have run: flagged accounts refuse.
    for (let i = 0; i < N; i += 1)
      runtime.requestEntry(`a${i}`, { symbol: 'ETHP', side: 'buy', amount: '0.1', type: 'limit', price: '1400' });
    const decisions = timeline.filter((r) => r.kind === 'decision');
    expect(decisions).toHaveLength(N);
    expect(decisions.filter((d) => d.kind === 'decision' && d.allowed)).toEqual([]);
    // No statechart has seen the mark yet (visits start right after the turn's marks): all refused on their flags.
    const flagged = decisions.filter((d) => JSON.stringify(d).includes("before the account's statechart has seen the mark"));
    expect(flagged).toHaveLength(N);
    expect(JSON.stringify(flagged[0])).toContain('min-margin-buffer');
    await settle();
    const firstOrders = venue.placed.map((o) => o.account);
    expect(new Set(firstOrders).size).toBe(N);
    expect(firstOrders).toEqual(Array.from({ length: N }, (_, i) => `a${i}`));
    const modes = runtime.accountIds().map((id) => runtime.accountContext(id)?.mode);
    expect(modes.slice(0, 72).every((m) => m === 'panic-exit')).toBe(true);
    expect(modes.slice(72).every((m) => m === 'de-risking')).toBe(true);
  });

  it("live, before the accounts' first bands are computed: every mark reaches them, entries are still judged exactly", async () => {
    const { runtime, mark, timeline } = fleet(true);
    mark('2001'); // no band yet: this quiet mark reaches every account
    expect(runtime.markCounts().visits).toBe(N);
    mark('1400');
    for (let i = 0; i < N; i += 1)
      runtime.requestEntry(`a${i}`, { symbol: 'ETHP', side: 'buy', amount: '0.1', type: 'limit', price: '1400' });
    const decisions = timeline.filter((r) => r.kind === 'decision');
    expect(decisions).toHaveLength(N);
    expect(decisions.filter((d) => d.kind === 'decision' && d.allowed)).toEqual([]);
    await settle();
    expect(runtime.accountIds().every((id) => runtime.accountContext(id)?.mode !== 'trading')).toBe(true);
  });
});
