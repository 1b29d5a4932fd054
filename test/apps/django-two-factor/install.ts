import { fileURLToPath } from 'node:url';
import { ensurePythonApp, pythonAppVersion } from '../python-app.ts';

export const PROJECT_DIR = fileURLToPath(new URL('./project', import.meta.url));

/** The pinned django-two-factor-auth release, as test/apps/django-two-factor/requirements.txt names it. */
export function djangoTwoFactorVersion(): Promise<string> {
  return pythonAppVersion('django-two-factor');
}

/** The virtualenv with the pinned packages, installed on first use (hack/fetch-python-app.sh django-two-factor). */
export function ensureDjangoTwoFactor(): Promise<string> {
  return ensurePythonApp('django-two-factor');
}
