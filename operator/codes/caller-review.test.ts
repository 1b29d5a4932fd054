import type {
  AuthenticationV1Api,
  AuthorizationV1Api,
  V1SubjectAccessReview,
  V1TokenReview,
} from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { SecretValue } from '../../core/secrets/secret-value.ts';
import { CallerReview } from './caller-review.ts';
import { RateLimiter } from './rate-limiter.ts';

const AUDIENCE = 'mfa-operator.io/code-service';
/** Which audiences each token was minted for, as the API server's service-account authenticator knows. */
const TOKEN_AUDIENCES: Record<string, string[]> = {
  'alice-token': [AUDIENCE],
  'alice-api-token': ['https://kubernetes.default.svc'],
};

/**
 * Stand-ins for the two review APIs: alice's tokens are valid for their audiences (answered as the
 * intersection with the requested ones, as the API server does), and alice may get codes for team-a/shared only.
 */
function reviewApis() {
  const calls = { tokenReviews: [] as V1TokenReview[], accessReviews: [] as V1SubjectAccessReview[] };
  const authentication = {
    createTokenReview: async ({ body }: { body: V1TokenReview }) => {
      calls.tokenReviews.push(body);
      const audiences = (TOKEN_AUDIENCES[body.spec.token ?? ''] ?? []).filter((a) => body.spec.audiences?.includes(a));
      const valid = audiences.length > 0;
      return {
        spec: body.spec,
        status: valid
          ? { authenticated: true, audiences, user: { username: 'alice', uid: 'u1', groups: ['devs'] } }
          : { authenticated: false },
      };
    },
  } as unknown as AuthenticationV1Api;
  const authorization = {
    createSubjectAccessReview: async ({ body }: { body: V1SubjectAccessReview }) => {
      calls.accessReviews.push(body);
      const attrs = body.spec.resourceAttributes;
      return {
        spec: body.spec,
        status: { allowed: body.spec.user === 'alice' && attrs?.namespace === 'team-a' && attrs.name === 'shared' },
      };
    },
  } as unknown as AuthorizationV1Api;
  return { calls, authentication, authorization };
}

