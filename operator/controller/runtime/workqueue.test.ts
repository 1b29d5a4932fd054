import { afterEach, describe, expect, it, vi } from 'vitest';
import { WorkQueue } from './workqueue.ts';

describe('WorkQueue', () => {
  afterEach(() => vi.useRealTimers());

  it('queues a key once however often it is added', async () => {
    const queue = new WorkQueue();
    queue.add('ns/a');
    queue.add('ns/a');
    queue.add('ns/b');
    expect(queue.length).toBe(2);
    expect(await queue.get()).toBe('ns/a');
    expect(await queue.get()).toBe('ns/b');
  });

  it('never hands a key in progress to a second worker, and requeues it when done', async () => {
    const queue = new WorkQueue();
    queue.add('ns/a');
    const first = await queue.get();
    queue.add('ns/a');
    expect(queue.length).toBe(0);
    let second: string | undefined;
    void queue.get().then((key) => (second = key));
    await Promise.resolve();
    expect(second).toBeUndefined();
    queue.done(first!);
    await Promise.resolve();
    expect(second).toBe('ns/a');
  });

  it('backs off exponentially per key up to the cap, and forget resets it', () => {
    vi.useFakeTimers();
    const queue = new WorkQueue({ baseBackoffMs: 100, maxBackoffMs: 500 });
    const delays = [1, 2, 3, 4, 5].map(() => queue.addRateLimited('ns/a'));
    expect(delays).toEqual([100, 200, 400, 500, 500]);
    expect(queue.addRateLimited('ns/b')).toBe(100);
    queue.forget('ns/a');
    expect(queue.addRateLimited('ns/a')).toBe(100);
  });

  it('addAfter keeps the earliest pending time for a key', async () => {
    vi.useFakeTimers();
    const queue = new WorkQueue();
    queue.addAfter('ns/a', 10_000);
    queue.addAfter('ns/a', 1_000);
    queue.addAfter('ns/a', 5_000);
    vi.advanceTimersByTime(1_000);
    expect(queue.length).toBe(1);
    expect(await queue.get()).toBe('ns/a');
    queue.done('ns/a');
    vi.advanceTimersByTime(10_000);
    expect(queue.length).toBe(0);
  });

  it('wakes blocked workers with undefined on shut down and accepts no more keys', async () => {
    const queue = new WorkQueue();
    const waiting = queue.get();
    queue.shutDown();
    expect(await waiting).toBeUndefined();
    queue.add('ns/a');
    expect(queue.length).toBe(0);
  });
});
