import { randomBytes } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { getCACertificates, setDefaultCACertificates } from 'node:tls';
import { stringify } from 'yaml';
import type { AccountStatus, DemoAccountSpec } from '../apps/demo/accounts.ts';
import type { HazardSettings } from '../apps/demo/hazards.ts';
import { CertificateDirectory } from '../envtest/certificates.ts';
import { kubectlOk } from './kubectl.ts';
import { waitFor } from './wait.ts';

/** The demo app's test image (make demo-app-image); the Makefile exports it as MFA_DEMO_APP_IMAGE. */
export const DEMO_APP_IMAGE = process.env.MFA_DEMO_APP_IMAGE || 'localhost/mfa-operator-demo-app:dev';
/** The demo app Service's fixed ClusterIP (in test/cluster's service range): no cluster DNS, so login URLs name it. */
export const DEMO_APP_SERVICE_IP = '198.18.128.10';
const NAMESPACE = 'demo-app';

/** The demo app running in the cluster, arranged from the host through its admin API (with its admin token). */
export interface DemoAppInCluster {
  /** https://198.18.128.10, as the run pods and the host reach it. */
  readonly url: string;
  /** The test CA's certificate (PEM) that signed the app's serving certificate. */
  readonly caPem: string;
  readonly accounts: {
    upsert(spec: DemoAccountSpec): Promise<void>;
    status(email: string): Promise<AccountStatus>;
    setHazards(email: string, hazards: HazardSettings): Promise<void>;
    /** The account's owner, behind the operator's back: turns the authenticator app off. */
    turnTotpOff(email: string): Promise<void>;
    /** The account's owner, behind the operator's back: adds a second authenticator app (a seed nobody here holds). */
    addAuthenticator(email: string): Promise<void>;
  };
}

function manifests(): string {
  const labels = { 'app.kubernetes.io/name': 'demo-app' };
  const restricted = {
    runAsNonRoot: true,
    runAsUser: 65532,
    runAsGroup: 65532,
    readOnlyRootFilesystem: true,
    allowPrivilegeEscalation: false,
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'RuntimeDefault' },
  };
  const deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'demo-app', namespace: NAMESPACE, labels },
    spec: {
      replicas: 1,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          containers: [
            {
              name: 'demo-app',
              image: DEMO_APP_IMAGE,
              imagePullPolicy: 'Never',
              args: [
                '--host',
                '0.0.0.0',
                '--port',
                '8443',
                '--tls-cert',
                '/tls/tls.crt',
                '--tls-key',
                '/tls/tls.key',
                '--admin-token-file',
                '/tls/admin-token',
              ],
              ports: [{ name: 'https', containerPort: 8443 }],
              // kubelet probes from the node, off loopback: the admin health endpoint would need the token.
              readinessProbe: { tcpSocket: { port: 8443 }, periodSeconds: 1 },
              resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '256Mi' } },
              securityContext: restricted,
              volumeMounts: [{ name: 'tls', mountPath: '/tls', readOnly: true }],
            },
          ],
          volumes: [{ name: 'tls', secret: { secretName: 'demo-app-tls', defaultMode: 0o444 } }],
        },
      },
    },
  };
  const service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'demo-app', namespace: NAMESPACE, labels },
    spec: {
      clusterIP: DEMO_APP_SERVICE_IP,
      selector: labels,
      ports: [{ name: 'https', port: 443, targetPort: 'https' }],
    },
  };
  return [deployment, service].map((doc) => stringify(doc)).join('---\n');
}

async function adminRequest(
  url: string,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<unknown> {
  const response = await fetch(`${url}/__admin/${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`demo app ${method} /__admin/${path}: ${response.status} ${text}`);
  return text ? (JSON.parse(text) as unknown) : undefined;
}

/**
 * Serves the demo app from its test image as a Deployment and a Service with a fixed ClusterIP, over TLS from a
 * throwaway CA (certificates in `dir`), and makes this process trust that CA for its own requests to the app.
 */
export async function deployDemoApp(kubeconfig: string, dir: string): Promise<DemoAppInCluster> {
  await mkdir(dir, { recursive: true });
  const certificates = await CertificateDirectory.create(dir);
  const ca = await certificates.createCertificateAuthority('demo-app-ca');
  const serving = await certificates.issueServingCertificate('demo-app', ca, [DEMO_APP_SERVICE_IP]);
  const caPem = await readFile(ca.certPath, 'utf8');
  const token = randomBytes(24).toString('hex');
  await kubectlOk(kubeconfig, ['create', 'namespace', NAMESPACE]);
  await kubectlOk(kubeconfig, [
    'create',
    'secret',
    'generic',
    'demo-app-tls',
    '-n',
    NAMESPACE,
    `--from-file=tls.crt=${serving.certPath}`,
    `--from-file=tls.key=${serving.keyPath}`,
    `--from-literal=admin-token=${token}`,
  ]);
  await kubectlOk(kubeconfig, ['apply', '-f', '-'], manifests());
  await kubectlOk(kubeconfig, ['rollout', 'status', 'deployment/demo-app', '-n', NAMESPACE, '--timeout=120s']);
  setDefaultCACertificates([...getCACertificates('default'), caPem]);
  const url = `https://${DEMO_APP_SERVICE_IP}`;
  // A Ready pod is not yet an endpoint kube-proxy routes to: until then the ClusterIP refuses connections.
  await waitFor(
    'the demo app answering through its Service',
    async () => (await adminRequest(url, token, 'GET', 'health')) !== undefined,
    60_000,
    250,
  );
  return {
    url,
    caPem,
    accounts: {
      async upsert(spec) {
        const password = typeof spec.password === 'string' ? spec.password : spec.password.reveal();
        await adminRequest(url, token, 'PUT', `accounts/${encodeURIComponent(spec.email)}`, {
          password,
          hazards: spec.hazards ?? {},
        });
      },
      status: async (email) =>
        (await adminRequest(url, token, 'GET', `accounts/${encodeURIComponent(email)}`)) as AccountStatus,
      async setHazards(email, hazards) {
        await adminRequest(url, token, 'PATCH', `accounts/${encodeURIComponent(email)}/hazards`, hazards);
      },
      async turnTotpOff(email) {
        await adminRequest(url, token, 'POST', `accounts/${encodeURIComponent(email)}/totp/off`);
      },
      async addAuthenticator(email) {
        await adminRequest(url, token, 'POST', `accounts/${encodeURIComponent(email)}/authenticators`);
      },
    },
  };
}

/** Where run pods find the CA: a ConfigMap in each namespace whose resources name it in spec.account.caBundleRef. */
export async function publishDemoAppCa(
  kubeconfig: string,
  app: DemoAppInCluster,
  namespace: string,
): Promise<{ configMapName: string }> {
  await kubectlOk(
    kubeconfig,
    ['apply', '-f', '-'],
    stringify({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'demo-app-ca', namespace },
      data: { 'ca.crt': app.caPem },
    }),
  );
  return { configMapName: 'demo-app-ca' };
}
