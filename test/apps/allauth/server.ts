import { randomBytes } from 'node:crypto';
import { startDjangoSite } from '../django-site.ts';
import { allauthVersion, ensureAllauth, PROJECT_DIR } from './install.ts';

/** One of a user's allauth authenticators, as `manage.py authenticators` prints them (no secrets). */
export interface Authenticator {
  type: 'totp' | 'recovery_codes' | 'webauthn';
  /** For recovery codes: how many are still unused. */
  unusedCodes?: number;
}

export interface AllauthServer {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  readonly url: string;
  /** Where the site mounts allauth's URLs, e.g. `accounts/`. */
  readonly urlPrefix: string;
  /** The sign-in page: `${url}/${urlPrefix}login/`, what a resource's loginUrl names. */
  readonly loginUrl: string;
  readonly version: string;
  /** Process group leader (Django's runserver). */
  readonly pid: number;
  /** Milliseconds from the migration's start to the first answered request. */
  readonly startupMs: number;
  createUser(username: string, password: string): Promise<void>;
  authenticators(username: string): Promise<Authenticator[]>;
  /** Stops the server and removes its database; safe to call twice. */
  stop(): Promise<void>;
}

export interface StartAllauthOptions {
  /** Where the test site mounts `allauth.urls` (default `accounts/`, as in allauth's docs). */
  urlPrefix?: string;
  /** `restyled`: the site's own layout and allauth elements (project/restyled/), as sites restyle allauth. */
  theme?: 'allauth' | 'restyled';
  /** Seconds a re-authentication counts before adding or removing an authenticator asks again (allauth: 300). */
  reauthenticationTimeoutSeconds?: number;
  readyTimeoutMs?: number;
  /** Host names the site answers besides 127.0.0.1 and localhost (the node address of a TLS front, say). */
  extraHosts?: readonly string[];
}

/**
 * Starts the test site (test/apps/allauth/project) with Django's runserver on a free 127.0.0.1
 * port, with its own SQLite database in a temp dir, so runs never share state (test/apps/django-site.ts).
 * The pinned packages are installed on first use.
 */
export async function startAllauth(options: StartAllauthOptions = {}): Promise<AllauthServer> {
  const [venv, version] = await Promise.all([ensureAllauth(), allauthVersion()]);
  const urlPrefix = options.urlPrefix ?? 'accounts/';
  const site = await startDjangoSite({
    name: 'allauth',
    venv,
    projectDir: PROJECT_DIR,
    env: (dataDir) => siteEnv(dataDir, urlPrefix, options),
    readyPath: `/${urlPrefix}login/`,
    ...(options.readyTimeoutMs === undefined ? {} : { readyTimeoutMs: options.readyTimeoutMs }),
  });
  return {
    url: site.url,
    urlPrefix,
    loginUrl: `${site.url}/${urlPrefix}login/`,
    version,
    pid: site.pid,
    startupMs: site.startupMs,
    createUser: async (username, password) => void (await site.manage(['create_account', username], `${password}\n`)),
    authenticators: async (username) => JSON.parse(await site.manage(['authenticators', username])) as Authenticator[],
    stop: site.stop,
  };
}

function siteEnv(workDir: string, urlPrefix: string, options: StartAllauthOptions): NodeJS.ProcessEnv {
  const reauthenticationTimeoutSeconds = options.reauthenticationTimeoutSeconds;
  return {
    DJANGO_SETTINGS_MODULE: 'testsite.settings',
    ALLAUTH_TEST_DATA_DIR: workDir,
    ALLAUTH_TEST_SECRET_KEY: randomBytes(32).toString('base64url'),
    ALLAUTH_TEST_URL_PREFIX: urlPrefix,
    ALLAUTH_TEST_THEME: options.theme ?? 'allauth',
    ALLAUTH_TEST_EXTRA_HOSTS: (options.extraHosts ?? []).join(','),
    ...(reauthenticationTimeoutSeconds === undefined
      ? {}
      : { ALLAUTH_TEST_REAUTHENTICATION_TIMEOUT: String(reauthenticationTimeoutSeconds) }),
  };
}
