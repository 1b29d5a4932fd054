import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url));
export const PROJECT_DIR = fileURLToPath(new URL('./project', import.meta.url));

/** The pinned django-allauth release, as test/apps/allauth/requirements.txt names it. */
export async function allauthVersion(): Promise<string> {
  const requirements = await readFile(fileURLToPath(new URL('./requirements.txt', import.meta.url)), 'utf8');
  const version = /^django-allauth(?:\[[a-z,]+\])?==(\S+)/m.exec(requirements)?.[1];
  if (!version) throw new Error('test/apps/allauth/requirements.txt pins no django-allauth release');
  return version;
}

/**
 * The virtualenv with the pinned packages (bin/python), installed from PyPI on first use into
 * ~/.cache/mfa-operator/apps/allauth/VERSION by hack/fetch-allauth.sh. Later calls cost one
 * short script run, which only compares the requirements file.
 */
export async function ensureAllauth(): Promise<string> {
  const { stdout } = await run(`${REPO_ROOT}/hack/fetch-allauth.sh`, [], { maxBuffer: 16 * 1024 * 1024, timeout: 15 * 60_000 });
  const venv = stdout.trim().split('\n').at(-1);
  if (!venv) throw new Error('hack/fetch-allauth.sh printed no virtualenv directory');
  return venv;
}
