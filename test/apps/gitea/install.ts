import { execFile } from 'node:child_process';
import { access, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url));

/** The pinned release (`v1.27.3`); hack/fetch-gitea.sh reads the same file. */
export async function giteaVersion(): Promise<string> {
  return (await readFile(join(REPO_ROOT, 'test/apps/gitea/GITEA_VERSION'), 'utf8')).trim();
}

export function giteaCacheDir(version: string): string {
  const cache = process.env.MFA_OPERATOR_CACHE ?? join(homedir(), '.cache', 'mfa-operator');
  return join(cache, 'apps', 'gitea', version);
}

/**
 * The Gitea install directory (bin/gitea and share/ with its templates, locales and images), built
 * from the Go module proxy on first use (minutes) and kept in the cache outside the clone. Later
 * calls cost one stat.
 */
export async function ensureGitea(version?: string): Promise<string> {
  const pinned = version ?? (await giteaVersion());
  const dir = giteaCacheDir(pinned);
  try {
    await access(join(dir, 'bin', 'gitea'));
    return dir;
  } catch {
    // Not built yet.
  }
  const { stdout } = await run(join(REPO_ROOT, 'hack/fetch-gitea.sh'), [pinned], {
    maxBuffer: 16 * 1024 * 1024,
    timeout: 30 * 60_000,
  });
  return stdout.trim().split('\n').at(-1) ?? dir;
}
