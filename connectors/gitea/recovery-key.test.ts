import { describe, expect, it } from 'vitest';
import { recoveryKeyIn } from './recovery-key.ts';

describe("recoveryKeyIn (the single-use recovery key in Gitea's success message)", () => {
  it('finds the key in the English message', () => {
    const message =
      'Your account has been successfully enrolled. Store your single-use recovery key (KXQ7M2PAZD) in a safe place, as it will not be shown again.';
    expect(recoveryKeyIn(message)).toBe('KXQ7M2PAZD');
  });

  it('finds it in any language, since only the key has that shape', () => {
    expect(
      recoveryKeyIn(
        'Ihr Konto wurde erfolgreich registriert. Bewahre deinen Wiederherstellungsschlüssel (ABCDEFGH23) sicher auf.',
      ),
    ).toBe('ABCDEFGH23');
  });

  it.each([
    ['no key at all', 'Two-factor authentication has been disabled.'],
    ['letters Gitea never uses (0, O, 1, I)', 'Store your key (ABCDEFGH01) safely.'],
    ['a longer run (a secret, not a key)', 'Store your key (ABCDEFGHJKLMNPQ) safely.'],
    ['two candidates', 'Keys ABCDEFGH23 and ZYXWVUTS23.'],
  ])('finds none in %s', (_what, message) => {
    expect(recoveryKeyIn(message)).toBeUndefined();
  });
});
