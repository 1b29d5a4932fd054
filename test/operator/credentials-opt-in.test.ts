import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomSeed } from '../stores/random-material.ts';
import { KubernetesSecretStore } from '../../operator/stores/kubernetes/kubernetes-secret-store.ts';
import type { ControlPlane } from '../envtest/control-plane.ts';
import { startClusterWithCrds } from '../support/cluster.ts';
import { kubectlOk } from '../support/kubectl.ts';
import { startOperator, type OperatorProcess } from '../support/operator-process.ts';
import { credentialsSecret, managedAccountMfa } from '../support/resources.ts';
import { waitFor } from '../support/wait.ts';

// The operator runs with a runner image, so it launches Jobs; nothing runs them (no kubelet), which is all this needs.
const NS = 'tenant-opt-in';
const PASSWORD = 'pw-not-for-the-operator-7';
let cp: ControlPlane;
let operator: OperatorProcess;

beforeAll(async () => {
  cp = await startClusterWithCrds();
  await kubectlOk(cp.kubeconfigPath, ['create', 'namespace', NS]);
  operator = startOperator(cp.kubeconfigPath, ['--no-leader-elect', '--runner-image', 'mfa-operator:opt-in-test']);
  await operator.waitForLog('caches synced; reconciling');
}, 120_000);
afterAll(async () => {
  await operator?.kill();
  await cp?.stop();
});

const get = async (kind: string, name: string) =>
  JSON.parse(await kubectlOk(cp.kubeconfigPath, ['get', kind, name, '-n', NS, '-o', 'json']));
const condition = (mfa: any, type: string) => mfa.status?.conditions?.find((c: any) => c.type === type);
const jobsOf = async (name: string) =>
  (JSON.parse(await kubectlOk(cp.kubeconfigPath, ['get', 'jobs', '-n', NS, '-o', 'json'])).items as any[]).filter((j) =>
    j.metadata.ownerReferences?.some((o: any) => o.kind === 'ManagedAccountMfa' && o.name === name),
  );
const eventsOf = async (name: string) =>
  kubectlOk(cp.kubeconfigPath, [
    'get',
    'events',
    '-n',
    NS,
    '--field-selector',
    `involvedObject.name=${name}`,
    '-o',
    'json',
  ]);

function expectNoSecretIn(text: string): void {
  for (const value of [PASSWORD, Buffer.from(PASSWORD).toString('base64'), 'victim@example.com'])
    expect(text).not.toContain(value);
}

describe('credentials Secrets opt in with the mfa-operator.io/credentials label', () => {
  it('refuses a Secret without the label: a condition naming the label, no Job, no value anywhere; labelling it starts the run', async () => {
    await kubectlOk(
      cp.kubeconfigPath,
      ['apply', '-f', '-'],
      credentialsSecret('plain-login', NS, { username: 'victim@example.com', password: PASSWORD }, { optedIn: false }),
    );
    await kubectlOk(
      cp.kubeconfigPath,
      ['apply', '-f', '-'],
      managedAccountMfa('plain', NS, { account: { credentialsSecretRef: { name: 'plain-login' } } }),
    );

    const refused = await waitFor('CredentialsValid=False', async () => {
      const mfa = await get('mfa', 'plain');
      return condition(mfa, 'CredentialsValid')?.reason === 'CredentialsSecretNotFound' ? mfa : undefined;
    });
    expect(condition(refused, 'CredentialsValid').message).toContain(
      'kubectl label secret plain-login -n tenant-opt-in mfa-operator.io/credentials=true',
    );
    expect(condition(refused, 'Ready')).toMatchObject({ status: 'False', reason: 'CredentialsSecretNotFound' });
    expect(await jobsOf('plain')).toEqual([]);
    expectNoSecretIn(JSON.stringify(refused.status));
    expectNoSecretIn(await eventsOf('plain'));

    // The control: the same resource runs once the Secret's owner opts in, picked up from the watch alone.
    await kubectlOk(cp.kubeconfigPath, [
      'label',
      'secret',
      'plain-login',
      '-n',
      NS,
      'mfa-operator.io/credentials=true',
    ]);
    const jobs = await waitFor('a run Job once the Secret is labelled', async () =>
      (await jobsOf('plain')).length > 0 ? jobsOf('plain') : undefined,
    );
    expect(jobs[0].spec.template.spec.volumes).toContainEqual(
      expect.objectContaining({ name: 'credentials', secret: expect.objectContaining({ secretName: 'plain-login' }) }),
    );
    expect(condition(await get('mfa', 'plain'), 'CredentialsValid').reason).toBe('CredentialsSecretFound');
  });

  it('does not mount an unlabelled Secret for the disable run of a deletion either', async () => {
    await kubectlOk(
      cp.kubeconfigPath,
      ['apply', '-f', '-'],
      credentialsSecret(
        'leaving-login',
        NS,
        { username: 'victim@example.com', password: PASSWORD },
        { optedIn: false },
      ),
    );
    await kubectlOk(
      cp.kubeconfigPath,
      ['apply', '-f', '-'],
      managedAccountMfa('leaving', NS, {
        account: { credentialsSecretRef: { name: 'leaving-login' } },
        deletionPolicy: 'Disable',
      }),
    );
    await waitFor('the finalizer and the refusal', async () => {
      const mfa = await get('mfa', 'leaving');
      return (
        mfa.metadata.finalizers?.length && condition(mfa, 'CredentialsValid')?.reason === 'CredentialsSecretNotFound'
      );
    });
    // As if MFA had been turned on earlier, with a Secret that has since lost its label: the default store holds the
    // account's seed, so deleting it must run a disable Job, which would mount the credentials.
    const stored = await get('mfa', 'leaving');
    const ref = { namespace: NS, name: 'leaving', uid: stored.metadata.uid };
    const store = new KubernetesSecretStore(cp.kubeConfig());
    await store.promotePendingSeed(ref, (await store.writePendingSeed(ref, randomSeed())).version);
    await kubectlOk(cp.kubeconfigPath, ['delete', 'mfa', 'leaving', '-n', NS, '--wait=false']);

    const held = await waitFor('the deletion held with the refusal', async () => {
      const mfa = await get('mfa', 'leaving');
      return condition(mfa, 'CredentialsValid')?.message?.includes('No run was started.') ? mfa : undefined;
    });
    expect(held.metadata.deletionTimestamp).toBeDefined();
    expect(held.metadata.finalizers).toContain('mfa-operator.io/finalizer');
    expect(await jobsOf('leaving')).toEqual([]);
    expectNoSecretIn(JSON.stringify(held.status));
    expectNoSecretIn(await eventsOf('leaving'));
  });

  it('never logs the password of a Secret it was not allowed to use', () => {
    expectNoSecretIn(operator.lines.join('\n'));
  });
});
