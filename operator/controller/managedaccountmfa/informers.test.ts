import { describe, expect, it } from 'vitest';
import type { ManagedAccountMfa } from '../../api/v1alpha1/types.generated.ts';
import { dropBookkeeping } from './informers.ts';

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
