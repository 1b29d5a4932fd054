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
    apiVersion: 'mfa-operator.io/v1alpha1',
    kind: 'ManagedAccountMfa',
    metadata: { name, namespace: 'default' },
    spec: {
      connector: 'demo',
      account: { loginUrl: 'https://app.example.com/login', credentialsSecretRef: { name: 'login' } },
    },
  };
}

type Mutation = (o: Record<string, any>) => void;
const BAD_SPECS: Array<[string, Mutation, RegExp]> = [
  ['missing connector', (o) => delete o.spec.connector, /spec\.connector: Required value/],
  ['upper-case connector', (o) => (o.spec.connector = 'Demo'), /spec\.connector: Invalid value/],
  ['missing account', (o) => delete o.spec.account, /spec\.account: Required value/],
  [
    'missing credentials reference',
    (o) => delete o.spec.account.credentialsSecretRef,
    /spec\.account\.credentialsSecretRef: Required value/,
  ],
  [
    'http login URL off loopback',
    (o) => (o.spec.account.loginUrl = 'http://app.example.com/login'),
    /spec\.account\.loginUrl: Invalid value.*must use https/,
  ],
  [
    'login URL that is no URL',
    (o) => (o.spec.account.loginUrl = 'app.example.com/login'),
    /spec\.account\.loginUrl: Invalid value.*absolute URL/,
  ],
  [
    'Secret key with a slash',
    (o) => (o.spec.account.credentialsSecretRef.passwordKey = 'pass/word'),
    /spec\.account\.credentialsSecretRef\.passwordKey: Invalid value/,
  ],
  [
    'same key for username and password',
    (o) => (o.spec.account.credentialsSecretRef.usernameKey = 'password'),
    /spec\.account\.credentialsSecretRef: Invalid value.*must name different keys/,
  ],
  [
    'invalid Secret name',
    (o) => (o.spec.account.credentialsSecretRef.name = 'My_Secret'),
    /spec\.account\.credentialsSecretRef\.name: Invalid value/,
  ],
  ['unknown MFA state', (o) => (o.spec.mfa = { state: 'Active' }), /spec\.mfa\.state: Unsupported value: "Active"/],
  [
    'unknown deletion policy',
    (o) => (o.spec.deletionPolicy = 'Delete'),
    /spec\.deletionPolicy: Unsupported value: "Delete"/,
  ],
  [
    'unknown store kind',
    (o) => (o.spec.secretStoreRef = { kind: 'Vault', name: 'v' }),
    /spec\.secretStoreRef\.kind: Unsupported value: "Vault"/,
  ],
  [
    'store reference without a name',
    (o) => (o.spec.secretStoreRef = { kind: 'MfaSecretStore' }),
    /spec\.secretStoreRef\.name: Required value/,
  ],
  ['unknown field', (o) => (o.spec.account.phone = '+1555'), /unknown field "spec\.account\.phone"/],
  [
    'display name too long',
    (o) => (o.spec.account.displayName = 'x'.repeat(129)),
    /spec\.account\.displayName: Too long/,
  ],
  [
    'login URL with no // before the host',
    (o) => (o.spec.account.loginUrl = 'https:evil.com'),
    /spec\.account\.loginUrl: Invalid value.*must name a host/,
  ],
  [
    'login URL with no host',
    (o) => (o.spec.account.loginUrl = 'https://'),
    /spec\.account\.loginUrl: Invalid value.*must name a host/,
  ],
  [
    'login URL with an empty host and a path',
    (o) => (o.spec.account.loginUrl = 'https:///login'),
    /spec\.account\.loginUrl: Invalid value.*must name a host/,
  ],
  [
    'login URL with a port above 65535',
    (o) => (o.spec.account.loginUrl = 'https://app.example.com:65536/login'),
    /spec\.account\.loginUrl: Invalid value.*port outside 1-65535/,
  ],
  [
    'login URL with port 0',
    (o) => (o.spec.account.loginUrl = 'https://app.example.com:0/login'),
    /spec\.account\.loginUrl: Invalid value.*port outside 1-65535/,
  ],
  [
    'login URL at the cloud metadata address',
    (o) => (o.spec.account.loginUrl = 'https://169.254.169.254'),
    /spec\.account\.loginUrl: Invalid value.*link-local/,
  ],
  [
    'login URL at an IPv6 link-local address',
    (o) => (o.spec.account.loginUrl = 'https://[fe80::1]/login'),
    /spec\.account\.loginUrl: Invalid value.*link-local/,
  ],
  [
    'login URL at the unspecified address',
    (o) => (o.spec.account.loginUrl = 'https://0.0.0.0/login'),
    /spec\.account\.loginUrl: Invalid value.*link-local/,
  ],
  [
    'login URL at the metadata address written as one number',
    (o) => (o.spec.account.loginUrl = 'https://2852039166/'),
    /spec\.account\.loginUrl: Invalid value.*that browsers do not read as an IP address/,
  ],
  [
    'login URL at the metadata address in hex',
    (o) => (o.spec.account.loginUrl = 'https://0xa9fea9fe/'),
    /spec\.account\.loginUrl: Invalid value.*that browsers do not read as an IP address/,
  ],
  [
    'login URL at the metadata address in octal',
    (o) => (o.spec.account.loginUrl = 'https://0251.0376.0251.0376/'),
    /spec\.account\.loginUrl: Invalid value.*that browsers do not read as an IP address/,
  ],
  [
    'CA bundle reference without a ConfigMap name',
    (o) => (o.spec.account.caBundleRef = { key: 'ca.crt' }),
    /spec\.account\.caBundleRef\.configMapName: Required value/,
  ],
  [
    'CA bundle ConfigMap name Kubernetes would refuse',
    (o) => (o.spec.account.caBundleRef = { configMapName: 'Internal_CA' }),
    /spec\.account\.caBundleRef\.configMapName: Invalid value: "Internal_CA"/,
  ],
  [
    'CA bundle key with a slash',
    (o) => (o.spec.account.caBundleRef = { configMapName: 'internal-ca', key: '../ca.crt' }),
    /spec\.account\.caBundleRef\.key: Invalid value: "\.\.\/ca\.crt"/,
  ],
  [
    'CA bundle from another namespace',
    (o) => (o.spec.account.caBundleRef = { configMapName: 'internal-ca', namespace: 'kube-system' }),
    /unknown field "spec\.account\.caBundleRef\.namespace"/,
  ],
  [
    'login URL at the metadata address mapped into IPv6',
    (o) => (o.spec.account.loginUrl = 'https://[::ffff:169.254.169.254]/'),
    /spec\.account\.loginUrl: Invalid value/,
  ],
];