describe('CallerReview', () => {
  it('asks for get on managedaccountmfas/code of exactly the one resource, as the caller', async () => {
    const apis = reviewApis();
    const review = new CallerReview({ ...apis, cacheTtlMs: 0, audience: AUDIENCE });

    const caller = await review.authenticate(new SecretValue('alice-token'));
    await review.authorize(caller, 'team-a', 'shared');

    expect(caller).toEqual({ username: 'alice', uid: 'u1', groups: ['devs'] });
    expect(apis.calls.accessReviews[0]?.spec).toMatchObject({
      user: 'alice',
      uid: 'u1',
      groups: ['devs'],
      resourceAttributes: {
        group: 'mfa-operator.io',
        resource: 'managedaccountmfas',
        subresource: 'code',
        verb: 'get',
        namespace: 'team-a',
        name: 'shared',
      },
    });
  });

  it('asks the API server about its own audience only, and refuses a token for another one', async () => {
    const apis = reviewApis();
    const review = new CallerReview({ ...apis, cacheTtlMs: 0, audience: AUDIENCE });

    const refused = await review.authenticate(new SecretValue('alice-api-token')).catch((e: unknown) => e);

    expect(apis.calls.tokenReviews[0]?.spec.audiences).toEqual([AUDIENCE]);
    expect(refused).toMatchObject({
      reason: 'Unauthenticated',
      status: 401,
      message: expect.stringContaining(`for audience "${AUDIENCE}"`),
    });
    expect((refused as Error).message).toContain(`kubectl create token SERVICEACCOUNT --audience ${AUDIENCE}`);
  });

  it('refuses an authenticated answer whose audiences do not include its own (an API server that ignored them)', async () => {
    const ignoring = {
      createTokenReview: async ({ body }: { body: V1TokenReview }) => ({
        spec: body.spec,
        status: {
          authenticated: true,
          audiences: ['https://kubernetes.default.svc'],
          user: { username: 'alice', groups: [] },
        },
      }),
    } as unknown as AuthenticationV1Api;
    const silent = {
      createTokenReview: async ({ body }: { body: V1TokenReview }) => ({
        spec: body.spec,
        status: { authenticated: true, user: { username: 'alice', groups: [] } },
      }),
    } as unknown as AuthenticationV1Api;
    const { authorization } = reviewApis();

    for (const authentication of [ignoring, silent]) {
      const review = new CallerReview({ authentication, authorization, cacheTtlMs: 0, audience: AUDIENCE });
      await expect(review.authenticate(new SecretValue('alice-token'))).rejects.toMatchObject({
        reason: 'Unauthenticated',
      });
    }
  });

  it('reuses answers while the cache TTL runs, and asks every time with the cache off', async () => {
    const cachedApis = reviewApis();
    const uncachedApis = reviewApis();
    const cached = new CallerReview({ ...cachedApis, cacheTtlMs: 60_000, audience: AUDIENCE });
    const uncached = new CallerReview({ ...uncachedApis, cacheTtlMs: 0, audience: AUDIENCE });

    for (const review of [cached, uncached]) {
      for (let i = 0; i < 3; i++)
        await review.authorize(await review.authenticate(new SecretValue('alice-token')), 'team-a', 'shared');
    }

    expect([cachedApis.calls.tokenReviews.length, cachedApis.calls.accessReviews.length]).toEqual([1, 1]);
    expect([uncachedApis.calls.tokenReviews.length, uncachedApis.calls.accessReviews.length]).toEqual([3, 3]);
  });

  it('takes from the TokenReview limit before every review it sends, and never for a cached answer', async () => {
    const apis = reviewApis();
    const tokenReviews = new RateLimiter(
      { perMinute: 1, burst: 2 },
      { describe: () => 'new tokens to review', now: () => 0 },
    );
    const review = new CallerReview({ ...apis, cacheTtlMs: 60_000, audience: AUDIENCE, tokenReviews });

    await review.authenticate(new SecretValue('alice-token'));
    await review.authenticate(new SecretValue('alice-token'));
    await expect(review.authenticate(new SecretValue('forged-1'))).rejects.toMatchObject({ reason: 'Unauthenticated' });
    const limited = await review.authenticate(new SecretValue('forged-2')).catch((e: unknown) => e);
    await review.authenticate(new SecretValue('alice-token'));

    expect(limited).toMatchObject({ reason: 'RateLimited', status: 429, retryAfterSeconds: 60 });
    expect(apis.calls.tokenReviews).toHaveLength(2);
  });

  it('refuses a missing or unknown token as Unauthenticated and another resource as Forbidden', async () => {
    const review = new CallerReview({ ...reviewApis(), cacheTtlMs: 60_000, audience: AUDIENCE });
    const alice = await review.authenticate(new SecretValue('alice-token'));

    await expect(review.authenticate(undefined)).rejects.toMatchObject({ reason: 'Unauthenticated', status: 401 });
    await expect(review.authenticate(new SecretValue('forged'))).rejects.toMatchObject({ reason: 'Unauthenticated' });
    await expect(review.authorize(alice, 'team-a', 'other')).rejects.toMatchObject({
      reason: 'Forbidden',
      status: 403,
      message: expect.stringContaining(
        'needs get on managedaccountmfas/code (group mfa-operator.io) in namespace team-a',
      ),
    });
  });

  it('reports an API server that cannot review as unavailable, without the token in the message', async () => {
    const failing = {
      createTokenReview: async () => {
        throw new Error('echo: alice-token');
      },
    } as unknown as AuthenticationV1Api;
    const review = new CallerReview({
      authentication: failing,
      authorization: reviewApis().authorization,
      cacheTtlMs: 0,
      audience: AUDIENCE,
    });

    const error = await review.authenticate(new SecretValue('alice-token')).catch((e: unknown) => e);

    expect(error).toMatchObject({ reason: 'ReviewUnavailable', status: 503 });
    expect(String((error as Error).message)).not.toContain('alice-token');
  });
});
