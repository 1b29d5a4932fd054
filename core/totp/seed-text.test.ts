import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  canonicalBase32,
  parseOtpauthUri,
  parseTextKey,
  SeedFormatError,
  toOtpauthUri,
  totpParametersFromText,
} from './seed-text.ts';

const KEY = 'JBSWY3DPEHPK3PXP';

function reasonOf(fn: () => unknown): { reason: string; message: string } {
  try {
    fn();
  } catch (e: unknown) {
    if (e instanceof SeedFormatError) return { reason: e.name, message: e.message };
    throw e;
  }
  throw new Error('expected a SeedFormatError');
}

describe('parseOtpauthUri', () => {
  it('reads a plain Google Authenticator style URI with defaults', () => {
    const seed = parseOtpauthUri(`otpauth://totp/Example:alice@example.com?secret=${KEY}&issuer=Example`);
    expect(seed.secret.reveal()).toBe(KEY);
    expect(seed).toMatchObject({
      algorithm: 'SHA1',
      digits: 6,
      period: 30,
      issuer: 'Example',
      label: 'alice@example.com',
    });
  });

  it.each([
    ['padding present', `otpauth://totp/x?secret=${KEY}====`],
    ['lower case', `otpauth://totp/x?secret=${KEY.toLowerCase()}`],
    ['groups of four with spaces', 'otpauth://totp/x?secret=JBSW%20Y3DP%20EHPK%203PXP'],
    ['plus signs for spaces', 'otpauth://totp/x?secret=jbsw+y3dp+ehpk+3pxp'],
    ['upper-case scheme and type', `OTPAUTH://TOTP/x?SECRET=${KEY}`],
  ])('normalizes the secret: %s', (_case, uri) => {
    expect(parseOtpauthUri(uri).secret.reveal()).toBe(KEY);
  });

  it('decodes %3A labels and drops the leading space of the account', () => {
    const seed = parseOtpauthUri(`otpauth://totp/ACME%20Co%3A%20john.doe%40email.com?secret=${KEY}`);
    expect(seed).toMatchObject({ issuer: 'ACME Co', label: 'john.doe@email.com' });
  });

  it('prefers the issuer parameter over the label prefix', () => {
    const seed = parseOtpauthUri(`otpauth://totp/Old+Name:bob?secret=${KEY}&issuer=New+Name`);
    expect(seed).toMatchObject({ issuer: 'New Name', label: 'bob' });
  });

  it('accepts a URI without a label', () => {
    const seed = parseOtpauthUri(`otpauth://totp/?secret=${KEY}&issuer=Solo`);
    expect(seed.issuer).toBe('Solo');
    expect(seed.label).toBeUndefined();
  });

  it('reads lower-case and dashed algorithms, 8 digits and a 60 s period', () => {
    expect(parseOtpauthUri(`otpauth://totp/x?secret=${KEY}&algorithm=sha256&digits=8&period=60`)).toMatchObject({
      algorithm: 'SHA256',
      digits: 8,
      period: 60,
    });
    expect(parseOtpauthUri(`otpauth://totp/x?secret=${KEY}&algorithm=SHA-512`).algorithm).toBe('SHA512');
  });

  it('rejects an unknown algorithm by name', () => {
    const { reason, message } = reasonOf(() => parseOtpauthUri(`otpauth://totp/x?secret=${KEY}&algorithm=MD5`));
    expect(reason).toBe('SeedFormatError');
    expect(message).toContain('"MD5"');
  });

  it('rejects HOTP clearly', () => {
    expect(reasonOf(() => parseOtpauthUri(`otpauth://hotp/x?secret=${KEY}&counter=0`)).message).toContain('HOTP');
  });

  it.each([
    ['missing secret', 'otpauth://totp/x?issuer=Example'],
    ['empty secret', 'otpauth://totp/x?secret=&issuer=Example'],
    ['non-base32 secret', 'otpauth://totp/x?secret=JBSWY3DPEHPK3PX1'],
    ['truncated secret', 'otpauth://totp/x?secret=JBSWY3DP'],
    ['digits 7', `otpauth://totp/x?secret=${KEY}&digits=7`],
    ['period 0', `otpauth://totp/x?secret=${KEY}&period=0`],
    ['not otpauth', `https://example.com/?secret=${KEY}`],
  ])('fails with SeedFormatError and no secret in the message: %s', (_case, uri) => {
    const { reason, message } = reasonOf(() => parseOtpauthUri(uri));
    expect(reason).toBe('SeedFormatError');
    expect(message).not.toContain('JBSW');
  });
});

describe('parseTextKey', () => {
  it('reads a grouped lower-case setup key with the app defaults', () => {
    const seed = parseTextKey('jbsw y3dp ehpk 3pxp', { digits: 8, issuer: 'Demo' });
    expect(seed.secret.reveal()).toBe(KEY);
    expect(seed).toMatchObject({ algorithm: 'SHA1', digits: 8, period: 30, issuer: 'Demo' });
  });

  it('reads an otpauth URI shown as text', () => {
    expect(parseTextKey(`otpauth://totp/x?secret=${KEY}&digits=8`).digits).toBe(8);
  });

  it('accepts hyphen groups and newlines', () => {
    expect(canonicalBase32('JBSW-Y3DP\nEHPK-3PXP')).toBe(KEY);
  });
});

describe('totpParametersFromText', () => {
  it('validates parameters printed beside a key', () => {
    expect(totpParametersFromText({ algorithm: 'sha-256', digits: '8', period: '60' })).toEqual({
      algorithm: 'SHA256',
      digits: 8,
      period: 60,
    });
    expect(totpParametersFromText({})).toEqual({ algorithm: 'SHA1', digits: 6, period: 30 });
    expect(() => totpParametersFromText({ digits: 'six' })).toThrow(/digits/);
  });
});

describe('TotpSeed', () => {
  it('never prints its secret', () => {
    const seed = parseTextKey(KEY);
    const printed = [JSON.stringify(seed), inspect(seed, { depth: 5 }), `${seed.secret}`].join('\n');
    expect(printed).not.toContain(KEY);
  });

  it('round-trips through toOtpauthUri', () => {
    const seed = parseOtpauthUri(
      `otpauth://totp/Acme:bob?secret=${KEY}&algorithm=SHA512&digits=8&period=45&issuer=Acme`,
    );
    expect(parseOtpauthUri(toOtpauthUri(seed))).toMatchObject({
      algorithm: 'SHA512',
      digits: 8,
      period: 45,
      issuer: 'Acme',
      label: 'bob',
    });
  });
});
