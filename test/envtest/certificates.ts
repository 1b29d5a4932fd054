import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ControlPlaneError } from './errors.ts';

const run = promisify(execFile);

// Node can make keys but not X.509 certificates; the openssl CLI (always on Debian) signs them.
// One config file holds the extensions for each kind of certificate.
const opensslConfig = (servingNames: string) => `[req]
distinguished_name = subject
prompt = no
[subject]
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign,digitalSignature
subjectKeyIdentifier = hash
[serving]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = ${servingNames}
authorityKeyIdentifier = keyid
[client]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth
authorityKeyIdentifier = keyid
`;

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;
const DNS_NAME = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/;

/** subjectAltName: always 127.0.0.1 and localhost, then each other IPv4 address or DNS name. */
function servingNames(otherHosts: readonly string[]): string {
  const names = otherHosts.map((host) => {
    if (IPV4.test(host)) return `IP:${host}`;
    if (DNS_NAME.test(host)) return `DNS:${host}`;
    throw new Error(`serving certificate host "${host}" is neither an IPv4 address nor a DNS name`);
  });
  return ['IP:127.0.0.1', 'DNS:localhost', ...names].join(',');
}

/** PEM files of one certificate and its private key. */
export interface KeyPair {
  certPath: string;
  keyPath: string;
}

/** A certificate plus key, read into memory for embedding in kubeconfigs and TLS options. */
export interface KeyPairPem {
  cert: string;
  key: string;
}

const SUBJECT_PART = /^[A-Za-z0-9:._@-]+$/;

function subject(commonName: string, organizations: readonly string[]): string {
  for (const part of [commonName, ...organizations]) {
    if (!SUBJECT_PART.test(part)) {
      throw new Error(`certificate subject part "${part}" may only hold letters, digits and :._@-`);
    }
  }
  return [`/CN=${commonName}`, ...organizations.map((o) => `/O=${o}`)].join('');
}

async function openssl(args: string[]): Promise<void> {
  try {
    await run('openssl', args);
  } catch (e: unknown) {
    throw new ControlPlaneError(
      'CertificateToolFailed',
      `openssl ${args[0] ?? ''} failed; install the openssl package (apt-get install openssl)`,
      { cause: e },
    );
  }
}

export async function readKeyPair(pair: KeyPair): Promise<KeyPairPem> {
  const [cert, key] = await Promise.all([readFile(pair.certPath, 'utf8'), readFile(pair.keyPath, 'utf8')]);
  return { cert, key };
}

/** Throwaway certificates for one control plane, all kept in one directory. */
export class CertificateDirectory {
  readonly dir: string;
  readonly #config: string;

  private constructor(dir: string) {
    this.dir = dir;
    this.#config = join(dir, 'openssl.cnf');
  }

  static async create(dir: string): Promise<CertificateDirectory> {
    const certificates = new CertificateDirectory(dir);
    await writeFile(certificates.#config, opensslConfig(servingNames([])), { mode: 0o600 });
    return certificates;
  }

  async #issue(
    name: string,
    extensions: string,
    subj: string,
    issuer?: KeyPair,
    config = this.#config,
  ): Promise<KeyPair> {
    const pair = { certPath: join(this.dir, `${name}.crt`), keyPath: join(this.dir, `${name}.key`) };
    const signer = issuer ? ['-CA', issuer.certPath, '-CAkey', issuer.keyPath] : [];
    await openssl([
      'req',
      '-x509',
      '-config',
      config,
      '-extensions',
      extensions,
      ...signer,
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-noenc',
      '-keyout',
      pair.keyPath,
      '-out',
      pair.certPath,
      '-days',
      '7',
      '-subj',
      subj,
    ]);
    return pair;
  }

  createCertificateAuthority(name: string): Promise<KeyPair> {
    return this.#issue(name, 'ca', subject(`mfa-operator-envtest-${name}`, []));
  }

  /** A serving certificate for 127.0.0.1 and localhost, plus any other IP addresses and DNS names. */
  async issueServingCertificate(name: string, ca: KeyPair, otherHosts: readonly string[] = []): Promise<KeyPair> {
    if (otherHosts.length === 0) return this.#issue(name, 'serving', subject('127.0.0.1', []), ca);
    const config = join(this.dir, `${name}.openssl.cnf`);
    await writeFile(config, opensslConfig(servingNames(otherHosts)), { mode: 0o600 });
    return this.#issue(name, 'serving', subject('127.0.0.1', []), ca, config);
  }

  /** A client certificate: kube-apiserver takes CN as the user name and each O as a group. */
  issueClientCertificate(user: string, groups: readonly string[], ca: KeyPair): Promise<KeyPair> {
    return this.#issue(`user-${user}`, 'client', subject(user, groups), ca);
  }

  /** The key pair kube-apiserver signs and verifies service-account tokens with. */
  async createServiceAccountKeys(): Promise<KeyPair> {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pair = { certPath: join(this.dir, 'sa.pub'), keyPath: join(this.dir, 'sa.key') };
    await writeFile(pair.keyPath, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    await writeFile(pair.certPath, publicKey.export({ type: 'spki', format: 'pem' }));
    return pair;
  }
}
