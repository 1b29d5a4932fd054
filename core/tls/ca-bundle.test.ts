import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCa, type TestCa } from '../../test/support/test-ca.ts';
import { CaBundleProblem, MAX_CA_BUNDLE_BYTES, parseCaBundle } from './ca-bundle.ts';

let tls: TestCa;
beforeAll(async () => {
  tls = await createTestCa();
});
afterAll(async () => {
  await tls?.remove();
});

const now = new Date();
const problem = (text: string, at = now): string => {
  try {
    parseCaBundle(text, at);
  } catch (e: unknown) {
    if (e instanceof CaBundleProblem) return e.message;
    throw e;
  }
  throw new Error('parseCaBundle accepted the bundle');
};

describe('parseCaBundle', () => {
  it('returns every CA certificate, re-encoded, and ignores comments between them', () => {
    const cas = parseCaBundle(`# internal root\n${tls.ca.cert}\n# another\n${tls.otherCa.cert}`, now);

    expect(cas.map((c) => c.subject)).toEqual(['CN=mfa-operator-envtest-app-ca', 'CN=mfa-operator-envtest-other-ca']);
    expect(new X509Certificate(cas[0]!.pem).fingerprint256).toBe(new X509Certificate(tls.ca.cert).fingerprint256);
    expect(cas[0]!.pem).not.toContain('#');
  });

  it("refuses the app's own (leaf) certificate, saying to give its CA", () => {
    expect(problem(tls.serving.cert)).toMatch(
      /certificate 1 \(CN=127\.0\.0\.1\) is not a CA certificate.*the CA that signed/,
    );
    expect(problem(`${tls.ca.cert}${tls.serving.cert}`)).toMatch(/^certificate 2 /);
  });

  it('refuses text without a certificate, a broken certificate, and a private key pasted in', () => {
    expect(problem('not a certificate at all')).toMatch(/holds no PEM certificate/);
    expect(problem('')).toMatch(/holds no PEM certificate/);
    expect(problem('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n')).toMatch(
      /PEM block 1 is not a readable X\.509 certificate/,
    );
    const withKey = problem(`${tls.ca.cert}${tls.ca.key}`);
    expect(withKey).toMatch(/PEM block 2 is a "PRIVATE KEY", not a CERTIFICATE/);
    expect(withKey).not.toContain(tls.ca.key.split('\n')[1]);
  });

  it('refuses a CA that expired or is not valid yet', () => {
    const validTo = new X509Certificate(tls.ca.cert).validToDate;
    expect(problem(tls.ca.cert, new Date(validTo.getTime() + 1000))).toMatch(/expired at /);
    expect(problem(tls.ca.cert, new Date(Date.now() - 86_400_000))).toMatch(/not valid before /);
  });

  it('refuses a bundle too large for the run spec', () => {
    expect(problem(`${tls.ca.cert}${'#'.repeat(MAX_CA_BUNDLE_BYTES)}`)).toMatch(/larger than 512 KiB/);
  });
});
