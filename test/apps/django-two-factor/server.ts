import { randomBytes } from 'node:crypto';
import { startDjangoSite } from '../django-site.ts';
import { djangoTwoFactorVersion, ensureDjangoTwoFactor, PROJECT_DIR } from './install.ts';

/** A user's confirmed OTP devices, as `manage.py devices` prints them (no secrets). */
export interface OtpDevices {
  /** Authenticator apps (TOTPDevice). */
  totp: number;
  /** Unused backup tokens (the static device's). */
  backupTokens: number;
  /** Any other device's class, e.g. `EmailDevice`. */
  other: string[];
}

export interface DjangoTwoFactorServer {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  readonly url: string;
  /** Where the site mounts two_factor.urls: empty (the root, as in the package's docs) or e.g. `security/`. */
  readonly urlPrefix: string;
  /** The sign-in page: `${url}/${urlPrefix}account/login/`, what a resource's loginUrl names. */
  readonly loginUrl: string;
  readonly version: string;
  /** Process group leader (Django's runserver). */
  readonly pid: number;
  /** Milliseconds from the migration's start to the first answered request. */
  readonly startupMs: number;
  createUser(username: string, password: string): Promise<void>;
  devices(username: string): Promise<OtpDevices>;
  stop(): Promise<void>;
}

export interface StartDjangoTwoFactorOptions {
  /** Where the site mounts `two_factor.urls` (default: the root). */
  urlPrefix?: string;
  /** The setup methods the wizard offers (default `generator` and `email`: the wizard asks which first). */
  methods?: readonly ('generator' | 'email')[];
  readyTimeoutMs?: number;
  /** Host names the site answers besides 127.0.0.1 and localhost (the node address of a TLS front, say). */
  extraHosts?: readonly string[];
}

/**
 * Starts the test site (test/apps/django-two-factor/project) with Django's runserver on a free
 * 127.0.0.1 port, its own SQLite database in a temp dir (test/apps/django-site.ts). The pinned
 * packages are installed on first use.
 */
export async function startDjangoTwoFactor(options: StartDjangoTwoFactorOptions = {}): Promise<DjangoTwoFactorServer> {
  const [venv, version] = await Promise.all([ensureDjangoTwoFactor(), djangoTwoFactorVersion()]);
  const urlPrefix = options.urlPrefix ?? '';
  const site = await startDjangoSite({
    name: 'django-two-factor',
    venv,
    projectDir: PROJECT_DIR,
    readyPath: `/${urlPrefix}account/login/`,
    env: (dataDir) => ({
      DJANGO_SETTINGS_MODULE: 'testsite.settings',
      D2FA_TEST_DATA_DIR: dataDir,
      D2FA_TEST_SECRET_KEY: randomBytes(32).toString('base64url'),
      D2FA_TEST_URL_PREFIX: urlPrefix,
      D2FA_TEST_METHODS: (options.methods ?? ['generator', 'email']).join(','),
      D2FA_TEST_EXTRA_HOSTS: (options.extraHosts ?? []).join(','),
    }),
    ...(options.readyTimeoutMs === undefined ? {} : { readyTimeoutMs: options.readyTimeoutMs }),
  });
  return {
    url: site.url,
    urlPrefix,
    loginUrl: `${site.url}/${urlPrefix}account/login/`,
    version,
    pid: site.pid,
    startupMs: site.startupMs,
    createUser: async (username, password) => void (await site.manage(['create_account', username], `${password}\n`)),
    devices: async (username) => JSON.parse(await site.manage(['devices', username])) as OtpDevices,
    stop: site.stop,
  };
}
