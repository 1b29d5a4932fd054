// `make demo`: the whole product on this machine. A local control plane, the bundled demo app, the local job
// runner standing in for kubelet, and the operator; applies config/samples and waits for Ready, then shows
// the audit trail, where the seed is, a live code from `kubectl mfa code`, and signs in with it.
// Stops everything on exit; `--keep` waits for Ctrl-C so you can explore with the printed kubeconfig.
// `make dev` (hack/dev/run-local.ts) does the same for any connector and app.
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { DemoHttpClient } from '../../connectors/demo/app/testing/http-client.ts';
import { signIn } from '../../connectors/demo/app/testing/flows.ts';
import { startDemoApp, type DemoApp } from '../../connectors/demo/app/demo-app.ts';
import { createLogger } from '../../operator/logging/logger.ts';
import { kubectlOk } from '../../test/support/kubectl.ts';
import { REPO } from '../../test/support/cluster.ts';
import { Progress } from './demo-progress.ts';
import { liveCode, startOperator, startPlatform, stopAll as stopEverything, waitForReady, type CodeService, type Stops } from './local-operator.ts';

const ACCOUNT = { email: 'brand@demo.example', password: 'demo-password-change-me' };
const quiet = createLogger('demo', { level: 'warn' });
const progress = new Progress();
const stops: Stops = [];

async function startDemo(): Promise<DemoApp> {
  progress.step('starting the demo SaaS app on http://127.0.0.1:8081');
  const app = await startDemoApp({ port: 8081, accounts: [ACCOUNT], logger: quiet });
  stops.push(() => app.stop());
  return app;
}

async function applySamplesAndWait(kubeconfig: string): Promise<void> {
  progress.step('kubectl apply -k config/samples');
  await kubectlOk(kubeconfig, ['apply', '-n', 'default', '-k', `${REPO}/config/samples`]);
  await waitForReady(kubeconfig, 'demo-brand', progress);
}

async function show(kubeconfig: string, code: CodeService, app: DemoApp): Promise<void> {
  console.log(`\n$ kubectl get mfa\n${await kubectlOk(kubeconfig, ['get', 'mfa'])}`);
  const describe = await kubectlOk(kubeconfig, ['describe', 'mfa', 'demo-brand']);
  console.log(`$ kubectl describe mfa demo-brand   (events)\n${describe.slice(describe.indexOf('Events:'))}`);
  const status = JSON.parse(await kubectlOk(kubeconfig, ['get', 'mfa', 'demo-brand', '-o', 'jsonpath={.status.totp}']));
  console.log(`The seed is stored in ${status.store.provider} ${status.store.name} (${status.algorithm}, ${status.digits} digits, ${status.period} s).`);
  for (let attempt = 1; attempt <= 2; attempt++) {
    const current = await liveCode(kubeconfig, 'demo-brand', code);
    console.log(`$ kubectl mfa code demo-brand --once\n${current}`);
    const client = new DemoHttpClient(app.url);
    const prompt = await signIn(client, ACCOUNT.email, ACCOUNT.password);
    const page = await client.submit(prompt, '/login/two-factor', { code: current });
    if (page.path === '/') return void console.log(`Signed in to the demo app as ${ACCOUNT.email} with that code. MFA is on, and the operator is its authenticator.`);
    console.log('The app refused the code (that window was used to confirm the enrolment); waiting for the next one.');
    await new Promise((r) => setTimeout(r, 30_000 - (Date.now() % 30_000) + 500));
  }
  throw new Error('the demo app refused codes from the code service twice');
}

function stopAll(): Promise<void> {
  return stopEverything(progress, stops);
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'mfa-demo-'));
  process.env.PATH = `${REPO}/hack/dev/bin:${process.env.PATH}`;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void stopAll().then(() => process.exit(130)));
  const cp = await startPlatform(progress, stops);
  const app = await startDemo();
  const code = await startOperator(cp, dir, progress, stops);
  await applySamplesAndWait(cp.kubeconfigPath);
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
