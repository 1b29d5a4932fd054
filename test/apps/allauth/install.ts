import { fileURLToPath } from 'node:url';
import { ensurePythonApp, pythonAppVersion } from '../python-app.ts';

export const PROJECT_DIR = fileURLToPath(new URL('./project', import.meta.url));

/** The pinned django-allauth release, as test/apps/allauth/requirements.txt names it. */
export function allauthVersion(): Promise<string> {
  return pythonAppVersion('allauth');
}

/** The virtualenv with the pinned packages, installed on first use (hack/fetch-python-app.sh allauth). */
export function ensureAllauth(): Promise<string> {
  return ensurePythonApp('allauth');
}
