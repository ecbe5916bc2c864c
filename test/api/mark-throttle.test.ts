import { afterEach, describe, expect, it, vi } from 'vitest';
import { MarkThrottle } from '../../src/api/mark-throttle.ts';

/* A simulated clock and fake timers: the throttle's timing is checked to the millisecond. */

afterEach(() => {
  vi.useRealTimers();
});

const mark = (symbol: string, price: string) => ({ t: 0, kind: 'mark' as const, symbol, price });

describe('MarkThrottle', () => {
  it('sends at most one mark per symbol per interval, and the last of a burst when the interval ends', () => {
    vi.useFakeTimers();
    let now = 1_000;
    const sent: [number, string, string][] = [];
    const throttle = new MarkThrottle(
      250,
      (m) => sent.push([now, m.symbol, m.price]),
      () => now,
    );
    // Steps land exactly on the times timers are due, so `now` is right when they fire.
    const at = (t: number): void => {
      const step = t - now;
      now = t;
      vi.advanceTimersByTime(step);
    };

    throttle.offer(mark('ETHP', '2000')); // 1000: sent at once
    at(1_100);
    throttle.offer(mark('ETHP', '2001')); // held
    throttle.offer(mark('BTCP', '90000')); // another symbol: sent at once
    at(1_200);
    throttle.offer(mark('ETHP', '2002')); // replaces the held one
    at(1_249);
    expect(sent).toEqual([
      [1_000, 'ETHP', '2000'],
      [1_100, 'BTCP', '90000'],
    ]);
    at(1_250); // 250 ms after the last ETHP: the held 2002 goes
    expect(sent.at(-1)).toEqual([1_250, 'ETHP', '2002']);
    at(1_400);
    throttle.offer(mark('ETHP', '2003')); // 150 ms after: held until 1500
    at(1_500);
    expect(sent.at(-1)).toEqual([1_500, 'ETHP', '2003']);
    at(2_000);
    throttle.offer(mark('ETHP', '2004')); // quiet for 500 ms: at once
    expect(sent.at(-1)).toEqual([2_000, 'ETHP', '2004']);

    // Per symbol, consecutive sends are at least 250 ms apart.
    const eth = sent.filter((s) => s[1] === 'ETHP').map((s) => s[0]);
    for (let i = 1; i < eth.length; i += 1) expect(eth[i]! - eth[i - 1]!).toBeGreaterThanOrEqual(250);
    expect(sent.map((s) => s[2])).toEqual(['2000', '90000', '2002', '2003', '2004']);
    throttle.close();
  });

  it('close drops what is held', () => {
    vi.useFakeTimers();
    let now = 0;
    const sent: string[] = [];
    const throttle = new MarkThrottle(
      250,
      (m) => sent.push(m.price),
      () => now,
    );
    throttle.offer(mark('ETHP', '1'));
    now = 10;
    throttle.offer(mark('ETHP', '2'));
    throttle.close();
    vi.advanceTimersByTime(1_000);
    expect(sent).toEqual(['1']);
  });
});
