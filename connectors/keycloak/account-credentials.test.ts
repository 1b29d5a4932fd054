import { describe, expect, it } from 'vitest';
import { isConnectorError } from '../sdk/errors.ts';
import { credentialIds, mfaStateOf, offersSetup, parseCredentialTypes } from './account-credentials.ts';

/** Shaped like Keycloak 26's GET /realms/<realm>/account/credentials. */
function credentialList(withOtp: boolean, extra: object[] = []): unknown {
  return [
    {
      type: 'password',
      category: 'basic-authentication',
      updateAction: 'UPDATE_PASSWORD',
      removeable: false,
      userCredentialMetadatas: [{ credential: { id: 'pw-1', type: 'password' } }],
    },
    {
      type: 'otp',
      category: 'two-factor',
      createAction: 'CONFIGURE_TOTP',
      removeable: true,
      userCredentialMetadatas: withOtp ? [{ credential: { id: 'otp-1', type: 'otp', userLabel: 'mfa-operator' } }] : [],
    },
    ...extra,
  ];
}

describe('the account console credential list', () => {
  it('reads an account without an authenticator as MFA off', () => {
    expect(mfaStateOf(parseCredentialTypes(credentialList(false)))).toEqual({ totpEnabled: false, otherMethods: [] });
  });

  it('reads an OTP credential as the authenticator app being on', () => {
    const types = parseCredentialTypes(credentialList(true));
    expect(mfaStateOf(types).totpEnabled).toBe(true);
    expect(credentialIds(types, 'otp')).toEqual(['otp-1']);
  });

  it('reports security keys and passkeys as other methods, and recovery codes as none', () => {
    const types = parseCredentialTypes(
      credentialList(false, [
        { type: 'webauthn', category: 'two-factor', userCredentialMetadatas: [{ credential: { id: 'w1' } }] },
        {
          type: 'webauthn-passwordless',
          category: 'passwordless',
          userCredentialMetadatas: [{ credential: { id: 'p1' } }],
        },
        {
          type: 'recovery-authn-codes',
          category: 'two-factor',
          createAction: 'CONFIGURE_RECOVERY_AUTHN_CODES',
          userCredentialMetadatas: [{ credential: { id: 'r1' } }],
        },
      ]),
    );
    expect(mfaStateOf(types).otherMethods).toEqual(['webauthn', 'passkey']);
  });

  it('tells whether users may set up a type from the account console', () => {
    const types = parseCredentialTypes(credentialList(false));
    expect(offersSetup(types, 'otp')).toBe(true);
    expect(offersSetup(types, 'recovery-authn-codes')).toBe(false);
  });

  it.each([{}, [{ category: 'x' }], 'html'])('refuses %j as ConnectorOutdated', (body) => {
    let reason = 'no error';
    try {
      parseCredentialTypes(body);
    } catch (e: unknown) {
      if (isConnectorError(e)) reason = e.reason;
    }
    expect(reason).toBe('ConnectorOutdated');
  });
});
