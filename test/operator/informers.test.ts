import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createInformers, type MfaInformers } from '../../operator/controller/managedaccountmfa/informers.ts';
import { checkCredentials } from '../../operator/controller/managedaccountmfa/references.ts';
import type { ManagedAccountMfa } from '../../operator/api/v1alpha1/types.generated.ts';
import { createLogger } from '../../core/logging/logger.ts';
import type { ControlPlane } from '../envtest/control-plane.ts';
import { startClusterWithCrds } from '../support/cluster.ts';
import { kubectlOk } from '../support/kubectl.ts';
import { credentialsSecret, managedAccountMfa } from '../support/resources.ts';
import { waitFor } from '../support/wait.ts';

const NS = 'default';
let cp: ControlPlane;
let informers: MfaInformers;

beforeAll(async () => {
  cp = await startClusterWithCrds();
  // Applied by kubectl, as users do: the last-applied annotation then carries a copy of the data.
  await kubectlOk(
    cp.kubeconfigPath,
    ['apply', '-f', '-'],
    credentialsSecret('acct-login', NS, { username: 'u@example.com', password: 'pw-cached-1', empty: '' }),
  );
  informers = createInformers(cp.kubeConfig(), createLogger('informers-test', { level: 'silent' }), undefined, false);
  await informers.secrets.start();
  await informers.secrets.synced();
}, 120_000);
afterAll(async () => {
  await informers?.secrets.stop();
  await cp?.stop();
});

describe('the Secret informer cache', () => {
  it('keeps which keys hold a value, never the values, annotations or managedFields; the credentials check still works', async () => {
    const cached = informers.secrets.get('acct-login', NS)!;
    expect(cached.data).toEqual({ username: '*', password: '*', empty: '' });
    expect(cached.metadata?.annotations).toBeUndefined();
    expect(cached.metadata?.managedFields).toBeUndefined();
    expect(JSON.stringify(informers.secrets.list())).not.toMatch(/pw-cached-1|cHctY2FjaGVkLTE/);

    const mfa = (name: string, passwordKey: string) =>
      ({
        ...parse(
          managedAccountMfa(name, NS, { account: { credentialsSecretRef: { name: 'acct-login', passwordKey } } }),
        ),
        metadata: { name, namespace: NS },
      }) as ManagedAccountMfa;
    const lookups = { secret: (ns: string, name: string) => informers.secrets.get(name, ns) } as Parameters<
      typeof checkCredentials
    >[1];
    expect(checkCredentials(mfa('ok', 'password'), lookups)).toMatchObject({ ok: true });
    expect(checkCredentials(mfa('empty', 'empty'), lookups)).toMatchObject({
      ok: false,
      reason: 'CredentialsKeyMissing',
    });
  });

  it('holds only Secrets labelled as credentials: another Secret never reaches the process, and one leaves when its label goes', async () => {
    await kubectlOk(
      cp.kubeconfigPath,
      ['apply', '-f', '-'],
      credentialsSecret('tls-of-another-app', NS, { 'tls.key': 'pw-never-cached-3' }, { optedIn: false }),
    );
    await kubectlOk(
      cp.kubeconfigPath,
      ['apply', '-f', '-'],
      credentialsSecret('late-opt-in', NS, { username: 'u', password: 'pw-late-4' }, { optedIn: false }),
    );
    await kubectlOk(cp.kubeconfigPath, [
      'label',
      'secret',
      'late-opt-in',
      '-n',
      NS,
      'mfa-operator.io/credentials=true',
    ]);
    await waitFor('the labelled Secret in the cache', () => informers.secrets.get('late-opt-in', NS));
    expect(informers.secrets.get('tls-of-another-app', NS)).toBeUndefined();
    expect(
      informers.secrets
        .list()
        .map((s) => s.metadata?.name)
        .sort(),
    ).toEqual(['acct-login', 'late-opt-in']);

    await kubectlOk(cp.kubeconfigPath, ['label', 'secret', 'late-opt-in', '-n', NS, 'mfa-operator.io/credentials-']);
    await waitFor(
      'the unlabelled Secret gone from the cache',
      () => informers.secrets.get('late-opt-in', NS) === undefined,
    );
  });

  it('slims an updated Secret too, and the cached resourceVersion follows the server', async () => {
    const before = informers.secrets.get('acct-login', NS)!.metadata!.resourceVersion;
    await kubectlOk(
      cp.kubeconfigPath,
      ['apply', '-f', '-'],
      credentialsSecret('acct-login', NS, {
        username: 'u@example.com',
        password: 'pw-cached-2',
        token: 'tok-cached-2',
      }),
    );
    const updated = await waitFor('the update in the cache', () => {
      const s = informers.secrets.get('acct-login', NS);
      return s?.metadata?.resourceVersion !== before ? s : undefined;
    });
    const live = JSON.parse(
      await kubectlOk(cp.kubeconfigPath, ['get', 'secret', 'acct-login', '-n', NS, '-o', 'json']),
    );
    expect(updated!.metadata!.resourceVersion).toBe(live.metadata.resourceVersion);
    expect(Object.keys(updated!.data!).sort()).toEqual(Object.keys(live.data).sort());
    expect(updated!.data).toMatchObject({ username: '*', password: '*', token: '*' });
    expect(updated!.metadata?.annotations).toBeUndefined();
  });
});
