import { describe, expect, it } from 'vitest';
import { CANCEL_PRIORITY, OrderDispatcher, orderPriority } from '../../src/runtime/order-dispatcher.ts';

describe('order dispatcher', () => {
  it('sends after the burst, cancels first, then exits, reductions and entries, thinnest buffer first', () => {
    const flushes: Array<() => void> = [];
    const dispatcher = new OrderDispatcher((flush) => flushes.push(flush));
    const sent: string[] = [];
    dispatcher.submit(orderPriority('entry', '0.5'), () => sent.push('entry'));
    dispatcher.submit(orderPriority('reduce', '0.08'), () => sent.push('reduce 0.08'));
    dispatcher.submit(orderPriority('exit', '0.02'), () => sent.push('exit 0.02'));
    dispatcher.submit(orderPriority('exit', '-0.01'), () => sent.push('exit -0.01'));
    dispatcher.submit(CANCEL_PRIORITY, () => sent.push('cancel'));
    dispatcher.submit(orderPriority('reduce', null), () => sent.push('reduce flat'));
    expect(sent).toEqual([]); // nothing before the burst is over
    expect(flushes).toHaveLength(1); // one flush for the whole burst
    flushes[0]!();
    expect(sent).toEqual(['cancel', 'exit -0.01', 'exit 0.02', 'reduce 0.08', 'reduce flat', 'entry']);
  });

  it('sends at most a slice per flush, most urgent first, and lets later urgent requests overtake the rest', () => {
    const flushes: Array<() => void> = [];
    const dispatcher = new OrderDispatcher((flush) => flushes.push(flush), 2);
    const sent: string[] = [];
    for (const b of ['0.09', '0.01', '0.05', '0.07']) dispatcher.submit(orderPriority('reduce', b), () => sent.push(`reduce ${b}`));
    flushes.shift()!();
    expect(sent).toEqual(['reduce 0.01', 'reduce 0.05']);
    dispatcher.submit(orderPriority('exit', '0.02'), () => sent.push('exit 0.02'));
    expect(flushes).toHaveLength(1); // the rest is already scheduled
    flushes.shift()!();
    expect(sent).toEqual(['reduce 0.01', 'reduce 0.05', 'exit 0.02', 'reduce 0.07']);
    flushes.shift()!();
    expect(sent.at(-1)).toBe('reduce 0.09');
    expect(flushes).toHaveLength(0);
  });

  it('keeps submission order among equals', () => {
    const sent: number[] = [];
    const later = new OrderDispatcher((flush) => queueMicrotask(flush));
    for (let i = 0; i < 5; i += 1) later.submit([1, 0.1], () => sent.push(i));
    return Promise.resolve().then(() => {
      expect(sent).toEqual([0, 1, 2, 3, 4]);
    });
  });
});
