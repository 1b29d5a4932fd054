import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { OutcomeSummary } from '../../operator/run-contract/outcome.ts';
import type { RunStep } from '../../operator/run-contract/outcome.ts';

const ROOT = join(import.meta.dirname, '..', '..');

export interface RunnerProcessResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  terminationMessage: string;
  summary?: OutcomeSummary;
}

/** Where a test breaks into a run: SIGKILL of the process group (a node dying), or SIGTERM to the runner (kubelet stopping the pod). */
export type RunnerFault = { killAfter: RunStep } | { sigtermAfter: RunStep };

function faultEnv(fault: RunnerFault | undefined): Record<string, string> {
  if (!fault) return {};
  return 'killAfter' in fault
    ? { MFA_RUNNER_PAUSE_AFTER: fault.killAfter }
    : { MFA_RUNNER_SIGTERM_AFTER: fault.sigtermAfter };
}

/**
 * The runner as a Job runs it: its own process (and process group, with Chromium in it). With
 * `killAfter`, the process group is SIGKILLed right after that step, as when a node dies; with
 * `sigtermAfter`, the runner gets SIGTERM right after that step.
 */
export async function runRunnerProcess(
  specPath: string,
  terminationPath: string,
  fault?: RunnerFault,
): Promise<RunnerProcessResult> {
  const killAfter = fault && 'killAfter' in fault ? fault.killAfter : undefined;
  const entry = fault ? 'test/runner/paused-runner.ts' : 'operator/runner/main.ts';
  const child = spawn(
    process.execPath,
    [entry, '--run-spec', specPath, '--termination-message-path', terminationPath],
    {
      cwd: ROOT,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LOG_LEVEL: 'info', ...faultEnv(fault) },
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    if (killAfter && stderr.includes(`PAUSED ${killAfter}\n`) && child.pid) process.kill(-child.pid, 'SIGKILL');
  });
  const [exitCode, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  const terminationMessage = await readFile(terminationPath, 'utf8').catch(() => '');
  const lastLine = stdout.trim().split('\n').pop();
  return {
    exitCode,
    signal,
    stdout,
    stderr,
    terminationMessage,
    ...(lastLine ? { summary: JSON.parse(lastLine) as OutcomeSummary } : {}),
  };
}
