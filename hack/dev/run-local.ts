// `make dev CONNECTOR=ID LOGIN_URL=URL USERNAME_FILE=F PASSWORD_FILE=F`: the operator on this machine with any
// connector and an app you run yourself (a Keycloak, a django-allauth site, ...), reachable from pods. The one-node
// cluster (root) and the operator, told that the login URL's host is allowed for
// the connector (--allowed-login-hosts, for the connectors whose hosts are set per deployment); applies a
// credentials Secret and a ManagedAccountMfa, waits for Ready and prints a live code from `kubectl mfa code`.
// Stops everything on exit; `--keep` waits for Ctrl-C so you can explore with the printed kubeconfig.
import { mkdtemp, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { connectors, DEPLOYMENT_HOSTED } from '../../connectors/index.ts';
import { kubectlOk } from '../../test/support/kubectl.ts';
import { REPO } from '../../test/support/cluster.ts';
import { liveCode } from '../../test/support/kubectl-mfa.ts';
import { Progress } from './demo-progress.ts';
import { startOperator, startPlatform, stopAll, waitForReady, type Stops } from './local-operator.ts';

const NAME = 'local-account';
const progress = new Progress();
const stops: Stops = [];

interface Settings {
  connector: string;
  loginUrl: URL;
  username: string;
  password: string;
}

/** From the environment `make dev` passes on; credentials come from files so they stay out of the process list. */
async function settings(env: NodeJS.ProcessEnv): Promise<Settings> {
  const missing = ['CONNECTOR', 'LOGIN_URL', 'USERNAME_FILE', 'PASSWORD_FILE'].filter((name) => !env[name]);
  if (missing.length > 0) {
    throw new Error(
      `set ${missing.join(', ')}: make dev CONNECTOR=keycloak LOGIN_URL=https://198.18.0.1:8443/realms/acme/account ` +
        'USERNAME_FILE=./username PASSWORD_FILE=./password (see docs/connectors.md, "Run the operator locally")',
    );
  }
  const connector = env.CONNECTOR!;
  if (!connectors.has(connector))
    throw new Error(`CONNECTOR=${connector} is not one of ${connectors.ids().join(', ')}`);
  const read = async (name: string) => (await readFile(env[name]!, 'utf8')).trim();
  return {
    connector,
    loginUrl: new URL(env.LOGIN_URL!),
    username: await read('USERNAME_FILE'),
    password: await read('PASSWORD_FILE'),
  };
}

function manifests(s: Settings): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'List',
    items: [
      {
        apiVersion: 'v1',
        kind: 'Secret',
        type: 'Opaque',
        metadata: { name: `${NAME}-login`, labels: { 'mfa-operator.io/credentials': 'true' } },
        stringData: { username: s.username, password: s.password },
      },
      {
        apiVersion: 'mfa-operator.io/v1alpha1',
        kind: 'ManagedAccountMfa',
        metadata: { name: NAME },
        spec: {
          connector: s.connector,
          account: {
            displayName: `${s.connector} account`,
            loginUrl: s.loginUrl.href,
            credentialsSecretRef: { name: `${NAME}-login` },
          },
          mfa: { state: 'Enabled' },
          deletionPolicy: 'Retain',
        },
      },
    ],
  });
}

async function main(): Promise<void> {
  const s = await settings(process.env);
  const dir = await mkdtemp(join(tmpdir(), 'mfa-dev-'));
  process.env.PATH = `${REPO}/hack/dev/bin:${process.env.PATH}`;
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => void stopAll(progress, stops).then(() => process.exit(130)));
  const cp = await startPlatform(progress, stops);
  const flags = DEPLOYMENT_HOSTED.includes(s.connector)
    ? ['--allowed-login-hosts', `${s.connector}=${s.loginUrl.hostname}`]
    : [];
  const code = await startOperator(cp, dir, progress, stops, flags);
  progress.step(`applying a credentials Secret and mfa/${NAME} (connector ${s.connector}, ${s.loginUrl.origin})`);
  // On stdin: the password never appears in a command line.
  await kubectlOk(cp.kubeconfigPath, ['apply', '-n', 'default', '-f', '-'], manifests(s));
  await waitForReady(cp.kubeconfigPath, NAME, progress);
  process.env.KUBECONFIG = cp.kubeconfigPath;
  console.log(`\n$ kubectl get mfa\n${await kubectlOk(cp.kubeconfigPath, ['get', 'mfa'])}`);
  console.log(`$ kubectl mfa code ${NAME} --once\n${await liveCode(cp.kubeconfigPath, NAME, code)}`);
  if (process.argv.includes('--keep')) {
    console.log(`\nexport KUBECONFIG=${cp.kubeconfigPath}   # explore; Ctrl-C stops everything`);
    await new Promise(() => undefined);
  }
}

main().then(
  () => stopAll(progress, stops),
  async (e: unknown) => {
    progress.done();
    console.error(`make dev failed: ${e instanceof Error ? e.message : String(e)}`);
    await stopAll(progress, stops);
    process.exit(1);
  },
);
