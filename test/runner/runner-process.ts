import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { OutcomeSummary } from '../../operator/runner/outcome.ts';
import type { RunStep } from '../../operator/runner/steps.ts';

const ROOT = join(import.meta.dirname, '..', '..');

export interface RunnerProcessResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  terminationMessage: string;
  summary?: OutcomeSummary;
}

/**
 * The runner as a Job runs it: its own process (and process group, with Chromium in it). With
 * `killAfter`, the process group is SIGKILLed right after that step, as when a node dies.
 */
export async function runRunnerProcess(specPath: string, terminationPath: string, killAfter?: RunStep): Promise<RunnerProcessResult> {
  const entry = killAfter ? 'test/runner/paused-runner.ts' : 'operator/runner/main.ts';
  const child = spawn(process.execPath, [entry, '--run-spec', specPath, '--termination-message-path', terminationPath], {
    cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LOG_LEVEL: 'info', ...(killAfter ? { MFA_RUNNER_PAUSE_AFTER: killAfter } : {}) },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    if (killAfter && stderr.includes(`PAUSED ${killAfter}\n`) && child.pid) process.kill(-child.pid, 'SIGKILL');
  });
  const [exitCode, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  const terminationMessage = await readFile(terminationPath, 'utf8').catch(() => '');
  const lastLine = stdout.trim().split('\n').pop();
  return { exitCode, signal, stdout, stderr, terminationMessage, ...(lastLine ? { summary: JSON.parse(lastLine) as OutcomeSummary } : {}) };
}
