import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { KeycloakAdminApi, type RealmOptions, type UserOptions } from './admin-api.ts';
import { ensureKeycloak, findKeycloakJavaHome, keycloakVersion } from './install.ts';
import { writeRestyledTheme } from './theme.ts';

export interface KeycloakServer {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  readonly url: string;
  readonly version: string;
  /** Process group leader (kc.sh); the JVM runs in the same group. */
  readonly pid: number;
  /** Milliseconds from spawn to the first answered request. */
  readonly startupMs: number;
  adminToken(): Promise<string>;
  createRealm(realm: string, options?: RealmOptions): Promise<void>;
  createUser(realm: string, username: string, password: string, options?: UserOptions): Promise<string>;
  userHasOtp(realm: string, username: string): Promise<boolean>;
  credentialTypes(realm: string, username: string): Promise<string[]>;
  /** Stops the JVM and removes the database; safe to call twice. */
  stop(): Promise<void>;
}

export interface StartKeycloakOptions {
  version?: string;
  /** How long to wait for the first answered request (the first start also builds the dev image). */
  readyTimeoutMs?: number;
  /** Also serve the restyled login theme of theme.ts, for realms created with `loginTheme: RESTYLED_THEME`. */
  restyledTheme?: boolean;
}

/** Modest on a shared 2-core machine: Keycloak idles at about 400 MB resident. */
const HEAP = '-Xms64m -Xmx512m';
const DEFAULT_READY_TIMEOUT_MS = 600_000;
const STOP_GRACE_MS = 20_000;

/**
 * Starts `kc.sh start-dev` on a free 127.0.0.1 port with its own H2 database and transaction log
 * in a temp dir, so runs never share state. The pinned release is fetched on first use.
 */
export async function startKeycloak(options: StartKeycloakOptions = {}): Promise<KeycloakServer> {
  const version = options.version ?? (await keycloakVersion());
  const home = await ensureKeycloak(version);
  const javaHome = await findKeycloakJavaHome();
  const workDir = await mkdtemp(join(tmpdir(), 'mfa-keycloak-'));
  const port = await freeLoopbackPort();
  const admin = { username: 'admin', password: randomBytes(18).toString('base64url') };
  const url = `http://127.0.0.1:${port}`;
  const started = Date.now();
  const themesDir = options.restyledTheme ? join(workDir, 'themes') : undefined;
  if (themesDir) await writeRestyledTheme(home, javaHome, themesDir);
  const child = spawnKeycloak(home, javaHome, workDir, port, admin, themesDir);
  const stop = stopper(child, workDir);
  try {
    await waitUntilReady(url, child, workDir, options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS);
  } catch (e: unknown) {
    await stop();
    throw e;
  }
  const api = new KeycloakAdminApi({ url, ...admin });
  return {
    url,
    version,
    pid: child.pid ?? -1,
    startupMs: Date.now() - started,
    adminToken: () => api.adminToken(),
    createRealm: (realm, realmOptions) => api.createRealm(realm, realmOptions),
    createUser: (realm, username, password, userOptions) => api.createUser(realm, username, password, userOptions),
    userHasOtp: (realm, username) => api.userHasOtp(realm, username),
    credentialTypes: (realm, username) => api.credentialTypes(realm, username),
    stop,
  };
}

function spawnKeycloak(
  home: string,
  javaHome: string,
  workDir: string,
  port: number,
  admin: { username: string; password: string },
  themesDir: string | undefined,
): ChildProcess {
  const args = [
    // Narayana keeps its object store under the install dir by default; keep each run's apart.
    `-Dquarkus.transaction-manager.object-store.directory=${join(workDir, 'transaction-logs')}`,
    'start-dev',
    `--http-port=${port}`,
    '--http-host=127.0.0.1',
    '--hostname-strict=false',
    '--db=dev-file',
    `--db-url=jdbc:h2:file:${join(workDir, 'keycloakdb')};NON_KEYWORDS=VALUE`,
    ...(themesDir ? [`--spi-theme--folder--dir=${themesDir}`] : []),
  ];
  const log = createWriteStream(join(workDir, 'keycloak.log'));
  const child = spawn(join(home, 'bin', 'kc.sh'), args, {
    cwd: workDir,
    // Own process group, so stop() can signal kc.sh and the JVM it starts together.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? workDir,
      JAVA_HOME: javaHome,
      JAVA_OPTS_KC_HEAP: HEAP,
      KC_BOOTSTRAP_ADMIN_USERNAME: admin.username,
      KC_BOOTSTRAP_ADMIN_PASSWORD: admin.password,
    },
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  return child;
}

function stopper(child: ChildProcess, workDir: string): () => Promise<void> {
  let stopping: Promise<void> | undefined;
  return () => {
    stopping ??= (async () => {
      await killGroup(child);
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
  // kc.sh exits once the JVM has; anything left in the group after that is killed outright.
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
      throw new Error(
        `Keycloak exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${await logTail(workDir)}`,
      );
    }
    if (await answers(`${url}/realms/master/.well-known/openid-configuration`)) return;
    await sleep(500);
  }
  throw new Error(`Keycloak was not ready within ${timeoutMs} ms:\n${await logTail(workDir)}`);
}

async function answers(url: string): Promise<boolean> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(2_000) })).ok;
  } catch {
    return false;
  }
}

async function logTail(workDir: string): Promise<string> {
  const text = await readFile(join(workDir, 'keycloak.log'), 'utf8').catch(() => '');
  return text.split('\n').slice(-30).join('\n');
}

async function freeLoopbackPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
