import { describe, expect, it } from 'vitest';
import { accountLabelValue, ownerReferencesFor, secretNameFor } from './secret-names.ts';

const ref = (name: string) => ({ namespace: 'team-a', name, uid: 'uid-1' });
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

describe('secretNameFor', () => {
  it('appends the material to the account name', () => {
    expect(secretNameFor(ref('github-ops'), 'seed')).toBe('github-ops-mfa-seed');
    expect(secretNameFor(ref('github-ops'), 'recovery-codes')).toBe('github-ops-mfa-recovery-codes');
  });

  it('hash-shortens names past 253 characters into distinct valid names', () => {
    const long = `${'a'.repeat(230)}.${'b'.repeat(22)}`;
    const other = `${'a'.repeat(230)}.${'b'.repeat(21)}c`;

    const name = secretNameFor(ref(long), 'recovery-codes');

    expect(name.length).toBeLessThanOrEqual(253);
    expect(name).toMatch(DNS_SUBDOMAIN);
    expect(name).not.toBe(secretNameFor(ref(other), 'recovery-codes'));
  });

  it('never leaves a dot before the hash', () => {
    const name = secretNameFor(ref(`${'a'.repeat(222)}.${'b'.repeat(40)}`), 'recovery-codes');
    expect(name).toMatch(DNS_SUBDOMAIN);
  });
});

describe('accountLabelValue', () => {
  it('keeps short names and shortens long ones to 63 characters', () => {
    expect(accountLabelValue('github-ops')).toBe('github-ops');
    const long = accountLabelValue('x'.repeat(100));
    expect(long).toHaveLength(63);
    expect(long).toMatch(/^[a-z0-9]([-a-z0-9_.]*[a-z0-9])?$/);
  });
});

describe('ownerReferencesFor', () => {
  const others = [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'x', uid: 'u' }];

  it('adds the ManagedAccountMfa beside other owners, and removes only it', () => {
    const owned = ownerReferencesFor(others, ref('acct'), true);
    expect(owned).toEqual([
      ...others,
      expect.objectContaining({ kind: 'ManagedAccountMfa', uid: 'uid-1', blockOwnerDeletion: false }),
    ]);
    expect(ownerReferencesFor(owned, ref('acct'), false)).toEqual(others);
  });
});
