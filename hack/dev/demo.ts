// `make demo` (root): the whole product on this machine. The one-node cluster of test/cluster (the product image
// and the demo app's test image loaded), the demo app as a Deployment over TLS from a throwaway CA, and the
// operator installed by the Helm chart from the image (two replicas, leader election, its code service on a
// Service); applies config/samples (pointed at the app's Service) and waits for Ready, then shows the audit trail,
// where the seed is, a live code from `kubectl mfa code` through the in-cluster code service, and signs in with it.
// Stops everything on exit; `--keep` waits for Ctrl-C so you can explore with the printed kubeconfig.
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { parseAllDocuments, stringify } from 'yaml';
import { DemoHttpClient } from '../../test/apps/demo/client/http-client.ts';
import { signIn } from '../../test/apps/demo/client/flows.ts';
import {
  DEMO_APP_IMAGE,
  DEMO_APP_SERVICE_IP,
  deployDemoApp,
  publishDemoAppCa,
  type DemoAppInCluster,
} from '../../test/support/demo-app-in-cluster.ts';
import { installOperatorWithHelm, OPERATOR_NAMESPACE } from '../../test/support/helm-operator.ts';
import { kubectlOk } from '../../test/support/kubectl.ts';
import { liveCode, type CodeServiceEndpoint } from '../../test/support/kubectl-mfa.ts';
import { REPO } from '../../test/support/cluster.ts';
import { Progress } from './demo-progress.ts';
import { startPlatform, stopAll as stopEverything, waitForReady, type Stops } from './local-operator.ts';

const ACCOUNT = { email: 'brand@demo.example', password: 'demo-password-change-me' };
const NAME = 'demo-brand';
const progress = new Progress();
const stops: Stops = [];

async function applySamples(kubeconfig: string, app: DemoAppInCluster): Promise<void> {
  progress.step('kubectl apply -k config/samples, pointed at the demo app in the cluster');
  // The sample names the app on loopback; in the cluster it is behind a Service, over TLS from the demo CA. The
  // resource is applied already pointed there: applied first and patched after, its first run would go to loopback.
  const caBundleRef = await publishDemoAppCa(kubeconfig, app, 'default');
  const docs = parseAllDocuments(await kubectlOk(kubeconfig, ['kustomize', `${REPO}/config/samples`])).map((d) =>
    d.toJS(),
  );
  const sample = docs.find((d) => d.kind === 'ManagedAccountMfa' && d.metadata?.name === NAME);
  if (!sample) throw new Error(`config/samples has no ManagedAccountMfa ${NAME}`);
  sample.spec.account = { ...sample.spec.account, loginUrl: `${app.url}/login`, caBundleRef };
  await kubectlOk(kubeconfig, ['apply', '-n', 'default', '-f', '-'], docs.map((d) => stringify(d)).join('---\n'));
}

async function show(kubeconfig: string, code: CodeServiceEndpoint, app: DemoAppInCluster): Promise<void> {
  console.log(`\n$ kubectl get mfa\n${await kubectlOk(kubeconfig, ['get', 'mfa'])}`);
  const describe = await kubectlOk(kubeconfig, ['describe', 'mfa', NAME]);
  console.log(`$ kubectl describe mfa ${NAME}   (events)\n${describe.slice(describe.indexOf('Events:'))}`);
  const status = JSON.parse(await kubectlOk(kubeconfig, ['get', 'mfa', NAME, '-o', 'jsonpath={.status.totp}']));
  console.log(
    `The seed is stored in ${status.store.provider} ${status.store.name} (${status.algorithm}, ${status.digits} digits, ${status.period} s).`,
  );
  for (let attempt = 1; attempt <= 2; attempt++) {
    const current = await liveCode(kubeconfig, NAME, code);
    console.log(`$ kubectl mfa code ${NAME} --once\n${current}`);
    const client = new DemoHttpClient(app.url);
    const prompt = await signIn(client, ACCOUNT.email, ACCOUNT.password);
    const page = await client.submit(prompt, '/login/two-factor', { code: current });
    if (page.path === '/')
      return void console.log(
        `Signed in to the demo app as ${ACCOUNT.email} with that code. MFA is on, and the operator is its authenticator.`,
      );
    console.log('The app refused the code (that window was used to confirm the enrolment); waiting for the next one.');
    await new Promise((r) => setTimeout(r, 30_000 - (Date.now() % 30_000) + 500));
  }
  throw new Error('the demo app refused codes from the code service twice');
}

const stopAll = () => stopEverything(progress, stops);

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'mfa-demo-'));
  process.env.PATH = `${REPO}/hack/dev/bin:${process.env.PATH}`;
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => void stopAll().then(() => process.exit(130)));
  const cp = await startPlatform(progress, stops, [DEMO_APP_IMAGE], { crds: false });
  progress.step(`starting the demo SaaS app in the cluster on https://${DEMO_APP_SERVICE_IP}`);
  const app = await deployDemoApp(cp.kubeconfigPath, join(dir, 'demo-app-tls'));
  await app.accounts.upsert(ACCOUNT);
  // The demo connector allows loopback only unless the cluster admin names the app's host (a chart value).
  progress.step(
    `helm install mfa-operator charts/mfa-operator -n ${OPERATOR_NAMESPACE} (two replicas from the image; helm is built on first use)`,
  );
  const operator = await installOperatorWithHelm(cp.kubeconfigPath, dir);
  progress.update(`the operator runs as ${(await operator.pods()).join(' and ')}; ${await operator.leader()} leads`);
  progress.done();
  await applySamples(cp.kubeconfigPath, app);
  await waitForReady(cp.kubeconfigPath, NAME, progress);
  console.log(
    `\n$ kubectl get pods -n ${OPERATOR_NAMESPACE}\n${await kubectlOk(cp.kubeconfigPath, ['get', 'pods', '-n', OPERATOR_NAMESPACE])}`,
  );
  process.env.KUBECONFIG = cp.kubeconfigPath;
  await show(cp.kubeconfigPath, operator.codeService, app);
  if (process.argv.includes('--keep')) {
    console.log(`\nexport KUBECONFIG=${cp.kubeconfigPath}   # explore; Ctrl-C stops everything`);
    await new Promise(() => undefined);
  }
}

main().then(stopAll, async (e: unknown) => {
  progress.done();
  console.error(`demo failed: ${e instanceof Error ? e.message : String(e)}`);
  await stopAll();
  process.exit(1);
});
