import { describe, expect, it } from 'vitest';
import { isCodeServiceError } from './code-errors.ts';
import { CallerRateLimiter } from './rate-limiter.ts';

function refusal(take: () => void): unknown {
  try {
    take();
  } catch (e: unknown) {
    return e;
  }
  return undefined;
}

describe('CallerRateLimiter', () => {
  it('allows a burst, then refuses with the seconds until the next token', () => {
    let now = 0;
    const limiter = new CallerRateLimiter({ perMinute: 6, burst: 3 }, () => now);

    for (let i = 0; i < 3; i++) limiter.take('alice');
    const refused = refusal(() => limiter.take('alice'));

    expect(isCodeServiceError(refused) && refused.reason).toBe('RateLimited');
    expect(refused).toMatchObject({ status: 429, retryAfterSeconds: 10 });
    now = 10_000;
    expect(refusal(() => limiter.take('alice'))).toBeUndefined();
  });

  it('keeps callers apart', () => {
    const limiter = new CallerRateLimiter({ perMinute: 1, burst: 1 }, () => 0);

    limiter.take('alice');

    expect(refusal(() => limiter.take('alice'))).toBeDefined();
    expect(refusal(() => limiter.take('bob'))).toBeUndefined();
  });

  it('refills no further than the burst', () => {
    let now = 0;
    const limiter = new CallerRateLimiter({ perMinute: 60, burst: 2 }, () => now);
    now = 3_600_000;

    limiter.take('alice');
    limiter.take('alice');

    expect(refusal(() => limiter.take('alice'))).toBeDefined();
  });
});
