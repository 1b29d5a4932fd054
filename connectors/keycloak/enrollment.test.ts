import { describe, expect, it } from 'vitest';
import { isConnectorError } from '../sdk/errors.ts';
import { otpPolicyFrom } from './enrollment.ts';

function reasonOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e: unknown) {
    if (isConnectorError(e)) return e.reason;
    throw e;
  }
  return 'no error';
}

describe('otpPolicyFrom (the policy lines under the setup key)', () => {
  it('reads the default policy', () => {
    expect(otpPolicyFrom({ type: 'Time-based', algorithm: 'SHA1', digits: '6', period: '30' })).toEqual({
      algorithm: 'SHA1',
      digits: 6,
      period: 30,
    });
  });

  it('reads a stricter realm policy, with or without the Hmac prefix', () => {
    expect(otpPolicyFrom({ type: 'Time-based', algorithm: 'HmacSHA512', digits: '8', period: '60' })).toEqual({
      algorithm: 'SHA512',
      digits: 8,
      period: 60,
    });
  });

  it('refuses counter-based (HOTP) realms', () => {
    expect(reasonOf(() => otpPolicyFrom({ type: 'Counter-based', algorithm: 'SHA1', digits: '6', period: '' }))).toBe(
      'UnsupportedSeed',
    );
  });

  it('refuses digits and algorithms authenticators and stores do not agree on', () => {
    expect(reasonOf(() => otpPolicyFrom({ type: 'Time-based', algorithm: 'SHA1', digits: '7', period: '30' }))).toBe(
      'UnsupportedSeed',
    );
    expect(reasonOf(() => otpPolicyFrom({ type: 'Time-based', algorithm: 'MD5', digits: '6', period: '30' }))).toBe(
      'UnsupportedSeed',
    );
  });
});
