import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ManagedProcess } from '../../envtest/managed-process.ts';
import { freeLoopbackPort } from '../../envtest/ports.ts';
import { giteaAppIni } from './app-ini.ts';
import { GiteaDatabase, type TwoFactorState } from './database.ts';
import { ensureGitea, giteaVersion } from './install.ts';

export interface GiteaServer {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  readonly url: string;
  /** The sign-in page, `${url}/user/login`: what a resource's loginUrl names. */
  readonly loginUrl: string;
  readonly version: string;
  /** Process group leader (gitea web). */
  readonly pid: number;
  /** Milliseconds from spawning `gitea web` to the first answered sign-in page. */
  readonly startupMs: number;
  /** A user who may sign in at once (no password change asked), through the admin API. */
  createUser(username: string, password: string): Promise<void>;
  /** What the user has on: the authenticator app and how many security keys (read from the database). */
  twoFactor(username: string): Promise<TwoFactorState>;
  /** Registers a made-up security key for the user, as if added on the WebAuthn settings page. */
  addSecurityKey(username: string): Promise<void>;
  /** Stops the server and removes its work dir; safe to call twice. */
  stop(): Promise<void>;
}

export interface StartGiteaOptions {
  readyTimeoutMs?: number;
}

const DEFAULT_READY_TIMEOUT_MS = 120_000;
const CLI_TIMEOUT_MS = 120_000;

/**
 * Starts `gitea web` (the release built by hack/fetch-gitea.sh) on a free 127.0.0.1 port with its
 * own SQLite database in a temp dir, so runs never share state, then creates an admin through
 * `gitea admin user create`, whose API token creates the test accounts.
 */
export async function startGitea(options: StartGiteaOptions = {}): Promise<GiteaServer> {
  const [install, version, port] = await Promise.all([ensureGitea(), giteaVersion(), freeLoopbackPort()]);
  const workDir = await mkdtemp(join(tmpdir(), 'mfa-gitea-'));
  const binary = join(install, 'bin', 'gitea');
  const configPath = join(workDir, 'app.ini');
  const url = `http://127.0.0.1:${port}`;
  let server: ManagedProcess | undefined;
  const database = new GiteaDatabase(join(workDir, 'data', 'gitea.db'));
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      database.close();
      await server?.stop();
      await rm(workDir, { recursive: true, force: true });
    })();
    return stopping;
  };
  try {
    await mkdir(join(workDir, 'data'));
    await writeFile(
      configPath,
      giteaAppIni({
        workDir,
        staticRoot: join(install, 'share'),
        port,
        secretKey: randomBytes(32).toString('base64url'),
        internalToken: randomBytes(32).toString('base64url'),
        runningAsRoot: process.getuid?.() === 0,
      }),
      { mode: 0o600 },
    );
    const cli = (args: readonly string[]) => runCli(binary, [...args, '--config', configPath, '--work-path', workDir]);
    const started = Date.now();
    server = await ManagedProcess.start(
      'gitea',
      binary,
      ['web', '--config', configPath, '--work-path', workDir],
      join(workDir, 'gitea.log'),
    );
    await waitUntilReady(`${url}/user/login`, server, options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS);
    const startupMs = Date.now() - started;
    const adminToken = await createAdmin(cli);
    return {
      url,
      loginUrl: `${url}/user/login`,
      version,
      pid: server.pid,
      startupMs,
      createUser: (username, password) => createUserByApi(url, adminToken, username, password),
      twoFactor: async (username) => database.twoFactor(username),
      addSecurityKey: async (username) => database.addSecurityKey(username),
      stop,
    };
  } catch (e: unknown) {
    await stop();
    throw e;
  }
}

/** A site admin with an API token (printed once by the CLI); its password is never used. */
async function createAdmin(cli: (args: readonly string[]) => Promise<string>): Promise<string> {
  const output = await cli([
    'admin',
    'user',
    'create',
    '--admin',
    '--username',
    'gitea-admin',
    '--email',
    'gitea-admin@example.test',
    '--random-password',
    '--must-change-password=false',
    '--access-token',
    '--access-token-name',
    'tests',
    '--access-token-scopes',
    'write:admin',
  ]);
  const token = /\b[0-9a-f]{40}\b/.exec(output)?.[0];
  if (!token) throw new Error('gitea admin user create printed no access token');
  return token;
}

async function createUserByApi(url: string, token: string, username: string, password: string): Promise<void> {
  const response = await fetch(`${url}/api/v1/admin/users`, {
    method: 'POST',
    headers: { authorization: `token ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      username,
      password,
      email: `${username}@example.test`,
      must_change_password: false,
      visibility: 'private',
    }),
    signal: AbortSignal.timeout(30_000),
  });
  if (response.status !== 201)
    throw new Error(
      `creating the Gitea user ${username} failed: HTTP ${response.status} ${(await response.text()).slice(0, 300)}`,
    );
}

function runCli(binary: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(binary, args, { timeout: CLI_TIMEOUT_MS }, (error, stdout, stderr) => {
      if (error)
        reject(new Error(`gitea ${args.slice(0, 3).join(' ')} failed: ${stderr.split('\n').slice(-15).join('\n')}`));
      else resolve(stdout);
    });
  });
}

async function waitUntilReady(url: string, server: ManagedProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (server.exit) {
      throw new Error(
        `gitea web exited (${server.exit.code ?? server.exit.signal}) before it was ready:\n${server.tail(30)}`,
      );
    }
    if (await answers(url)) return;
    await sleep(200);
  }
  throw new Error(`gitea web was not ready within ${timeoutMs} ms:\n${server.tail(30)}`);
}

async function answers(url: string): Promise<boolean> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(2_000) })).ok;
  } catch {
    return false;
  }
}
