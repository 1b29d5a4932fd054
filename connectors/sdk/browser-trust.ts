import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { TrustedCa } from '../../core/tls/ca-bundle.ts';

const run = promisify(execFile);

/** NSS's certutil (Debian libnss3-tools): the tool that writes the database Chromium reads on Linux. */
export const CERTUTIL_PATH = process.env.MFA_CERTUTIL_PATH ?? 'certutil';

/** The trust store could not be written: the image lacks certutil, or NSS refused a certificate. */
export class TrustStoreError extends Error {
  /** certutil itself is missing (an image without libnss3-tools), rather than refusing a certificate. */
  readonly toolMissing: boolean;

  constructor(message: string, toolMissing: boolean, options?: { cause: unknown }) {
    super(message, options);
    this.name = 'TrustStoreError';
    this.toolMissing = toolMissing;
  }
}

/** A HOME for one browser: Chromium on Linux trusts the CAs in $HOME/.pki/nssdb besides its own roots. */
export interface TrustHome {
  home: string;
  dispose(): Promise<void>;
}

export interface TrustHomeOptions {
  certutil?: string;
  /** Where the HOME is made; the temporary directory by default (/tmp, the pod's emptyDir). */
  parent?: string;
}

/**
 * A fresh HOME whose NSS database trusts exactly `cas` for TLS servers (trust "C,,"), and nothing
 * else of ours: a browser started with it trusts them, one started without it does not.
 */
export async function createTrustHome(cas: readonly TrustedCa[], options: TrustHomeOptions = {}): Promise<TrustHome> {
  const certutilPath = options.certutil ?? CERTUTIL_PATH;
  const home = await mkdtemp(join(options.parent ?? tmpdir(), 'mfa-browser-home-'));
  const dispose = () => rm(home, { recursive: true, force: true });
  try {
    const db = `sql:${join(home, '.pki', 'nssdb')}`;
    await mkdir(join(home, '.pki', 'nssdb'), { recursive: true, mode: 0o700 });
    await certutil(certutilPath, ['-N', '-d', db, '--empty-password'], 'create the browser trust store');
    for (const [i, ca] of cas.entries()) {
      const file = join(home, `ca-${i + 1}.pem`);
      await writeFile(file, ca.pem, { mode: 0o600 });
      await certutil(
        certutilPath,
        ['-A', '-d', db, '-t', 'C,,', '-n', `mfa-operator-ca-${i + 1}`, '-i', file],
        `add certificate ${i + 1} (${ca.subject})`,
      );
    }
    return { home, dispose };
  } catch (e: unknown) {
    await dispose();
    throw e;
  }
}

async function certutil(path: string, args: string[], what: string): Promise<void> {
  try {
    await run(path, args);
  } catch (e: unknown) {
    const missing = e instanceof Error && 'code' in e && e.code === 'ENOENT';
    const detail = missing ? `${path} is not installed (Debian package libnss3-tools)` : 'certutil refused it';
    throw new TrustStoreError(`Could not ${what}: ${detail}.`, missing, { cause: e });
  }
}
