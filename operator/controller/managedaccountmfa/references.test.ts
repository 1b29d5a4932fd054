import type { V1Secret } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { ManagedAccountMfa, MfaSecretStore } from '../../api/v1alpha1/types.generated.ts';
import { checkCredentials, checkSecretStore, type ReferenceLookups } from './references.ts';

const NS = 'team-a';
const OPTED_IN = { 'mfa-operator.io/credentials': 'true' };

function mfa(spec: Partial<ManagedAccountMfa['spec']> = {}): ManagedAccountMfa {
  return {
    apiVersion: 'mfa-operator.io/v1alpha1',
    kind: 'ManagedAccountMfa',
    metadata: { name: 'brand', namespace: NS },
    spec: { connector: 'demo', account: { credentialsSecretRef: { name: 'brand-login' } }, ...spec },
  };
}

function secret(
  labels: Record<string, string> | undefined,
  data: Record<string, string> = { username: '*', password: '*' },
): V1Secret {
  return { metadata: { name: 'brand-login', namespace: NS, ...(labels ? { labels } : {}) }, data };
}

function lookups(found: { secret?: V1Secret; store?: MfaSecretStore } = {}): ReferenceLookups {
  return {
    secret: (ns, name) => (ns === NS && name === found.secret?.metadata?.name ? found.secret : undefined),
    store: (ns, name) => (ns === NS && name === found.store?.metadata.name ? found.store : undefined),
    clusterStore: () => undefined,
    namespace: () => undefined,
    knownConnector: () => true,
    connectorIds: () => ['demo'],
  };
}

describe('checkCredentials: only Secrets their owner labelled for the operator', () => {
  it.each([
    ['a labelled Secret with both keys', secret(OPTED_IN), { ok: true }],
    ['no Secret', undefined, { ok: false, reason: 'CredentialsSecretNotFound' }],
    ['a Secret without the label', secret(undefined), { ok: false, reason: 'CredentialsSecretNotFound' }],
    [
      'a Secret whose label says false',
      secret({ 'mfa-operator.io/credentials': 'false' }),
      { ok: false, reason: 'CredentialsSecretNotFound' },
    ],
    [
      'a labelled Secret without the password',
      secret(OPTED_IN, { username: '*' }),
      { ok: false, reason: 'CredentialsKeyMissing' },
    ],
  ])('%s', (_case, found, expected) => {
    expect(checkCredentials(mfa(), lookups(found ? { secret: found } : {}))).toMatchObject(expected);
  });

  it('says which label to add, and the same for an unlabelled Secret as for a missing one, so a condition never tells which Secrets exist', () => {
    const unlabelled = checkCredentials(
      mfa(),
      lookups({ secret: secret(undefined, { username: '*', password: '*', extra: '*' }) }),
    );
    const missing = checkCredentials(mfa(), lookups());
    expect(unlabelled).toEqual(missing);
    expect(unlabelled.message).toContain('kubectl label secret brand-login -n team-a mfa-operator.io/credentials=true');
    // An unlabelled Secret's keys are not probed either: CredentialsKeyMissing is only said of opted-in Secrets.
    expect(
      checkCredentials(
        mfa({ account: { credentialsSecretRef: { name: 'brand-login', passwordKey: 'nope' } } }),
        lookups({ secret: secret(undefined) }),
      ),
    ).toMatchObject({ reason: 'CredentialsSecretNotFound' });
  });
});

describe('checkSecretStore: a namespaced store reads its key only in its own namespace', () => {
  const gcpStore = (secretRef: { name: string; key: string; namespace?: string }): MfaSecretStore => ({
    metadata: { name: 'gcp', namespace: NS },
    spec: { provider: { gcpSecretManager: { projectID: 'my-project-1', auth: { secretRef } } } },
  });

  it.each([
    ['no namespace', gcpStore({ name: 'k', key: 'key.json' }), { ok: true }],
    ['its own namespace', gcpStore({ name: 'k', key: 'key.json', namespace: NS }), { ok: true }],
    [
      'another namespace (stored before the schema forbade it)',
      gcpStore({ name: 'k', key: 'key.json', namespace: 'kube-system' }),
      { ok: false, reason: 'InvalidStoreConfig' },
    ],
  ])('key Secret in %s', (_case, store, expected) => {
    const check = checkSecretStore(
      mfa({ secretStoreRef: { kind: 'MfaSecretStore', name: 'gcp' } }),
      lookups({ store }),
    );
    expect(check).toMatchObject(expected);
    if (!check.ok)
      expect(check.message).toMatch(
        /spec\.provider\.gcpSecretManager\.auth\.secretRef\.namespace "kube-system".*own namespace/,
      );
  });
});