/** Accepted as today: a loopback http URL (tests, the demo), an https URL with a port, a public or private address. */
const GOOD_LOGIN_URLS = [
  'http://127.0.0.1:8081/login',
  'http://localhost:8081/login',
  'http://[::1]:8081/login',
  'https://app.example.com:8443/login',
  'https://sso.example.com/realms/team/account',
  'https://10.0.0.7/login',
  'https://[2001:db8::1]/login',
];

function store(kind: 'MfaSecretStore' | 'ClusterMfaSecretStore', spec: Record<string, unknown>): string {
  const metadata = {
    name: `s-${Math.random().toString(36).slice(2, 8)}`,
    ...(kind === 'MfaSecretStore' ? { namespace: 'default' } : {}),
  };
  return stringify({ apiVersion: 'mfa-operator.io/v1alpha1', kind, metadata, spec });
}

const gcpKey = (secretRef: Record<string, string>) => ({
  provider: { gcpSecretManager: { projectID: 'my-project-1', auth: { secretRef: { key: 'key.json', ...secretRef } } } },
});
const shared = (conditions: Record<string, unknown>) => ({ provider: { kubernetes: {} }, conditions });
const BAD_STORES: Array<[string, 'MfaSecretStore' | 'ClusterMfaSecretStore', Record<string, unknown>, RegExp]> = [
  [
    'a key Secret in another namespace',
    'MfaSecretStore',
    gcpKey({ name: 'k', namespace: 'kube-system' }),
    /spec\.provider\.gcpSecretManager\.auth\.secretRef\.namespace: Invalid value.*not allowed in an MfaSecretStore/,
  ],
  [
    'a key Secret name Kubernetes would refuse',
    'MfaSecretStore',
    gcpKey({ name: 'Bad Name' }),
    /spec\.provider\.gcpSecretManager\.auth\.secretRef\.name: Invalid value: "Bad Name"/,
  ],
  [
    'a key Secret namespace Kubernetes would refuse',
    'ClusterMfaSecretStore',
    gcpKey({ name: 'k', namespace: 'Team_A' }),
    /spec\.provider\.gcpSecretManager\.auth\.secretRef\.namespace: Invalid value: "Team_A"/,
  ],
  [
    'a namespace name Kubernetes would refuse in the allow-list',
    'ClusterMfaSecretStore',
    shared({ namespaces: ['team-a', 'Team_B'] }),
    /spec\.conditions\.namespaces\[1\]: Invalid value: "Team_B"/,
  ],
  [
    'a selector In without values',
    'ClusterMfaSecretStore',
    shared({ namespaceSelector: { matchExpressions: [{ key: 'team', operator: 'In' }] } }),
    /spec\.conditions\.namespaceSelector\.matchExpressions\[0\]: Invalid value.*In and NotIn need at least one value/,
  ],
  [
    'a selector NotIn with an empty list',
    'ClusterMfaSecretStore',
    shared({ namespaceSelector: { matchExpressions: [{ key: 'team', operator: 'NotIn', values: [] }] } }),
    /spec\.conditions\.namespaceSelector\.matchExpressions\[0\]: Invalid value.*In and NotIn need at least one value/,
  ],
  [
    'a selector Exists with values',
    'ClusterMfaSecretStore',
    shared({ namespaceSelector: { matchExpressions: [{ key: 'team', operator: 'Exists', values: ['a'] }] } }),
    /spec\.conditions\.namespaceSelector\.matchExpressions\[0\]: Invalid value.*Exists and DoesNotExist take none/,
  ],
  [
    'an invalid label value in matchLabels',
    'ClusterMfaSecretStore',
    shared({ namespaceSelector: { matchLabels: { team: 'a b' } } }),
    /spec\.conditions\.namespaceSelector\.matchLabels\.team: Invalid value: "a b"/,
  ],
  [
    'an invalid label key in matchLabels',
    'ClusterMfaSecretStore',
    shared({ namespaceSelector: { matchLabels: { 'bad key!': 'a' } } }),
    /spec\.conditions\.namespaceSelector\.matchLabels: Invalid value.*keys must be label keys/,
  ],
  [
    'an invalid label value in matchExpressions',
    'ClusterMfaSecretStore',
    shared({ namespaceSelector: { matchExpressions: [{ key: 'team', operator: 'In', values: ['-a'] }] } }),
    /spec\.conditions\.namespaceSelector\.matchExpressions\[0\]\.values\[0\]: Invalid value: "-a"/,
  ],
  [
    'an invalid label key in matchExpressions',
    'ClusterMfaSecretStore',
    shared({ namespaceSelector: { matchExpressions: [{ key: 'a/b/c', operator: 'Exists' }] } }),
    /spec\.conditions\.namespaceSelector\.matchExpressions\[0\]\.key: Invalid value: "a\/b\/c"/,
  ],
];

