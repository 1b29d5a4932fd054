import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loginSecondFactor } from '../../operator/codes/account-codes.ts';
import { kubectlOk } from '../support/kubectl.ts';
import { waitFor } from '../support/wait.ts';
import { CodeServiceFixture } from './code-service-fixture.ts';
import { randomSeed, validates } from '../stores/random-material.ts';

const NS = 'team-a';
const SHARED = randomSeed({ algorithm: 'SHA256', digits: 8 });
const OTHER = randomSeed();
const FAST = randomSeed({ period: 5 });
const fixture = new CodeServiceFixture();
const tokens: Record<string, string> = {};

beforeAll(async () => {
  // 30 a minute with a burst of 5 per caller; each test asks as its own caller.
  await fixture.start({ ratePerMinute: 30, burst: 5 });
  await fixture.namespace(NS);
  await fixture.account(NS, 'shared', SHARED);
  await fixture.account(NS, 'other', OTHER);
  await fixture.account(NS, 'fast', FAST);
  await fixture.account(NS, 'no-seed-yet', randomSeed(), 'pending');
  for (const sa of ['alice', 'bob', 'carol', 'dave', 'erin']) tokens[sa] = await fixture.serviceAccountToken(NS, sa);
  await fixture.allowCodes(NS, 'alice', ['shared']);
  await fixture.allowCodes(NS, 'carol');
  await fixture.allowCodes(NS, 'dave');
  await fixture.allowCodes(NS, 'erin', ['fast']);
}, 180_000);
afterAll(() => fixture.stop());

