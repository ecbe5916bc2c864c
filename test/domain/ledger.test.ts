import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dec, str, ZERO } from '../../src/domain/decimal.ts';
import {
  applyLedgerEvent,
  createLedger,
  LedgerError,
  positionSize,
  projectFill,
  type LedgerEvent,
  type LedgerOutcome,
  type LedgerState,
  type LedgerWindow,
} from '../../src/domain/ledger.ts';

/** Applies events in the given order, expecting each outcome to be one of `allowed`. */
function run(state: LedgerState, events: readonly LedgerEvent[], allowed: LedgerOutcome[] = ['applied']): LedgerState {
  for (const e of events) {
    const r = applyLedgerEvent(state, e);
    if (!allowed.includes(r.outcome)) throw new Error(`event ${e.id}: ${r.outcome} ${r.reason ?? ''}`);
    state = r.state;
  }
  return state;
}

let nextSeq = 0;
const fill = (side: 'buy' | 'sell', amount: string, price: string, fee?: string, symbol = 'ETHP'): LedgerEvent => {
  nextSeq += 10;
  const e: LedgerEvent = { kind: 'fill', id: `f${nextSeq}`, seq: nextSeq, symbol, side, amount, price };
  return fee === undefined ? e : { ...e, fee };
};
const other = (kind: 'fee' | 'funding' | 'deposit' | 'withdrawal', amount: string): LedgerEvent => {
  nextSeq += 10;
  return { kind, id: `${kind}${nextSeq}`, seq: nextSeq, amount };
};

