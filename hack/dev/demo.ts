// `make demo` (root): the whole product on this machine. The one-node cluster of test/cluster (the product image
// and the demo app's test image loaded), the demo app as a Deployment over TLS from a throwaway CA, and the
// operator; applies config/samples (pointed at the app's Service) and waits for Ready, then shows the audit
// trail, where the seed is, a live code from `kubectl mfa code`, and signs in with it.
// Stops everything on exit; `--keep` waits for Ctrl-C so you can explore with the printed kubeconfig.
import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { DemoHttpClient } from '../../connectors/demo/app/testing/http-client.ts';
import { signIn } from '../../connectors/demo/app/testing/flows.ts';
import type { ControlPlane } from '../../test/envtest/control-plane.ts';
import { CertificateDirectory } from '../../test/envtest/certificates.ts';
import { startCluster } from '../../test/cluster/cluster.ts';
import { IMAGE } from '../../test/image/image.ts';
import { DEMO_APP_IMAGE, DEMO_APP_SERVICE_IP, deployDemoApp, publishDemoAppCa, type DemoAppInCluster } from '../../test/support/demo-app-in-cluster.ts';
import { kubectl, kubectlOk } from '../../test/support/kubectl.ts';
import { runCommand } from '../../test/support/command.ts';
import { REPO } from '../../test/support/cluster.ts';
import { Progress } from './demo-progress.ts';

const ACCOUNT = { email: 'brand@demo.example', password: 'demo-password-change-me' };
const progress = new Progress();
const stops: Array<() => Promise<unknown>> = [];

async function startPlatform(dir: string): Promise<{ cp: ControlPlane; app: DemoAppInCluster }> {
  progress.step(`starting the one-node cluster (kube-apiserver, etcd, kubelet, containerd; loading ${IMAGE} and ${DEMO_APP_IMAGE})`);
  const cluster = await startCluster({ images: [IMAGE, DEMO_APP_IMAGE], startTimeoutMs: 10 * 60_000, progress: (line) => progress.update(`starting the one-node cluster: ${line}`) });
  stops.push(() => cluster.stop());
  const cp = cluster.plane;
  progress.step('installing the CRDs');
  await kubectlOk(cp.kubeconfigPath, ['apply', '--server-side', '-f', `${REPO}/crds`]);
  await kubectlOk(cp.kubeconfigPath, ['wait', '--for=condition=Established', '--timeout=60s', 'crd', '-l', 'app.kubernetes.io/name=mfa-operator']);
  await kubectlOk(cp.kubeconfigPath, ['apply', '-f', `${REPO}/config/rbac/code_service_role.yaml`]);
  progress.step(`starting the demo SaaS app in the cluster on https://${DEMO_APP_SERVICE_IP}`);
  const app = await deployDemoApp(cp.kubeconfigPath, join(dir, 'demo-app-tls'));
  await app.accounts.upsert(ACCOUNT);
  return { cp, app };
}

async function startOperator(cp: ControlPlane, dir: string): Promise<{ caPath: string; port: number }> {
  const certificates = await CertificateDirectory.create(dir);
  const ca = await certificates.createCertificateAuthority('code-service-ca');
  const serving = await certificates.issueServingCertificate('code-service', ca);
  const runnerConfig = join(dir, 'runner-config.json');
  // The image is loaded into the node's containerd, never pulled.
  await writeFile(runnerConfig, JSON.stringify({ imagePullPolicy: 'Never' }));
  progress.step('starting the operator (dist/operator/main.js); its run Jobs are pods of the image');
  const child = spawn(process.execPath, [`${REPO}/dist/operator/main.js`, '--kubeconfig', cp.kubeconfigPath, '--no-leader-elect',
    '--http-port', '0', '--runner-image', IMAGE, '--runner-config', runnerConfig, '--code-service-port', '0',
    '--code-service-cert', serving.certPath, '--code-service-key', serving.keyPath], {
    stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MFA_DEMO_ALLOWED_LOGIN_HOSTS: DEMO_APP_SERVICE_IP },
  });
  const logPath = join(dir, 'operator.log');
  const lines: string[] = [];
  child.stdout.on('data', (d: Buffer) => lines.push(d.toString()));
  child.stderr.on('data', (d: Buffer) => lines.push(d.toString()));
  stops.push(async () => {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await writeFile(logPath, lines.join(''));
  });
  const port = await waitForCodeServicePort(lines);
  return { caPath: ca.certPath, port };
}

