import { describe, expect, it } from 'vitest';
import type { ManagedAccountMfa } from '../../api/v1alpha1/types.generated.ts';
import { dependents, dropBookkeeping, type MfaInformers } from './informers.ts';

describe('dropBookkeeping: what the caches keep of an object', () => {
  it("drops managedFields and kubectl's last-applied copy, and keeps every other annotation, label and field", () => {
    const mfa: ManagedAccountMfa = {
      apiVersion: 'mfa-operator.io/v1alpha1',
      kind: 'ManagedAccountMfa',
      metadata: {
        name: 'brand',
        namespace: 'team-a',
        uid: 'u',
        resourceVersion: '9',
        labels: { team: 'a' },
        annotations: {
          'kubectl.kubernetes.io/last-applied-configuration': '{"spec":{}}',
          'mfa-operator.io/rotate': '2026-12-02',
        },
        managedFields: [{ manager: 'kubectl', operation: 'Apply', fieldsType: 'FieldsV1', fieldsV1: {} }],
      },
      spec: { connector: 'demo', account: { credentialsSecretRef: { name: 'brand-login' } } },
    };
    dropBookkeeping(mfa);
    expect(mfa.metadata).toEqual({
      name: 'brand',
      namespace: 'team-a',
      uid: 'u',
      resourceVersion: '9',
      labels: { team: 'a' },
      annotations: { 'mfa-operator.io/rotate': '2026-12-02' },
    });
    expect(mfa.spec.account.credentialsSecretRef.name).toBe('brand-login');
  });
});

describe('dependents: which resources a change concerns', () => {
  it('syncs a resource when its credentials Secret or its spec.mfa.adoptFrom Secret changes, and no other', () => {
    const mfa = (name: string, adoptFrom?: string) =>
      ({
        metadata: { name, namespace: 'team-a' },
        spec: {
          connector: 'demo',
          account: { credentialsSecretRef: { name: `${name}-login` } },
          ...(adoptFrom ? { mfa: { adoptFrom: { secretName: adoptFrom } } } : {}),
        },
      }) as ManagedAccountMfa;
    const informers = {
      mfas: { list: () => [mfa('alice', 'phone-seed'), mfa('bob')] },
    } as unknown as MfaInformers;
    const of = (name: string) => dependents(informers).ofSecret({ metadata: { name, namespace: 'team-a' } });

    expect(of('phone-seed')).toEqual(['team-a/alice']);
    expect(of('bob-login')).toEqual(['team-a/bob']);
    expect(of('other')).toEqual([]);
  });
});
