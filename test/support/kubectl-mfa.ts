import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO } from './cluster.ts';
import { runCommand } from './command.ts';
import { kubectl, kubectlOk } from './kubectl.ts';

/** Where `kubectl mfa` reaches the code service, and the CA it trusts for it. */
export interface CodeServiceEndpoint {
  url: string;
  caPath: string;
}

/**
 * A PATH on which kubectl finds the `mfa` plugin from this checkout's source (Node 24 strips the types). The shim
 * goes into `dir`, which the caller removes; without one, into a new temporary directory.
 */
export async function pluginPath(dir?: string): Promise<string> {
  dir ??= await mkdtemp(join(tmpdir(), 'kubectl-mfa-shim-'));
  await writeFile(
    join(dir, 'kubectl-mfa'),
    `#!/bin/sh\nexec "${process.execPath}" "${REPO}/operator/cli/kubectl-mfa.ts" "$@"\n`,
  );
  await chmod(join(dir, 'kubectl-mfa'), 0o755);
  return `${dir}:${process.env.PATH ?? ''}`;
}

/**
 * Runs `kubectl mfa ARGS` against the code service as a new ServiceAccount bound to `clusterRole` in the
 * namespace, as a user would: `--service-account` mints a token for the code service's audience. kubectl takes no
 * flags before a plugin's name, so the plugin finds the cluster through KUBECONFIG. `path` is the PATH holding the
 * plugin (default: this one). The ServiceAccount and its binding are deleted afterwards. Returns stdout.
 */
export async function kubectlMfaAs(
  kubeconfig: string,
  clusterRole: string,
  args: readonly string[],
  endpoint: CodeServiceEndpoint,
  { namespace = 'default', path = process.env.PATH } = {},
): Promise<string> {
  const caller = `mfa-caller-${Math.random().toString(36).slice(2, 8)}`;
  await kubectlOk(kubeconfig, ['create', 'serviceaccount', caller, '-n', namespace]);
  await kubectlOk(kubeconfig, [
    'create',
    'rolebinding',
    caller,
    '-n',
    namespace,
    `--clusterrole=${clusterRole}`,
    `--serviceaccount=${namespace}:${caller}`,
  ]);
  try {
    const out = await runCommand(
      'kubectl',
      [
        'mfa',
        ...args,
        '-n',
        namespace,
        '--server',
        endpoint.url,
        '--certificate-authority',
        endpoint.caPath,
        '--service-account',
        caller,
      ],
      { env: { ...process.env, KUBECONFIG: kubeconfig, PATH: path } },
    );
    if (out.code !== 0) throw new Error(`kubectl mfa ${args[0]} exited ${out.code}: ${out.stderr}`);
    return out.stdout.trim();
  } finally {
    await kubectl(kubeconfig, ['delete', 'rolebinding', caller, '-n', namespace]);
    await kubectl(kubeconfig, ['delete', 'serviceaccount', caller, '-n', namespace]);
  }
}

/** `kubectl mfa code NAME --once` as a ServiceAccount bound to the code-reader role. */
export async function liveCode(
  kubeconfig: string,
  name: string,
  endpoint: CodeServiceEndpoint,
  options: { namespace?: string; path?: string } = {},
): Promise<string> {
  return kubectlMfaAs(kubeconfig, 'mfa-operator-code-reader', ['code', name, '--once'], endpoint, options);
}

/** `kubectl mfa recovery-code NAME --json` as a ServiceAccount bound to the break-glass role. */
export async function handOutRecoveryCode(
  kubeconfig: string,
  name: string,
  endpoint: CodeServiceEndpoint,
  options: { namespace?: string; path?: string } = {},
): Promise<{ code: string; index: number; remaining: number }> {
  return JSON.parse(
    await kubectlMfaAs(
      kubeconfig,
      'mfa-operator-recovery-code-user',
      ['recovery-code', name, '--json'],
      endpoint,
      options,
    ),
  );
}
