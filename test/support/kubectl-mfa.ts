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
 * `kubectl mfa code NAME --once` as a ServiceAccount bound to the code-reader role runs it: `--service-account`
 * mints a token for the code service's audience, as a user would. kubectl takes no flags before a plugin's name,
 * so the plugin finds the cluster through KUBECONFIG. `path` is the PATH holding the plugin (default: this one).
 */
export async function liveCode(
  kubeconfig: string,
  name: string,
  endpoint: CodeServiceEndpoint,
  { namespace = 'default', path = process.env.PATH } = {},
): Promise<string> {
  const viewer = `${name}-viewer-${Math.random().toString(36).slice(2, 8)}`;
  await kubectlOk(kubeconfig, ['create', 'serviceaccount', viewer, '-n', namespace]);
  await kubectlOk(kubeconfig, [
    'create',
    'rolebinding',
    `${viewer}-codes`,
    '-n',
    namespace,
    '--clusterrole=mfa-operator-code-reader',
    `--serviceaccount=${namespace}:${viewer}`,
  ]);
  try {
    const args = [
      'mfa',
      'code',
      name,
      '-n',
      namespace,
      '--once',
      '--server',
      endpoint.url,
      '--certificate-authority',
      endpoint.caPath,
      '--service-account',
      viewer,
    ];
    const out = await runCommand('kubectl', args, { env: { ...process.env, KUBECONFIG: kubeconfig, PATH: path } });
    if (out.code !== 0) throw new Error(`kubectl mfa code failed: ${out.stderr}`);
    return out.stdout.trim();
  } finally {
    await kubectl(kubeconfig, ['delete', 'rolebinding', `${viewer}-codes`, '-n', namespace]);
    await kubectl(kubeconfig, ['delete', 'serviceaccount', viewer, '-n', namespace]);
  }
}
