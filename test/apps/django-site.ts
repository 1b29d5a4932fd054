import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freeLoopbackPort } from '../envtest/ports.ts';

/** A Django test project (test/apps/<app>/project) served by runserver, as the Python test apps start theirs. */
export interface DjangoSite {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  readonly url: string;
  /** Process group leader (Django's runserver). */
  readonly pid: number;
  /** Milliseconds from the migration's start to the first answered request. */
  readonly startupMs: number;
  /** `manage.py ARGS` with the site's environment; `stdin` is written to it. Resolves with its stdout. */
  manage(args: readonly string[], stdin?: string): Promise<string>;
  /** Stops the server and removes its database; safe to call twice. */
  stop(): Promise<void>;
}

export interface DjangoSiteOptions {
  /** For messages and the temp dir's name, e.g. `allauth`. */
  readonly name: string;
  readonly venv: string;
  readonly projectDir: string;
  /** The project's own variables; `dataDir` is the fresh temp dir that holds its database. */
  readonly env: (dataDir: string) => NodeJS.ProcessEnv;
  /** A page that answers 200 once the site is up, from its origin. */
  readonly readyPath: string;
  readonly readyTimeoutMs?: number;
}

const DEFAULT_READY_TIMEOUT_MS = 120_000;
const STOP_GRACE_MS = 10_000;

/**
 * Runs `manage.py migrate` on a fresh SQLite file in a temp dir, then `manage.py runserver` on a free
 * 127.0.0.1 port in its own process group, so runs never share state and stop() takes down everything.
 */
export async function startDjangoSite(options: DjangoSiteOptions): Promise<DjangoSite> {
  const port = await freeLoopbackPort();
  const workDir = await mkdtemp(join(tmpdir(), `mfa-${options.name}-`));
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? workDir,
    // No __pycache__ in the repository's project folder.
    PYTHONDONTWRITEBYTECODE: '1',
    PYTHONUNBUFFERED: '1',
    ...options.env(workDir),
  };
  const manage = (args: readonly string[], stdin?: string) => runManage(options, env, args, stdin);
  const started = Date.now();
  const url = `http://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  const stop = stopper(() => child, workDir);
  try {
    await manage(['migrate', '--noinput', '-v', '0']);
    child = spawnSite(options, env, workDir, port);
    await waitUntilReady(
      options.name,
      `${url}${options.readyPath}`,
      child,
      workDir,
      options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS,
    );
  } catch (e: unknown) {
    await stop();
    throw e;
  }
  return { url, pid: child.pid ?? -1, startupMs: Date.now() - started, manage, stop };
}

function runManage(
  options: DjangoSiteOptions,
  env: NodeJS.ProcessEnv,
  args: readonly string[],
  stdin?: string,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      join(options.venv, 'bin', 'python'),
      ['manage.py', ...args],
      { cwd: options.projectDir, env, timeout: 120_000 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`manage.py ${args[0]} failed: ${stderr.split('\n').slice(-15).join('\n')}`));
        else resolve(stdout);
      },
    );
    child.stdin?.end(stdin ?? '');
  });
}

function spawnSite(options: DjangoSiteOptions, env: NodeJS.ProcessEnv, workDir: string, port: number): ChildProcess {
  const log = createWriteStream(join(workDir, 'site.log'));
  const child = spawn(
    join(options.venv, 'bin', 'python'),
    ['manage.py', 'runserver', `127.0.0.1:${port}`, '--noreload'],
    {
      cwd: options.projectDir,
      env,
      // Own process group, so stop() signals the server and anything it started together.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
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

async function waitUntilReady(
  name: string,
  url: string,
  child: ChildProcess,
  workDir: string,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `the ${name} test site exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${await logTail(workDir)}`,
      );
    }
    if (await answers(url)) return;
    await sleep(200);
  }
  throw new Error(`the ${name} test site was not ready within ${timeoutMs} ms:\n${await logTail(workDir)}`);
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
