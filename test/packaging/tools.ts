import { execFile } from 'node:child_process';
import { runCommand, type CommandResult } from '../support/command.ts';
import { promisify } from 'node:util';
import { REPO } from '../support/cluster.ts';

export type { CommandResult };

/** A cold helm build took 22 minutes on two busy cores; later runs find the tools cached. */
export const TOOLS_TIMEOUT_MS = 1_800_000;

let toolPath: Promise<string> | undefined;

/**
 * PATH with helm, kubeconform, hadolint, promtool and tini first, from the tool cache that
 * hack/ensure-helm-tools.sh fills (building or fetching on first use; later calls reuse it).
 */
export function packagingPath(): Promise<string> {
  toolPath ??= promisify(execFile)(`${REPO}/hack/ensure-helm-tools.sh`, [], {
    maxBuffer: 1 << 20,
    timeout: TOOLS_TIMEOUT_MS,
  }).then(({ stdout }) => `${stdout.trim()}:${process.env.PATH ?? ''}`);
  return toolPath;
}

/** For each test file's first hook: fetch or build the tools once, before any test's own timeout runs. */
export function ensurePackagingTools(): Promise<string> {
  return packagingPath();
}

/** Runs a packaging tool found on packagingPath(); never throws on a non-zero exit. */
export async function runTool(
  command: string,
  args: readonly string[],
  options: { stdin?: string; cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<CommandResult> {
  const PATH = await packagingPath();
  return runCommand(command, args, {
    ...options,
    cwd: options.cwd ?? REPO,
    env: { ...process.env, ...options.env, PATH },
  });
}

/** runTool that must succeed; the error carries the tool's own output. */
export async function runToolOk(
  command: string,
  args: readonly string[],
  options: Parameters<typeof runTool>[2] = {},
): Promise<string> {
  const result = await runTool(command, args, options);
  if (result.code !== 0)
    throw new Error(`${command} ${args.join(' ')} failed (${result.code}):\n${result.stderr}\n${result.stdout}`);
  return result.stdout;
}
