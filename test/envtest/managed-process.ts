import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, closeSync, constants, openSync, readFileSync } from 'node:fs';
import { trackProcessGroup, untrackProcessGroup } from './cleanup.ts';

const SETPRIV = '/usr/bin/setpriv';

/**
 * Exit hooks cannot run when Node itself is SIGKILLed (an OOM kill, a test runner giving up on
 * a worker). On Linux, setpriv (util-linux, always on Debian) sets the parent-death signal and
 * then execs the binary under the same pid, so the kernel kills it together with us.
 */
function dieWithParent(command: string, args: string[]): [string, string[]] {
  try {
    accessSync(SETPRIV, constants.X_OK);
    return [SETPRIV, ['--pdeathsig', 'KILL', '--', command, ...args]];
  } catch {
    return [command, args];
  }
}

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * One control-plane binary running in its own process group, its output in a log file. The
 * group lets stop() and the exit hooks kill it without touching the caller's processes.
 */
export class ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly logPath: string;
  readonly exited: Promise<ProcessExit>;
  #exit: ProcessExit | undefined;
  readonly #child: ChildProcess;

  private constructor(name: string, child: ChildProcess, logPath: string) {
    this.name = name;
    this.#child = child;
    this.logPath = logPath;
    if (child.pid === undefined) throw new Error(`${name} did not start`);
    this.pid = child.pid;
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.#exit = { code, signal };
        untrackProcessGroup(this.pid);
        resolve(this.#exit);
      });
    });
  }

  static async start(name: string, command: string, args: string[], logPath: string): Promise<ManagedProcess> {
    const log = openSync(logPath, 'a');
    try {
      const [file, argv] = dieWithParent(command, args);
      const child = spawn(file, argv, { detached: true, stdio: ['ignore', log, log] });
      await new Promise<void>((resolve, reject) => {
        child.once('spawn', resolve);
        child.once('error', reject);
      });
      const managed = new ManagedProcess(name, child, logPath);
      trackProcessGroup(managed.pid);
      return managed;
    } finally {
      closeSync(log);
    }
  }

  /** How it ended, or undefined while it runs. */
  get exit(): ProcessExit | undefined {
    return this.#exit;
  }

  /** The last lines it wrote, for error messages. */
  tail(lines = 25): string {
    try {
      return readFileSync(this.logPath, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no output)';
    }
  }

  /** SIGTERM to the whole group, SIGKILL after the grace period; resolves once it has exited. */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.#exit) return;
    this.#signalGroup('SIGTERM');
    const timer = setTimeout(() => this.#signalGroup('SIGKILL'), graceMs);
    try {
      await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  #signalGroup(signal: NodeJS.Signals): void {
    try {
      process.kill(-this.pid, signal);
    } catch {
      // Already gone; 'exit' has fired or is about to.
    }
  }
}
