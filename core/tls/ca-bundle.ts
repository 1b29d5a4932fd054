import { X509Certificate } from 'node:crypto';

/** trust-manager's bundle of public roots is about 220 KiB; this leaves room for it and keeps the run spec well under 1 MiB. */
export const MAX_CA_BUNDLE_BYTES = 512 * 1024;

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

/** What is wrong with a CA bundle, in words for the user; the caller says where the bundle came from. */
export class CaBundleProblem extends Error {
  constructor(problem: string) {
    super(problem);
    this.name = 'CaBundleProblem';
  }
}

export interface TrustedCa {
  /** The certificate re-encoded as one PEM block, nothing else. */
  pem: string;
  subject: string;
}

/**
 * The CA certificates of a PEM bundle, each one checked: at least one, every PEM block a certificate
 * (a private key pasted in is refused, not skipped), each a CA (basicConstraints CA:TRUE) and valid at `now`.
 * Text between blocks (comments, as in Mozilla-style bundles) is ignored, as OpenSSL does.
 */
export function parseCaBundle(text: string, now: Date): TrustedCa[] {
  if (Buffer.byteLength(text) > MAX_CA_BUNDLE_BYTES)
    throw new CaBundleProblem(`it is larger than ${MAX_CA_BUNDLE_BYTES / 1024} KiB`);
  const cas: TrustedCa[] = [];
  for (const [block, label] of text.matchAll(PEM_BLOCK)) {
    const n = cas.length + 1;
    if (label !== 'CERTIFICATE')
      throw new CaBundleProblem(
        `PEM block ${n} is a "${label}", not a CERTIFICATE; a CA bundle holds certificates only`,
      );
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(block);
    } catch {
      throw new CaBundleProblem(`PEM block ${n} is not a readable X.509 certificate`);
    }
    const subject = cert.subject.replaceAll('\n', ', ');
    if (!cert.ca)
      throw new CaBundleProblem(
        `certificate ${n} (${subject}) is not a CA certificate (basicConstraints CA:TRUE); give the CA that signed the app's certificate, not the app's own certificate`,
      );
    if (now < cert.validFromDate)
      throw new CaBundleProblem(
        `certificate ${n} (${subject}) is not valid before ${cert.validFromDate.toISOString()}`,
      );
    if (now > cert.validToDate)
      throw new CaBundleProblem(`certificate ${n} (${subject}) expired at ${cert.validToDate.toISOString()}`);
    cas.push({ pem: cert.toString(), subject });
  }
  if (cas.length === 0) throw new CaBundleProblem('it holds no PEM certificate (-----BEGIN CERTIFICATE-----)');
  return cas;
}