describe('code service', () => {
  it('gives a caller RBAC allows a code that validates against the seed, with its parameters', async () => {
    const answer = await fixture.get(fixture.codePath(NS, 'shared'), tokens.alice);

    expect(answer.status).toBe(200);
    const body = answer.json();
    expect(body).toMatchObject({ period: 30, digits: 8, algorithm: 'SHA256' });
    expect(body.secondsRemaining).toBeGreaterThan(0);
    expect(body.secondsRemaining).toBeLessThanOrEqual(30);
    expect(validates(SHARED, body.code)).toBe(true);
    expect(answer.headers['cache-control']).toBe('no-store');
  });

  it('refuses a caller without get on managedaccountmfas/code with 403 saying what is needed', async () => {
    const answer = await fixture.get(fixture.codePath(NS, 'shared'), tokens.bob);

    expect(answer.status).toBe(403);
    expect(answer.json()).toMatchObject({ reason: 'Forbidden' });
    expect(answer.json().message).toContain(
      `it needs get on managedaccountmfas/code (group mfa-operator.io) in namespace ${NS}`,
    );
    expect(answer.json().message).toContain('system:serviceaccount:team-a:bob');
  });

  it('limits a caller to the resources its Role names', async () => {
    const answer = await fixture.get(fixture.codePath(NS, 'other'), tokens.alice);

    expect(answer.status).toBe(403);
  });

  it('answers 401 without a token and for a token the API server does not know', async () => {
    const none = await fixture.get(fixture.codePath(NS, 'shared'));
    const forged = await fixture.get(fixture.codePath(NS, 'shared'), `${tokens.alice!.slice(0, -4)}AAAA`);

    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toContain('Bearer');
    expect(forged.status).toBe(401);
    expect(forged.json()).toMatchObject({ reason: 'Unauthenticated' });
  });

  it('refuses a token minted for the API server or for another audience, even for a caller RBAC allows', async () => {
    const apiServerToken = await fixture.token(NS, 'alice', null);
    const otherAudience = await fixture.token(NS, 'alice', 'https://vault.example.com');

    const answers = [
      await fixture.get(fixture.codePath(NS, 'shared'), apiServerToken),
      await fixture.get(fixture.codePath(NS, 'shared'), otherAudience),
    ];

    for (const answer of answers) {
      expect(answer.status).toBe(401);
      expect(answer.json()).toMatchObject({ reason: 'Unauthenticated' });
      expect(answer.json().message).toContain('for audience "mfa-operator.io/code-service"');
    }
  });

  it('answers 404 for an unknown resource and for one whose seed is only pending', async () => {
    const unknown = await fixture.get(fixture.codePath(NS, 'no-such-account'), tokens.carol);
    const noSeed = await fixture.get(fixture.codePath(NS, 'no-seed-yet'), tokens.carol);

    expect(unknown.status).toBe(404);
    expect(unknown.json()).toMatchObject({ reason: 'ManagedAccountMfaNotFound' });
    expect(noSeed.status).toBe(404);
    expect(noSeed.json()).toMatchObject({ reason: 'NoActiveSeed' });
    expect(noSeed.json().message).toContain('SeedStored');
  });

  it('answers 400 for a path that is not a code request', async () => {
    const answer = await fixture.get('/v1/namespaces/team-a/secrets/shared', tokens.carol);

    expect(answer.status).toBe(400);
  });

  it('answers a malformed %-escape with 400, counted as bad_request and not as an error', async () => {
    const answer = await fixture.get('/v1/namespaces/team-a/managedaccountmfas/%E0%A4%A/code', tokens.carol);
    const metrics = await fixture.registry.getSingleMetricAsString('mfa_operator_codes_issued_total');

    expect(answer.status).toBe(400);
    expect(answer.json()).toEqual({ reason: 'BadRequest', message: 'The name in the path has a malformed %-escape.' });
    expect(metrics).toMatch(/mfa_operator_codes_issued_total\{purpose="display",result="bad_request"\} [1-9]/);
    expect(metrics).not.toMatch(/result="error"/);
  });

  it('answers 429 with Retry-After once a caller spends its burst, and serves other callers meanwhile', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await fixture.get(fixture.codePath(NS, 'other'), tokens.dave)).status);
    const limited = fixture.answers.at(-1)!;
    const other = await fixture.get(fixture.codePath(NS, 'shared'), tokens.alice);

    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(limited.json()).toMatchObject({ reason: 'RateLimited' });
    expect(other.status).toBe(200);
  });

  it('stops serving a caller whose RoleBinding was removed within the review cache TTL, not before', async () => {
    const ttlMs = 5_000;
    const service = await fixture.startService({ reviewCacheTtlMs: ttlMs, ratePerMinute: 6_000, burst: 100 });
    const token = await fixture.serviceAccountToken(NS, 'frank');
    await fixture.allowCodes(NS, 'frank', ['shared']);
    const ask = () => fixture.get(fixture.codePath(NS, 'shared'), token, { service });
    // Taken before the first answer is cached, so no later than the cache entry's start.
    const cachedAt = Date.now();
    expect((await ask()).status).toBe(200);

    await kubectlOk(fixture.cp.kubeconfigPath, ['delete', 'rolebinding', 'codes-frank', '-n', NS]);
    const revokedAt = Date.now();
    const refused = await waitFor(
      'the revoked caller to be refused',
      async () => ((await ask()).status === 403 ? Date.now() : undefined),
      ttlMs + 10_000,
      250,
    );

    // The answer cached before the deletion is used while the TTL runs, and only that long
    // (plus a poll and the API server's RBAC watch catching up).
    expect(refused - cachedAt).toBeGreaterThanOrEqual(ttlMs);
    expect(refused - revokedAt).toBeLessThanOrEqual(ttlMs + 2_000);
  });

  it('never gives two fresh login requests the same window', async () => {
    const first = await fixture.get(fixture.codePath(NS, 'fast', '?fresh=true'), tokens.erin);
    const second = await fixture.get(fixture.codePath(NS, 'fast', '?purpose=login'), tokens.erin);

    expect([first.status, second.status]).toEqual([200, 200]);
    expect(validates(FAST, first.json().code)).toBe(true);
    expect(validates(FAST, second.json().code)).toBe(true);
    expect(second.json().code).not.toBe(first.json().code);
  });

  it('gives the in-process login step the same fresh codes, audited as the operator', async () => {
    const factor = loginSecondFactor(fixture.service.codes, fixture.service.outcomes, { namespace: NS, name: 'fast' });

    const first = (await factor.totpCode()).reveal();
    const second = (await factor.totpCode()).reveal();

    expect(validates(FAST, first) && validates(FAST, second)).toBe(true);
    expect(second).not.toBe(first);
    expect(fixture.auditRecords().filter((r) => r.source === 'in-process' && r.result === 'issued')).toHaveLength(2);
  });

  it('audits each request (who, which resource, result) and counts it without user or resource labels', async () => {
    const records = fixture.auditRecords();
    const metrics = await fixture.registry.getSingleMetricAsString('mfa_operator_codes_issued_total');

    expect(records).toContainEqual(
      expect.objectContaining({
        user: 'system:serviceaccount:team-a:alice',
        namespace: NS,
        name: 'shared',
        purpose: 'display',
        result: 'issued',
      }),
    );
    expect(records).toContainEqual(
      expect.objectContaining({ user: 'system:serviceaccount:team-a:bob', result: 'forbidden', reason: 'Forbidden' }),
    );
    expect(records).toContainEqual(
      expect.objectContaining({ user: '(unauthenticated)', namespace: NS, name: 'shared', result: 'unauthenticated' }),
    );
    expect(records).toContainEqual(
      expect.objectContaining({ user: 'system:serviceaccount:team-a:dave', result: 'rate_limited' }),
    );
    expect(metrics).toMatch(/mfa_operator_codes_issued_total\{purpose="display",result="issued"\} \d+/);
    expect(metrics).toMatch(/mfa_operator_codes_issued_total\{purpose="display",result="forbidden"\} \d+/);
    expect(metrics).not.toMatch(/alice|shared|team-a/);
  });

  it('never lets a seed, a code or a token out in a response, a header or a log line', () => {
    const issuedCodes = fixture.answers.filter((a) => a.status === 200).map((a) => String(a.json().code));
    const responses = fixture.answers.map((a) => `${JSON.stringify(a.headers)}\n${a.body}`).join('\n');
    const logs = fixture.logLines.join('\n');

    expect(issuedCodes.length).toBeGreaterThan(5);
    for (const seed of [SHARED, OTHER, FAST]) {
      expect(responses).not.toContain(seed.secret.reveal());
      expect(logs).not.toContain(seed.secret.reveal());
    }
    for (const token of Object.values(tokens)) expect(logs).not.toContain(token.split('.')[2]);
    for (const record of fixture.logLines.map((l) => JSON.parse(l) as Record<string, unknown>)) {
      expect(Object.keys(record)).not.toContain('code');
      expect(Object.values(record).filter((v) => issuedCodes.includes(String(v)))).toEqual([]);
    }
  });
});
