import type { V1Secret } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { ManagedAccountMfa } from '../api/v1alpha1/types.generated.ts';
import { AdoptionSourceProblem, readAdoptionSource } from './adoption-source.ts';

const KEY = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
const URI = `otpauth://totp/Demo:alice?secret=${KEY}&issuer=Demo&algorithm=SHA256&digits=8&period=60`;

function mfa(adoptFrom: Record<string, string> = { secretName: 'phone-seed' }): ManagedAccountMfa {
  return {
    metadata: { name: 'alice', namespace: 'team-a' },
    spec: { connector: 'demo', account: { credentialsSecretRef: { name: 'alice-login' } }, mfa: { adoptFrom } },
  } as unknown as ManagedAccountMfa;
}

function secret(values: Record<string, string>, labelled = true): V1Secret {
  return {
    metadata: {
      name: 'phone-seed',
      namespace: 'team-a',
      ...(labelled ? { labels: { 'mfa-operator.io/credentials': 'true' } } : {}),
    },
    data: Object.fromEntries(Object.entries(values).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
  };
}

function problemOf(read: () => unknown): AdoptionSourceProblem {
  try {
    read();
  } catch (e: unknown) {
    if (e instanceof AdoptionSourceProblem) return e;
    throw e;
  }
  throw new Error('expected an AdoptionSourceProblem');
}

describe('readAdoptionSource', () => {
  it('reads an otpauth URI with its parameters from the default key', () => {
    const { seed, recoveryCodes } = readAdoptionSource(mfa(), secret({ otpauth: `${URI}\n` }));
    expect(seed.secret.reveal()).toBe(KEY);
    expect(seed).toMatchObject({ algorithm: 'SHA256', digits: 8, period: 60, issuer: 'Demo', label: 'alice' });
    expect(recoveryCodes).toBeUndefined();
  });

  it('reads a bare base32 key with the parameter keys beside it, and the recovery codes one per line', () => {
    const { seed, recoveryCodes } = readAdoptionSource(
      mfa({ secretName: 'phone-seed', seedKey: 'key', recoveryCodesKey: 'codes' }),
      secret({
        key: 'jbsw y3dp ehpk 3pxp jbsw y3dp ehpk 3pxp',
        algorithm: 'SHA512',
        digits: '8',
        period: '30',
        codes: 'aaaa-1111\r\n\n  bbbb-2222 \n',
      }),
    );
    expect(seed.secret.reveal()).toBe(KEY);
    expect(seed).toMatchObject({ algorithm: 'SHA512', digits: 8, period: 30 });
    expect(recoveryCodes?.reveal()).toEqual(['aaaa-1111', 'bbbb-2222']);
  });

  it('takes SHA1, 6 digits and 30 s for a bare key without parameter keys', () => {
    expect(readAdoptionSource(mfa(), secret({ otpauth: KEY })).seed).toMatchObject({
      algorithm: 'SHA1',
      digits: 6,
      period: 30,
    });
  });

  it.each([
    [
      'Secret not found',
      mfa(),
      undefined,
      'AdoptionSourceNotFound',
      [
        '"phone-seed"',
        'spec.mfa.adoptFrom.secretName',
        'mfa-operator.io/credentials=true',
        'kubectl label secret phone-seed -n team-a',
      ],
    ],
    [
      'Secret not labelled',
      mfa(),
      secret({ otpauth: URI }, false),
      'AdoptionSourceNotFound',
      ['"phone-seed"', 'mfa-operator.io/credentials=true'],
    ],
    [
      'missing key',
      mfa(),
      secret({ other: URI }),
      'AdoptionSourceInvalid',
      ['key "otpauth"', 'spec.mfa.adoptFrom.seedKey'],
    ],
    [
      'empty key',
      mfa({ secretName: 'phone-seed', seedKey: 'seed' }),
      secret({ seed: '  \n' }),
      'AdoptionSourceInvalid',
      ['key "seed"', 'is missing or empty'],
    ],
    [
      'malformed URI',
      mfa(),
      secret({ otpauth: 'otpauth:/totp/x?secret=' + KEY }),
      'AdoptionSourceInvalid',
      ['key "otpauth"', 'not an otpauth:// URI'],
    ],
    [
      'URI without a secret',
      mfa(),
      secret({ otpauth: 'otpauth://totp/Demo:alice?issuer=Demo' }),
      'AdoptionSourceInvalid',
      ['no secret parameter'],
    ],
    [
      'HOTP',
      mfa(),
      secret({ otpauth: `otpauth://hotp/x?secret=${KEY}&counter=1` }),
      'AdoptionSourceInvalid',
      ['HOTP', 'only time-based'],
    ],
    [
      'another URI type',
      mfa(),
      secret({ otpauth: `otpauth://motp/x?secret=${KEY}` }),
      'AdoptionSourceInvalid',
      ['neither totp nor hotp'],
    ],
    [
      'unsupported algorithm',
      mfa(),
      secret({ otpauth: `otpauth://totp/x?secret=${KEY}&algorithm=MD5` }),
      'AdoptionSourceInvalid',
      ['algorithm is not one of SHA1, SHA256, SHA512'],
    ],
    [
      'digits not 6 or 8',
      mfa(),
      secret({ otpauth: `otpauth://totp/x?secret=${KEY}&digits=7` }),
      'AdoptionSourceInvalid',
      ['digits is not 6 or 8'],
    ],
    ['bad base32', mfa(), secret({ otpauth: 'JBSWY3DPEHPK3PX1!!' }), 'AdoptionSourceInvalid', ['outside base32']],
    [
      'too short a secret',
      mfa(),
      secret({ otpauth: 'JBSWY3DP' }),
      'AdoptionSourceInvalid',
      ['shorter than 16 base32 characters'],
    ],
    [
      'a bad digits key beside a bare key',
      mfa(),
      secret({ otpauth: KEY, digits: '10' }),
      'AdoptionSourceInvalid',
      ['key "digits"', 'digits is not 6 or 8'],
    ],
    [
      'a bad algorithm key',
      mfa(),
      secret({ otpauth: KEY, algorithm: 'sha3' }),
      'AdoptionSourceInvalid',
      ['key "algorithm"'],
    ],
    [
      'a seed pasted into the algorithm key',
      mfa(),
      secret({ otpauth: KEY, algorithm: KEY }),
      'AdoptionSourceInvalid',
      ['key "algorithm"', 'algorithm is not one of SHA1, SHA256, SHA512'],
    ],
    [
      'a bad period key',
      mfa(),
      secret({ otpauth: KEY, period: '0' }),
      'AdoptionSourceInvalid',
      ['key "period"', 'between 1 and 300'],
    ],
    [
      'a parameter key beside a URI',
      mfa(),
      secret({ otpauth: URI, digits: '6' }),
      'AdoptionSourceInvalid',
      ['key "digits"', 'beside an otpauth URI'],
    ],
    [
      'recovery codes key missing',
      mfa({ secretName: 'phone-seed', recoveryCodesKey: 'codes' }),
      secret({ otpauth: URI }),
      'AdoptionSourceInvalid',
      ['key "codes"', 'spec.mfa.adoptFrom.recoveryCodesKey'],
    ],
    [
      'too many recovery codes',
      mfa({ secretName: 'phone-seed', recoveryCodesKey: 'codes' }),
      secret({ otpauth: URI, codes: Array.from({ length: 101 }, (_, i) => `code-${i}`).join('\n') }),
      'AdoptionSourceInvalid',
      ['key "codes"', 'more than 100 codes'],
    ],
  ] as const)(
    'refuses %s with a message naming the Secret and the key, and no secret',
    (_case, resource, source, reason, parts) => {
      const problem = problemOf(() => readAdoptionSource(resource, source));
      expect(problem.reason).toBe(reason);
      expect(problem.message).toContain('"phone-seed"');
      for (const part of parts) expect(problem.message).toContain(part);
      for (const secretPart of [KEY, KEY.slice(0, 16), 'JBSWY3DP', 'code-1', 'aaaa-1111'])
        expect(problem.message).not.toContain(secretPart);
    },
  );
});
