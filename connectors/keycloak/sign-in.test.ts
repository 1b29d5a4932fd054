import { describe, expect, it } from 'vitest';
import { passwordRefused, recoveryCodeIndexOf, unanswerable } from './sign-in.ts';

describe('passwordRefused (Keycloak messages after a refused password)', () => {
  it.each([
    ['Invalid username or password.', 'signIn', 'InvalidCredentials'],
    ['Invalid username or password.', 'stepUp', 'StepUpRequired'],
    ['Account is temporarily disabled; contact your administrator or retry later.', 'signIn', 'RateLimited'],
    ['Account is disabled, contact your administrator.', 'signIn', 'InvalidCredentials'],
    ['Login timeout. Please sign in again.', 'signIn', 'Timeout'],
  ] as const)('%s while %s → %s', (message, purpose, reason) => {
    expect(passwordRefused(message, purpose).reason).toBe(reason);
  });

  it('says what to do about a disabled account', () => {
    expect(passwordRefused('Account is disabled, contact your administrator.', 'signIn').message).toMatch(/enable it/);
  });
});

describe('unanswerable (pages after sign-in the operator cannot complete)', () => {
  it('reports a security key prompt as another MFA method', () => {
    expect(unanswerable({ kind: 'login', id: 'login-webauthn-authenticate', title: 'Security Key' }).reason).toBe(
      'OtherMfaMethodEnabled',
    );
  });

  it('reports required actions such as a password change as a challenge, by title', () => {
    const error = unanswerable({ kind: 'login', id: 'login-login-update-password', title: 'Update password' });
    expect(error.reason).toBe('ChallengeRequired');
    expect(error.message).toContain('Update password');
  });
});

describe('recoveryCodeIndexOf (which code the "Recovery code #N" label asks for)', () => {
  it.each([
    ['Recovery code #1', 0],
    ['Recovery code #12', 11],
    ['Wiederherstellungscode # 3', 2],
  ] as const)('%s → index %i', (label, index) => {
    expect(recoveryCodeIndexOf(label)).toBe(index);
  });

  it.each(['Recovery code', 'Recovery code #0', 'Recovery code #', ''])('%j names no position', (label) => {
    expect(recoveryCodeIndexOf(label)).toBeUndefined();
  });
});
