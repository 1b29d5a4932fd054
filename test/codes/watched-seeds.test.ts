import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectlOk } from '../support/kubectl.ts';
import { waitFor } from '../support/wait.ts';
import { CodeServiceFixture, OPERATOR_USER } from './code-service-fixture.ts';
import { randomSeed, validates } from '../stores/random-material.ts';

const NS = 'team-w';
const fixture = new CodeServiceFixture();
let token: string;

async function code(name: string): Promise<{ status: number; code?: unknown; reason?: unknown }> {
  const answer = await fixture.get(fixture.codePath(NS, name), token);
  const body = answer.json();
  return { status: answer.status, code: body.code, reason: body.reason };
}

beforeAll(async () => {
  await fixture.start({ ratePerMinute: 6_000, burst: 1_000 });
  await fixture.namespace(NS);
  token = await fixture.serviceAccountToken(NS, 'reader');
  await fixture.allowCodes(NS, 'reader');
}, 180_000);
afterAll(() => fixture.stop());

describe('code service seeds from watches', () => {
  it('serves codes without reading the resource or its seed Secret from the API server', async () => {
    const seed = randomSeed();
    await fixture.account(NS, 'memory', seed);
    await waitFor('the first code', async () => (await code('memory')).status === 200);
    const reads = async () =>
      (await fixture.apiRequestsServed('managedaccountmfas', 'GET')) +
      (await fixture.apiRequestsServed('secrets', 'GET'));
    const before = await reads();

    for (let i = 0; i < 20; i++) expect(validates(seed, (await code('memory')).code)).toBe(true);

    expect(await reads()).toBe(before);
  });

  it('never uses a pending seed, and uses a promoted one (and not the old) as soon as the watch delivers it', async () => {
    const first = randomSeed();
    const next = randomSeed();
    await fixture.account(NS, 'rotating', first);
    await waitFor('the first seed in use', async () => validates(first, (await code('rotating')).code));
    await fixture.storeSeed(NS, 'rotating', next, 'pending');
    // Events of one watch arrive in order: once this later seed is served, the pending write was seen.
    const marker = randomSeed();
    await fixture.account(NS, 'marker', marker);
    await waitFor('the later seed Secret in the cache', async () => validates(marker, (await code('marker')).code));

    const whilePending = await code('rotating');
    expect(validates(first, whilePending.code)).toBe(true);
    expect(validates(next, whilePending.code)).toBe(false);

    await fixture.storeSeed(NS, 'rotating', next);
    await waitFor('the promoted seed in use', async () => validates(next, (await code('rotating')).code));
    for (let i = 0; i < 5; i++) expect(validates(first, (await code('rotating')).code)).toBe(false);
  });

  it('stops serving a seed once its Secret or its resource is deleted', async () => {
    await fixture.account(NS, 'leaving', randomSeed());
    await waitFor('a code', async () => (await code('leaving')).status === 200);

    await fixture.deleteSeed(NS, 'leaving');
    expect(
      await waitFor('no seed', async () => {
        const c = await code('leaving');
        return c.status === 404 && c;
      }),
    ).toMatchObject({ reason: 'NoActiveSeed' });

    await fixture.storeSeed(NS, 'leaving', randomSeed());
    await waitFor('a code again', async () => (await code('leaving')).status === 200);
    await kubectlOk(fixture.cp.kubeconfigPath, ['delete', 'mfa', 'leaving', '-n', NS, '--wait=false']);
    expect(
      await waitFor('no resource', async () => {
        const c = await code('leaving');
        return c.reason === 'ManagedAccountMfaNotFound' && c;
      }),
    ).toMatchObject({ status: 404 });
  });

  it('is warm only once it has listed the seed Secrets, and says so instead of guessing', async () => {
    const user = `${OPERATOR_USER}-late`;
    const admin = fixture.cp.kubeconfigPath;
    // Everything but the Secrets: the seed watch cannot list until the binding below exists.
    await kubectlOk(admin, [
      'create',
      'clusterrole',
      'codes-without-secrets',
      '--verb=list,watch',
      '--resource=managedaccountmfas.mfa-operator.io',
    ]);
    await kubectlOk(admin, [
      'create',
      'clusterrolebinding',
      'codes-without-secrets',
      '--clusterrole=codes-without-secrets',
      `--user=${user}`,
    ]);
    await kubectlOk(admin, [
      'create',
      'clusterrolebinding',
      'codes-reviews',
      '--clusterrole=system:auth-delegator',
      `--user=${user}`,
    ]);
    const kc = new KubeConfig();
    kc.loadFromFile(await fixture.cp.createUser(user));
    const late = await fixture.startService({ ratePerMinute: 6_000, burst: 1_000 }, { kc });

    expect(late.warm).toBe(false);
    const refused = await fixture.get(fixture.codePath(NS, 'memory'), token, { service: late });
    expect(refused.status).toBe(503);
    expect(refused.json()).toMatchObject({ reason: 'SecretStoreUnavailable' });
    expect(late.warm).toBe(false);

    await kubectlOk(admin, [
      'create',
      'clusterrolebinding',
      'codes-late',
      '--clusterrole=mfa-operator-code-service-role',
      `--user=${user}`,
    ]);
    await waitFor('the late service to be warm', () => late.warm, 90_000);
    expect((await fixture.get(fixture.codePath(NS, 'memory'), token, { service: late })).status).toBe(200);
  }, 150_000);
});
