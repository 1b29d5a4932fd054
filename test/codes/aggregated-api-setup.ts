import { Agent, request, type RequestOptions } from 'node:https';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { KubeConfig } from '@kubernetes/client-node';
import type { RunningCodeService } from '../../operator/codes/start.ts';
import { CertificateDirectory, readKeyPair } from '../envtest/certificates.ts';
import { kubectl, kubectlOk } from '../support/kubectl.ts';
import { type CodeServiceFixture, OPERATOR_USER } from './code-service-fixture.ts';

export const SERVICE_NS = 'mfa-operator-system';
export const SERVICE = 'mfa-operator-code-service';
const API_SERVICE = 'v1alpha1.codes.mfa-operator.io';

export interface AggregatedSetup {
  readonly aggregated: RunningCodeService;
  /** The CA of the aggregated port's serving certificate (the APIService's caBundle). */
  readonly servingCa: string;
  /** The files the aggregated port serves, which a renewal overwrites. */
  readonly servingFiles: { certPath: string; keyPath: string };
}

/**
 * A control plane with its front proxy, and a code service serving the aggregated API behind an APIService that
 * kube-apiserver reaches on loopback, as a cluster's would on the Service: the setup both aggregated-API files share.
 */
export async function startAggregatedApi(
  fixture: CodeServiceFixture,
  limits: { ratePerMinute: number; burst: number },
  certReloadMs?: number,
): Promise<AggregatedSetup> {
  await fixture.start({}, { frontProxy: true, auditLog: true });
  const admin = fixture.cp.kubeconfigPath;
  // The operator reads the requestheader CA the way every aggregated API server does (config/aggregated-api).
  await kubectlOk(admin, [
    'create',
    'rolebinding',
    'code-service-auth-reader',
    '-n',
    'kube-system',
    '--role=extension-apiserver-authentication-reader',
    `--user=${OPERATOR_USER}`,
  ]);
  // kube-apiserver checks the serving certificate against the Service's DNS name, as in a cluster.
  const certificates = await CertificateDirectory.create(join(fixture.serving.certPath, '..'));
  const ca = await certificates.createCertificateAuthority('aggregated-ca');
  const serving = await certificates.issueServingCertificate('aggregated', ca, [`${SERVICE}.${SERVICE_NS}.svc`]);
  const servingCa = (await readKeyPair(ca)).cert;
  const aggregated = await fixture.startService(
    { certPath: serving.certPath, keyPath: serving.keyPath, aggregatedPort: 0, ...limits },
    certReloadMs !== undefined ? { certReloadMs } : {},
  );
  await fixture.namespace(SERVICE_NS);
  // No kube-proxy here: an ExternalName Service sends kube-apiserver's aggregator to loopback (proxy.ResolveCluster).
  await applyJson(admin, {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: SERVICE, namespace: SERVICE_NS },
    spec: {
      type: 'ExternalName',
      externalName: '127.0.0.1',
      ports: [{ name: 'aggregated-api', port: aggregated.aggregatedPort }],
    },
  });
  await applyJson(admin, {
    apiVersion: 'apiregistration.k8s.io/v1',
    kind: 'APIService',
    metadata: { name: API_SERVICE },
    spec: {
      group: 'codes.mfa-operator.io',
      version: 'v1alpha1',
      groupPriorityMinimum: 1000,
      versionPriority: 15,
      service: { namespace: SERVICE_NS, name: SERVICE, port: aggregated.aggregatedPort },
      caBundle: Buffer.from(servingCa).toString('base64'),
    },
  });
  await kubectlOk(admin, ['wait', '--for=condition=Available', '--timeout=90s', `apiservice/${API_SERVICE}`]);
  return { aggregated, servingCa, servingFiles: serving };
}

function applyJson(kubeconfig: string, object: object) {
  return kubectlOk(kubeconfig, ['apply', '-f', '-'], JSON.stringify(object));
}

/** A Role on one subresource of managedaccountmfas in `namespace`, bound to `user`. */
export async function grant(
  fixture: CodeServiceFixture,
  namespace: string,
  user: string,
  rule: { name: string; group: string; verb: string; subresource: string },
) {
  await applyJson(fixture.cp.kubeconfigPath, {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: { name: rule.name, namespace },
    rules: [{ apiGroups: [rule.group], resources: [`managedaccountmfas/${rule.subresource}`], verbs: [rule.verb] }],
  });
  await kubectlOk(fixture.cp.kubeconfigPath, [
    'create',
    'rolebinding',
    rule.name,
    '-n',
    namespace,
    `--role=${rule.name}`,
    `--user=${user}`,
  ]);
}

/** `kubectl create --raw` with nothing but the user's kubeconfig. */
export function createRaw(kubeconfig: string, path: string, body = '{}') {
  return kubectl(kubeconfig, ['create', '--raw', path, '-f', '-'], body);
}

export interface RawAnswer {
  status: number;
  body: string;
  retryAfter?: string;
}

/** POSTs through kube-apiserver with the kubeconfig's own client certificate, read once; on `agent`'s connections. */
export async function apiServerPoster(kubeconfig: string) {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const tls: RequestOptions = {};
  await kc.applyToHTTPSOptions(tls);
  const server = kc.getCurrentCluster()!.server;
  return (path: string, body: string, agent: Agent) =>
    new Promise<RawAnswer>((resolve, reject) => {
      const options = { ...tls, method: 'POST', agent, headers: { 'content-type': 'application/json' } };
      const req = request(new URL(path, server), options, (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => {
          const retryAfter = res.headers['retry-after'];
          resolve({ status: res.statusCode ?? 0, body: text, ...(retryAfter ? { retryAfter } : {}) });
        });
      });
      req.on('error', reject);
      req.end(body);
    });
}

/** Retries until `attempt` gives a value `ok` accepts, for at most `ms`; the last value either way. */
export async function eventually<T>(attempt: () => Promise<T>, ok: (value: T) => boolean, ms = 30_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await attempt();
    if (ok(value) || Date.now() > until) return value;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Whether `port` presents a certificate `ca` signed for the Service's name. */
export function presentsCertificateOf(port: number, ca: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, ca, servername: `${SERVICE}.${SERVICE_NS}.svc` }, () => {
      resolve(socket.authorized);
      socket.destroy();
    });
    socket.on('error', () => resolve(false));
  });
}

/** What cert-manager's cainjector does: the APIService's caBundle set to `pem`. */
export async function setCaBundle(fixture: CodeServiceFixture, pem: string) {
  await kubectlOk(fixture.cp.kubeconfigPath, [
    'patch',
    'apiservice',
    API_SERVICE,
    '--type=merge',
    '-p',
    JSON.stringify({ spec: { caBundle: Buffer.from(pem).toString('base64') } }),
  ]);
}
