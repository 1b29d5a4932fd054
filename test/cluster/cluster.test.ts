import { CoreV1Api, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IMAGE } from '../image/image.ts';
import { startCluster, type LocalCluster } from './cluster.ts';
import { host } from './host-command.ts';
import { hostSnapshot } from './host-snapshot.ts';
import { NETWORK } from './network-plan.ts';
import { RESTRICTED_CONTAINER, runNodeJob } from './pod-runner.ts';
import { waitFor } from '../support/wait.ts';

/** The image must exist (make image, or test/image first); loading it into containerd takes minutes once. */
const START_TIMEOUT_MS = 10 * 60_000;

let cluster: LocalCluster;
let before: Awaited<ReturnType<typeof hostSnapshot>>;
let startSeconds: number;

beforeAll(async () => {
  before = await hostSnapshot();
  const started = Date.now();
  cluster = await startCluster({ images: [IMAGE] });
  startSeconds = (Date.now() - started) / 1000;
}, START_TIMEOUT_MS);
afterAll(async () => {
  await cluster?.stop();
}, 120_000);

describe('the local one-node cluster', () => {
  it('registers a Ready node at the node address, with a default ServiceAccount from the real controller-manager', async () => {
    const core = cluster.kubeConfig().makeApiClient(CoreV1Api);
    const node = await core.readNode({ name: cluster.nodeName });
    expect(node.status?.addresses).toContainEqual({ type: 'InternalIP', address: NETWORK.nodeAddress });
    expect(node.status?.nodeInfo?.containerRuntimeVersion).toMatch(/^containerd:\/\/v?2\./);
    expect(node.status?.nodeInfo?.kubeletVersion).toBe('v1.36.3');
    await core.readNamespacedServiceAccount({ name: 'default', namespace: 'default' });
    console.info(
      `cluster start (image already in containerd unless this was the first run): ${startSeconds.toFixed(1)} s`,
    );
  });

  it('runs a Job as a restricted pod from the image: uid 65532, read-only root, Complete', async () => {
    const run = await runNodeJob(
      cluster,
      'default',
      'restricted',
      IMAGE,
      "const fs = require('node:fs'); let root = 'writable'; try { fs.writeFileSync('/app/x', '') } catch (e) { root = e.code }" +
        "; fs.writeFileSync('/tmp/x', ''); console.log(JSON.stringify({ uid: process.getuid(), root }))",
    );
    expect(run.job.status?.succeeded).toBe(1);
    expect(run.pod.spec?.nodeName).toBe(cluster.nodeName);
    expect(run.pod.status?.podIP).toMatch(/^198\.18\.64\./);
    expect(JSON.parse(run.log.trim())).toEqual({ uid: 65532, root: 'EROFS' });
  });

  it('lets a pod reach the API server through the kubernetes Service with its token, as far as its Role allows', async () => {
    const kc = cluster.kubeConfig();
    const core = kc.makeApiClient(CoreV1Api);
    const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
    await core.createNamespacedServiceAccount({ namespace: 'default', body: { metadata: { name: 'reader' } } });
    await core.createNamespacedConfigMap({
      namespace: 'default',
      body: { metadata: { name: 'allowed' }, data: { word: 'reached' } },
    });
    await rbac.createNamespacedRole({
      namespace: 'default',
      body: {
        metadata: { name: 'reader' },
        rules: [{ apiGroups: [''], resources: ['configmaps'], resourceNames: ['allowed'], verbs: ['get'] }],
      },
    });
    await rbac.createNamespacedRoleBinding({
      namespace: 'default',
      body: {
        metadata: { name: 'reader' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'reader' },
        subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace: 'default' }],
      },
    });
    const script =
      "const fs = require('node:fs'); const https = require('node:https'); const dir = '/var/run/secrets/kubernetes.io/serviceaccount';" +
      'const get = (path) => new Promise((ok, fail) => https.get({ host: process.env.KUBERNETES_SERVICE_HOST, port: process.env.KUBERNETES_SERVICE_PORT, path,' +
      " ca: fs.readFileSync(dir + '/ca.crt'), headers: { authorization: 'Bearer ' + fs.readFileSync(dir + '/token', 'utf8') } }," +
      " (res) => { let body = ''; res.on('data', (c) => body += c); res.on('end', () => ok({ status: res.statusCode, body })) }).on('error', fail));" +
      "(async () => { const allowed = await get('/api/v1/namespaces/default/configmaps/allowed'); const other = await get('/api/v1/namespaces/default/configmaps/kube-root-ca.crt');" +
      ' console.log(JSON.stringify({ host: process.env.KUBERNETES_SERVICE_HOST, allowed: allowed.status, word: JSON.parse(allowed.body).data?.word, other: other.status })) })()';
    const run = await runNodeJob(cluster, 'default', 'api-reader', IMAGE, script, { serviceAccountName: 'reader' });
    expect(JSON.parse(run.log.trim())).toEqual({
      host: NETWORK.kubernetesServiceAddress,
      allowed: 200,
      word: 'reached',
      other: 403,
    });
  });
});

