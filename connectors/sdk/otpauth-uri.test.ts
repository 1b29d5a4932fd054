import { describe, expect, it } from 'vitest';
import { isConnectorError } from './errors.ts';
import { parseOtpauthUri, parseTextKey, totpParametersFromText, totpParametersInText } from './otpauth-uri.ts';

const KEY = 'JBSWY3DPEHPK3PXP';

function reasonOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e: unknown) {
    if (isConnectorError(e)) return e.reason;
    throw e;
  }
  throw new Error('expected a ConnectorError');
}

// The parsing itself is tested in core/totp/seed-text.test.ts; a connector sees each refusal as UnsupportedSeed.
describe('the connector SDK readers', () => {
  it.each([
    ['an otpauth URI of HOTP', () => parseOtpauthUri(`otpauth://hotp/x?secret=${KEY}&counter=0`)],
    ['a text key outside base32', () => parseTextKey('not base32!')],
    ['digits beside a key', () => totpParametersFromText({ digits: '7' })],
    ['an algorithm in prose', () => totpParametersInText('Algorithm: MD5')],
    ['a short key', () => parseTextKey('JBSW')],
  ])('refuse %s as UnsupportedSeed', (_case, read) => {
    expect(reasonOf(read)).toBe('UnsupportedSeed');
  });

  it('read a good seed as core does', () => {
    expect(parseTextKey(KEY.toLowerCase()).secret.reveal()).toBe(KEY);
  });
});
