import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants, readdirSync, readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { trackProcessGroup, untrackProcessGroup } from '../../../test/envtest/cleanup.ts';
import { JobRunnerError } from './errors.ts';

/**
 * How pods get their own mount, pid and hostname namespaces: as root, `unshare` directly; otherwise inside a
 * user namespace where the developer is mapped to root (the container then sees uid 0).
 */
export type SandboxMode = 'root' | 'user-namespace';

const NAMESPACES = ['--mount', '--pid', '--fork', '--mount-proc', '--uts', '--kill-child=SIGKILL'];
const PROBE = 'mount -t tmpfs tmpfs /run && mkdir /run/probe && mount --bind /run/probe /run/probe';

function unshareArgs(mode: SandboxMode): string[] {
  return mode === 'root' ? NAMESPACES : ['--user', '--map-root-user', ...NAMESPACES];
}

/** Finds a way to make namespaces on this machine, or explains how to get one. */
export function detectSandboxMode(): SandboxMode {
  const candidates: SandboxMode[] = process.getuid?.() === 0 ? ['root', 'user-namespace'] : ['user-namespace'];
  const failures: string[] = [];
  for (const mode of candidates) {
    const probe = spawnSync('unshare', [...unshareArgs(mode), '--', '/bin/sh', '-c', PROBE], { encoding: 'utf8', timeout: 10_000 });
    if (probe.status === 0) return mode;
    failures.push(`${mode}: ${(probe.error?.message ?? probe.stderr).trim() || `exit ${probe.status}`}`);
  }
  throw new JobRunnerError('MountNamespaceUnavailable',
    `the local job runner needs Linux mount namespaces to give each pod its volume layout, and none could be made ` +
    `(${failures.join('; ')}). Run it as root, or allow unprivileged user namespaces ` +
    '(sysctl kernel.unprivileged_userns_clone=1; on Ubuntu 24.04 also kernel.apparmor_restrict_unprivileged_userns=0), ' +
    'and check that `unshare` (util-linux) is installed.');
}

const SETPRIV = '/usr/bin/setpriv';

/** setpriv (util-linux) sets the parent-death signal, so a SIGKILLed runner takes its pods with it. */
function dieWithRunner(args: string[]): [string, string[]] {
  try {
    accessSync(SETPRIV, fsConstants.X_OK);
    return [SETPRIV, ['--pdeathsig', 'KILL', '--', 'unshare', ...args]];
  } catch {
    return ['unshare', args];
  }
}

/**
 * Starts `prelude` as pid 1 of new namespaces. The child leads its own process group, so a signal to the group
 * reaches unshare and the container's pid 1; when pid 1 dies the kernel kills everything else in the pod, and
 * `--kill-child` kills pid 1 when unshare dies.
 */
export function spawnInSandbox(mode: SandboxMode, prelude: readonly string[], cwd: string, env: ReadonlyMap<string, string>): ChildProcess {
  const [command, args] = dieWithRunner([...unshareArgs(mode), '--', ...prelude]);
  const child = spawn(command, args, { cwd, env: Object.fromEntries(env), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid !== undefined) {
    const pgid = child.pid;
    trackProcessGroup(pgid);
    child.once('exit', () => untrackProcessGroup(pgid));
  }
  return child;
}

/** The container's pid 1 as this machine numbers it: the process unshare forked. */
function containerInit(unsharePid: number): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === unsharePid) return Number(entry);
    } catch {
      // the process ended while we looked
    }
  }
  return undefined;
}

/**
 * Stops a sandbox as a container runtime does: SIGTERM goes to the container's pid 1 only (which, as in a
 * container, ignores it unless it handles it); SIGKILL goes to the whole process group. Once pid 1 is gone
 * the kernel kills whatever else runs in the pod's pid namespace. False when the sandbox has already ended.
 */
export function signalSandbox(child: ChildProcess, signal: 'SIGTERM' | 'SIGKILL'): boolean {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return false;
  try {
    const init = signal === 'SIGTERM' ? containerInit(child.pid) : undefined;
    process.kill(init ?? -child.pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** Exit code as the container runtime reports it: 128 + signal number when killed by a signal. */
export function containerExitCode(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  return 128 + (signal ? constants.signals[signal] : 0);
}
