import { describe, expect, it } from 'vitest';
import { RandomWalk, markSchedule, randomWalkSchedule } from '../../src/sim/marks.ts';
import { createRng } from '../../src/sim/rng.ts';

describe('markSchedule', () => {
  it('interpolates linearly with one mark per second', () => {
    const marks = markSchedule(
      [
        { at: 0, price: '2000' },
        { at: 5000, price: '1990' },
      ],
      '0.1',
    );
    // −10 over 5 s: −2 per second
    expect(marks).toEqual([
      { at: 0, price: '2000' },
      { at: 1000, price: '1998' },
      { at: 2000, price: '1996' },
      { at: 3000, price: '1994' },
      { at: 4000, price: '1992' },
      { at: 5000, price: '1990' },
    ]);
  });

  it('rounds each mark to the tick (ties to even)', () => {
    const marks = markSchedule(
      [
        { at: 0, price: '2000' },
        { at: 3000, price: '2000.1' },
      ],
      '0.1',
    );
    // 2000 + 0.1·k/3: 2000.0333 → 2000, 2000.0667 → 2000.1
    expect(marks.map((m) => m.price)).toEqual(['2000', '2000', '2000.1', '2000.1']);
    const ties = markSchedule(
      [
        { at: 0, price: '100' },
        { at: 2000, price: '101' },
      ],
      '1',
    );
    // 100.5 is a tie: to even → 100
    expect(ties.map((m) => m.price)).toEqual(['100', '100', '101']);
    expect(markSchedule([{ at: 0, price: '42000.6' }], '1')).toEqual([{ at: 0, price: '42001' }]);
  });

  it('makes no intermediate marks before a jump point (a gap)', () => {
    const marks = markSchedule(
      [
        { at: 0, price: '2000' },
        { at: 2000, price: '1880' },
        { at: 5000, price: '1700', jump: true },
        { at: 7000, price: '1702' },
      ],
      '0.1',
    );
    expect(marks).toEqual([
      { at: 0, price: '2000' },
      { at: 1000, price: '1940' },
      { at: 2000, price: '1880' },
      { at: 5000, price: '1700' },
      { at: 6000, price: '1701' },
      { at: 7000, price: '1702' },
    ]);
  });

  it('puts intermediate marks on whole seconds since the start', () => {
    const marks = markSchedule(
      [
        { at: 500, price: '10' },
        { at: 2500, price: '12' },
      ],
      '0.01',
    );
    // slope 1 per second: t=1000 → 10.5, t=2000 → 11.5
    expect(marks).toEqual([
      { at: 500, price: '10' },
      { at: 1000, price: '10.5' },
      { at: 2000, price: '11.5' },
      { at: 2500, price: '12' },
    ]);
  });

  it('names the point that is wrong', () => {
    expect(() =>
      markSchedule(
        [
          { at: 1000, price: '1' },
          { at: 1000, price: '2' },
        ],
        '0.1',
      ),
    ).toThrow('marks[1].at');
    expect(() => markSchedule([{ at: 0, price: '-1' }], '0.1')).toThrow('marks[0].price');
  });
});

describe('random walk', () => {
  it('is a function of the seed and stays on the tick grid', () => {
    const a = randomWalkSchedule(createRng(7), { start: '2000', tickSize: '0.1', maxStepTicks: 5, steps: 50 });
    const b = randomWalkSchedule(createRng(7), { start: '2000', tickSize: '0.1', maxStepTicks: 5, steps: 50 });
    const c = randomWalkSchedule(createRng(8), { start: '2000', tickSize: '0.1', maxStepTicks: 5, steps: 50 });
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(a[0]).toEqual({ at: 0, price: '2000' });
    expect(a[49]!.at).toBe(49_000);
    for (const m of a) expect(/^\d+(\.\d)?$/.test(m.price)).toBe(true);
  });

  it('never goes below one tick', () => {
    const walk = new RandomWalk(createRng(1), { start: '0.2', tickSize: '0.1', maxStepTicks: 10 });
    for (let i = 0; i < 200; i++) expect(Number(walk.next())).toBeGreaterThanOrEqual(0.1);
  });
});