async function waitForCodeServicePort(lines: string[]): Promise<number> {
  for (let i = 0; i < 600; i++) {
    for (const line of lines.join('').split('\n')) {
      const port = /"msg":"serving TOTP codes over HTTPS"/.test(line) ? (JSON.parse(line) as { port?: number }).port : undefined;
      if (port) return port;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the operator did not start its code service; its log:\n${lines.join('')}`);
}

async function applySamples(kubeconfig: string, app: DemoAppInCluster): Promise<void> {
  progress.step('kubectl apply -k config/samples, pointed at the demo app in the cluster');
  await kubectlOk(kubeconfig, ['apply', '-n', 'default', '-k', `${REPO}/config/samples`]);
  // The sample names the app on loopback; in the cluster it is behind a Service, over TLS from the demo CA.
  const account = { loginUrl: `${app.url}/login`, caBundleRef: await publishDemoAppCa(kubeconfig, app, 'default') };
  await kubectlOk(kubeconfig, ['patch', 'mfa', 'demo-brand', '-n', 'default', '--type=merge', '-p', JSON.stringify({ spec: { account } })]);
}

async function waitReady(kubeconfig: string): Promise<void> {
  progress.step('waiting for mfa/demo-brand to be Ready');
  for (let i = 0; i < 300; i++) {
    const mfa = JSON.parse(await kubectlOk(kubeconfig, ['get', 'mfa', 'demo-brand', '-o', 'json'])) as { status?: { conditions?: Array<{ type: string; status: string; reason: string; message: string }> } };
    const ready = mfa.status?.conditions?.find((c) => c.type === 'Ready');
    if (ready?.status === 'True') {
      progress.update('mfa/demo-brand is Ready');
      return progress.done();
    }
    const automation = mfa.status?.conditions?.find((c) => c.type === 'AutomationSucceeded');
    if (automation) progress.update(`waiting for mfa/demo-brand to be Ready: ${automation.reason} — ${automation.message}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error('mfa/demo-brand did not become Ready in 5 minutes; see `kubectl describe mfa demo-brand`');
}

async function liveCode(kubeconfig: string, code: { caPath: string; port: number }): Promise<string> {
  await kubectlOk(kubeconfig, ['create', 'serviceaccount', 'demo-viewer']);
  await kubectlOk(kubeconfig, ['create', 'rolebinding', 'demo-viewer-codes', '--clusterrole=mfa-operator-code-reader', '--serviceaccount=default:demo-viewer']);
  // kubectl takes no flags before a plugin's name, so the plugin finds the cluster through KUBECONFIG.
  // --service-account mints a token for the code service's audience, as a user would.
  const args = ['mfa', 'code', 'demo-brand', '--once', '--server', `https://127.0.0.1:${code.port}`, '--certificate-authority', code.caPath, '--service-account', 'demo-viewer'];
  const out = await runCommand('kubectl', args, { env: { ...process.env, KUBECONFIG: kubeconfig } });
  if (out.code !== 0) throw new Error(`kubectl mfa code failed: ${out.stderr}`);
  return out.stdout.trim();
}

async function show(kubeconfig: string, code: { caPath: string; port: number }, app: DemoAppInCluster): Promise<void> {
  console.log(`\n$ kubectl get mfa\n${await kubectlOk(kubeconfig, ['get', 'mfa'])}`);
  const describe = await kubectlOk(kubeconfig, ['describe', 'mfa', 'demo-brand']);
  console.log(`$ kubectl describe mfa demo-brand   (events)\n${describe.slice(describe.indexOf('Events:'))}`);
  const status = JSON.parse(await kubectlOk(kubeconfig, ['get', 'mfa', 'demo-brand', '-o', 'jsonpath={.status.totp}']));
  console.log(`The seed is stored in ${status.store.provider} ${status.store.name} (${status.algorithm}, ${status.digits} digits, ${status.period} s).`);
  for (let attempt = 1; attempt <= 2; attempt++) {
    const current = await liveCode(kubeconfig, code);
    console.log(`$ kubectl mfa code demo-brand --once\n${current}`);
    const client = new DemoHttpClient(app.url);
    const prompt = await signIn(client, ACCOUNT.email, ACCOUNT.password);
    const page = await client.submit(prompt, '/login/two-factor', { code: current });
    if (page.path === '/') return void console.log(`Signed in to the demo app as ${ACCOUNT.email} with that code. MFA is on, and the operator is its authenticator.`);
    console.log('The app refused the code (that window was used to confirm the enrolment); waiting for the next one.');
    await kubectl(kubeconfig, ['delete', 'serviceaccount', 'demo-viewer']);
    await kubectl(kubeconfig, ['delete', 'rolebinding', 'demo-viewer-codes']);
    await new Promise((r) => setTimeout(r, 30_000 - (Date.now() % 30_000) + 500));
  }
  throw new Error('the demo app refused codes from the code service twice');
}

async function stopAll(): Promise<void> {
  progress.done();
  for (const stop of stops.reverse()) await stop().catch(() => undefined);
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'mfa-demo-'));
  process.env.PATH = `${REPO}/hack/dev/bin:${process.env.PATH}`;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void stopAll().then(() => process.exit(130)));
  const { cp, app } = await startPlatform(dir);
  await applySamples(cp.kubeconfigPath, app);
  const code = await startOperator(cp, dir);
  await waitReady(cp.kubeconfigPath);
  process.env.KUBECONFIG = cp.kubeconfigPath;
  await show(cp.kubeconfigPath, code, app);
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
