import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { startControlPlane, type ControlPlane } from '../envtest/control-plane.ts';
import { freeLoopbackPort } from '../envtest/ports.ts';
import { kubectl, kubectlOk } from '../support/kubectl.ts';
import { startOperator, type OperatorProcess } from '../support/operator-process.ts';
import { credentialsSecret, managedAccountMfa } from '../support/resources.ts';
import { waitFor } from '../support/wait.ts';
import { CHART, RELEASE, named, objectsOf, renderChart } from './manifests.ts';
import { ensurePackagingTools, runTool, TOOLS_TIMEOUT_MS } from './tools.ts';

beforeAll(ensurePackagingTools, TOOLS_TIMEOUT_MS);

const RELEASE_NS = 'mfa-scoped';
const WATCHED = 'team-a';
const SCOPED_VALUES = ['--set', `watchNamespaces={${WATCHED}}`];

let cp: ControlPlane;
let work: string;
let operator: OperatorProcess | undefined;

/** A kubeconfig that authenticates as the chart's operator ServiceAccount, with a token the API server issued. */
async function serviceAccountKubeconfig(serviceAccount: string): Promise<string> {
  const token = (
    await kubectlOk(cp.kubeconfigPath, ['-n', RELEASE_NS, 'create', 'token', serviceAccount, '--duration=1h'])
  ).trim();
  const config = parse(await readFile(cp.kubeconfigPath, 'utf8'));
  config.users = [{ name: serviceAccount, user: { token } }];
  config.contexts = config.contexts.map((c: { context: object }) => ({
    ...c,
    context: { ...c.context, user: serviceAccount },
  }));
  const path = join(work, `${serviceAccount}.kubeconfig`);
  await writeFile(path, stringify(config));
  return path;
}

/** The code service's certificate Secret the chart installed, as kubelet would mount it. */
async function mountCodeServiceTls(): Promise<string> {
  const dir = join(work, 'code-service-tls');
  await mkdir(dir);
  const secret = JSON.parse(
    await kubectlOk(cp.kubeconfigPath, [
      '-n',
      RELEASE_NS,
      'get',
      'secret',
      `${RELEASE}-code-service-tls`,
      '-o',
      'json',
    ]),
  );
  for (const [key, value] of Object.entries(secret.data as Record<string, string>))
    await writeFile(join(dir, key), Buffer.from(value, 'base64'));
  return dir;
}

/** The chart's Deployment args, as kubelet would expand them here (the probe and code-service ports are chosen here). */
async function chartArgs(): Promise<string[]> {
  const tls = await mountCodeServiceTls();
  const codeServicePort = await freeLoopbackPort();
  const objects = objectsOf(await renderChart({ namespace: RELEASE_NS, set: [`watchNamespaces={${WATCHED}}`] }));
  const settingsFile = join(work, 'runner-config.yaml');
  await writeFile(
    settingsFile,
    (named(objects, 'ConfigMap', 'mfa-operator-runner-config').data as Record<string, string>)['runner-config.yaml']!,
  );
  const deployment = named(objects, 'Deployment', 'mfa-operator-controller-manager').spec as {
    template: { spec: { containers: Array<{ args: string[] }> } };
  };
  return deployment.template.spec.containers[0]!.args.filter((arg) => !arg.startsWith('--http-port=')).map((arg) =>
    arg
      .replace('$(POD_NAMESPACE)', RELEASE_NS)
      .replace(/^--runner-config=.*$/, `--runner-config=${settingsFile}`)
      .replace('/etc/mfa-operator/code-service-tls', tls)
      .replace(/^--code-service-port=.*$/, `--code-service-port=${codeServicePort}`),
  );
}

beforeAll(async () => {
  cp = await startControlPlane();
  work = await mkdtemp(join(tmpdir(), 'mfa-scoped-'));
  await kubectlOk(cp.kubeconfigPath, ['create', 'namespace', WATCHED]);
  await kubectlOk(cp.kubeconfigPath, ['create', 'namespace', 'team-b']);
  const install = await runTool('helm', [
    'install',
    RELEASE,
    CHART,
    '--kubeconfig',
    cp.kubeconfigPath,
    '-n',
    RELEASE_NS,
    '--create-namespace',
    ...SCOPED_VALUES,
  ]);
  if (install.code !== 0) throw new Error(`helm install failed: ${install.stderr}`);
  await kubectlOk(cp.kubeconfigPath, [
    'wait',
    '--for=condition=Established',
    '--timeout=60s',
    'crd/managedaccountmfas.mfa-operator.io',
  ]);
  operator = startOperator(await serviceAccountKubeconfig('mfa-operator-controller-manager'), await chartArgs(), {
    POD_NAMESPACE: RELEASE_NS,
  });
  await operator.waitForLog('caches synced; reconciling', 90_000);
}, 300_000);
afterAll(async () => {
  await operator?.kill();
  await cp?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

const readyReason = async (name: string, namespace: string) =>
  (
    await kubectl(cp.kubeconfigPath, [
      '-n',
      namespace,
      'get',
      'mfa',
      name,
      '-o',
      'jsonpath={.status.conditions[?(@.type=="Ready")].reason}',
    ])
  ).stdout;

describe("the operator under the chart's namespace-scoped RBAC (watchNamespaces), as its own ServiceAccount", () => {
  it('reports, then starts a run in the watched namespace with only the permissions bound there', async () => {
    const admin = cp.kubeconfigPath;
    await kubectlOk(admin, ['apply', '-f', '-'], managedAccountMfa('brand', WATCHED));
    await waitFor(
      'the missing Secret reported',
      async () => (await readyReason('brand', WATCHED)) === 'CredentialsSecretNotFound',
      60_000,
    );

    await kubectlOk(
      admin,
      ['apply', '-f', '-'],
      credentialsSecret('brand-login', WATCHED, { username: 'brand', password: 'pw-scoped' }),
    );
    // The run's own ServiceAccount, Role, RoleBinding and Job: created under the RoleBinding in team-a alone.
    const job = await waitFor(
      'a run Job',
      async () => {
        const jobs = JSON.parse(
          await kubectlOk(admin, ['-n', WATCHED, 'get', 'jobs', '-l', 'mfa-operator.io/account=brand', '-o', 'json']),
        ).items as Array<{ metadata: { name: string } }>;
        return jobs[0]?.metadata.name;
      },
      90_000,
    );
    expect((await kubectl(admin, ['-n', WATCHED, 'get', 'role', job])).code).toBe(0);
    expect(operator!.lines.filter((l) => /\bforbidden\b|\b403\b/i.test(l))).toEqual([]);
  });

  it('leaves resources in other namespaces alone', async () => {
    await kubectlOk(cp.kubeconfigPath, ['apply', '-f', '-'], managedAccountMfa('other', 'team-b'));
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(await readyReason('other', 'team-b')).toBe('');
  });
});
