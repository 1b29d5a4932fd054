import { describe, expect, it } from 'vitest';
import { isCodeServiceError } from './code-errors.ts';
import { RateLimiter, sourceKey } from './rate-limiter.ts';

function refusal(take: () => void): unknown {
  try {
    take();
  } catch (e: unknown) {
    return e;
  }
  return undefined;
}

const byCaller = (caller: string) => `code requests from "${caller}"`;

describe('RateLimiter', () => {
  it('allows a burst, then refuses with the seconds until the next token', () => {
    let now = 0;
    const limiter = new RateLimiter({ perMinute: 6, burst: 3 }, { describe: byCaller, now: () => now });

    for (let i = 0; i < 3; i++) limiter.take('alice');
    const refused = refusal(() => limiter.take('alice'));

    expect(isCodeServiceError(refused) && refused.reason).toBe('RateLimited');
    expect(refused).toMatchObject({
      status: 429,
      retryAfterSeconds: 10,
      message: 'Too many code requests from "alice" (limit 6 a minute, burst 3); retry in 10 s.',
    });
    now = 10_000;
    expect(refusal(() => limiter.take('alice'))).toBeUndefined();
  });

  it('keeps keys apart', () => {
    const limiter = new RateLimiter({ perMinute: 1, burst: 1 }, { describe: byCaller, now: () => 0 });

    limiter.take('alice');

    expect(refusal(() => limiter.take('alice'))).toBeDefined();
    expect(refusal(() => limiter.take('bob'))).toBeUndefined();
  });

  it('refills no further than the burst', () => {
    let now = 0;
    const limiter = new RateLimiter({ perMinute: 60, burst: 2 }, { describe: byCaller, now: () => now });
    now = 3_600_000;

    limiter.take('alice');
    limiter.take('alice');

    expect(refusal(() => limiter.take('alice'))).toBeDefined();
  });

  it('tracks at most maxKeys buckets, dropping the least recently used', () => {
    const limiter = new RateLimiter({ perMinute: 1, burst: 1 }, { describe: byCaller, maxKeys: 100, now: () => 0 });
    limiter.take('busy');

    for (let i = 0; i < 10_000; i++) {
      limiter.take(`flood-${i}`);
      if (i % 50 === 0) expect(refusal(() => limiter.take('busy'))).toBeDefined();
    }

    expect(limiter.size).toBe(100);
  });
});

describe('sourceKey', () => {
  it('keys IPv4 by address, IPv4-mapped IPv6 as IPv4, and IPv6 by its /64', () => {
    expect(sourceKey('10.1.2.3')).toBe('10.1.2.3');
    expect(sourceKey('::ffff:10.1.2.3')).toBe('10.1.2.3');
    expect(sourceKey('2001:db8:0:1:aaaa::1')).toBe('2001:db8:0:1::/64');
    expect(sourceKey('2001:DB8:0000:1:ffff:ffff:ffff:ffff')).toBe('2001:db8:0:1::/64');
    expect(sourceKey('2001:db8::7')).toBe('2001:db8:0:0::/64');
    expect(sourceKey('::1')).toBe('0:0:0:0::/64');
    expect(sourceKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(sourceKey(undefined)).toBe('unknown');
  });
});
