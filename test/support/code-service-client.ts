import { readFile } from 'node:fs/promises';
import { request } from 'node:https';
import { CertificateDirectory } from '../envtest/certificates.ts';

/** A CA and a serving certificate for the operator's code service, in `dir`. */
export async function codeServiceCertificates(
  dir: string,
  otherHosts: readonly string[] = [],
): Promise<{ certPath: string; keyPath: string; ca: string }> {
  const certificates = await CertificateDirectory.create(dir);
  const authority = await certificates.createCertificateAuthority('code-service-ca');
  const serving = await certificates.issueServingCertificate('code-service', authority, otherHosts);
  return { certPath: serving.certPath, keyPath: serving.keyPath, ca: await readFile(authority.certPath, 'utf8') };
}

export interface CodeAnswer {
  status: number;
  body: string;
}

/** GET a ManagedAccountMfa's current code over HTTPS, trusting only the given CA, as a bearer-token client. */
export function getCode(
  port: number,
  ca: string,
  token: string,
  namespace: string,
  name: string,
  query = '',
): Promise<CodeAnswer> {
  return new Promise((resolve, reject) => {
    const url = `https://127.0.0.1:${port}/v1/namespaces/${namespace}/managedaccountmfas/${name}/code${query}`;
    const req = request(url, { ca, headers: { authorization: `Bearer ${token}` } }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}
