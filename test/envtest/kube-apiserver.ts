import { join } from 'node:path';
import type { KeyPair } from './certificates.ts';
import { ManagedProcess } from './managed-process.ts';
import { waitUntilServing, type TlsClientOptions } from './readiness.ts';

export interface ApiServerSettings {
  binary: string;
  workDir: string;
  port: number;
  etcdUrl: string;
  serving: KeyPair;
  clientCa: KeyPair;
  serviceAccount: KeyPair;
  audit: { policyPath: string; logPath: string } | undefined;
  /** Set for a cluster with nodes (test/cluster); unset, loopback clients only, as envtest. */
  cluster: ClusterApiServerSettings | undefined;
  extraArgs: readonly string[];
}

/** What a control plane with a real node and pods needs beyond envtest's flags. */
export interface ClusterApiServerSettings {
  /** Bound, advertised (the `kubernetes` Service's endpoint) and used by every client. */
  address: string;
  serviceClusterIpRange: string;
  /** The client certificate kube-apiserver presents to kubelets (logs, exec). */
  kubeletClient: KeyPair;
}

/** The address clients and the readiness check use. */
export const apiServerAddress = (settings: ApiServerSettings): string => settings.cluster?.address ?? '127.0.0.1';

/**
 * The flags controller-runtime's envtest starts kube-apiserver with: client-certificate users,
 * RBAC, no ServiceAccount admission (no controller-manager creates default service accounts),
 * and service-account token signing so that tokens work as in a cluster. For a cluster with a
 * node, ServiceAccount admission stays on (its controller-manager makes the accounts) and the
 * server listens on the node network's address.
 */
export function apiServerArgs(settings: ApiServerSettings): string[] {
  const address = apiServerAddress(settings);
  const serverUrl = `https://${address}:${settings.port}`;
  const cluster = settings.cluster
    ? [
        `--kubelet-client-certificate=${settings.cluster.kubeletClient.certPath}`,
        `--kubelet-client-key=${settings.cluster.kubeletClient.keyPath}`,
        // By address: a node name would be looked up in the host's DNS.
        '--kubelet-preferred-address-types=InternalIP',
      ]
    : ['--disable-admission-plugins=ServiceAccount'];
  const audit = settings.audit
    ? [`--audit-policy-file=${settings.audit.policyPath}`, `--audit-log-path=${settings.audit.logPath}`]
    : [];
  return [
    `--etcd-servers=${settings.etcdUrl}`,
    `--secure-port=${settings.port}`,
    `--bind-address=${address}`,
    `--advertise-address=${address}`,
    `--cert-dir=${join(settings.workDir, 'kube-apiserver-certs')}`,
    `--tls-cert-file=${settings.serving.certPath}`,
    `--tls-private-key-file=${settings.serving.keyPath}`,
    `--service-cluster-ip-range=${settings.cluster?.serviceClusterIpRange ?? '10.0.0.0/24'}`,
    '--allow-privileged=true',
    ...cluster,
    '--authorization-mode=RBAC',
    `--service-account-issuer=${serverUrl}/`,
    `--service-account-key-file=${settings.serviceAccount.certPath}`,
    `--service-account-signing-key-file=${settings.serviceAccount.keyPath}`,
    `--client-ca-file=${settings.clientCa.certPath}`,
    ...audit,
    ...settings.extraArgs,
  ];
}

/** Starts kube-apiserver and waits until /readyz answers the admin user. */
export async function startApiServer(
  settings: ApiServerSettings,
  admin: TlsClientOptions,
  timeoutMs: number,
): Promise<ManagedProcess> {
  const apiServer = await ManagedProcess.start(
    'kube-apiserver',
    settings.binary,
    apiServerArgs(settings),
    join(settings.workDir, 'kube-apiserver.log'),
  );
  try {
    await waitUntilServing(
      apiServer,
      `https://${apiServerAddress(settings)}:${settings.port}/readyz`,
      timeoutMs,
      admin,
    );
  } catch (e: unknown) {
    await apiServer.stop();
    throw e;
  }
  return apiServer;
}