/** Accepted as today: a cluster store naming its key's namespace, and well-formed selectors. */
const GOOD_STORES: Array<['MfaSecretStore' | 'ClusterMfaSecretStore', Record<string, unknown>]> = [
  ['MfaSecretStore', gcpKey({ name: 'gcp-key' })],
  ['ClusterMfaSecretStore', gcpKey({ name: 'gcp-key', namespace: 'mfa-system' })],
  [
    'ClusterMfaSecretStore',
    shared({
      namespaces: ['team-a'],
      namespaceSelector: {
        matchLabels: { 'mfa-operator.io/shared-store': 'true', empty: '' },
        matchExpressions: [
          { key: 'team', operator: 'In', values: ['a', 'b_2'] },
          { key: 'example.com/tier', operator: 'DoesNotExist' },
        ],
      },
    }),
  ],
];

describe('the ManagedAccountMfa API on a real API server', () => {
  it('applies every sample in config/samples with kubectl', async () => {
    const out = await kubectlOk(cp.kubeconfigPath, ['apply', '-n', 'default', '-k', `${REPO}/config/samples`]);
    expect(out).toMatch(/managedaccountmfa\.mfa-operator\.io\/demo-brand (created|configured)/);
    expect(out).toMatch(/mfasecretstore\.mfa-operator\.io\/gcp (created|configured)/);
    expect(out).toMatch(/clustermfasecretstore\.mfa-operator\.io\/shared-secrets (created|configured)/);
    const got = JSON.parse(
      await kubectlOk(cp.kubeconfigPath, ['get', 'mfa', 'demo-brand', '-n', 'default', '-o', 'json']),
    );
    expect(got.spec).toMatchObject({ deletionPolicy: 'Retain', mfa: { state: 'Enabled' } });
    expect(got.spec.account.credentialsSecretRef).toEqual({
      name: 'demo-brand-login',
      usernameKey: 'username',
      passwordKey: 'password',
    });
  });

  it('defaults the CA bundle key to ca.crt, as in kube-root-ca.crt', async () => {
    const obj = validMfa('with-ca');
    obj.spec.account.caBundleRef = { configMapName: 'internal-ca' };
    const out = await kubectlOk(
      cp.kubeconfigPath,
      ['apply', '--dry-run=server', '-o', 'json', '-f', '-'],
      stringify(obj),
    );
    expect(JSON.parse(out).spec.account.caBundleRef).toEqual({ configMapName: 'internal-ca', key: 'ca.crt' });
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

  it.each(GOOD_LOGIN_URLS)('accepts the login URL %s', async (loginUrl) => {
    const obj = validMfa(`good-${Math.random().toString(36).slice(2, 8)}`);
    obj.spec.account.loginUrl = loginUrl;
    const result = await kubectl(cp.kubeconfigPath, ['apply', '--dry-run=server', '-f', '-'], stringify(obj));
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });

  it.each(BAD_STORES)('rejects a store with %s, naming the field', async (_name, kind, spec, expected) => {
    const result = await kubectl(cp.kubeconfigPath, ['apply', '--dry-run=server', '-f', '-'], store(kind, spec));
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(expected);
  });

  it.each(GOOD_STORES)('accepts a well-formed %s', async (kind, spec) => {
    const result = await kubectl(cp.kubeconfigPath, ['apply', '--dry-run=server', '-f', '-'], store(kind, spec));
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
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
    const none = await kubectl(cp.kubeconfigPath, ['apply', '-f', '-'], store('MfaSecretStore', { provider: {} }));
    expect(none.stderr).toMatch(/spec\.provider: Invalid value.*exactly one of kubernetes or gcpSecretManager/);
    const two = await kubectl(
      cp.kubeconfigPath,
      ['apply', '-f', '-'],
      store('MfaSecretStore', { provider: { kubernetes: {}, gcpSecretManager: { projectID: 'my-project-1' } } }),
    );
    expect(two.stderr).toMatch(/exactly one of kubernetes or gcpSecretManager/);
    const conditions = await kubectl(
      cp.kubeconfigPath,
      ['apply', '-f', '-'],
      store('MfaSecretStore', { provider: { kubernetes: {} }, conditions: { namespaces: ['a'] } }),
    );
    expect(conditions.stderr).toMatch(/spec\.conditions applies only to ClusterMfaSecretStore/);
    const keyNoNs = await kubectl(
      cp.kubeconfigPath,
      ['apply', '-f', '-'],
      store('ClusterMfaSecretStore', gcpKey({ name: 'k' })),
    );
    expect(keyNoNs.stderr).toMatch(/secretRef\.namespace is required in a ClusterMfaSecretStore/);
  });
});
