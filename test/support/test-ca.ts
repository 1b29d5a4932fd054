import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CertificateDirectory, readKeyPair, type KeyPairPem } from '../envtest/certificates.ts';

/**
 * Throwaway TLS material for an app with an internal CA: the CA, a serving certificate it signed for 127.0.0.1,
 * localhost and `hosts`, and a second CA that signed nothing of the app's. Made with the envtest certificate tools.
 */
export interface TestCa {
  ca: KeyPairPem;
  serving: KeyPairPem;
  otherCa: KeyPairPem;
  /** The directory the material is in; tests may put their own files there. */
  dir: string;
  remove(): Promise<void>;
}

export async function createTestCa(hosts: readonly string[] = []): Promise<TestCa> {
  const dir = await mkdtemp(join(tmpdir(), 'mfa-test-ca-'));
  try {
    const certificates = await CertificateDirectory.create(dir);
    const ca = await certificates.createCertificateAuthority('app-ca');
    const serving = await certificates.issueServingCertificate('app', ca, hosts);
    const otherCa = await certificates.createCertificateAuthority('other-ca');
    const [caPem, servingPem, otherPem] = await Promise.all([
      readKeyPair(ca),
      readKeyPair(serving),
      readKeyPair(otherCa),
    ]);
    return {
      ca: caPem,
      serving: servingPem,
      otherCa: otherPem,
      dir,
      remove: () => rm(dir, { recursive: true, force: true }),
    };
  } catch (e: unknown) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
}
