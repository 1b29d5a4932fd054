import { describe, expect, it } from 'vitest';
import { ownershipProblem, secretIdFor, secretLabelsFor } from './secret-ids.ts';

const ref = (namespace: string, name: string) => ({ namespace, name, uid: 'u' });
const SECRET_ID = /^[a-zA-Z0-9_-]{1,255}$/;

describe('secretIdFor', () => {
  it('derives a readable id from namespace and name, dots becoming underscores', () => {
    expect(secretIdFor(ref('team-a', 'github.ops'), 'seed')).toBe('mfa-operator_team-a_github_ops_seed');
  });

  it('keeps accounts that differ only in separators apart', () => {
    expect(secretIdFor(ref('a-b', 'c'), 'seed')).not.toBe(secretIdFor(ref('a', 'b-c'), 'seed'));
  });

  it('hash-shortens ids past 255 characters', () => {
    const long = 'n'.repeat(253);
    const id = secretIdFor(ref('x'.repeat(63), long), 'recovery-codes');
    expect(id).toMatch(SECRET_ID);
    expect(id.endsWith('_recovery-codes')).toBe(true);
    expect(id).not.toBe(secretIdFor(ref('x'.repeat(63), `${long.slice(1)}m`), 'recovery-codes'));
  });
});

describe('secret labels', () => {
  it('are valid label values and identify the account', () => {
    const labels = secretLabelsFor(ref('team-a', `${'a.'.repeat(60)}z`), 'seed');
    for (const value of Object.values(labels)) expect(value).toMatch(/^[a-z0-9_-]{0,63}$/);
    expect(ownershipProblem(labels, ref('team-a', `${'a.'.repeat(60)}z`), 'seed')).toBeUndefined();
    expect(ownershipProblem(labels, ref('team-b', `${'a.'.repeat(60)}z`), 'seed')).toMatch(/different account/);
    expect(ownershipProblem({}, ref('team-a', 'x'), 'seed')).toMatch(/managed-by/);
  });
});
