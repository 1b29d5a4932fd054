import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freeLoopbackPort } from '../../envtest/ports.ts';
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

const DEFAULT_READY_TIMEOUT_MS = 120_000;
const STOP_GRACE_MS = 10_000;

/**
 * Starts the test site (test/apps/allauth/project) with Django's runserver on a free 127.0.0.1
 * port, with its own SQLite database in a temp dir, so runs never share state. The pinned
 * packages are installed on first use.
 */
export async function startAllauth(options: StartAllauthOptions = {}): Promise<AllauthServer> {
  const [venv, version, port] = await Promise.all([ensureAllauth(), allauthVersion(), freeLoopbackPort()]);
  const urlPrefix = options.urlPrefix ?? 'accounts/';
  const workDir = await mkdtemp(join(tmpdir(), 'mfa-allauth-'));
  const env = siteEnv(workDir, urlPrefix, options);
  const manage = (args: readonly string[], stdin?: string) => runManage(venv, env, args, stdin);
  const started = Date.now();
  const url = `http://127.0.0.1:${port}`;
  const loginUrl = `${url}/${urlPrefix}login/`;
  let child: ChildProcess | undefined;
  const stop = stopper(() => child, workDir);
  try {
    await manage(['migrate', '--noinput', '-v', '0']);
    child = spawnSite(venv, env, workDir, port);
    await waitUntilReady(loginUrl, child, workDir, options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS);
  } catch (e: unknown) {
    await stop();
    throw e;
  }
  return {
    url, urlPrefix, loginUrl, version, pid: child.pid ?? -1, startupMs: Date.now() - started,
    createUser: async (username, password) => void await manage(['create_account', username], `${password}\n`),
    authenticators: async (username) => JSON.parse(await manage(['authenticators', username])) as Authenticator[],
    stop,
  };
}

function siteEnv(workDir: string, urlPrefix: string, options: StartAllauthOptions): NodeJS.ProcessEnv {
  const reauthenticationTimeoutSeconds = options.reauthenticationTimeoutSeconds;
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? workDir,
    // No __pycache__ in the repository's project folder.
    PYTHONDONTWRITEBYTECODE: '1',
    PYTHONUNBUFFERED: '1',
    DJANGO_SETTINGS_MODULE: 'testsite.settings',
    ALLAUTH_TEST_DATA_DIR: workDir,
    ALLAUTH_TEST_SECRET_KEY: randomBytes(32).toString('base64url'),
    ALLAUTH_TEST_URL_PREFIX: urlPrefix,
    ALLAUTH_TEST_THEME: options.theme ?? 'allauth',
    ALLAUTH_TEST_EXTRA_HOSTS: (options.extraHosts ?? []).join(','),
    ...(reauthenticationTimeoutSeconds === undefined ? {} : { ALLAUTH_TEST_REAUTHENTICATION_TIMEOUT: String(reauthenticationTimeoutSeconds) }),
  };
}

function runManage(venv: string, env: NodeJS.ProcessEnv, args: readonly string[], stdin?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(join(venv, 'bin', 'python'), ['manage.py', ...args], { cwd: PROJECT_DIR, env, timeout: 120_000 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`manage.py ${args[0]} failed: ${stderr.split('\n').slice(-15).join('\n')}`));
        else resolve(stdout);
      });
    child.stdin?.end(stdin ?? '');
  });
}

function spawnSite(venv: string, env: NodeJS.ProcessEnv, workDir: string, port: number): ChildProcess {
  const log = createWriteStream(join(workDir, 'site.log'));
  const child = spawn(join(venv, 'bin', 'python'), ['manage.py', 'runserver', `127.0.0.1:${port}`, '--noreload'], {
    cwd: PROJECT_DIR, env,
    // Own process group, so stop() signals the server and anything it started together.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  return child;
}

function stopper(child: () => ChildProcess | undefined, workDir: string): () => Promise<void> {
  let stopping: Promise<void> | undefined;
  return () => {
    stopping ??= (async () => {
      const running = child();
      if (running) await killGroup(running);
      await rm(workDir, { recursive: true, force: true });
    })();
    return stopping;
  };
}

async function killGroup(child: ChildProcess): Promise<void> {
  const pid = child.pid;
  if (pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  signalGroup(pid, 'SIGTERM');
  const graceful = await Promise.race([exited.then(() => true), sleep(STOP_GRACE_MS).then(() => false)]);
  signalGroup(pid, 'SIGKILL');
  if (!graceful) await exited;
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch (e: unknown) {
    if (!(e instanceof Error && 'code' in e && e.code === 'ESRCH')) throw e;
  }
}

async function waitUntilReady(url: string, child: ChildProcess, workDir: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`the allauth test site exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${await logTail(workDir)}`);
    }
    if (await answers(url)) return;
    await sleep(200);
  }
  throw new Error(`the allauth test site was not ready within ${timeoutMs} ms:\n${await logTail(workDir)}`);
}

async function answers(url: string): Promise<boolean> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(2_000) })).ok;
  } catch {
    return false;
  }
}

async function logTail(workDir: string): Promise<string> {
  const text = await readFile(join(workDir, 'site.log'), 'utf8').catch(() => '');
  return text.split('\n').slice(-30).join('\n');
}
