import { describe, expect, it } from 'vitest';
import { TtlCache } from './ttl-cache.ts';

describe('TtlCache', () => {
  it('reuses a value until its time is up, then loads again', async () => {
    let now = 0;
    let loads = 0;
    const cache = new TtlCache<number>(1_000, 10, () => now);
    const load = async () => ++loads;

    await cache.getOrLoad('k', load);
    now = 999;
    expect(await cache.getOrLoad('k', load)).toBe(1);
    now = 1_000;
    expect(await cache.getOrLoad('k', load)).toBe(2);
  });

  it('with a TTL of 0 loads every time and keeps nothing', async () => {
    let loads = 0;
    const cache = new TtlCache<number>(0);

    await cache.getOrLoad('k', async () => ++loads);
    await cache.getOrLoad('k', async () => ++loads);

    expect(loads).toBe(2);
    expect(cache.size).toBe(0);
  });

  it('drops the oldest entry beyond its size', () => {
    const cache = new TtlCache<string>(60_000, 2);

    cache.set('a', 'A');
    cache.set('b', 'B');
    cache.set('c', 'C');

    expect([cache.get('a'), cache.get('b'), cache.get('c')]).toEqual([undefined, 'B', 'C']);
  });

  it('shares one load among concurrent misses for a key, and keeps no failed load', async () => {
    let loads = 0;
    let release!: (n: number) => void;
    const cache = new TtlCache<number>(60_000);
    const slow = () => {
      loads++;
      return new Promise<number>((resolve) => (release = resolve));
    };

    const waiting = [cache.getOrLoad('k', slow), cache.getOrLoad('k', slow), cache.getOrLoad('k', slow)];
    release(7);

    expect(await Promise.all(waiting)).toEqual([7, 7, 7]);
    expect(loads).toBe(1);
    await expect(cache.getOrLoad('other', () => Promise.reject(new Error('store down')))).rejects.toThrow('store down');
    expect(await cache.getOrLoad('other', async () => 8)).toBe(8);
  });
});