describe('Services', () => {
  it('lets this host reach a pod through its Service ClusterIP, as a node does', async () => {
    const core = cluster.kubeConfig().makeApiClient(CoreV1Api);
    const labels = { app: 'echo' };
    await core.createNamespacedPod({
      namespace: 'default',
      body: {
        metadata: { name: 'echo', labels },
        spec: {
          automountServiceAccountToken: false,
          containers: [
            {
              name: 'echo',
              image: IMAGE,
              imagePullPolicy: 'Never',
              ...RESTRICTED_CONTAINER,
              command: [
                'node',
                '-e',
                "require('node:http').createServer((q, s) => s.end('echo from ' + require('node:os').hostname())).listen(8080)",
              ],
              readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 },
            },
          ],
          volumes: [{ name: 'tmp', emptyDir: {} }],
        },
      },
    });
    await core.createNamespacedService({
      namespace: 'default',
      body: {
        metadata: { name: 'echo' },
        spec: { clusterIP: '198.18.128.20', selector: labels, ports: [{ port: 80, targetPort: 8080 }] },
      },
    });
    const answer = await waitFor(
      'an answer through the ClusterIP',
      async () => {
        const response = await fetch('http://198.18.128.20/');
        return response.ok ? response.text() : undefined;
      },
      90_000,
      500,
    );
    expect(answer).toBe('echo from echo');
  });
});

describe('network confinement', () => {
  it('gives pods no default route: only the confined range, through the bridge', async () => {
    const run = await runNodeJob(
      cluster,
      'default',
      'routes',
      IMAGE,
      "console.log(require('node:fs').readFileSync('/proc/net/route', 'utf8'))",
    );
    const routes = run.log
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => line.trim().split(/\s+/));
    const hex = (ip: string) =>
      ip
        .split('.')
        .map(Number)
        .reverse()
        .map((b) => b.toString(16).padStart(2, '0'))
        .join('')
        .toUpperCase();
    const destinations = routes.map((r) => `${r[1]}/${r[7]}`);
    expect(destinations).not.toContain('00000000/00000000');
    expect(destinations).toContain(`${hex('198.18.0.0')}/${hex('255.254.0.0')}`);
    expect(destinations).toContain(`${hex('198.18.64.0')}/${hex('255.255.255.0')}`);
  });

  it('refuses, on the host, a connection from a pod to an unused address of the range', async () => {
    const route = await host('ip', ['route', 'get', NETWORK.unusedAddress], { allowFailure: true });
    expect(route.stdout + route.stderr).toMatch(/unreachable|No route to host/);
    const run = await runNodeJob(
      cluster,
      'default',
      'unused',
      IMAGE,
      `const s = require('node:net').connect({ host: '${NETWORK.unusedAddress}', port: 443, timeout: 20000 });` +
        "s.on('connect', () => { console.log('connected'); s.destroy() }); s.on('timeout', () => { console.log('timeout'); s.destroy() }); s.on('error', (e) => console.log(e.code))",
    );
    expect(run.log.trim()).toMatch(/^(EHOSTUNREACH|ENETUNREACH)$/);
  });
});

describe('teardown', () => {
  it('puts the host back: processes, links, routes, iptables, sysctls, cgroups, mounts, files', async () => {
    await cluster.stop();
    const after = await hostSnapshot();
    expect(after).toEqual(before);
  }, 120_000);

  it(
    'cleans up after a cluster whose process was SIGKILLed, on the next start',
    async () => {
      const serve = spawn(process.execPath, [fileURLToPath(new URL('./serve.ts', import.meta.url)), IMAGE], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      serve.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const [kubeconfigLine] = await Promise.race([
        once(serve.stdout, 'data') as Promise<[Buffer]>,
        once(serve, 'exit').then(() => {
          throw new Error(`serve.ts exited before it was ready:\n${stderr}`);
        }),
      ]);
      expect(kubeconfigLine.toString()).toMatch(/admin\.kubeconfig/);
      // Its processes die with it (parent-death signal); its links, chains and sysctls stay.
      const kill = once(serve, 'exit');
      serve.kill('SIGKILL');
      await kill;
      const leftover = await hostSnapshot();
      expect(leftover.links).toContain(NETWORK.nodeLink);
      expect(leftover.iptables.some((line) => line.includes('KUBE-'))).toBe(true);

      const next = await startCluster({ images: [IMAGE] });
      await next.stop();
      expect(await hostSnapshot()).toEqual(before);
    },
    5 * 60_000,
  );
});