function conserved(s: LedgerState): boolean {
  // collateral = initial + realized − fees + funding + net transfers
  return dec(s.collateral).eq(dec(s.initialCollateral).plus(s.realizedPnl).minus(s.feesPaid).plus(s.fundingReceived).plus(s.netTransfers));
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

describe('ledger accounting', () => {
  it('adds, reduces, flips, pays fees and funding, moves transfers, is liquidated', () => {
    let s = createLedger('10000');
    expect(s).toMatchObject({
      collateral: '10000',
      realizedPnl: '0',
      feesPaid: '0',
      fundingReceived: '0',
      netTransfers: '0',
      positions: {},
      lastSeq: -1,
    });

    s = run(s, [fill('buy', '2', '2000', '1')]);
    // open long 2 @ 2000; fee 1 → collateral 10000 − 1 = 9999
    expect(s.positions).toEqual({ ETHP: { size: '2', avgEntry: '2000' } });
    expect([s.collateral, s.feesPaid]).toEqual(['9999', '1']);

    s = run(s, [fill('buy', '1', '2030', '0.5')]);
    // add: avg = (2×2000 + 1×2030) / 3 = 6030 / 3 = 2010; collateral 9999 − 0.5 = 9998.5
    expect(s.positions).toEqual({ ETHP: { size: '3', avgEntry: '2010' } });
    expect(s.collateral).toBe('9998.5');

    s = run(s, [fill('sell', '1', '2100')]);
    // reduce: realize (2100 − 2010) × 1 = 90; entry unchanged; collateral 9998.5 + 90 = 10088.5
    expect(s.positions).toEqual({ ETHP: { size: '2', avgEntry: '2010' } });
    expect([s.realizedPnl, s.collateral]).toEqual(['90', '10088.5']);

    s = run(s, [fill('sell', '5', '1990')]);
    // flip: close 2, realize (1990 − 2010) × 2 = −40 → realized 50; the other 3 open short at 1990
    expect(s.positions).toEqual({ ETHP: { size: '-3', avgEntry: '1990' } });
    expect([s.realizedPnl, s.collateral]).toEqual(['50', '10048.5']);

    s = run(s, [other('funding', '-2.5'), other('fee', '1.5')]);
    // funding paid 2.5, fee 1.5: 10048.5 − 2.5 − 1.5 = 10044.5
    expect([s.fundingReceived, s.feesPaid, s.collateral]).toEqual(['-2.5', '3', '10044.5']);

    s = run(s, [other('deposit', '1000'), other('withdrawal', '300')]);
    // 10044.5 + 1000 − 300 = 10744.5; net transfers 1000 − 300 = 700
    expect([s.collateral, s.netTransfers]).toEqual(['10744.5', '700']);

    nextSeq += 10;
    s = run(s, [{ kind: 'liquidation', id: 'liq', seq: nextSeq, symbol: 'ETHP', price: '2050' }]);
    // short 3 from 1990 closed at 2050: (2050 − 1990) × −3 = −180 → realized 50 − 180 = −130
    expect(s.positions).toEqual({});
    expect([s.realizedPnl, s.collateral]).toEqual(['-130', '10564.5']);
    // 10000 + (−130) − 3 + (−2.5) + 700 = 10564.5
    expect(conserved(s)).toBe(true);
    expect(s.lastSeq).toBe(nextSeq);
  });

  it('realizes a short correctly and keeps its entry when reducing', () => {
    let s = run(createLedger('5000'), [fill('sell', '2', '2000'), fill('sell', '2', '1900')]);
    // avg = (2×2000 + 2×1900) / 4 = 1950
    expect(s.positions.ETHP).toEqual({ size: '-4', avgEntry: '1950' });
    s = run(s, [fill('buy', '1', '1800')]);
    // short profits when the price falls: (1800 − 1950) × 1 × (−1) = 150
    expect(s.positions.ETHP).toEqual({ size: '-3', avgEntry: '1950' });
    expect([s.realizedPnl, s.collateral]).toEqual(['150', '5150']);
    expect(str(positionSize(s, 'ETHP'))).toBe('-3');
    expect(positionSize(s, 'BTCP').eq(ZERO)).toBe(true);
  });

  it('closes to flat and removes the symbol; a fee rebate adds to collateral', () => {
    const s = run(createLedger('1000'), [fill('buy', '0.5', '2000', '-0.25'), fill('sell', '0.5', '2000.1')]);
    // rebate 0.25 → fees −0.25; realized (2000.1 − 2000) × 0.5 = 0.05; 1000 + 0.25 + 0.05 = 1000.3
    expect(s.positions).toEqual({});
    expect([s.feesPaid, s.realizedPnl, s.collateral]).toEqual(['-0.25', '0.05', '1000.3']);
  });

  it('rounds a non-terminating average entry to 12 decimals, half-even', () => {
    const s = run(createLedger('1000'), [fill('buy', '1', '2000'), fill('buy', '2', '2001')]);
    // (1×2000 + 2×2001) / 3 = 6002 / 3 = 2000.6666… → 2000.666666666667
    expect(s.positions.ETHP).toEqual({ size: '3', avgEntry: '2000.666666666667' });
  });

  it('keeps several symbols apart, keys sorted', () => {
    const s = run(createLedger('1000'), [fill('buy', '1', '2000', undefined, 'ETHP'), fill('sell', '0.01', '60000', undefined, 'BTCP')]);
    expect(Object.keys(s.positions)).toEqual(['BTCP', 'ETHP']);
    expect(s.positions.BTCP).toEqual({ size: '-0.01', avgEntry: '60000' });
  });

  it('ignores a liquidation of a flat symbol (a late earlier fill replays before it)', () => {
    const s0 = createLedger('1000');
    const liq: LedgerEvent = { kind: 'liquidation', id: 'liq', seq: 20, symbol: 'ETHP', price: '1900' };
    const open: LedgerEvent = { kind: 'fill', id: 'open', seq: 10, symbol: 'ETHP', side: 'buy', amount: '1', price: '2000' };
    const first = applyLedgerEvent(s0, liq);
    expect(first.outcome).toBe('applied');
    expect(first.state.positions).toEqual({});
    const second = applyLedgerEvent(first.state, open);
    expect(second.outcome).toBe('reordered');
    // in seq order: open 1 @ 2000, then liquidated at 1900: realized −100
    expect([second.state.realizedPnl, second.state.collateral]).toEqual(['-100', '900']);
    expect(second.state).toEqual(run(s0, [open, liq]));
  });

  it('canonicalises decimals and drops unknown fields of an event', () => {
    const raw = { kind: 'fill', id: 'x', seq: 1, symbol: 'ETHP', side: 'buy', amount: '1.50', price: '2000.0', fee: '0.10', extra: 'junk' };
    const s = applyLedgerEvent(createLedger('100.00'), raw as LedgerEvent).state;
    expect(s.journal).toEqual([{ kind: 'fill', id: 'x', seq: 1, symbol: 'ETHP', side: 'buy', amount: '1.5', price: '2000', fee: '0.1' }]);
    expect(s.positions.ETHP).toEqual({ size: '1.5', avgEntry: '2000' });
    expect(s.initialCollateral).toBe('100');
  });

  it('is JSON-serialisable and does not mutate its inputs', () => {
    let s = deepFreeze(createLedger('10000'));
    const events = deepFreeze([fill('buy', '1', '2000', '1'), other('funding', '0.3'), fill('sell', '2', '2010')]);
    s = run(s, [events[0]!, events[2]!]);
    const late = applyLedgerEvent(deepFreeze(s), events[1]!);
    expect(late.outcome).toBe('reordered');
    const copy = JSON.parse(JSON.stringify(late.state)) as LedgerState;
    expect(copy).toEqual(late.state);
    const next = fill('buy', '1', '2020');
    expect(applyLedgerEvent(copy, next)).toEqual(applyLedgerEvent(late.state, next));
  });

  it('refuses a bad initial collateral or window', () => {
    expect(() => createLedger('ten')).toThrow(LedgerError);
    expect(() => createLedger('1', { journal: 0 })).toThrow('window.journal: expected an integer >= 1, got 0');
    expect(() => createLedger('1', { journal: 8, ids: 4 })).toThrow('window.ids: expected an integer >= window.journal (8), got 4');
  });

  it('projectFill applies a fill to the book only', () => {
    const s = run(createLedger('1000'), [fill('buy', '1', '2000')]);
    const b = projectFill(s, { symbol: 'ETHP', side: 'buy', amount: '1', price: '2100' });
    // avg (2000 + 2100) / 2 = 2050
    expect(b.positions.ETHP).toEqual({ size: '2', avgEntry: '2050' });
    expect(s.positions.ETHP).toEqual({ size: '1', avgEntry: '2000' });
    expect(() => projectFill(s, { symbol: 'ETHP', side: 'buy', amount: '-1', price: '2100' })).toThrow('fill.amount: must be > 0');
  });
});

describe('ledger event order and identity', () => {
  const ev = (id: string, seq: number, amount = '1', side: 'buy' | 'sell' = 'buy'): LedgerEvent => ({
    kind: 'fill',
    id,
    seq,
    symbol: 'ETHP',
    side,
    amount,
    price: String(2000 + seq),
  });

  it('a repeated id is a duplicate and changes nothing', () => {
    const once = applyLedgerEvent(createLedger('1000'), ev('a', 5));
    const twice = applyLedgerEvent(once.state, ev('a', 5));
    expect(twice.outcome).toBe('duplicate');
    expect(twice.state).toBe(once.state);
    // Even with other content or another seq: the id decides.
    expect(applyLedgerEvent(once.state, ev('a', 99, '7')).outcome).toBe('duplicate');
  });

  it('a late event inside the window is inserted in seq order and replayed', () => {
    const s0 = createLedger('1000');
    const [a, b, c] = [ev('a', 10, '1'), ev('b', 20, '2', 'sell'), ev('c', 30, '3')];
    const r = applyLedgerEvent(run(s0, [a, c]), b);
    expect(r.outcome).toBe('reordered');
    expect(r.state).toEqual(run(s0, [a, b, c]));
    // buy 1 @ 2010, sell 2 @ 2020 (realize (2020 − 2010) × 1 = 10, short 1 @ 2020), buy 3 @ 2030
    // (realize (2020 − 2030) × 1 = −10, long 2 @ 2030): realized 0.
    expect(r.state.positions.ETHP).toEqual({ size: '2', avgEntry: '2030' });
    expect(r.state.realizedPnl).toBe('0');
    expect(r.state.lastSeq).toBe(30);
  });

  it('an event older than the replay window is rejected as too old', () => {
    // Seqs 10, 20, …, 2570: 257 events; the journal keeps 256, so seq 10 is folded into the checkpoint.
    const events = Array.from({ length: 257 }, (_, i) => ev(`e${i}`, (i + 1) * 10, '0.1'));
    const s = run(createLedger('1000'), events);
    expect(s.journal).toHaveLength(256);
    expect(s.checkpoint.lastSeq).toBe(10);
    expect(applyLedgerEvent(s, ev('late', 5))).toEqual({
      state: s,
      outcome: 'rejected',
      reason: 'too-old: seq 5 precedes the replay window starting at 11',
    });
    // Seq 15 is still inside the window (after the checkpoint's 10).
    expect(applyLedgerEvent(s, ev('late', 15)).outcome).toBe('reordered');
  });

  it('an id forgotten by the bounded memory is still never applied twice (the seq rule backstops it)', () => {
    const w: Partial<LedgerWindow> = { journal: 2, ids: 3 };
    const events = [1, 2, 3, 4, 5, 6].map((n) => ev(`e${n}`, n));
    const s = run(createLedger('1000', w), events);
    // remembered: journal e5, e6 + one folded id e4
    expect(s.checkpointIds).toEqual(['e4']);
    expect(applyLedgerEvent(s, events[3]!).outcome).toBe('duplicate');
    const r = applyLedgerEvent(s, events[0]!);
    expect(r.outcome).toBe('rejected');
    expect(r.reason).toBe('too-old: seq 1 precedes the replay window starting at 5');
  });

  it('another event with an applied seq is a conflict', () => {
    const s = run(createLedger('1000'), [ev('a', 10), ev('b', 20)]);
    for (const seq of [10, 20]) {
      const r = applyLedgerEvent(s, ev('z', seq));
      expect(r.outcome).toBe('rejected');
      expect(r.state).toBe(s);
      expect(r.reason).toBe(`conflicting-seq: seq ${seq} was already applied as event "${seq === 10 ? 'a' : 'b'}", not "z"`);
    }
  });

  it.each([
    [
      'a non-decimal amount',
      { kind: 'fill', id: 'm', seq: 1, symbol: 'ETHP', side: 'buy', amount: 'abc', price: '1' },
      'malformed: fill.amount: expected a decimal string, got "abc"',
    ],
    ['an exponent', { kind: 'deposit', id: 'm', seq: 1, amount: '1e3' }, 'malformed: deposit.amount: expected a decimal string, got "1e3"'],
    ['a number for a decimal', { kind: 'fee', id: 'm', seq: 1, amount: 5 }, 'malformed: fee.amount: expected a decimal string, got 5'],
    [
      'a negative fill amount',
      { kind: 'fill', id: 'm', seq: 1, symbol: 'ETHP', side: 'sell', amount: '-1', price: '1' },
      'malformed: fill.amount: must be > 0, got "-1"',
    ],
    [
      'a zero fill price',
      { kind: 'fill', id: 'm', seq: 1, symbol: 'ETHP', side: 'sell', amount: '1', price: '0' },
      'malformed: fill.price: must be > 0, got "0"',
    ],
    [
      'a bad fill fee',
      { kind: 'fill', id: 'm', seq: 1, symbol: 'ETHP', side: 'sell', amount: '1', price: '1', fee: 'x' },
      'malformed: fill.fee: expected a decimal string, got "x"',
    ],
    [
      'a bad side',
      { kind: 'fill', id: 'm', seq: 1, symbol: 'ETHP', side: 'long', amount: '1', price: '1' },
      'malformed: fill.side: expected "buy" or "sell", got "long"',
    ],
    [
      'no symbol',
      { kind: 'liquidation', id: 'm', seq: 1, price: '1' },
      'malformed: liquidation.symbol: expected a non-empty string, got nothing',
    ],
    ['a negative deposit', { kind: 'deposit', id: 'm', seq: 1, amount: '-5' }, 'malformed: deposit.amount: must be >= 0, got "-5"'],
    [
      'a negative withdrawal',
      { kind: 'withdrawal', id: 'm', seq: 1, amount: '-5' },
      'malformed: withdrawal.amount: must be >= 0, got "-5"',
    ],
    ['a negative seq', { kind: 'fee', id: 'm', seq: -1, amount: '1' }, 'malformed: fee.seq: expected an integer >= 0, got -1'],
    ['a fractional seq', { kind: 'fee', id: 'm', seq: 1.5, amount: '1' }, 'malformed: fee.seq: expected an integer >= 0, got 1.5'],
    ['an empty id', { kind: 'fee', id: '', seq: 1, amount: '1' }, 'malformed: fee.id: expected a non-empty string, got ""'],
    [
      'an unknown kind',
      { kind: 'bonus', id: 'm', seq: 1, amount: '1' },
      'malformed: kind: expected one of fill, fee, funding, deposit, withdrawal, liquidation, got "bonus"',
    ],
    ['null', null, 'malformed: event: expected an object, got null'],
  ])('rejects %s without throwing', (_, event, reason) => {
    const s = run(createLedger('1000'), [ev('a', 0)]);
    expect(applyLedgerEvent(s, event as unknown as LedgerEvent)).toEqual({ state: s, outcome: 'rejected', reason });
  });

  it('allows a negative fee (a rebate) and negative funding (paid)', () => {
    const s = run(createLedger('1000'), [
      { kind: 'fee', id: 'r', seq: 1, amount: '-2' },
      { kind: 'funding', id: 'f', seq: 2, amount: '-0.5' },
    ]);
    expect([s.feesPaid, s.fundingReceived, s.collateral]).toEqual(['-2', '-0.5', '1001.5']); // 1000 + 2 − 0.5
  });
});

describe('ledger properties', () => {
  const options = { seed: 42, numRuns: 500 };
  const SYMBOLS = ['ETHP', 'BTCP'] as const;
  const decimal = (min: number, max: number, scale: number) => fc.integer({ min, max }).map((n) => str(dec(n).div(scale)));

  type Body = { [K in LedgerEvent['kind']]: Omit<Extract<LedgerEvent, { kind: K }>, 'id' | 'seq'> }[LedgerEvent['kind']];
  const fillBody = fc
    .record({
      kind: fc.constant('fill' as const),
      symbol: fc.constantFrom(...SYMBOLS),
      side: fc.constantFrom('buy' as const, 'sell' as const),
      amount: decimal(1, 50_000, 10_000), // 0.0001 … 5
      price: decimal(10_000, 40_000, 10), // 1000 … 4000 on a 0.1 grid
      fee: fc.option(decimal(-100, 1000, 100), { nil: undefined }),
    })
    .map(({ fee, ...rest }): Body => (fee === undefined ? rest : { ...rest, fee }));
  const otherBody = fc.oneof(
    fc.record({ kind: fc.constantFrom('fee' as const, 'funding' as const), amount: decimal(-1000, 1000, 100) }),
    fc.record({ kind: fc.constantFrom('deposit' as const, 'withdrawal' as const), amount: decimal(0, 100_000, 100) }),
    fc.record({ kind: fc.constant('liquidation' as const), symbol: fc.constantFrom(...SYMBOLS), price: decimal(10_000, 40_000, 10) }),
  );
  /** Events with distinct ids and distinct, gappy, increasing seqs (listed in seq order). */
  const eventsOf = (body: fc.Arbitrary<Body>, maxLength: number) =>
    fc.array(fc.tuple(body, fc.integer({ min: 1, max: 5 })), { minLength: 1, maxLength }).map((list) => {
      let seq = 0;
      return list.map(([b, gap], i): LedgerEvent => {
        seq += gap;
        return { ...b, id: `e${i}`, seq } as LedgerEvent;
      });
    });
  const permuted = (body: fc.Arbitrary<Body>, maxLength: number) =>
    eventsOf(body, maxLength).chain((events) =>
      fc.shuffledSubarray(events, { minLength: events.length, maxLength: events.length }).map((order) => ({ events, order })),
    );

  it('(a) any arrival order inside the window: positions are the signed sum of fills, and the state equals in-order application', () => {
    fc.assert(
      fc.property(permuted(fillBody, 60), ({ events, order }) => {
        const s0 = createLedger('10000');
        const inOrder = run(s0, events);
        const shuffled = run(s0, order, ['applied', 'reordered']);
        expect(shuffled).toEqual(inOrder);
        for (const symbol of SYMBOLS) {
          const sum = events.reduce(
            (acc, e) => (e.kind === 'fill' && e.symbol === symbol ? (e.side === 'buy' ? acc.plus(e.amount) : acc.minus(e.amount)) : acc),
            ZERO,
          );
          expect(str(positionSize(shuffled, symbol))).toBe(str(sum));
        }
      }),
      options,
    );
  });

  it('(a) with every kind of event, too: the state equals in-order application', () => {
    fc.assert(
      fc.property(permuted(fc.oneof(fillBody, fillBody, otherBody), 60), ({ events, order }) => {
        const s0 = createLedger('10000');
        expect(run(s0, order, ['applied', 'reordered'])).toEqual(run(s0, events));
      }),
      options,
    );
  });

  it('(a) with a small window: the state equals in-order application of the events it accepted', () => {
    fc.assert(
      fc.property(permuted(fc.oneof(fillBody, otherBody), 30), fc.integer({ min: 1, max: 6 }), ({ order }, journal) => {
        const s0 = createLedger('10000', { journal, ids: journal * 2 });
        let s = s0;
        const accepted: LedgerEvent[] = [];
        for (const e of order) {
          const r = applyLedgerEvent(s, e);
          if (r.outcome === 'rejected') expect(r.reason).toMatch(/^too-old: /);
          else {
            expect(['applied', 'reordered']).toContain(r.outcome);
            accepted.push(e);
          }
          s = r.state;
        }
        expect(s).toEqual(
          run(
            s0,
            [...accepted].sort((x, y) => x.seq - y.seq),
          ),
        );
      }),
      options,
    );
  });

  it('(b) applying the same event twice equals applying it once', () => {
    fc.assert(
      fc.property(permuted(fc.oneof(fillBody, otherBody), 30), fc.nat(), ({ order }, pick) => {
        const prefix = run(createLedger('10000'), order.slice(0, -1), ['applied', 'reordered']);
        const e = order[pick % order.length]!;
        const once = applyLedgerEvent(prefix, e);
        const twice = applyLedgerEvent(once.state, e);
        expect(twice.outcome).toBe('duplicate');
        expect(twice.state).toEqual(once.state);
      }),
      options,
    );
  });

  it('(b) duplicates sprinkled anywhere change nothing', () => {
    fc.assert(
      fc.property(eventsOf(fc.oneof(fillBody, otherBody), 30), fc.array(fc.nat(), { maxLength: 30 }), (events, picks) => {
        const noisy: LedgerEvent[] = [];
        events.forEach((e, i) => {
          noisy.push(e);
          for (const p of picks.filter((q) => q % events.length <= i && q % 3 === i % 3)) noisy.push(events[p % events.length]!);
        });
        const s0 = createLedger('10000');
        expect(run(s0, noisy, ['applied', 'duplicate'])).toEqual(run(s0, events));
      }),
      options,
    );
  });

  it('(d) money is conserved: collateral = initial + realized − fees + funding + net transfers', () => {
    fc.assert(
      fc.property(permuted(fc.oneof(fillBody, otherBody), 60), decimal(0, 10_000_000, 100), ({ order }, initial) => {
        let s = createLedger(initial);
        for (const e of order) {
          s = applyLedgerEvent(s, e).state;
          expect(conserved(s)).toBe(true);
        }
      }),
      options,
    );
  });
});
