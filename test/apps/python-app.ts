import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/**
 * The Python test apps (test/apps/allauth, test/apps/django-two-factor): each pins its packages in its own
 * requirements.txt, the first requirement being the app's own package, and hack/fetch-python-app.sh APP
 * installs them into ~/.cache/mfa-operator/apps/APP/VERSION.
 */
export type PythonApp = 'allauth' | 'django-two-factor';

const run = promisify(execFile);
export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The app's pinned release: the `==` pin of its requirements file's first requirement. */
export async function pythonAppVersion(app: PythonApp): Promise<string> {
  const requirements = await readFile(`${REPO_ROOT}/test/apps/${app}/requirements.txt`, 'utf8');
  const version = /^[A-Za-z0-9][^=\s]*==(\S+)/m.exec(requirements)?.[1];
  if (!version) throw new Error(`test/apps/${app}/requirements.txt pins no release on its first requirement`);
  return version;
}

/**
 * The virtualenv with the app's pinned packages (bin/python), installed from PyPI on first use by
 * hack/fetch-python-app.sh. Later calls cost one short script run, which only compares the requirements file.
 */
export async function ensurePythonApp(app: PythonApp): Promise<string> {
  const { stdout } = await run(`${REPO_ROOT}/hack/fetch-python-app.sh`, [app], {
    maxBuffer: 16 * 1024 * 1024,
    timeout: 15 * 60_000,
  });
  const venv = stdout.trim().split('\n').at(-1);
  if (!venv) throw new Error(`hack/fetch-python-app.sh ${app} printed no virtualenv directory`);
  return venv;
}
