import { spawn } from 'node:child_process';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CommandOptions {
  stdin?: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/** What a child that exits before reading all of its input does to our end of the pipe. */
const CLOSED_PIPE = new Set(['EPIPE', 'ECONNRESET', 'ERR_STREAM_DESTROYED']);

/**
 * Runs a program, capturing its output; never throws on a non-zero exit. A program that exits
 * before reading its standard input (helm refusing values at once) is a result, not a crash:
 * the write's EPIPE is dropped and the exit status reported.
 */
export function runCommand(
  command: string,
  args: readonly string[],
  options: CommandOptions = {},
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(options.cwd ? { cwd: options.cwd } : {}),
      env: options.env ?? process.env,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin.on('error', (err: NodeJS.ErrnoException) => {
      if (!CLOSED_PIPE.has(err.code ?? '')) reject(err);
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : -1), stdout, stderr }));
    child.stdin.end(options.stdin ?? '');
  });
}
