// The one-node cluster of test/cluster with the product image loaded (`make demo`, `make dev`; root), and the
// operator as `make dev` runs it: dist/operator/main.js on this machine with its code service, which the run pods
// reach on the node address. (`make demo` installs the operator with the Helm chart instead.)
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startCluster } from '../../test/cluster/cluster.ts';
import { NETWORK } from '../../test/cluster/network-plan.ts';
import type { ControlPlane } from '../../test/envtest/control-plane.ts';
import { freeLoopbackPort } from '../../test/envtest/ports.ts';
import { IMAGE } from '../../test/image/image.ts';
import { CertificateDirectory } from '../../test/envtest/certificates.ts';
import { kubectlOk } from '../../test/support/kubectl.ts';
import type { CodeServiceEndpoint } from '../../test/support/kubectl-mfa.ts';
import { REPO } from '../../test/support/cluster.ts';
import type { Progress } from './demo-progress.ts';

export type Stops = Array<() => Promise<unknown>>;

/**
 * The cluster with the product image and `extraImages` (podman's storage) loaded and, unless `crds` is false (the
 * Helm chart installs its own), the CRDs and the code-reader ClusterRole.
 */
export async function startPlatform(
  progress: Progress,
  stops: Stops,
  extraImages: readonly string[] = [],
  { crds = true } = {},
): Promise<ControlPlane> {
  const images = [IMAGE, ...extraImages];
  progress.step(
    `starting the one-node cluster (kube-apiserver, etcd, kubelet, containerd; loading ${images.join(' and ')})`,
  );
  const cluster = await startCluster({
    images,
    startTimeoutMs: 10 * 60_000,
    progress: (line) => progress.update(`starting the one-node cluster: ${line}`),
  });
  stops.push(() => cluster.stop());
  const cp = cluster.plane;
  if (!crds) return cp;
  progress.step('installing the CRDs');
  await kubectlOk(cp.kubeconfigPath, ['apply', '--server-side', '-f', `${REPO}/config/crd/bases`]);
  await kubectlOk(cp.kubeconfigPath, [
    'wait',
    '--for=condition=Established',
    '--timeout=60s',
    'crd',
    '-l',
    'app.kubernetes.io/name=mfa-operator',
  ]);
  await kubectlOk(cp.kubeconfigPath, ['apply', '-f', `${REPO}/config/rbac/code_service_role.yaml`]);
  return cp;
}

/** `flags` go to the operator after the ones it always gets here, e.g. `--allowed-login-hosts keycloak=127.0.0.1`. */
export async function startOperator(
  cp: ControlPlane,
  dir: string,
  progress: Progress,
  stops: Stops,
  flags: readonly string[] = [],
): Promise<CodeServiceEndpoint> {
  const certificates = await CertificateDirectory.create(dir);
  const ca = await certificates.createCertificateAuthority('code-service-ca');
  // Run pods ask the code service for codes on the node address; kubectl mfa on this machine uses 127.0.0.1.
  const serving = await certificates.issueServingCertificate('code-service', ca, [NETWORK.nodeAddress]);
  const runnerConfig = join(dir, 'runner-config.json');
  await writeFile(runnerConfig, JSON.stringify({ imagePullPolicy: 'Never' }));
  const codePort = String(await freeLoopbackPort());
  progress.step('starting the operator (dist/operator/main.js)');
  const child = spawn(
    process.execPath,
    [
      `${REPO}/dist/operator/main.js`,
      '--kubeconfig',
      cp.kubeconfigPath,
      '--no-leader-elect',
      '--http-port',
      '0',
      '--runner-image',
      IMAGE,
      '--runner-config',
      runnerConfig,
      '--code-service-port',
      codePort,
      '--code-service-cert',
      serving.certPath,
      '--code-service-key',
      serving.keyPath,
      '--code-service-run-url',
      `https://${NETWORK.nodeAddress}:${codePort}`,
      '--code-service-run-ca',
      ca.certPath,
      ...flags,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
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
  return { caPath: ca.certPath, url: `https://127.0.0.1:${port}` };
}

async function waitForCodeServicePort(lines: string[]): Promise<number> {
  for (let i = 0; i < 600; i++) {
    for (const line of lines.join('').split('\n')) {
      const port = /"msg":"serving TOTP codes over HTTPS"/.test(line)
        ? (JSON.parse(line) as { port?: number }).port
        : undefined;
      if (port) return port;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the operator did not start its code service; its log:\n${lines.join('')}`);
}

export async function waitForReady(kubeconfig: string, name: string, progress: Progress): Promise<void> {
  progress.step(`waiting for mfa/${name} to be Ready`);
  for (let i = 0; i < 300; i++) {
    const mfa = JSON.parse(await kubectlOk(kubeconfig, ['get', 'mfa', name, '-o', 'json'])) as {
      status?: { conditions?: Array<{ type: string; status: string; reason: string; message: string }> };
    };
    const ready = mfa.status?.conditions?.find((c) => c.type === 'Ready');
    if (ready?.status === 'True') {
      progress.update(`mfa/${name} is Ready`);
      return progress.done();
    }
    const automation = mfa.status?.conditions?.find((c) => c.type === 'AutomationSucceeded');
    if (automation)
      progress.update(`waiting for mfa/${name} to be Ready: ${automation.reason} — ${automation.message}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`mfa/${name} did not become Ready in 5 minutes; see \`kubectl describe mfa ${name}\``);
}

export async function stopAll(progress: Progress, stops: Stops): Promise<void> {
  progress.done();
  for (const stop of stops.reverse()) await stop().catch(() => undefined);
}
