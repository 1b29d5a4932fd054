import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningCodeService } from '../../operator/codes/start.ts';
import { CodeServiceFixture, type HttpsAnswer } from './code-service-fixture.ts';
import { randomSeed } from '../stores/random-material.ts';

const NS = 'team-flood';
const fixture = new CodeServiceFixture();
const tokens: Record<string, string> = {};
// Per source: a burst of 10, then one a second. TokenReviews, all callers together: 30, then one a second.
const LIMITS = {
  sourceRatePerMinute: 60,
  sourceBurst: 10,
  tokenReviewRatePerMinute: 60,
  tokenReviewBurst: 30,
  reviewCacheTtlMs: 120_000,
};
let perSource: RunningCodeService;
let global: RunningCodeService;

function madeUpToken(): string {
  return randomBytes(48).toString('base64url');
}

/** `count` requests with made-up tokens, `parallel` at a time, each from the address `from(i)` picks. */
async function flood(
  service: RunningCodeService,
  count: number,
  from: (i: number) => string,
  parallel = 20,
): Promise<HttpsAnswer[]> {
  const answers: HttpsAnswer[] = [];
  for (let start = 0; start < count; start += parallel) {
    const batch = Array.from({ length: Math.min(parallel, count - start) }, (_, j) =>
      fixture.get(fixture.codePath(NS, 'shared'), madeUpToken(), { service, localAddress: from(start + j) }),
    );
    answers.push(...(await Promise.all(batch)));
  }
  return answers;
}

/** Waits as long as the service's Retry-After says, as a well-behaved client does. */
async function honour(answer: HttpsAnswer): Promise<void> {
  await sleep(Number(answer.headers['retry-after']) * 1000);
}

beforeAll(async () => {
  await fixture.start();
  perSource = await fixture.startService(LIMITS);
  global = await fixture.startService(LIMITS);
  await fixture.namespace(NS);
  await fixture.account(NS, 'shared', randomSeed());
  for (const sa of ['alice', 'bob', 'carol', 'dave']) tokens[sa] = await fixture.serviceAccountToken(NS, sa);
  for (const sa of ['alice', 'bob', 'carol', 'dave']) await fixture.allowCodes(NS, sa);
}, 180_000);
afterAll(() => fixture.stop());

describe('code service under a flood of made-up tokens', () => {
  it('limits one source address before authenticating: 200 requests send few TokenReviews and get 429 with Retry-After', async () => {
    const before = await fixture.tokenReviewsServed();
    const started = Date.now();

    const answers = await flood(perSource, 200, () => '127.0.0.10');
    const elapsedSeconds = (Date.now() - started) / 1000;
    const reviews = (await fixture.tokenReviewsServed()) - before;
    const limited = answers.filter((a) => a.status === 429);

    // The burst, plus one a second while the flood ran.
    expect(reviews).toBeLessThanOrEqual(LIMITS.sourceBurst + Math.ceil(elapsedSeconds) + 1);
    expect(answers.filter((a) => a.status === 401)).toHaveLength(reviews);
    expect(limited.length).toBe(200 - reviews);
    expect(limited[0]!.json()).toMatchObject({
      reason: 'RateLimited',
      message: expect.stringContaining('code requests from 127.0.0.10'),
    });
    expect(limited.every((a) => Number(a.headers['retry-after']) >= 1)).toBe(true);
    expect(fixture.auditRecords()).toContainEqual(
      expect.objectContaining({ user: '(unauthenticated)', result: 'rate_limited', source: '127.0.0.10' }),
    );
  });

  it('serves legitimate callers from other addresses during a flood, and the flooded address once its Retry-After has passed', async () => {
    const flooding = flood(perSource, 100, () => '127.0.0.12');
    const elsewhere = await fixture.get(fixture.codePath(NS, 'shared'), tokens.alice, {
      service: perSource,
      localAddress: '127.0.0.11',
    });
    const last = (await flooding).at(-1)!;
    const fromFlooded = () =>
      fixture.get(fixture.codePath(NS, 'shared'), tokens.bob, { service: perSource, localAddress: '127.0.0.12' });

    const first = await fromFlooded();
    // Right after the flood the bucket may just have refilled one token; after Retry-After it has.
    if (first.status === 429) await honour(first);
    const served = first.status === 429 ? await fromFlooded() : first;

    expect(last.status).toBe(429);
    expect(elsewhere.status).toBe(200);
    expect([200, 429]).toContain(first.status);
    expect(served.status).toBe(200);
  });

  it('bounds TokenReviews across all source addresses, still serving callers whose token it already knows', async () => {
    const known = await fixture.get(fixture.codePath(NS, 'shared'), tokens.carol, {
      service: global,
      localAddress: '127.0.0.20',
    });
    expect(known.status).toBe(200);
    const before = await fixture.tokenReviewsServed();
    const started = Date.now();

    // 40 addresses, 10 requests each: every one within its per-source burst.
    const answers = await flood(global, 400, (i) => `127.0.1.${1 + (i % 40)}`);
    const elapsedSeconds = (Date.now() - started) / 1000;
    const reviews = (await fixture.tokenReviewsServed()) - before;
    const stillKnown = await fixture.get(fixture.codePath(NS, 'shared'), tokens.carol, {
      service: global,
      localAddress: '127.0.0.20',
    });
    const newcomer = await fixture.get(fixture.codePath(NS, 'shared'), tokens.dave, {
      service: global,
      localAddress: '127.0.0.21',
    });

    expect(reviews).toBeLessThanOrEqual(LIMITS.tokenReviewBurst + Math.ceil(elapsedSeconds) + 1);
    expect(answers.filter((a) => a.status === 429).length).toBe(400 - reviews);
    expect(answers.find((a) => a.status === 429)!.json().message).toContain('new tokens to review across all callers');
    expect(stillKnown.status).toBe(200);
    // Right after the flood the bucket may just have refilled one token; after Retry-After it has.
    expect([200, 429]).toContain(newcomer.status);
    if (newcomer.status === 429) await honour(newcomer);
    const served =
      newcomer.status === 429
        ? await fixture.get(fixture.codePath(NS, 'shared'), tokens.dave, {
            service: global,
            localAddress: '127.0.0.21',
          })
        : newcomer;
    expect(served.status).toBe(200);
  });
});
