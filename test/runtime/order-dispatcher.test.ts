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

  it('keeps submission order among equals', () => {
    const sent: number[] = [];
    const later = new OrderDispatcher((flush) => queueMicrotask(flush));
    for (let i = 0; i < 5; i += 1) later.submit([1, 0.1], () => sent.push(i));
    return Promise.resolve().then(() => {
      expect(sent).toEqual([0, 1, 2, 3, 4]);
    });
  });
});
