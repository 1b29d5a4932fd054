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
});
