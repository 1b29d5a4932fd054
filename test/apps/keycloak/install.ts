import { execFile } from 'node:child_process';
import { access, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url));

/** The pinned release; hack/fetch-keycloak.sh reads the same file. */
export async function keycloakVersion(): Promise<string> {
  return (await readFile(join(REPO_ROOT, 'test/apps/keycloak/KEYCLOAK_VERSION'), 'utf8')).trim();
}

export function keycloakCacheDir(version: string): string {
  const cache = process.env.MFA_OPERATOR_CACHE ?? join(homedir(), '.cache', 'mfa-operator');
  return join(cache, 'apps', 'keycloak', version);
}

/**
 * The Keycloak install directory (with bin/kc.sh), fetched with Maven on first use and kept in
 * the cache outside the clone. Later calls cost one stat.
 */
export async function ensureKeycloak(version?: string): Promise<string> {
  const pinned = version ?? (await keycloakVersion());
  const dir = keycloakCacheDir(pinned);
  try {
    await access(join(dir, 'bin', 'kc.sh'));
    return dir;
  } catch {
    // Not fetched yet.
  }
  const { stdout } = await run(join(REPO_ROOT, 'hack/fetch-keycloak.sh'), [pinned], {
    maxBuffer: 16 * 1024 * 1024,
    timeout: 15 * 60_000,
  });
  return stdout.trim().split('\n').at(-1) ?? dir;
}

/** Keycloak 26 runs on Java 21 or 25; the machine's default may be 17. */
const JAVA_HOME_CANDIDATES = [
  process.env.KEYCLOAK_JAVA_HOME,
  '/usr/lib/jvm/temurin-25-jdk-amd64',
  '/usr/lib/jvm/java-25-openjdk-amd64',
  '/usr/lib/jvm/temurin-21-jdk-amd64',
  '/usr/lib/jvm/java-21-openjdk-amd64',
  process.env.JAVA_HOME,
];
const MIN_JAVA_MAJOR = 21;

export async function findKeycloakJavaHome(): Promise<string> {
  for (const home of JAVA_HOME_CANDIDATES) {
    if (home && (await javaMajor(home)) >= MIN_JAVA_MAJOR) return home;
  }
  throw new Error(
    `Keycloak needs Java ${MIN_JAVA_MAJOR} or later; none found. ` +
      'Install a JDK 21 or 25 (e.g. temurin-25-jdk) or set KEYCLOAK_JAVA_HOME.',
  );
}

/** Reads JAVA_VERSION from the JDK's `release` file: no JVM start needed. */
async function javaMajor(home: string): Promise<number> {
  try {
    const release = await readFile(join(home, 'release'), 'utf8');
    const match = /^JAVA_VERSION="(\d+)/m.exec(release);
    return match?.[1] ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}
