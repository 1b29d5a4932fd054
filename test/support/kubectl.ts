import { runCommand, type CommandResult } from './command.ts';

export type { CommandResult };

/** Runs kubectl as a user would, against the given kubeconfig; never throws on a non-zero exit. */
export function kubectl(kubeconfig: string, args: readonly string[], stdin?: string): Promise<CommandResult> {
  return runCommand('kubectl', ['--kubeconfig', kubeconfig, ...args], stdin === undefined ? {} : { stdin });
}

/** kubectl that must succeed; the error carries kubectl's own message. */
export async function kubectlOk(kubeconfig: string, args: readonly string[], stdin?: string): Promise<string> {
  const result = await kubectl(kubeconfig, args, stdin);
  if (result.code !== 0)
    throw new Error(`kubectl ${args.join(' ')} failed (${result.code}): ${result.stderr || result.stdout}`);
  return result.stdout;
}
