import { describe, expect, it } from 'vitest';
import { SecretValue } from '../../core/secrets/secret-value.ts';
import { ConnectorError } from './errors.ts';
import { resolveEnrollmentSeed } from './enrollment-secret.ts';

const KEY = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
const uri = (secret: string, extra = '') =>
  new SecretValue(`otpauth://totp/Demo:a?secret=${secret}&issuer=Demo${extra}`);

describe('resolveEnrollmentSeed', () => {
  it('accepts a grouped lower-case key that matches the QR code', () => {
    const seed = resolveEnrollmentSeed('Demo', {
      textKey: new SecretValue('jbsw y3dp ehpk 3pxp jbsw y3dp ehpk 3pxp'),
      otpauthUri: uri(KEY),
    });
    expect(seed.secret.reveal()).toBe(KEY);
  });

  it("prefers the URI's parameters over the connector's defaults", () => {
    const seed = resolveEnrollmentSeed('Demo', {
      textKey: new SecretValue(KEY),
      otpauthUri: uri(KEY, '&digits=8&algorithm=SHA256&period=60'),
      defaults: { digits: 6, algorithm: 'SHA1', period: 30, issuer: 'Fallback' },
    });
    expect(seed).toMatchObject({ digits: 8, algorithm: 'SHA256', period: 60, issuer: 'Demo' });
  });

  it('uses the defaults for a text key alone', () => {
    const seed = resolveEnrollmentSeed('Demo', {
      textKey: new SecretValue(KEY),
      defaults: { digits: 8, issuer: 'Demo' },
    });
    expect(seed).toMatchObject({ digits: 8, algorithm: 'SHA1', issuer: 'Demo' });
  });

  it('refuses a key and QR code that disagree, without printing either', () => {
    const other = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
    let error: unknown;
    try {
      resolveEnrollmentSeed('Demo', { textKey: new SecretValue(other), otpauthUri: uri(KEY) });
    } catch (e: unknown) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConnectorError);
    expect((error as ConnectorError).reason).toBe('ConnectorOutdated');
    expect((error as ConnectorError).message).not.toMatch(/JBSW|GEZD/i);
  });

  it('reports ConnectorOutdated when the page showed nothing', () => {
    expect(() => resolveEnrollmentSeed('Demo', {})).toThrow(/setup key or QR code/);
  });
});
