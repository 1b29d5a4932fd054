import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { ControlPlane } from '../envtest/control-plane.ts';
import { REPO, startClusterWithCrds } from '../support/cluster.ts';
import { kubectl, kubectlOk } from '../support/kubectl.ts';

let cp: ControlPlane;
beforeAll(async () => {
  cp = await startClusterWithCrds();
});
afterAll(async () => cp?.stop());

function validMfa(name: string): Record<string, any> {
  return {
    apiVersion: 'mfa-operator.io/v1alpha1', kind: 'ManagedAccountMfa', metadata: { name, namespace: 'default' },
    spec: { connector: 'demo', account: { loginUrl: 'https://app.example.com/login', credentialsSecretRef: { name: 'login' } } },
  };
}

type Mutation = (o: Record<string, any>) => void;
const BAD_SPECS: Array<[string, Mutation, RegExp]> = [
  ['missing connector', (o) => delete o.spec.connector, /spec\.connector: Required value/],
  ['upper-case connector', (o) => (o.spec.connector = 'Demo'), /spec\.connector: Invalid value/],
  ['missing account', (o) => delete o.spec.account, /spec\.account: Required value/],
  ['missing credentials reference', (o) => delete o.spec.account.credentialsSecretRef, /spec\.account\.credentialsSecretRef: Required value/],
  ['http login URL off loopback', (o) => (o.spec.account.loginUrl = 'http://app.example.com/login'), /spec\.account\.loginUrl: Invalid value.*must use https/],
  ['login URL that is no URL', (o) => (o.spec.account.loginUrl = 'app.example.com/login'), /spec\.account\.loginUrl: Invalid value.*absolute URL/],
  ['Secret key with a slash', (o) => (o.spec.account.credentialsSecretRef.passwordKey = 'pass/word'), /spec\.account\.credentialsSecretRef\.passwordKey: Invalid value/],
  ['same key for username and password', (o) => (o.spec.account.credentialsSecretRef.usernameKey = 'password'), /spec\.account\.credentialsSecretRef: Invalid value.*must name different keys/],
  ['invalid Secret name', (o) => (o.spec.account.credentialsSecretRef.name = 'My_Secret'), /spec\.account\.credentialsSecretRef\.name: Invalid value/],
  ['unknown MFA state', (o) => (o.spec.mfa = { state: 'Active' }), /spec\.mfa\.state: Unsupported value: "Active"/],
  ['unknown deletion policy', (o) => (o.spec.deletionPolicy = 'Delete'), /spec\.deletionPolicy: Unsupported value: "Delete"/],
  ['unknown store kind', (o) => (o.spec.secretStoreRef = { kind: 'Vault', name: 'v' }), /spec\.secretStoreRef\.kind: Unsupported value: "Vault"/],
  ['store reference without a name', (o) => (o.spec.secretStoreRef = { kind: 'MfaSecretStore' }), /spec\.secretStoreRef\.name: Required value/],
  ['unknown field', (o) => (o.spec.account.phone = '+1555'), /unknown field "spec\.account\.phone"/],
  ['display name too long', (o) => (o.spec.account.displayName = 'x'.repeat(129)), /spec\.account\.displayName: Too long/],
];

describe('the ManagedAccountMfa API on a real API server', () => {
  it('applies every sample in config/samples with kubectl', async () => {
    const out = await kubectlOk(cp.kubeconfigPath, ['apply', '-n', 'default', '-k', `${REPO}/config/samples`]);
    expect(out).toMatch(/managedaccountmfa\.mfa-operator\.io\/demo-brand (created|configured)/);
    expect(out).toMatch(/mfasecretstore\.mfa-operator\.io\/gcp (created|configured)/);
    expect(out).toMatch(/clustermfasecretstore\.mfa-operator\.io\/shared-secrets (created|configured)/);
    const got = JSON.parse(await kubectlOk(cp.kubeconfigPath, ['get', 'mfa', 'demo-brand', '-n', 'default', '-o', 'json']));
    expect(got.spec).toMatchObject({ deletionPolicy: 'Retain', mfa: { state: 'Enabled' } });
    expect(got.spec.account.credentialsSecretRef).toEqual({ name: 'demo-brand-login', usernameKey: 'username', passwordKey: 'password' });
  });

  it('teaches the API through kubectl explain', async () => {
    const out = await kubectlOk(cp.kubeconfigPath, ['explain', 'mfa.spec.account.loginUrl']);
    expect(out).toContain('Must use https');
    const store = await kubectlOk(cp.kubeconfigPath, ['explain', 'clustermfasecretstore.spec.conditions']);
    expect(store).toContain('which namespaces may use this store');
  });

  it.each(BAD_SPECS)('rejects a spec with %s, naming the field', async (_name, mutate, expected) => {
    const obj = validMfa(`bad-${Math.random().toString(36).slice(2, 8)}`);
    mutate(obj);
    const result = await kubectl(cp.kubeconfigPath, ['apply', '-f', '-'], stringify(obj));
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(expected);
  });

  it('keeps spec.connector immutable once set', async () => {
    const obj = validMfa('immutable-connector');
    await kubectlOk(cp.kubeconfigPath, ['apply', '-f', '-'], stringify(obj));
    obj.spec.connector = 'keycloak';
    const result = await kubectl(cp.kubeconfigPath, ['apply', '-f', '-'], stringify(obj));
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/spec\.connector: Invalid value.*immutable/);
  });

  it('rejects stores with no provider, two providers, or cluster-only fields on a namespaced store', async () => {
    const store = (spec: object, kind = 'MfaSecretStore') => stringify({
      apiVersion: 'mfa-operator.io/v1alpha1', kind, metadata: { name: `s-${Math.random().toString(36).slice(2, 8)}`, namespace: 'default' }, spec,
    });
    const none = await kubectl(cp.kubeconfigPath, ['apply', '-f', '-'], store({ provider: {} }));
    expect(none.stderr).toMatch(/spec\.provider: Invalid value.*exactly one of kubernetes or gcpSecretManager/);
    const two = await kubectl(cp.kubeconfigPath, ['apply', '-f', '-'], store({ provider: { kubernetes: {}, gcpSecretManager: { projectID: 'my-project-1' } } }));
    expect(two.stderr).toMatch(/exactly one of kubernetes or gcpSecretManager/);
    const conditions = await kubectl(cp.kubeconfigPath, ['apply', '-f', '-'], store({ provider: { kubernetes: {} }, conditions: { namespaces: ['a'] } }));
    expect(conditions.stderr).toMatch(/spec\.conditions applies only to ClusterMfaSecretStore/);
    const keyNoNs = await kubectl(cp.kubeconfigPath, ['apply', '-f', '-'], store(
      { provider: { gcpSecretManager: { projectID: 'my-project-1', auth: { secretRef: { name: 'k', key: 'key.json' } } } } }, 'ClusterMfaSecretStore'));
    expect(keyNoNs.stderr).toMatch(/secretRef\.namespace is required in a ClusterMfaSecretStore/);
  });
});
