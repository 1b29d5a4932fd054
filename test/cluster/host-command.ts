import { execFile } from 'node:child_process';
import { ClusterError } from './errors.ts';

export interface HostCommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface HostCommandOptions {
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  /** Resolve with the exit code instead of throwing HostCommandFailed. */
  allowFailure?: boolean;
  /** Written to its stdin, which is then closed. */
  input?: string;
}

/** Runs a host tool (ip, iptables, ctr, podman ...) with a deadline; SIGKILLed when it passes. */
export function host(
  command: string,
  args: readonly string[],
  options: HostCommandOptions = {},
): Promise<HostCommandResult> {
  const timeout = options.timeoutMs ?? 60_000;
  return new Promise((resolve, reject) => {
    const child = execFile(
      command,
      args,
      { timeout, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024, env: options.env ?? process.env },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        if (code === 0 || options.allowFailure) {
          resolve({ code, stdout, stderr });
          return;
        }
        const why = error && 'killed' in error && error.killed ? `was killed after ${timeout} ms` : `exited ${code}`;
        reject(
          new ClusterError('HostCommandFailed', `${command} ${args.join(' ')} ${why}: ${stderr.trim().slice(-2000)}`, {
            cause: error,
          }),
        );
      },
    );
    child.stdin?.on('error', () => undefined); // it may exit before reading; its exit code says why
    child.stdin?.end(options.input ?? '');
  });
}
