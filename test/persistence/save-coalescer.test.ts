import { describe, expect, it } from 'vitest';
import { SaveCoalescer } from '../../src/persistence/save-coalescer.ts';

/** A backend whose writes complete only when the test says so. */
function controlledBackend() {
  const calls: { key: string; value: number; finish(error?: Error): void }[] = [];
  const write = (key: string, value: number): Promise<void> =>
    new Promise((resolve, reject) => calls.push({ key, value, finish: (error) => (error ? reject(error) : resolve()) }));
  return { calls, write };
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('SaveCoalescer', () => {
  it('writes the first value at once and only the latest of those that arrive while it is in flight', async () => {
    const backend = controlledBackend();
    const coalescer = new SaveCoalescer(backend.write);
    const done: number[] = [];
    const saves = [1, 2, 3, 4].map((v) => coalescer.submit('a', v).then(() => void done.push(v)));
    expect(backend.calls.map((c) => c.value)).toEqual([1]);

    backend.calls[0]!.finish();
    await tick();
    expect(done).toEqual([1]);
    expect(backend.calls.map((c) => c.value)).toEqual([1, 4]); // 2 and 3 were replaced by 4

    backend.calls[1]!.finish();
    await Promise.all(saves);
    expect(done).toEqual([1, 2, 3, 4]);
  });

  it('keeps keys independent', () => {
    const backend = controlledBackend();
    const coalescer = new SaveCoalescer(backend.write);
    void coalescer.submit('a', 1);
    void coalescer.submit('b', 1);
    expect(backend.calls.map((c) => c.key)).toEqual(['a', 'b']);
  });

  it('lets merge decide what stays pending', () => {
    const backend = controlledBackend();
    const coalescer = new SaveCoalescer(backend.write, (pending, next) => Math.max(pending, next));
    for (const v of [5, 9, 7]) void coalescer.submit('a', v);
    backend.calls[0]!.finish();
    return tick().then(() => expect(backend.calls.map((c) => c.value)).toEqual([5, 9]));
  });

  it('rejects the saves carried by a failed write, and flush names the key; later writes still run', async () => {
    const backend = controlledBackend();
    const coalescer = new SaveCoalescer(backend.write);
    const first = coalescer.submit('a', 1);
    const flushed = coalescer.flush();
    backend.calls[0]!.finish(new Error('connection lost'));
    await expect(first).rejects.toThrow('connection lost');
    await expect(flushed).rejects.toThrow('snapshot writes failed for a');

    const second = coalescer.submit('a', 2);
    backend.calls[1]!.finish();
    await expect(second).resolves.toBeUndefined();
    await expect(coalescer.flush()).resolves.toBeUndefined();
  });

  it('a write function that throws synchronously rejects like a failed write', async () => {
    const coalescer = new SaveCoalescer<number>(() => {
      throw new Error('boom');
    });
    await expect(coalescer.submit('a', 1)).rejects.toThrow('boom');
  });

  it('drop forgets the pending write; settled waits for the one in flight', async () => {
    const backend = controlledBackend();
    const coalescer = new SaveCoalescer(backend.write);
    void coalescer.submit('a', 1);
    const dropped = coalescer.submit('a', 2);
    coalescer.drop('a');
    await expect(dropped).resolves.toBeUndefined();
    let settled = false;
    const waiting = coalescer.settled('a').then(() => (settled = true));
    await tick();
    expect(settled).toBe(false);
    backend.calls[0]!.finish();
    await waiting;
    expect(backend.calls.map((c) => c.value)).toEqual([1]);
  });
});
