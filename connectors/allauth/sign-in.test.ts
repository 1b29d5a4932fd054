import { describe, expect, it } from 'vitest';
import { isConnectorError } from '../sdk/errors.ts';
import type { PageName } from './site-urls.ts';
import { throwIfNotSignedIn } from './sign-in.ts';

function reasonAt(page: PageName | undefined): string {
  try {
    throwIfNotSignedIn({ page, status: 200 });
  } catch (e: unknown) {
    if (isConnectorError(e)) return e.reason;
    throw e;
  }
  return 'signed in';
}

describe('throwIfNotSignedIn (where the browser is after the password and code)', () => {
  it("takes any page of the site's own as signed in", () => {
    expect(reasonAt(undefined)).toBe('signed in');
  });

  it.each([
    ['loginCode', 'ChallengeRequired'],
    ['emailVerification', 'ChallengeRequired'],
    ['mfaTrust', 'ChallengeRequired'],
    ['inactive', 'InvalidCredentials'],
    ['mfaAuthenticate', 'ChallengeRequired'],
  ] as const)("reports allauth's %s page as %s", (page, reason) => {
    expect(reasonAt(page)).toBe(reason);
  });
});
